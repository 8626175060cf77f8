#include "core/archive/frame_writer.hpp"

#include "core/archive/archive.hpp"
#include "core/archive/wal_checkpointer.hpp"
#include "core/log/log.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

namespace harness::archive {
namespace {

// The operations the calling thread queues, applied in order by the writer.
struct open_op {
    frame_writer::connection_handle handle;
    std::unique_ptr<connection_spec> spec;  // boxed: keeps every queued operation small
};
struct close_op {
    frame_writer::connection_handle handle;
    connection_close close;
};
struct frame_op {
    frame_writer::connection_handle handle;
    frame_kind kind;
    std::int64_t offset_ns;
    std::int64_t wall_ns;
    std::string text;
    std::optional<model::event_index> index;
};
struct gap_begin_op {
    frame_writer::gap_handle handle;
    gap_info gap;
};
struct gap_end_op {
    frame_writer::gap_handle handle;
    std::int64_t end_offset_ns;
};
struct end_session_op {
    std::int64_t ended_wall_ns;
};
using operation = std::variant<open_op, close_op, frame_op, gap_begin_op, gap_end_op, end_session_op>;

using steady = std::chrono::steady_clock;

}  // namespace

struct frame_writer::state {
    // Set at construction, then read-only.
    std::string path;
    session_id session;
    frame_writer_options options;

    // Shared between the calling threads and the writer thread.
    mutable std::mutex mutex;
    std::condition_variable wake_writer;
    std::condition_variable wake_flushers;
    std::vector<operation> queue;
    steady::time_point oldest_queued;  // arrival of queue.front()
    std::uint64_t submitted_ops = 0;
    std::uint64_t committed_ops = 0;
    std::uint64_t flush_requests = 0;
    bool stopping = false;
    bool finished = false;  // the writer thread has returned
    std::optional<std::string> failure;
    frame_writer_stats counters;
    std::uint64_t next_handle = 1;
    // How each open connection's event frames are indexed (family hint,
    // secret); read by write_frame on the calling threads.
    std::unordered_map<connection_handle, std::shared_ptr<model::index_options const>> index_contexts;
    std::function<void(frame_writer_stats const&)> commit_callback;
    // Frame bytes handed over and not yet committed: what a slow disk costs in memory.
    std::atomic<std::uint64_t> backlog_bytes{0};

    // Writer thread only (opened by the constructor, then handed over).
    std::optional<archive> store;
    std::optional<wal_checkpointer> checkpointer;  // the store's checkpoints, off this thread
    struct connection_context {
        connection_id id = 0;
        connection_info info;
    };
    std::unordered_map<connection_handle, connection_context> connections;
    std::unordered_map<gap_handle, std::int64_t> gap_rows;

    std::thread thread;

    void push(operation op, bool is_frame) {
        std::lock_guard lock{mutex};
        if (failure || stopping) return;  // failure is reported by flush()/error()
        if (queue.empty()) oldest_queued = steady::now();
        queue.push_back(std::move(op));
        ++submitted_ops;
        if (is_frame) ++counters.frames_submitted;
        // Wake the writer only when it has to act now; otherwise it wakes
        // itself when the window of the oldest queued frame ends.
        if (queue.size() == 1 || queue.size() >= options.max_batch || options.durability_window.count() == 0)
            wake_writer.notify_one();
    }

