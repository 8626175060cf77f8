#include "replayer/frame_source.hpp"

#include "core/web/ws_frame.hpp"
#include "core/replay/frame_transform.hpp"
#include "replayer/sequence_digest.hpp"

#include <algorithm>
#include <stdexcept>

namespace harness::replayer {
using replay::event_json_of;
using replay::event_timestamp;
using replay::transform_frame;
namespace {

// A chunk is one socket write's worth for a client at --speed max.
constexpr std::size_t k_chunk_max_entries = 1024;
constexpr std::size_t k_chunk_max_bytes = 512u << 10;
// Chunks kept after their last client moved on, for clients just behind.
constexpr std::size_t k_recent_chunks = 4;
// How far the loader reads ahead of the furthest chunk asked for.
constexpr std::size_t k_read_ahead = 8;

archive::frame_filter served_kinds(archive::frame_filter filter) {
    filter.kinds = {archive::frame_kind::event, archive::frame_kind::control};
    return filter;
}

bool in_range(archive::frame_filter const& filter, std::int64_t offset) {
    return (!filter.from_offset_ns || offset >= *filter.from_offset_ns) &&
           (!filter.to_offset_ns || offset < *filter.to_offset_ns);
}

}  // namespace

std::string_view frame_chunk::hashes_of(std::size_t first, std::size_t count) const {
    if (hashes_.size() < entries.size() * k_frame_hash_size) {
        hashes_.clear();
        hashes_.reserve(entries.size() * k_frame_hash_size);
        for (std::size_t i = 0; i < entries.size(); ++i) append_frame_hash(hashes_, payload(i));
    }
    return std::string_view{hashes_}.substr(first * k_frame_hash_size, count * k_frame_hash_size);
}

frame_source::frame_source(source_options options)
    : options_{std::move(options)},
      reader_{options_.archive_path, options_.session, served_kinds(options_.filter), k_chunk_max_entries,
              /*with_index=*/false} {
    if (!options_.replay_closes) return;
    archive::archive store{options_.archive_path, archive::open_mode::read_only};
    for (auto const& c : store.connections(options_.session)) {
        if (!c.closed_offset_ns || !in_range(options_.filter, *c.closed_offset_ns)) continue;
        if (c.ended_by == archive::end_reason::token_refresh || c.ended_by == archive::end_reason::stop) continue;
        close_point point{*c.closed_offset_ns, std::nullopt, c.close_reason};
        if (!c.abrupt) point.code = c.close_code.value_or(1005);
        closes_.push_back(std::move(point));
    }
    std::stable_sort(closes_.begin(), closes_.end(),
                     [](close_point const& a, close_point const& b) { return a.offset_ns < b.offset_ns; });
}

frame_source::~frame_source() {
    {
        std::lock_guard lock{mutex_};
        stopping_ = true;
    }
    work_.notify_all();
    if (loader_.joinable()) loader_.join();
}

std::size_t frame_source::chunks_loaded() const {
    std::lock_guard lock{mutex_};
    return loads_;
}

void frame_source::read_ahead() {
    {
        std::lock_guard lock{mutex_};
        want_up_to(k_read_ahead);
    }
    work_.notify_one();
}

void frame_source::want_up_to(std::size_t index) {
    if (!loader_.joinable()) loader_ = std::thread{[this] { run_loader(); }};
    wanted_up_to_ = std::max(wanted_up_to_, index);
}

std::shared_ptr<frame_chunk const> frame_source::chunk(std::size_t index) {
    if (auto found = live_.find(index); found != live_.end())
        if (auto chunk = found->second.lock()) return chunk;
    std::shared_ptr<frame_chunk const> chunk;
    {
        std::unique_lock lock{mutex_};
        if (end_index_ && index > *end_index_) return nullptr;
        want_up_to(index + k_read_ahead);
        if (index < next_ && !ready_.contains(index) && loading_ != index) reloads_.insert(index);
        work_.notify_one();
        loaded_.wait(lock, [&] { return ready_.contains(index) || failure_ || (end_index_ && index > *end_index_); });
        if (auto found = ready_.find(index); found != ready_.end()) {
            chunk = std::move(found->second);
            ready_.erase(found);
        } else if (failure_) {
            std::rethrow_exception(failure_);
        } else {
            return nullptr;
        }
    }
    if (live_.size() > 64) std::erase_if(live_, [](auto const& entry) { return entry.second.expired(); });
    live_[index] = chunk;
    recent_.push_back(chunk);
    if (recent_.size() > k_recent_chunks) recent_.erase(recent_.begin());
    return chunk;
}

void frame_source::run_loader() {
    for (;;) {
        std::size_t index = 0;
        {
            std::unique_lock lock{mutex_};
            work_.wait(lock, [&] {
                return stopping_ || failure_ || !reloads_.empty() ||
                       (next_ <= wanted_up_to_ && !(end_index_ && next_ > *end_index_));
            });
            if (stopping_ || failure_) return;
            if (!reloads_.empty()) {
                index = *reloads_.begin();
                reloads_.erase(reloads_.begin());
            } else {
                index = next_++;
            }
            loading_ = index;
        }
        std::shared_ptr<frame_chunk const> chunk;
        std::exception_ptr failure;
        try {
            chunk = load(index);
        } catch (...) {
            failure = std::current_exception();
        }
        {
            std::lock_guard lock{mutex_};
            ++loads_;
            loading_.reset();
            if (failure) {
                failure_ = failure;
            } else {
                if (chunk->last) end_index_ = index;
                ready_[index] = std::move(chunk);
            }
        }
        loaded_.notify_all();
    }
}

std::string frame_source::transformed(std::string text, archive::frame_kind kind) const {
    if (kind != archive::frame_kind::event || (!options_.rebase_ms && !options_.sign_secret)) return text;
    return transform_frame(text, options_.rebase_ms, options_.sign_secret);
}

void frame_source::add_close(frame_chunk& chunk, close_point const& close) const {
    chunk_entry entry;
    entry.offset_ns = close.offset_ns;
    entry.begin = static_cast<std::uint32_t>(chunk.wire.size());
    std::string payload;
    if (close.code) {
        entry.kind = entry_kind::close;
        if (*close.code != 1005) payload = web::close_payload(*close.code, close.reason);  // 1005: sent with no status
        web::append_server_frame(chunk.wire, web::ws_opcode::close, payload);
    } else {
        entry.kind = entry_kind::cut;
    }
    entry.end = static_cast<std::uint32_t>(chunk.wire.size());
    entry.payload_begin = entry.end - static_cast<std::uint32_t>(payload.size());
    chunk.entries.push_back(entry);
}

std::shared_ptr<frame_chunk const> frame_source::load(std::size_t index) {
    auto const start = starts_[index];
    if (reader_at_ != index) {
        reader_.seek_after(start.after_id);
        peeked_.reset();
    }
    auto chunk = std::make_shared<frame_chunk>();
    chunk->index = index;
    // Earlier chunks took the closes before their last frame's offset.
    auto close = std::lower_bound(closes_.begin(), closes_.end(), start.after_offset,
                                  [](close_point const& c, std::int64_t offset) { return c.offset_ns < offset; });
    auto last_id = start.after_id;
    auto last_offset = start.after_offset;
    while (chunk->entries.size() < k_chunk_max_entries && chunk->wire.size() < k_chunk_max_bytes) {
        auto frame = peeked_ ? std::move(peeked_) : reader_.next();
        peeked_.reset();
        if (!frame) break;
        // A close belongs before the first frame received after it.
        for (; close != closes_.end() && close->offset_ns < frame->offset_ns; ++close) add_close(*chunk, *close);
        auto const text = transformed(std::move(frame->text), frame->kind);
        chunk_entry entry;
        entry.offset_ns = frame->offset_ns;
        entry.is_event = frame->kind == archive::frame_kind::event;
        entry.begin = static_cast<std::uint32_t>(chunk->wire.size());
        web::append_server_frame(chunk->wire, web::ws_opcode::text, text);
        entry.end = static_cast<std::uint32_t>(chunk->wire.size());
        entry.payload_begin = entry.end - static_cast<std::uint32_t>(text.size());
        chunk->entries.push_back(entry);
        last_id = frame->id;
        last_offset = frame->offset_ns;
    }
    peeked_ = reader_.next();  // is there more?
    if (!peeked_) {
        chunk->last = true;
        for (; close != closes_.end(); ++close) add_close(*chunk, *close);
    } else if (index + 1 == starts_.size()) {
        starts_.push_back(chunk_start{last_id, last_offset});
    }
    reader_at_ = index + 1;
    return chunk;
}

std::optional<std::int64_t> first_event_timestamp(std::string const& path, archive::session_id session,
                                                  archive::frame_filter filter) {
    filter.kinds = {archive::frame_kind::event};
    archive::frame_reader reader{path, session, std::move(filter)};
    while (auto frame = reader.next()) {
        auto const event = event_json_of(frame->text);
        if (auto const ms = event ? event_timestamp(*event) : std::nullopt) return ms;
    }
    return std::nullopt;
}

}  // namespace harness::replayer
