#include "recorder/recorder.hpp"

#include "core/archive/archive.hpp"
#include "core/archive/frame_writer.hpp"
#include "core/clock/clock_timer.hpp"
#include "core/jwt/jwt.hpp"
#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "core/redact/redactor.hpp"
#include "core/web/ws_connection.hpp"
#include "recorder/dialpad_rest.hpp"
#include "recorder/overlap_dedup.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <mutex>
#include <random>

namespace harness::recorder {
namespace {

using std::chrono::duration_cast;
using std::chrono::nanoseconds;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// One connection to the event websocket.
struct live_connection {
    std::uint64_t number = 0;  // 1, 2, ... in opening order
    archive::frame_writer::connection_handle handle = 0;
    std::shared_ptr<web::ws_connection> ws;
    mono_time opened{};
    std::shared_ptr<clock_timer> refresh_timer;  // fires ahead of the token's expiry and the cut
    std::shared_ptr<clock_timer> retire_timer;   // closes it once the next one has overlapped
    std::shared_ptr<net::steady_timer> disk_wait;  // reading paused until the archive catches up
    std::optional<archive::end_reason> ended_by_us;
    std::string close_reason_sent;  // the close frame we sent, when we ended it
    bool close_failed = false;
};

// The token's own lifetime (exp - iat), when it is a JWT that says.
std::optional<nanoseconds> token_lifetime(std::string const& url) {
    auto const slash = url.rfind('/');
    if (slash == std::string::npos) return std::nullopt;
    auto const token = jwt::decode(std::string_view{url}.substr(slash + 1));
    if (!token) return std::nullopt;
    auto const claims = nlohmann::json::parse(token->payload, nullptr, false);
    if (!claims.is_object() || !claims.contains("exp") || !claims.contains("iat") || !claims["exp"].is_number() ||
        !claims["iat"].is_number())
        return std::nullopt;
    auto const seconds = claims["exp"].get<double>() - claims["iat"].get<double>();
    if (seconds <= 0 || seconds > 7 * 24 * 3600) return std::nullopt;
    return duration_cast<nanoseconds>(std::chrono::duration<double>(seconds));
}

archive::frame_kind kind_of(std::string_view text) {
    auto const first = text.find_first_not_of(" \t\r\n");
    if (jwt::looks_like_jwt(text) || (first != std::string_view::npos && text[first] == '{'))
        return archive::frame_kind::event;
    return archive::frame_kind::control;
}

}  // namespace

std::string redact_ws_url(std::string const& url) {
    auto const scheme_end = url.find("://");
    auto const path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    if (path_start == std::string::npos) return url;
    auto const events = url.find("/events/", path_start);
    if (events != std::string::npos) return url.substr(0, events + 8) + "<token>";
    auto const last = url.rfind('/');
    return url.substr(0, last + 1) + "<redacted>";
}

struct recorder::state : std::enable_shared_from_this<state> {
    state(net::any_io_executor executor, recorder_config c, clock& time_source)
        : ex{std::move(executor)},
          config{std::move(c)},
          time{time_source},
          wake{ex},
          status_timer{ex},
          duration_timer{std::make_shared<clock_timer>(ex, time_source)},
          dedup{config.dedup_window},
          jitter{std::random_device{}()} {}

    net::any_io_executor ex;
    recorder_config config;
    clock& time;
    net::thread_pool rest_pool{1};
    std::optional<dialpad_rest> rest;
    std::unique_ptr<archive::frame_writer> writer;
    mono_time session_start{};
    std::int64_t websocket_id = 0;
    std::optional<std::string> secret;

    std::map<std::uint64_t, std::shared_ptr<live_connection>> live;
    std::uint64_t next_connection = 1;
    std::size_t readers_running = 0;
    net::steady_timer wake;  // the supervisor waits on it; anything that changes the plan cancels it
    net::steady_timer status_timer;
    std::shared_ptr<clock_timer> duration_timer;
    bool stopping = false;
    bool refresh_due = false;
    std::optional<int> exit_code;  // set by a permanent failure
    std::optional<archive::frame_writer::gap_handle> open_gap;
    std::string gap_reason;
    overlap_dedup dedup;
    steady::time_point dedup_until{};  // copies can still arrive until then
    std::mt19937_64 jitter;
    // Written on the executor only; the lock is for stats() from other threads.
    recorder_stats counters;
    mutable std::mutex counters_mutex;
    template <class Update>
    void count(Update update) {
        std::lock_guard lock{counters_mutex};
        update(counters);
    }
    steady::time_point started_real = steady::now();
    std::function<void()> on_live;
    bool was_live = false;
    std::optional<mono_time> next_refresh;  // of the newest connection