    void run();
    void apply(archive& store, operation& op, std::uint64_t& frames, std::uint64_t& bytes);
};

void frame_writer::state::apply(archive& store, operation& op, std::uint64_t& frames, std::uint64_t& bytes) {
    std::visit(
        [&](auto& o) {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, open_op>) {
                auto info = o.spec->info;
                info.session = session;
                auto const id = store.add_connection(info);
                info.id = id;
                connections[o.handle] = {id, std::move(info)};
            } else if constexpr (std::is_same_v<T, close_op>) {
                auto& c = connections.at(o.handle);
                c.info.closed_offset_ns = o.close.closed_offset_ns;
                c.info.close_code = o.close.close_code;
                c.info.close_reason = o.close.close_reason;
                c.info.abrupt = o.close.abrupt;
                c.info.ended_by = o.close.ended_by;
                store.close_connection(c.info);
            } else if constexpr (std::is_same_v<T, frame_op>) {
                auto const& c = connections.at(o.handle);
                frame_record frame;
                frame.connection = c.id;
                frame.kind = o.kind;
                frame.offset_ns = o.offset_ns;
                frame.wall_ns = o.wall_ns;
                frame.text = std::move(o.text);
                frame.index = std::move(o.index);
                store.add_frame(session, frame);
                ++frames;
                bytes += frame.text.size();
            } else if constexpr (std::is_same_v<T, gap_begin_op>) {
                gap_rows[o.handle] = store.add_gap(session, o.gap);
            } else if constexpr (std::is_same_v<T, gap_end_op>) {
                store.end_gap(gap_rows.at(o.handle), o.end_offset_ns);
            } else {
                store.end_session(session, o.ended_wall_ns);
            }
        },
        op);
}

void frame_writer::state::run() {
    std::vector<operation> batch;
    std::unique_lock lock{mutex};
    std::uint64_t flushes_seen = 0;
    for (;;) {
        wake_writer.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) break;  // stopping, nothing left
        // Gather more for up to the window of the oldest queued frame,
        // unless someone waits for a flush or a transaction's worth is here.
        auto const deadline = oldest_queued + options.durability_window;
        wake_writer.wait_until(lock, deadline, [&] {
            return stopping || flush_requests != flushes_seen || queue.size() >= options.max_batch;
        });
        flushes_seen = flush_requests;
        batch.swap(queue);  // O(1) under the lock; the calling threads go on at once
        lock.unlock();

        // Commit in transactions of at most max_batch operations: small
        // transactions keep each commit's WAL growth (and checkpoint) small.
        std::optional<std::string> error;
        std::size_t applied = 0;
        while (applied < batch.size() && !error) {
            auto const end = std::min(batch.size(), applied + options.max_batch);
            std::uint64_t frames = 0, bytes = 0;
            try {
                archive::transaction transaction{*store};
                for (auto i = applied; i < end; ++i) apply(*store, batch[i], frames, bytes);
                transaction.commit();
            } catch (std::exception const& e) {
                error = e.what();
                HLOG(error, "archive.write_failed").field("path", path).field("error", *error);
                break;
            }
            // Free this transaction's frames now, not when the whole batch is done.
            for (auto i = applied; i < end; ++i) batch[i] = end_session_op{};
            backlog_bytes.fetch_sub(bytes, std::memory_order_relaxed);
            auto const committed_now = end - applied;
            applied = end;
            lock.lock();
            committed_ops += committed_now;
            counters.frames_committed += frames;
            counters.bytes_committed += bytes;
            ++counters.commits;
            auto const snapshot = counters;
            auto const callback = commit_callback;
            wake_flushers.notify_all();
            lock.unlock();
            if (callback) callback(snapshot);
        }
        batch.clear();

        lock.lock();
        if (error) {
            failure = path + ": writing the archive failed: " + *error;
            queue.clear();
            break;
        }
    }
    lock.unlock();
    checkpointer.reset();  // joins its thread; the store's close checkpoints what is left
    lock.lock();
    finished = true;
    wake_flushers.notify_all();
}

frame_writer::frame_writer(std::string path, session_id session, frame_writer_options options)
    : state_{std::make_unique<state>()} {
    state_->path = std::move(path);
    state_->session = session;
    state_->options = options;
    if (state_->options.max_batch == 0) state_->options.max_batch = 1;
    // Opened here so a bad path or session fails the constructor at once;
    // from then on only the writer thread touches the connection.
    state_->store.emplace(state_->path, open_mode::read_write);
    if (!state_->store->session(session))
        throw archive_error{state_->path + ": no session with id " + std::to_string(session)};
    state_->checkpointer.emplace(*state_->store);
    state_->thread = std::thread{[s = state_.get()] { s->run(); }};
}

