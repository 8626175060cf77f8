#include "mockserver/mock_replay.hpp"

#include "core/archive/archive.hpp"
#include "core/archive/frame_reader.hpp"
#include "core/archive/session_jsonl.hpp"
#include "core/clock/clock_timer.hpp"
#include "core/log/log.hpp"
#include "core/model/event_index.hpp"
#include "core/net/spawn.hpp"
#include "core/replay/frame_transform.hpp"
#include "core/replay/replay_speed.hpp"
#include "mockserver/event_router.hpp"
#include "mockserver/feed_hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

namespace harness::mock {

struct temporary_archive {
    std::string path;
    explicit temporary_archive(std::string p) : path{std::move(p)} {}
    temporary_archive(temporary_archive const&) = delete;
    temporary_archive& operator=(temporary_archive const&) = delete;
    ~temporary_archive() {
        std::error_code ignored;
        for (auto const* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ignored);
    }
};

namespace {

std::string temporary_archive_path() {
    static std::atomic<unsigned> next{1};
    auto const name = "dialpad-mock-replay-" + std::to_string(::getpid()) + "-" + std::to_string(next++) + ".db";
    return (std::filesystem::temp_directory_path() / name).string();
}

// Reads `source.path` far enough to know it is an archive; a .jsonl file is
// imported first (the importer checks every line, and the replay then reads
// it like any archive).
void open_archive(replay_source& source) {
    if (!source.archive.ends_with(".jsonl")) {
        archive::archive check{source.path, archive::open_mode::read_only};
        return;
    }
    std::ifstream in{source.archive, std::ios::binary};
    if (!in) throw replay_error{400, source.archive + ": cannot be read"};
    auto import = std::make_shared<temporary_archive>(temporary_archive_path());
    {
        archive::archive target{import->path, archive::open_mode::read_write};
        archive::import_session(target, in, source.archive);
    }
    source.path = import->path;
    source.import = std::move(import);
}

}  // namespace

replay_source open_replay_source(std::string const& archive_path, std::string const& session_ref) {
    if (archive_path.empty()) throw replay_error{400, "name the archive to replay"};
    std::error_code ec;
    auto const status = std::filesystem::status(archive_path, ec);
    if (!std::filesystem::exists(status)) throw replay_error{400, archive_path + ": no such file"};
    if (!std::filesystem::is_regular_file(status)) throw replay_error{400, archive_path + ": not a file"};

    replay_source source;
    source.archive = archive_path;
    source.path = archive_path;
    try {
        open_archive(source);
    } catch (replay_error const&) {
        throw;
    } catch (std::exception const& e) {  // not an archive, damaged, a newer schema, a bad JSON Lines line
        throw replay_error{400, e.what()};
    }
    try {
        archive::archive store{source.path, archive::open_mode::read_only};
        source.session = store.resolve_session(session_ref);
        try {
            source.events = store.frame_count(source.session.id, archive::frame_kind::event);
        } catch (std::exception const& e) {
            throw replay_error{400, e.what()};
        }
    } catch (replay_error const&) {
        throw;
    } catch (std::exception const& e) {
        throw replay_error{404, e.what()};
    }
    return source;
}

namespace {

enum class phase { running, finished, cancelled, failed };

std::string_view to_string(phase p) {
    switch (p) {
    case phase::running: return "running";
    case phase::finished: return "finished";
    case phase::cancelled: return "cancelled";
    case phase::failed: return "failed";
    }
    return "unknown";
}

// One replay: what it plays, how far it got, and the timers a cancel wakes.
struct replay_run {
    replay_run(net::any_io_executor executor, clock& time, std::uint64_t run_id, replay_source s, replay_pacing p)
        : id{run_id}, source{std::move(s)}, pacing{p}, timer{executor, time}, poll{executor} {}