    std::int64_t offset_now() const { return duration_cast<nanoseconds>(time.now() - session_start).count(); }
    std::int64_t wall_now_ns() const { return time.wall_now().time_since_epoch().count(); }
    void poke() { wake.cancel(); }

    void stop() {
        if (stopping) return;
        stopping = true;
        duration_timer->cancel();
        status_timer.cancel();
        disk_caught_up();
        poke();
    }

    // A commit landed (posted from the writer thread): paused readers look again.
    void disk_caught_up() {
        for (auto& [number, conn] : live) conn->disk_wait->cancel();
    }

    void begin_gap(std::string reason) {
        if (open_gap || stopping) return;
        open_gap = writer->begin_gap(offset_now(), reason);
        gap_reason = std::move(reason);
        count([](recorder_stats& c) { ++c.gaps; });
        HLOG(warn, "record.gap_open").field("reason", gap_reason);
    }

    void end_gap() {
        if (!open_gap) return;
        writer->end_gap(*open_gap, offset_now());
        open_gap.reset();
        HLOG(info, "record.gap_closed");
    }

    void on_frame(live_connection const& conn, std::string text) {
        auto const now = steady::now();
        if (live.size() > 1) dedup_until = now + config.dedup_window;
        if (now <= dedup_until) {
            if (dedup.is_copy(conn.number, text, now)) {
                count([](recorder_stats& c) { ++c.copies_dropped; });
                return;
            }
        } else if (dedup.remembered() > 0) {
            dedup.clear();
        }
        auto const kind = kind_of(text);
        if (config.redactor && kind == archive::frame_kind::event) text = redacted(std::move(text));
        auto const size = text.size();
        auto const family = writer->write_frame(conn.handle, kind, offset_now(), wall_now_ns(), std::move(text));
        count([&](recorder_stats& c) {
            c.bytes += size;
            ++c.frames;
            if (kind == archive::frame_kind::event) ++c.per_family[static_cast<std::size_t>(family)];
        });
        if (config.max_events && counters.frames >= *config.max_events) {
            HLOG(info, "record.max_events").field("frames", counters.frames);
            stop();
        }
    }

