#include "replayer/replay_server.hpp"

#include "core/clock/clock_timer.hpp"
#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "core/web/ws_connection.hpp"
#include "replayer/frame_source.hpp"
#include "core/replay/frame_transform.hpp"
#include "core/replay/replay_speed.hpp"
#include "replayer/replay_connection.hpp"
#include "replayer/session_cursor.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace harness::replayer {
using replay::event_json_of;
using replay::event_timestamp;
using replay::transform_frame;
namespace {

using namespace boost::asio::experimental::awaitable_operators;
using std::chrono::nanoseconds;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// A client is "keeping up" while its p99 lag behind the schedule stays under this.
constexpr nanoseconds k_kept_up_lag = std::chrono::milliseconds{50};
// Per client, a producer keeps up to this much queued and tops it up once it
// falls below the low mark: enough that the socket never waits for us.
constexpr std::size_t k_queue_high = 2u << 20;
constexpr std::size_t k_queue_low = 512u << 10;
// One queued run carries at most this much.
constexpr std::size_t k_run_max_bytes = 1u << 20;

struct client_record {
    std::uint64_t id = 0;
    std::string path;  // its /events/<token>: a client cut by a replayed close resumes by it
    std::string remote;
    bool resumed = false;
    std::shared_ptr<replay_connection> connection;  // once the websocket is open
    std::shared_ptr<clock_timer> timer;              // its pacing (per-client mode)
};

// A client's share of the report's totals.
struct client_totals {
    std::uint64_t clients = 0, frames = 0, bytes = 0, finished = 0, slow = 0;
    bool all_kept_up = true;
};

// A client's entry in the report, added to `totals`.
nlohmann::ordered_json report_entry(client_record const& c, replay_connection const& connection,
                                    client_totals& totals) {
    auto const ms = [](nanoseconds d) { return double(d.count()) / 1e6; };
    nlohmann::ordered_json j;
    j["id"] = c.id;
    j["remote"] = c.remote;
    j["frames"] = connection.messages();
    j["bytes"] = connection.bytes();
    auto const first = connection.first_send_ns(), last = connection.last_send_ns();
    j["first_send_ns"] = first ? nlohmann::ordered_json(*first) : nlohmann::ordered_json(nullptr);
    j["last_send_ns"] = last ? nlohmann::ordered_json(*last) : nlohmann::ordered_json(nullptr);
    auto const& lags = connection.lags();
    j["lag_ms"] = {{"p50", ms(lags.percentile(0.5))},
                   {"p95", ms(lags.percentile(0.95))},
                   {"p99", ms(lags.percentile(0.99))},
                   {"max", ms(lags.max())}};
    bool const kept_up = lags.percentile(0.99) <= k_kept_up_lag && !connection.slow();
    j["kept_up"] = kept_up;
    j["finished"] = connection.finished();
    j["ended_by"] = connection.end_reason().empty() ? "still open" : connection.end_reason();
    j["resumed"] = c.resumed;
    j["sha256"] = connection.digest();
    ++totals.clients;
    totals.frames += connection.messages();
    totals.bytes += connection.bytes();
    totals.finished += connection.finished() ? 1 : 0;
    totals.slow += connection.slow() ? 1 : 0;
    totals.all_kept_up = totals.all_kept_up && kept_up;
    return j;
}

// Where a client cut by a replayed close goes on from.
struct resume_point {
    session_cursor cursor;
    nanoseconds at{0};  // the cut's place on the timeline
    std::optional<std::int64_t> rebase_ms;
};

// The frames of one run when a client shifts times itself (per-client
// --rebase-time: each client's first event reads "now").
struct own_frames {
    std::string wire;
    std::string hashes;
};

}  // namespace

struct replay_server::state {
    state(replay_options o, clock& time_source, net::any_io_executor ex, web::server_options server_options)
        : options{std::move(o)},
          time{time_source},
          executor{ex},
          server{ex, std::move(server_options),
                 [](web::request&) {
                     return web::response::json(404, R"({"error":"connect a websocket to /events/<token>"})");
                 }},
          gate{std::make_shared<net::steady_timer>(ex, net::steady_timer::time_point::max())},
          room{std::make_shared<net::steady_timer>(ex, net::steady_timer::time_point::max())},
          timeline_timer{std::make_shared<clock_timer>(ex, time_source)} {}