frame_writer::~frame_writer() {
    try {
        close();
    } catch (std::exception const& e) {
        HLOG(error, "archive.close_failed").field("error", e.what());
    }
}

frame_writer::connection_handle frame_writer::open_connection(connection_spec spec) {
    connection_handle handle;
    {
        std::lock_guard lock{state_->mutex};
        handle = state_->next_handle++;
        state_->index_contexts[handle] =
            std::make_shared<model::index_options const>(model::index_options{spec.family_hint, spec.secret});
    }
    state_->push(open_op{handle, std::make_unique<connection_spec>(std::move(spec))}, false);
    return handle;
}

void frame_writer::close_connection(connection_handle connection, connection_close close) {
    {
        std::lock_guard lock{state_->mutex};
        state_->index_contexts.erase(connection);  // the secret is not kept past its connection
    }
    state_->push(close_op{connection, std::move(close)}, false);
}

model::event_family frame_writer::write_frame(connection_handle connection, frame_kind kind, std::int64_t offset_ns,
                                              std::int64_t wall_ns, std::string text) {
    std::optional<model::event_index> index;
    if (kind == frame_kind::event) {
        std::shared_ptr<model::index_options const> options;
        {
            std::lock_guard lock{state_->mutex};
            if (auto const it = state_->index_contexts.find(connection); it != state_->index_contexts.end())
                options = it->second;
        }
        // Pure computation, no I/O or waiting: indexing here leaves the
        // writer thread's time to SQLite alone.
        index = options ? model::index_event(text, *options) : model::index_event(text);
    }
    auto const family = index ? index->family : model::event_family::unknown;
    state_->backlog_bytes.fetch_add(text.size(), std::memory_order_relaxed);
    state_->push(frame_op{connection, kind, offset_ns, wall_ns, std::move(text), std::move(index)}, true);
    return family;
}

frame_writer::gap_handle frame_writer::begin_gap(std::int64_t start_offset_ns, std::string reason) {
    gap_handle handle;
    {
        std::lock_guard lock{state_->mutex};
        handle = state_->next_handle++;
    }
    state_->push(gap_begin_op{handle, gap_info{start_offset_ns, std::nullopt, std::move(reason)}}, false);
    return handle;
}

void frame_writer::end_gap(gap_handle gap, std::int64_t end_offset_ns) {
    state_->push(gap_end_op{gap, end_offset_ns}, false);
}

void frame_writer::end_session(std::int64_t ended_wall_ns) { state_->push(end_session_op{ended_wall_ns}, false); }

void frame_writer::flush() {
    std::unique_lock lock{state_->mutex};
    auto const target = state_->submitted_ops;
    ++state_->flush_requests;
    state_->wake_writer.notify_one();
    state_->wake_flushers.wait(lock, [&] {
        return state_->committed_ops >= target || state_->finished;
    });
    if (state_->failure) throw archive_error{*state_->failure};
}

void frame_writer::close() {
    {
        std::lock_guard lock{state_->mutex};
        state_->stopping = true;
        state_->wake_writer.notify_one();
    }
    if (state_->thread.joinable()) state_->thread.join();
    std::lock_guard lock{state_->mutex};
    if (state_->failure) throw archive_error{*state_->failure};
}

std::uint64_t frame_writer::backlog_bytes() const { return state_->backlog_bytes.load(std::memory_order_relaxed); }

frame_writer_stats frame_writer::stats() const {
    std::lock_guard lock{state_->mutex};
    return state_->counters;
}

std::optional<std::string> frame_writer::error() const {
    std::lock_guard lock{state_->mutex};
    return state_->failure;
}

void frame_writer::on_commit(std::function<void(frame_writer_stats const&)> callback) {
    std::lock_guard lock{state_->mutex};
    state_->commit_callback = std::move(callback);
}

}  // namespace harness::archive