    // The frame pseudonymised before it reaches the writer (a JWT with a bad
    // signature is re-signed badly: its verdict survives).
    std::string redacted(std::string text) const {
        try {
            return config.redactor->redact_frame(text, secret);
        } catch (std::exception const& e) {
            HLOG(warn, "record.unredactable").field("reason", e.what());
            return "{\"redaction_failed\":true}";  // the original must not reach the disk
        }
    }
};

namespace {

using state_ptr = std::shared_ptr<recorder::state>;

// REST calls run on the worker thread so the connections keep being read.
net::awaitable<websocket_info> blocking_get(dialpad_rest const* rest, std::int64_t id) {
    co_return rest->get_websocket(id);
}
net::awaitable<websocket_info> blocking_create(dialpad_rest const* rest, std::optional<std::string> secret) {
    co_return rest->create_websocket(secret);
}
net::awaitable<void> blocking_subscribe(dialpad_rest const* rest, std::int64_t id, subscription_spec spec) {
    rest->create_subscription(id, spec);
    co_return;
}

net::awaitable<void> wait_real(state_ptr s, std::chrono::milliseconds delay) {
    auto const until = steady::now() + delay;
    while (!s->stopping && steady::now() < until) {
        s->wake.expires_at(until);
        auto [ec] = co_await s->wake.async_wait(use_tuple);
        (void)ec;
    }
}

std::chrono::milliseconds next_backoff(state_ptr const& s, std::chrono::milliseconds current) {
    auto doubled = std::min(current * 2, s->config.backoff_cap);
    // ±20% jitter, so many recorders do not retry in step.
    std::uniform_real_distribution<double> spread{0.8, 1.2};
    return std::chrono::milliseconds{static_cast<std::int64_t>(double(doubled.count()) * spread(s->jitter))};
}

// Creates or finds the websocket; retries passing failures a few times.
net::awaitable<bool> set_up(state_ptr s) {
    auto& c = s->config;
    if (c.mode == source_mode::url) {
        s->secret = c.secret;
        co_return true;
    }
    s->rest.emplace(c.api_base, c.api_key, c.tls);
    auto backoff = c.backoff_first;
    for (int attempt = 1;; ++attempt) {
        std::chrono::milliseconds wait{0};
        try {
            if (c.mode == source_mode::create) {
                auto const created = co_await net::co_spawn(s->rest_pool, blocking_create(&*s->rest, c.secret),
                                                            net::use_awaitable);
                s->websocket_id = created.id;
                s->secret = c.secret ? c.secret : created.secret;
                HLOG(info, "record.websocket_created").field("websocket", created.id);
                for (auto const& spec : c.subscriptions) {
                    co_await net::co_spawn(s->rest_pool, blocking_subscribe(&*s->rest, created.id, spec),
                                           net::use_awaitable);
                    HLOG(info, "record.subscribed").field("kind", spec.kind);
                }
                c.mode = source_mode::websocket_id;  // from here on, as with --websocket-id
            } else {
                s->websocket_id = c.websocket_id;
                auto const found = co_await net::co_spawn(s->rest_pool, blocking_get(&*s->rest, c.websocket_id),
                                                          net::use_awaitable);
                s->secret = c.secret ? c.secret : found.secret;
            }
            co_return true;
        } catch (rest_failure const& e) {
            if (e.permanent() || attempt >= c.setup_attempts) {
                HLOG(error, "record.setup_failed").field("reason", e.what());
                std::fprintf(stderr, "dialpad-record: %s\n", e.what());
                co_return false;
            }
            HLOG(warn, "record.setup_retry").field("reason", e.what());
            wait = e.retry_after() ? std::chrono::milliseconds{*e.retry_after()} : backoff;
        }
        // Outside the handler: g++ allows no co_await in one.
        co_await wait_real(s, wait);
        backoff = next_backoff(s, backoff);
        if (s->stopping) co_return false;
    }
}

net::awaitable<void> close_connection(state_ptr s, std::shared_ptr<live_connection> conn, archive::end_reason why) {
    if (conn->ended_by_us) co_return;
    conn->ended_by_us = why;
    conn->close_reason_sent = why == archive::end_reason::token_refresh ? "token refresh" : "recording ended";
    auto ws = conn->ws;
    try {
        co_await ws->close(1000, conn->close_reason_sent);
    } catch (std::exception const&) {
        conn->close_failed = true;
        ws->abort();
    }
    (void)s;
}

// Holds a reader while the archive is more than max_backlog_bytes behind,
// until it is back under half of that: memory stays bounded and the service
// buffers what is not read yet. A failed writer stops the recording instead.
net::awaitable<void> wait_for_disk(state_ptr s, std::shared_ptr<live_connection> conn) {
    s->count([](recorder_stats& c) { ++c.disk_waits; });
    HLOG(debug, "record.disk_wait").field("conn", conn->number).field("backlog", s->writer->backlog_bytes());
    auto timer = conn->disk_wait;
    while (!s->stopping && s->writer->backlog_bytes() > s->config.max_backlog_bytes / 2) {
        if (auto const error = s->writer->error()) {
            HLOG(error, "record.archive_failed").field("reason", *error);
            std::fprintf(stderr, "dialpad-record: %s\n", error->c_str());
            s->exit_code = 1;
            s->stop();
            break;
        }
        // Woken by the next commit; the bounded wait also notices a writer that failed.
        timer->expires_after(std::chrono::milliseconds{200});
        auto [ec] = co_await timer->async_wait(use_tuple);
        (void)ec;
    }
}

// Reads one connection until it ends, then archives how it ended.
net::awaitable<void> read_connection(state_ptr s, std::shared_ptr<live_connection> conn) {
    auto ws = conn->ws;
    for (;;) {
        auto message = co_await ws->read();
        if (!message) break;
        s->on_frame(*conn, std::move(*message));
        if (s->writer->backlog_bytes() > s->config.max_backlog_bytes) co_await wait_for_disk(s, conn);
    }
    auto const& peer = ws->peer_close();
    archive::connection_close close;
    close.closed_offset_ns = s->offset_now();
    close.close_code = peer.code;
    close.close_reason = peer.reason;
    close.abrupt = peer.abrupt;
    if (conn->ended_by_us && !conn->close_failed) {
        // We closed it: the close frame we sent is how it ended, whatever the
        // pending read saw while the close handshake ran.
        close.close_code = 1000;
        close.close_reason = conn->close_reason_sent;
        close.abrupt = false;
    }
    auto const age = s->time.now() - conn->opened;
    if (conn->ended_by_us)
        close.ended_by = *conn->ended_by_us;
    else if (age + std::chrono::seconds{5} >= s->config.connection_ttl)
        close.ended_by = archive::end_reason::hour_cut;
    else
        close.ended_by = peer.abrupt ? archive::end_reason::error : archive::end_reason::server_close;
    s->writer->close_connection(conn->handle, close);
    s->count([](recorder_stats& c) { ++c.connections_ended; });
    conn->refresh_timer->cancel();
    conn->retire_timer->cancel();
    s->live.erase(conn->number);
    --s->readers_running;
    HLOG(info, "record.connection_closed")
        .field("conn", conn->number)
        .field("by", archive::to_string(close.ended_by))
        .field("code", peer.code ? std::to_string(*peer.code) : std::string{"none"});
    if (s->live.empty() && !s->stopping) {
        // The hour cut or a drop: the supervisor GETs a fresh URL.
        std::string reason = "connection lost (";
        reason.append(archive::to_string(close.ended_by)).append(")");
        s->begin_gap(std::move(reason));
    }
    s->poke();
}

// Ahead of the token's expiry and of the cut, asks the supervisor for the next connection.
net::awaitable<void> refresh_when_due(state_ptr s, std::shared_ptr<live_connection> conn, mono_time due) {
    auto timer = conn->refresh_timer;
    auto const reached = co_await timer->wait_until(due);
    if (!reached || s->stopping || !s->live.contains(conn->number)) co_return;
    HLOG(info, "record.refresh_due").field("conn", conn->number);
    s->refresh_due = true;
    s->poke();
}

// Closes an older connection once the next one has been open for the overlap.
net::awaitable<void> retire_after_overlap(state_ptr s, std::shared_ptr<live_connection> conn, mono_time at) {
    auto timer = conn->retire_timer;
    auto const reached = co_await timer->wait_until(at);
    if (!reached || s->stopping || !s->live.contains(conn->number)) co_return;
    co_await close_connection(s, conn, archive::end_reason::token_refresh);
}

net::awaitable<void> stop_after_duration(state_ptr s, mono_time end) {
    auto timer = s->duration_timer;
    auto const reached = co_await timer->wait_until(end);
    if (!reached) co_return;
    HLOG(info, "record.duration_reached");
    s->stop();
}

// elapsed, frames, rate, per family, connection age, time to the next refresh, gaps
std::string status_text(recorder::state const& s) {
    using std::chrono::seconds;
    auto const elapsed = std::chrono::duration<double>(steady::now() - s.started_real).count();
    auto const& c = s.counters;
    std::string text = std::to_string(static_cast<long long>(elapsed)) + "s  frames " + std::to_string(c.frames);
    char rate[32];
    std::snprintf(rate, sizeof rate, "  %.1f/s", elapsed > 0 ? double(c.frames) / elapsed : 0.0);
    text.append(rate);
    static constexpr model::event_family k_families[] = {model::event_family::call, model::event_family::sms,
                                                         model::event_family::contact, model::event_family::agent_status,
                                                         model::event_family::changelog};
    for (auto const family : k_families)
        if (auto const n = c.per_family[static_cast<std::size_t>(family)]; n > 0)
            text.append("  ").append(model::to_string(family)).append(" ").append(std::to_string(n));
    if (!s.live.empty()) {
        auto const age = std::chrono::duration_cast<seconds>(s.time.now() - s.live.rbegin()->second->opened);
        text.append("  connection age ").append(std::to_string(age.count())).append("s");
    }
    if (s.next_refresh && !s.live.empty()) {
        auto const left = std::chrono::duration_cast<seconds>(*s.next_refresh - s.time.now());
        text.append("  refresh in ").append(std::to_string(std::max<std::int64_t>(0, left.count()))).append("s");
    }
    text.append("  gaps ").append(std::to_string(c.gaps));
    if (s.open_gap) text.append(" (in a gap)");
    return text;
}

// A live status line on a terminal, a log line every interval otherwise.
net::awaitable<void> report_status(state_ptr s) {
    auto const interval = s->config.status_on_terminal ? std::chrono::seconds{1} : s->config.status_interval;
    while (!s->stopping) {
        s->status_timer.expires_after(interval);
        auto [ec] = co_await s->status_timer.async_wait(use_tuple);
        if (ec || s->stopping) break;
        if (s->config.status_on_terminal) {
            std::fprintf(stderr, "\r\033[K%s", status_text(*s).c_str());
            std::fflush(stderr);
        } else {
            HLOG(info, "record.status").field("status", status_text(*s));
        }
    }
    if (s->config.status_on_terminal) std::fprintf(stderr, "\r\033[K%s\n", status_text(*s).c_str());
}

// Opens the next connection; throws on failure.
net::awaitable<void> open_next(state_ptr s) {
    auto& c = s->config;
    std::string url;
    if (c.mode == source_mode::url) {
        if (s->counters.connections > 0) {
            std::fprintf(stderr, "dialpad-record: --url cannot refresh its token: the recording ends with the connection\n");
            HLOG(warn, "record.url_mode_end");
            s->stop();
            co_return;
        }
        url = c.url;
    } else {
        auto const info = co_await net::co_spawn(s->rest_pool, blocking_get(&*s->rest, s->websocket_id),
                                                 net::use_awaitable);
        s->count([](recorder_stats& c) { ++c.refreshes; });
        url = info.url;
    }
    auto ws = std::make_shared<web::ws_connection>(co_await web::ws_connection::connect(url, c.tls));
    auto conn = std::make_shared<live_connection>();
    conn->number = s->next_connection++;
    conn->ws = ws;
    conn->opened = s->time.now();
    conn->refresh_timer = std::make_shared<clock_timer>(s->ex, s->time);
    conn->retire_timer = std::make_shared<clock_timer>(s->ex, s->time);
    conn->disk_wait = std::make_shared<net::steady_timer>(s->ex);
    archive::connection_spec spec;
    spec.info.url = redact_ws_url(url);
    spec.info.scope = c.mode == source_mode::url ? archive::token_scope::unknown : archive::token_scope::websocket;
    spec.info.opened_offset_ns = s->offset_now();
    spec.secret = s->secret;
    conn->handle = s->writer->open_connection(std::move(spec));
    s->count([](recorder_stats& c) { ++c.connections; });
    s->end_gap();
    HLOG(info, "record.connection_open").field("conn", conn->number).field("url", redact_ws_url(url));

    // The older connections go once this one has overlapped them.
    for (auto& [number, older] : s->live)
        net::co_spawn(s->ex, retire_after_overlap(s, older, conn->opened + duration_cast<nanoseconds>(c.overlap)),
                      log_on_exit{"recorder retire"});
    s->live[conn->number] = conn;
    ++s->readers_running;
    net::co_spawn(s->ex, read_connection(s, conn), log_on_exit{"recorder reader"});
    auto const lifetime = std::min(token_lifetime(url).value_or(c.token_lifetime), c.connection_ttl);
    auto const lead = std::min(c.refresh_lead, lifetime / 2);
    s->next_refresh = conn->opened + duration_cast<nanoseconds>(lifetime - lead);
    net::co_spawn(s->ex, refresh_when_due(s, conn, *s->next_refresh), log_on_exit{"recorder refresh"});
    if (!s->was_live) {
        s->was_live = true;
        if (s->on_live) s->on_live();
    }
}

}  // namespace

recorder::recorder(net::any_io_executor executor, recorder_config config, clock& time_source)
    : state_{std::make_shared<state>(std::move(executor), std::move(config), time_source)} {}

recorder::~recorder() { state_->rest_pool.join(); }

void recorder::stop() { state_->stop(); }

recorder_stats recorder::stats() const {
    std::lock_guard lock{state_->counters_mutex};
    return state_->counters;
}

void recorder::on_live(std::function<void()> callback) { state_->on_live = std::move(callback); }

net::awaitable<int> recorder::run() {
    auto s = state_;
    auto& c = s->config;
    // The archive first: a bad path fails before anything touches the network.
    archive::session_id session = 0;
    {
        archive::archive store{c.archive_path, archive::open_mode::read_write};
        archive::session_info info;
        info.name = c.session_name;
        info.source = archive::session_source::live;
        info.base_url = c.mode == source_mode::url ? redact_ws_url(c.url) : c.api_base;
        info.started_wall_ns = s->wall_now_ns();
        nlohmann::ordered_json metadata;
        metadata["recorder"] = "dialpad-record";
        metadata["mode"] = c.mode == source_mode::create ? "create" : c.mode == source_mode::url ? "url" : "websocket_id";
        metadata["redacted"] = c.redactor != nullptr;
        info.metadata_json = metadata.dump();
        session = store.create_session(info);
    }
    s->session_start = s->time.now();
    s->writer = std::make_unique<archive::frame_writer>(c.archive_path, session,
                                                        archive::frame_writer_options{.durability_window = c.durability_window});
    s->writer->on_commit([weak = std::weak_ptr<state>{s}, ex = s->ex](archive::frame_writer_stats const&) {
        net::post(ex, [weak] {
            if (auto alive = weak.lock()) alive->disk_caught_up();
        });
    });

    // --duration counts from the start, set-up retries included.
    if (c.duration)
        net::co_spawn(s->ex, stop_after_duration(s, s->session_start + *c.duration), log_on_exit{"recorder duration"});
    if (!(co_await set_up(s))) {
        s->exit_code = 1;
        s->duration_timer->cancel();
    }
    net::co_spawn(s->ex, report_status(s), log_on_exit{"recorder status"});

    auto backoff = c.backoff_first;
    while (!s->stopping && !s->exit_code) {
        if (!s->live.empty() && !s->refresh_due) {
            s->wake.expires_at(steady::time_point::max());
            auto [ec] = co_await s->wake.async_wait(use_tuple);
            (void)ec;
            continue;
        }
        std::string failure;
        auto wait = backoff;
        try {
            co_await open_next(s);
            s->refresh_due = false;
            backoff = c.backoff_first;
            continue;
        } catch (rest_failure const& e) {
            if (e.permanent()) {
                HLOG(error, "record.failed").field("reason", e.what());
                std::fprintf(stderr, "dialpad-record: %s\n", e.what());
                s->exit_code = 1;
                break;
            }
            failure = e.what();
            if (e.retry_after()) wait = std::chrono::duration_cast<std::chrono::milliseconds>(*e.retry_after());
        } catch (web::ws_refused const& e) {
            failure = std::string{"the event websocket refused the connection: "} + e.what();
        } catch (std::exception const& e) {
            failure = std::string{"the event websocket could not be reached: "} + e.what();
        }
        HLOG(warn, "record.retry").field("reason", failure).field("wait_ms", wait.count());
        if (s->live.empty()) s->begin_gap(failure);
        co_await wait_real(s, wait);
        backoff = next_backoff(s, backoff);
    }

    // Wind down: close every connection, wait for their readers, close the archive.
    s->stop();
    for (auto [number, conn] : std::map{s->live})
        net::co_spawn(s->ex, close_connection(s, conn, archive::end_reason::stop), log_on_exit{"recorder close"});
    while (s->readers_running > 0) {
        s->wake.expires_at(steady::time_point::max());
        auto [ec] = co_await s->wake.async_wait(use_tuple);
        (void)ec;
    }
    s->writer->end_session(s->wall_now_ns());
    s->writer->close();
    HLOG(info, "record.done")
        .field("frames", s->counters.frames)
        .field("copies_dropped", s->counters.copies_dropped)
        .field("connections", s->counters.connections)
        .field("gaps", s->counters.gaps);
    co_return s->exit_code.value_or(0);
}

}  // namespace harness::recorder