    replay_options options;
    clock& time;
    net::any_io_executor executor;
    web::server server;
    std::unique_ptr<frame_source> source;  // built when the first timeline starts
    bool clients_rebase = false;  // per-client --rebase-time: clients change their own copies
    std::uint64_t next_client = 1;
    std::map<std::uint64_t, std::shared_ptr<client_record>> clients{};  // connected
    // What the report keeps of clients whose connection ended: their entry
    // and totals, not the connection (its queue, histogram and socket), so a
    // server that sees clients come and go for hours stays the same size.
    std::map<std::uint64_t, nlohmann::ordered_json> ended_clients{};
    client_totals ended_totals{};
    std::map<std::string, resume_point> resume_points{};
    std::function<void()> on_client_finished{};
    bool stopped = false;  // stop() was called: no timeline goes on
    // Nobody starts before enough clients are connected (--wait-clients; in
    // broadcast mode at least one).
    std::shared_ptr<net::steady_timer> gate;
    bool gate_open = false;
    std::size_t open_clients = 0;
    // Broadcast: a client made room (at --speed max the timeline goes at the
    // pace of the fastest client), and the shared timeline's pacing.
    std::shared_ptr<net::steady_timer> room;
    std::shared_ptr<clock_timer> timeline_timer;
    bool timeline_done = false;

    bool broadcast() const { return options.mode == replay_mode::broadcast; }

    // Broadcast: what a client that keeps up may have queued at most is the
    // room mark plus one run, kept within --client-queue-limit so that only
    // a client that falls behind is dropped.
    std::size_t room_mark() const {
        return broadcast() ? std::clamp<std::size_t>(options.client_queue_limit / 2, 1, k_queue_high) : k_queue_high;
    }
    std::size_t run_max_bytes() const {
        return broadcast() ? std::min(k_run_max_bytes, options.client_queue_limit / 4) : k_run_max_bytes;
    }

    nanoseconds scaled(nanoseconds at) const { return replay::paced_offset(at, *options.speed); }

    frame_source& frames() {
        if (source) return *source;
        source_options o{.archive_path = options.archive_path,
                         .session = options.session,
                         .filter = options.filter,
                         .replay_closes = options.replay_closes};
        if (options.rebase_time && !broadcast()) {
            clients_rebase = true;  // clients sign too, after shifting
        } else {
            o.sign_secret = options.sign_secret;
            if (options.rebase_time)
                if (auto const first = first_event_timestamp(options.archive_path, options.session, options.filter))
                    o.rebase_ms = unix_millis(time.wall_now()) - *first;
        }
        source = std::make_unique<frame_source>(std::move(o));
        return *source;
    }
};