    void skip(std::string_view family) {
        ++skipped;
        ++skipped_by_family[std::string{family}];
    }
    void error(std::string message) {
        ++errors;
        last_error = std::move(message);
    }
    void end(phase how) {
        if (state != phase::running) return;
        state = how;
        timer.cancel();
        poll.cancel();
    }

    std::uint64_t id;
    replay_source source;
    replay_pacing pacing;
    clock_timer timer;       // the recorded schedule, on the mock's clock
    net::steady_timer poll;  // full speed only: waits for congested connections to drain
    phase state = phase::running;
    std::uint64_t played = 0, delivered = 0, skipped = 0, errors = 0;
    std::map<std::string, std::uint64_t> skipped_by_family;
    std::string last_error;
    std::optional<std::int64_t> rebase_ms;  // set at the first event with a timestamp
};

}  // namespace

struct mock_replays::state {
    net::any_io_executor executor;
    feed_hub& feed;
    resource_store const& store;
    clock& time;
    std::uint64_t next_id = 1;
    std::map<std::uint64_t, std::shared_ptr<replay_run>> runs{};
};

namespace {

// Hands one recorded event to the feed, as POST /__admin/events would.
void play_frame(mock_replays::state& hub, replay_run& run, archive::frame_record const& frame) {
    auto const family = frame.index ? frame.index->family : model::index_event(frame.text).family;
    auto const kind = parse_subscription_kind(model::to_string(family));
    if (!kind) return run.skip(model::to_string(family));
    // A signed frame's secret is not known: its payload is the event, and
    // the feed signs it again with each websocket's own secret.
    auto event = replay::event_json_of(frame.text);
    if (!event) return run.error("frame " + std::to_string(frame.id) + ": a JWT whose payload cannot be decoded");
    if (run.pacing.rebase_time && !run.rebase_ms) {
        if (auto const recorded_ms = replay::event_timestamp(*event))
            run.rebase_ms = unix_millis(hub.time.wall_now()) - *recorded_ms;
    }
    if (run.rebase_ms) event = replay::rebase_times(*event, *run.rebase_ms);
    auto const facts = read_event_facts(*kind, *event);
    if (!facts) return run.error("frame " + std::to_string(frame.id) + ": the event is not a JSON object");
    if (!any_websocket_subscription_matches(hub.store, *facts)) return run.skip(to_string(*kind));
    run.delivered += hub.feed.deliver(*facts, std::move(*event)).size();
    ++run.played;
}

// Plays the session against the time it started: an event is due at
// start + (offset - first offset - cut gaps) / speed, never sleep-after-send,
// so the schedule does not drift.
net::awaitable<void> play_session(std::shared_ptr<mock_replays::state> hub, std::shared_ptr<replay_run> run) {
    std::optional<archive::frame_reader> reader;
    try {
        reader.emplace(run->source.path, run->source.session.id,
                       archive::frame_filter{.kinds = {archive::frame_kind::event}});
    } catch (std::exception const& e) {
        run->last_error = e.what();
        run->end(phase::failed);
    }
    auto const start = hub->time.now();
    auto const& pacing = run->pacing;
    std::optional<std::int64_t> first_offset, previous_offset;
    mono_duration cut{0};  // idle time removed by max_gap
    while (run->state == phase::running) {
        std::optional<archive::frame_record> frame;
        try {
            frame = reader->next();
        } catch (std::exception const& e) {  // the file went away or was damaged while playing
            run->last_error = e.what();
            run->end(phase::failed);
            break;
        }
        if (!frame) break;
        if (!first_offset) first_offset = frame->offset_ns;
        if (previous_offset && pacing.max_gap) {
            auto const gap = mono_duration{frame->offset_ns - *previous_offset};
            if (gap > *pacing.max_gap) cut += gap - *pacing.max_gap;
        }
        previous_offset = frame->offset_ns;
        if (pacing.speed) {
            auto const recorded = mono_duration{frame->offset_ns - *first_offset} - cut;
            auto const due = start + replay::paced_offset(recorded, *pacing.speed);
            auto const reached = co_await run->timer.wait_until(due);
            if (!reached) break;
        } else {
            // Full speed: the connections write between events, and the
            // replay waits while one of them is half its queue limit behind,
            // woken by the feed once none is.
            co_await net::post(hub->executor, net::use_awaitable);
            while (run->state == phase::running && hub->feed.congested()) {
                run->poll.expires_at(net::steady_timer::time_point::max());
                hub->feed.when_uncongested([weak = std::weak_ptr{run}] {
                    if (auto r = weak.lock()) r->poll.cancel();
                });
                auto [ec] = co_await run->poll.async_wait(net::as_tuple(net::use_awaitable));
                (void)ec;
            }
        }
        if (run->state != phase::running) break;
        try {
            play_frame(*hub, *run, *frame);
        } catch (std::exception const& e) {
            run->error("frame " + std::to_string(frame->id) + ": " + e.what());
        }
    }
    run->end(phase::finished);  // unless it was cancelled or failed
    HLOG(info, "mock.replay_done")
        .field("replay", run->id)
        .field("state", to_string(run->state))
        .field("played", run->played)
        .field("skipped", run->skipped)
        .field("errors", run->errors);
}

nlohmann::ordered_json status_of(replay_run const& run) {
    nlohmann::ordered_json j;
    j["id"] = run.id;
    j["archive"] = run.source.archive;
    j["session"] = run.source.session.id;
    j["session_name"] = run.source.session.name;
    j["speed"] = run.pacing.speed ? nlohmann::ordered_json(*run.pacing.speed) : nlohmann::ordered_json("max");
    j["rebase_time"] = run.pacing.rebase_time;
    if (run.pacing.max_gap)
        j["max_gap_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(*run.pacing.max_gap).count();
    j["state"] = to_string(run.state);
    j["events"] = run.source.events;
    j["played"] = run.played;
    j["delivered"] = run.delivered;
    j["skipped"] = run.skipped;
    j["skipped_by_family"] = run.skipped_by_family;
    j["errors"] = run.errors;
    j["last_error"] = run.last_error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(run.last_error);
    return j;
}

}  // namespace

mock_replays::mock_replays(net::any_io_executor executor, feed_hub& feed, resource_store const& store,
                           clock& time_source)
    : state_{std::make_shared<state>(state{std::move(executor), feed, store, time_source})} {}

mock_replays::~mock_replays() { cancel_all(); }

std::uint64_t mock_replays::start(replay_source source, replay_pacing pacing) {
    auto const id = state_->next_id++;
    auto run = std::make_shared<replay_run>(state_->executor, state_->time, id, std::move(source), pacing);
    state_->runs[id] = run;
    HLOG(info, "mock.replay_start")
        .field("replay", id)
        .field("archive", run->source.archive)
        .field("session", run->source.session.id)
        .field("events", run->source.events);
    net::co_spawn(state_->executor, play_session(state_, std::move(run)), log_on_exit{"replay"});
    return id;
}

bool mock_replays::cancel(std::uint64_t id) {
    auto const found = state_->runs.find(id);
    if (found == state_->runs.end()) return false;
    found->second->end(phase::cancelled);
    return true;
}

void mock_replays::cancel_all() {
    for (auto const& [id, run] : state_->runs) run->end(phase::cancelled);
}

void mock_replays::reset() {
    cancel_all();
    state_->runs.clear();  // each coroutine keeps its own run until it has wound down
}

nlohmann::ordered_json mock_replays::list_json() const {
    nlohmann::ordered_json body;
    auto& list = body["replays"] = nlohmann::ordered_json::array();
    for (auto const& [id, run] : state_->runs) list.push_back(status_of(*run));
    return body;
}

std::optional<nlohmann::ordered_json> mock_replays::status_json(std::uint64_t id) const {
    auto const found = state_->runs.find(id);
    if (found == state_->runs.end()) return std::nullopt;
    return status_of(*found->second);
}

}  // namespace harness::mock