namespace {

using state = replay_server::state;

net::awaitable<void> wait_for_gate(std::shared_ptr<state> s) {
    while (!s->gate_open && !s->stopped) {
        auto gate = s->gate;
        auto [ec] = co_await gate->async_wait(use_tuple);
        (void)ec;
    }
}

// The entry at the cursor (null at the end), or null with `failure` set
// when its chunk could not be read.
chunk_entry const* entry_at(session_cursor& cursor, std::string& failure) {
    try {
        return cursor.current();
    } catch (std::exception const& e) {
        failure = e.what();
        return nullptr;
    }
}

// The entries at the cursor that are due by `now` (at --speed max: the rest
// of the chunk), as one run; a replayed close or drop ends a run.
outgoing_run take_run(state& s, session_cursor& cursor, mono_time start, mono_time now, nanoseconds& last_at) {
    auto const chunk = cursor.chunk();
    auto const first = cursor.index();
    outgoing_run run;
    run.owner = chunk;
    std::size_t count = 0;
    std::size_t bytes = 0;
    // The same chunk again after a loop is not a continuation: check the index too.
    for (auto const* entry = cursor.current(); entry && cursor.chunk() == chunk && cursor.index() == first + count;
         entry = cursor.current()) {
        if (count > 0 && (bytes >= s.run_max_bytes() || (s.options.speed && start + s.scaled(cursor.at()) > now))) break;
        ++count;
        bytes += entry->end - entry->begin;
        last_at = cursor.at();
        auto const kind = entry->kind;
        if (kind == entry_kind::message) {
            ++run.messages;
            if (s.options.speed) run.dues.push_back(start + s.scaled(cursor.at()));
        }
        cursor.advance();
        if (kind != entry_kind::message) {
            run.after = kind == entry_kind::close ? outgoing_run::then::close : outgoing_run::then::cut;
            break;
        }
    }
    auto const begin = chunk->entries[first].begin;
    auto const end = chunk->entries[first + count - 1].end;
    run.wire = std::string_view{chunk->wire}.substr(begin, end - begin);
    run.hashes = chunk->hashes_of(first, count);
    return run;
}

// A run re-made with this client's time shift (and signature); `first` is
// its first entry in its chunk. Throws std::invalid_argument when a frame
// cannot be changed.
void shift_run(state& s, outgoing_run& run, std::size_t first, std::optional<std::int64_t>& rebase_ms) {
    auto const chunk = std::static_pointer_cast<frame_chunk const>(run.owner);
    auto own = std::make_shared<own_frames>();
    std::size_t taken = 0;
    for (std::size_t i = first; taken < run.wire.size(); ++i) {
        auto const& entry = chunk->entries[i];
        taken += entry.end - entry.begin;
        if (entry.kind != entry_kind::message || !entry.is_event) {
            own->wire.append(std::string_view{chunk->wire}.substr(entry.begin, entry.end - entry.begin));
            own->hashes.append(chunk->hashes_of(i, 1));
            continue;
        }
        auto const payload = chunk->payload(i);
        if (!rebase_ms) {
            auto const event = event_json_of(payload);
            if (auto const recorded = event ? event_timestamp(*event) : std::nullopt)
                rebase_ms = unix_millis(s.time.wall_now()) - *recorded;
        }
        auto const text = transform_frame(std::string{payload}, rebase_ms, s.options.sign_secret);
        web::append_server_frame(own->wire, web::ws_opcode::text, text);
        append_frame_hash(own->hashes, text);
    }
    run.wire = own->wire;
    run.hashes = own->hashes;
    run.owner = std::move(own);
}

// Per-client mode: the whole session for one client, paced from when it
// started (or from its cut, when it resumes one).
net::awaitable<void> per_client_timeline(std::shared_ptr<state> s, std::shared_ptr<client_record> c) {
    co_await wait_for_gate(s);
    if (s->stopped) co_return;
    auto const connection = c->connection;
    auto& o = s->options;
    std::optional<session_cursor> cursor;
    nanoseconds last_at{0};
    std::optional<std::int64_t> rebase_ms;
    std::string failure;
    try {
        cursor.emplace(s->frames(), o.loops, o.max_gap);
    } catch (std::exception const& e) {
        failure = e.what();
    }
    if (auto found = s->resume_points.find(c->path); found != s->resume_points.end()) {
        cursor = found->second.cursor;
        last_at = found->second.at;
        rebase_ms = found->second.rebase_ms;
        c->resumed = true;
        s->resume_points.erase(found);
    }
    if (failure.empty()) entry_at(*cursor, failure);  // the first chunk is read before the clock starts
    auto const start = s->time.now() - (o.speed ? s->scaled(last_at) : nanoseconds{0});
    while (failure.empty() && !connection->ended() && !s->stopped) {
        auto const* entry = entry_at(*cursor, failure);
        if (!failure.empty()) break;
        if (!entry) {
            connection->finish(1000, "replay finished", true);
            break;
        }
        auto const now = s->time.now();
        if (o.speed) {
            auto const due = start + s->scaled(cursor->at());
            if (due > now) {
                auto const timer = c->timer;
                bool const reached = co_await timer->wait_until(due);
                if (!reached) break;
                continue;
            }
        }
        outgoing_run run;
        try {
            auto const first = cursor->index();
            run = take_run(*s, *cursor, start, now, last_at);
            if (s->clients_rebase) shift_run(*s, run, first, rebase_ms);
        } catch (std::exception const& e) {
            failure = e.what();
            break;
        }
        auto const after = run.after;
        if (after != outgoing_run::then::go_on) s->resume_points.insert_or_assign(c->path, resume_point{*cursor, last_at, rebase_ms});
        connection->push(std::move(run));
        if (after != outgoing_run::then::go_on) break;
        if (connection->queued_bytes() >= k_queue_high) co_await connection->wait_for_room(k_queue_low);
    }
    if (!failure.empty()) {
        HLOG(error, "replay.frames_failed").field("client", c->id).field("reason", failure);
        connection->finish(1011, "cannot serve the session: " + failure.substr(0, 80), false);
    }
}

bool some_client_has_room(state const& s) {
    return std::any_of(s.clients.begin(), s.clients.end(), [&s](auto const& entry) {
        auto const& c = entry.second->connection;
        return c && !c->ended() && c->queued_bytes() < s.room_mark();
    });
}

// Broadcast mode: one live timeline for every connected client.
net::awaitable<void> broadcast_timeline(std::shared_ptr<state> s) {
    co_await wait_for_gate(s);
    auto& o = s->options;
    std::optional<session_cursor> cursor;
    std::string failure;
    try {
        cursor.emplace(s->frames(), o.loops, o.max_gap);
    } catch (std::exception const& e) {
        failure = e.what();
    }
    if (failure.empty()) entry_at(*cursor, failure);  // the first chunk is read before the clock starts
    auto const start = s->time.now();
    nanoseconds last_at{0};
    while (failure.empty() && !s->stopped) {
        auto const* entry = entry_at(*cursor, failure);
        if (!failure.empty()) break;
        if (!entry) break;
        auto const now = s->time.now();
        if (o.speed) {
            auto const due = start + s->scaled(cursor->at());
            if (due > now) {
                auto const timer = s->timeline_timer;
                bool const reached = co_await timer->wait_until(due);
                (void)reached;  // stop() is checked above
                continue;
            }
        } else if (!some_client_has_room(*s)) {
            auto const room = s->room;
            room->expires_at(net::steady_timer::time_point::max());
            auto [ec] = co_await room->async_wait(use_tuple);
            (void)ec;
            continue;
        }
        outgoing_run run;
        try {
            run = take_run(*s, *cursor, start, now, last_at);
        } catch (std::exception const& e) {
            failure = e.what();
            break;
        }
        for (auto const& [id, client] : s->clients) {
            auto const& connection = client->connection;
            if (!connection || connection->ended()) continue;
            if (connection->queued_bytes() + run.wire.size() > o.client_queue_limit)
                connection->drop_slow("more than " + std::to_string(o.client_queue_limit) + " bytes queued");
            else
                connection->push(run);
        }
    }
    if (!failure.empty()) HLOG(error, "replay.frames_failed").field("reason", failure);
    s->timeline_done = true;
    for (auto const& [id, client] : s->clients)
        if (client->connection) {
            if (failure.empty())
                client->connection->finish(1000, "replay finished", true);
            else
                client->connection->finish(1011, "cannot serve the session: " + failure.substr(0, 80), false);
        }
}

net::awaitable<void> serve_connection(std::shared_ptr<state> s, std::shared_ptr<client_record> c, web::ws_connection ws) {
    auto connection = std::make_shared<replay_connection>(s->executor, std::move(ws), s->time);
    c->connection = connection;
    s->clients[c->id] = c;
    connection->on_end = [timer = c->timer] { timer->cancel(); };
    connection->on_finished = [weak = std::weak_ptr<state>{s}] {
        if (auto s = weak.lock(); s && s->on_client_finished) s->on_client_finished();
    };
    ++s->open_clients;
    auto const needed = std::max<std::size_t>(s->options.wait_clients, s->broadcast() ? 1 : 0);
    if (!s->gate_open && s->open_clients >= needed) {
        s->gate_open = true;
        s->gate->cancel();
    }
    if (s->broadcast()) {
        connection->on_room = [room = s->room] { room->cancel(); };
        s->room->cancel();
        if (s->timeline_done) connection->finish(1000, "replay finished", false);
        co_await connection->run();
    } else {
        co_await (connection->run() && per_client_timeline(s, c));
    }
    HLOG(info, "replay.client_done").field("client", c->id).field("frames", connection->messages())
        .field("end", connection->end_reason());
    s->ended_clients.emplace(c->id, report_entry(*c, *connection, s->ended_totals));
    if (s->ended_clients.size() > s->options.report_ended_clients) s->ended_clients.erase(s->ended_clients.begin());
    s->clients.erase(c->id);
}

}  // namespace

replay_server::replay_server(net::any_io_executor executor, web::server_options server_options, replay_options options,
                             clock& time_source)
    : state_{std::make_shared<state>(std::move(options), time_source, executor, std::move(server_options))} {
    state_->gate_open = state_->options.wait_clients == 0 && !state_->broadcast();
    auto weak = std::weak_ptr<state>{state_};
    state_->server.on_upgrade([weak](web::request const& request) {
        web::upgrade_decision decision;
        auto s = weak.lock();
        if (!s || !request.path.starts_with("/events/")) {
            decision.refusal = web::response::json(404, R"({"error":"the event websocket is /events/<token>"})");
            return decision;
        }
        if (s->options.require_token && request.path.substr(8) != *s->options.require_token) {
            decision.refusal = web::response::json(401, R"({"error":"invalid token"})");
            return decision;
        }
        auto client = std::make_shared<client_record>();
        client->id = s->next_client++;
        client->path = request.path;
        client->remote = request.remote_address;
        client->timer = std::make_shared<clock_timer>(s->executor, s->time);
        // Registered once its handshake is done (serve_connection): a
        // malformed upgrade leaves nothing behind.
        decision.session = [s, client](web::ws_connection ws) { return serve_connection(s, client, std::move(ws)); };
        return decision;
    });
}

replay_server::~replay_server() = default;

void replay_server::start() {
    // The session is read before the first client comes, unless its times
    // must shift from when the shared timeline starts.
    if (!(state_->broadcast() && state_->options.rebase_time)) state_->frames().read_ahead();
    state_->server.start();
    if (state_->broadcast())
        net::co_spawn(state_->executor, broadcast_timeline(state_), log_on_exit{"replay broadcast timeline"});
}

std::uint16_t replay_server::port() const { return state_->server.port(); }

void replay_server::stop() {
    auto& s = *state_;
    s.stopped = true;
    s.gate->cancel();
    s.room->cancel();
    s.timeline_timer->cancel();
    for (auto const& [id, client] : s.clients) client->timer->cancel();
    s.server.stop();
}

void replay_server::on_client_finished(std::function<void()> callback) {
    state_->on_client_finished = std::move(callback);
}

std::size_t replay_server::clients_finished() const {
    auto const connected = std::count_if(state_->clients.begin(), state_->clients.end(), [](auto const& entry) {
        return entry.second->connection && entry.second->connection->finished();
    });
    return static_cast<std::size_t>(connected) + state_->ended_totals.finished;
}

nlohmann::json replay_server::report() const {
    nlohmann::ordered_json report;
    report["mode"] = state_->broadcast() ? "broadcast" : "per-client";
    auto totals = state_->ended_totals;
    std::map<std::uint64_t, nlohmann::ordered_json> connected;
    for (auto const& [id, c] : state_->clients)
        if (c->connection) connected.emplace(id, report_entry(*c, *c->connection, totals));  // else mid-handshake
    // In id order: a client still connected may have come before one that ended.
    auto& list = report["clients"] = nlohmann::ordered_json::array();
    auto ended = state_->ended_clients.begin();
    for (auto& [id, entry] : connected) {
        for (; ended != state_->ended_clients.end() && ended->first < id; ++ended) list.push_back(ended->second);
        list.push_back(std::move(entry));
    }
    for (; ended != state_->ended_clients.end(); ++ended) list.push_back(ended->second);
    report["totals"] = {{"clients", totals.clients},     {"frames", totals.frames},
                        {"bytes", totals.bytes},         {"finished", totals.finished},
                        {"disconnected_slow", totals.slow}, {"all_kept_up", totals.all_kept_up},
                        {"chunks_loaded", state_->source ? state_->source->chunks_loaded() : 0}};
    return nlohmann::json::parse(report.dump());
}

}  // namespace harness::replayer
