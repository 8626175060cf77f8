#include "mockserver/feed_hub.hpp"

#include "core/clock/clock_timer.hpp"
#include "core/jwt/jwt.hpp"
#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "core/web/ws_frame.hpp"
#include "mockserver/api_error.hpp"
#include "mockserver/event_router.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <deque>
#include <limits>
#include <map>

namespace harness::mock {
namespace {

using namespace boost::asio::experimental::awaitable_operators;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Deliveries kept for GET /__admin/deliveries; the oldest go first.
constexpr std::size_t k_journal_capacity = 200'000;

// Close codes (RFC 6455).
constexpr int k_going_away = 1001;
constexpr int k_policy_violation = 1008;

// One write carries every queued frame up to these: a connection with a
// backlog catches up in a few system calls instead of one per frame, which
// is what kept a busy consumer behind the others when the mock was short of
// CPU (each connection's writer gets one turn at a time).
constexpr std::size_t k_write_max_frames = 512;
constexpr std::size_t k_write_max_bytes = 1u << 20;
constexpr std::size_t k_kept_write_buffer = 64u << 10;
// How long a client has to answer our close frame before the TCP connection ends.
constexpr auto k_close_wait = std::chrono::seconds{5};

// Which deliveries a connection may receive: every subscription under its
// websocket, or one subscription, or (legacy dialogue, websocket_id 0) every
// websocket of its company.
struct feed_scope {
    std::int64_t websocket_id = 0;
    std::optional<std::int64_t> subscription_id;
    std::string company;
};

// What the writer does once its queue is empty.
struct close_plan {
    int code = 1000;
    std::string reason;
    bool abrupt = false;
};

struct sent_record {
    std::uint64_t sequence;
    std::uint64_t connection;
    std::uint64_t event;
    std::size_t bytes;
};

}  // namespace

// One live connection. Cycle: accepted -> reader, writer and lifetime run
// together -> the first to see the end (client left, hour cut, admin close,
// slow consumer) tells the others, and all three return.
class feed_session {
public:
    feed_session(net::any_io_executor executor, std::uint64_t id, feed_scope scope, web::ws_connection ws,
                 clock& time_source, feed_options const& options)
        : id_{id},
          scope_{std::move(scope)},
          ws_{std::move(ws)},
          wake_{executor},
          lifetime_timer_{executor, time_source},
          opened_{time_source.now()},
          options_{options} {
        // Frames go out encoded by us, many per write; pings and closes are
        // answered here (reader()), not by Beast.
        ws_.enter_encoded_mode();
    }

    net::awaitable<void> run() { co_await (reader() && writer() && lifetime()); }

    // Queues a frame; a consumer that has fallen `queue_limit` frames behind
    // is closed instead of slowing anyone down.
    bool enqueue(std::shared_ptr<std::string const> frame, std::uint64_t event) {
        if (gone_ || plan_) return false;
        if (queue_.size() >= options_.queue_limit) {
            dropped_ += queue_.size() + 1;
            queue_.clear();
            auto reason = "consumer too slow: more than " + std::to_string(options_.queue_limit) + " events queued";
            HLOG(warn, "feed.slow_consumer").field("conn", id_).field("reason", reason);
            // A consumer this far behind is usually stuck in a write that will
            // not finish: it could not read a close frame either, so the TCP
            // connection ends at once. Otherwise it gets the reason in 1008.
            end(close_plan{k_policy_violation, std::move(reason), writing_});
            return false;
        }
        queue_.push_back({std::move(frame), event});
        if (idle_) wake_.cancel();  // only a waiting writer needs the wake-up
        return true;
    }

    // Ends the connection once the writer gets to it.
    void end(close_plan plan) {
        if (gone_ || plan_) return;
        if (plan.abrupt) {
            plan_ = std::move(plan);
            ws_.abort();  // at once: the reader and writer see the end
            return;
        }
        plan_ = std::move(plan);
        wake_.cancel();
    }

    std::uint64_t id() const { return id_; }
    feed_scope const& scope() const { return scope_; }
    mono_time opened() const { return opened_; }
    std::string const& remote() const { return ws_.remote_address(); }
    std::uint64_t frames_sent() const { return frames_sent_; }
    std::uint64_t bytes_sent() const { return bytes_sent_; }
    std::uint64_t dropped() const { return dropped_; }
    std::size_t queued() const { return queue_.size(); }
    std::deque<sent_record>* journal = nullptr;
    std::uint64_t* journal_sequence = nullptr;
    std::function<void()> on_written;  // after each frame written

private:
    net::awaitable<void> reader() {
        for (;;) {
            auto frame = co_await ws_.read_client_frame();
            if (!frame) break;
            heard_since_ping_ = true;
            if (frame->opcode == web::ws_opcode::ping) {
                control_.push_back(web::server_frame(web::ws_opcode::pong, frame->payload));
                if (idle_) wake_.cancel();
            } else if (frame->opcode == web::ws_opcode::close) {
                // The client's close (or a protocol error, handed back as the
                // close to send): echo its code unless it answers ours.
                if (!close_sent_) {
                    auto const code = ws_.peer_close().code.value_or(1005);
                    control_.push_back(web::server_frame(web::ws_opcode::close,
                                                         code == 1005 ? std::string{} : web::close_payload(code, "")));
                    queue_.clear();
                }
                peer_closed_ = true;
                break;
            }
            // Dialpad ignores what clients send (some send "Hello World!").
        }
        if (!peer_closed_) gone_ = true;
        wake_.cancel();
        lifetime_timer_.cancel();
    }

    bool nothing_to_write() const { return queue_.empty() && control_.empty() && !plan_ && !gone_ && !peer_closed_; }

    net::awaitable<void> writer() {
        std::vector<queued_frame> batch;
        std::string wire;
        for (;;) {
            while (nothing_to_write()) {
                wake_.expires_after(options_.keepalive);
                idle_ = true;
                auto [ec] = co_await wake_.async_wait(use_tuple);
                idle_ = false;
                if (ec || !nothing_to_write()) continue;
                if (ping_sent_ && !heard_since_ping_) {  // silent for two periods
                    HLOG(info, "feed.client_silent").field("conn", id_);
                    gone_ = true;
                    break;
                }
                control_.push_back(web::server_frame(web::ws_opcode::ping, std::string_view{}));
                ping_sent_ = true;
                heard_since_ping_ = false;
            }
            if (gone_) break;
            if (plan_ && plan_->abrupt) break;
            wire.clear();
            for (auto const& c : control_) wire += c;
            control_.clear();
            batch.clear();
            while (!peer_closed_ && !queue_.empty() && batch.size() < k_write_max_frames && wire.size() < k_write_max_bytes) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
                web::append_server_frame(wire, web::ws_opcode::text, *batch.back().frame);
            }
            bool const sends_close = !peer_closed_ && queue_.empty() && plan_ && !close_sent_;
            if (sends_close) {
                web::append_server_frame(wire, web::ws_opcode::close, web::close_payload(plan_->code, plan_->reason));
                close_sent_ = true;  // before the write: a reply read while it is in flight answers it
            }
            std::vector<std::string_view> views{std::string_view{wire}};
            writing_ = true;
            bool failed = false;
            try {
                co_await ws_.write_encoded(std::move(views));
            } catch (std::exception const&) {
                failed = true;
            }
            writing_ = false;
            if (failed || gone_) break;  // the reader sees the end and stops the rest
            for (auto const& item : batch) {
                ++frames_sent_;
                bytes_sent_ += item.frame->size();
                if (journal) {
                    if (journal->size() >= k_journal_capacity) journal->pop_front();
                    journal->push_back({++*journal_sequence, id_, item.event, item.frame->size()});
                }
            }
            if (!batch.empty() && on_written) on_written();
            // A backlog's write may have grown the buffer to a megabyte; an
            // idle connection keeps none of that (thousands of them would).
            if (wire.capacity() > k_kept_write_buffer) std::string{}.swap(wire);
            if (peer_closed_ && control_.empty()) break;  // the echo went out: nothing follows it
            if (close_sent_) {
                // Give the client a moment to answer before the TCP connection ends.
                wake_.expires_after(k_close_wait);
                auto [ec] = co_await wake_.async_wait(use_tuple);
                (void)ec;
                break;
            }
        }
        ws_.abort();  // the server ends the TCP connection; the reader sees it
        lifetime_timer_.cancel();
    }

    net::awaitable<void> lifetime() {
        auto const cut_at = opened_ + std::chrono::duration_cast<mono_duration>(options_.connection_ttl);
        auto const reached = co_await lifetime_timer_.wait_until(cut_at);
        if (!reached || gone_) co_return;
        HLOG(info, "feed.hour_cut").field("conn", id_);
        end(options_.hour_cut == hour_cut_style::abrupt ? close_plan{0, "", true}
                                                        : close_plan{k_going_away, "going away", false});
    }

    struct queued_frame {
        std::shared_ptr<std::string const> frame;
        std::uint64_t event;
    };

    std::uint64_t id_;
    feed_scope scope_;
    web::ws_connection ws_;
    net::steady_timer wake_;
    clock_timer lifetime_timer_;
    mono_time opened_;
    feed_options const& options_;
    std::deque<queued_frame> queue_;
    std::optional<close_plan> plan_;
    std::vector<std::string> control_;  // pongs and a close echo, ahead of any frame
    bool gone_ = false;
    bool writing_ = false;  // a write is in flight
    bool idle_ = false;     // the writer waits for frames
    bool close_sent_ = false;
    bool peer_closed_ = false;  // the client's close frame was read
    bool ping_sent_ = false;
    bool heard_since_ping_ = true;
    std::uint64_t frames_sent_ = 0, bytes_sent_ = 0, dropped_ = 0;
};

struct feed_hub::state {
    net::any_io_executor executor;
    resource_store& store;
    token_service const& tokens;
    api_keys const& keys;
    clock& time;
    feed_options options;
    std::uint64_t next_connection = 1;
    std::uint64_t next_event = 1;
    std::uint64_t sent_sequence = 0;
    std::map<std::uint64_t, std::shared_ptr<feed_session>> sessions{};
    std::deque<sent_record> sent{};
    // Timers of scenarios still playing; close_all() cancels them.
    std::map<std::uint64_t, std::shared_ptr<clock_timer>> players{};
    std::uint64_t next_player = 1;
    fault_injector faults{};
    // Events a reorder fault holds back, each until `remaining` later events passed.
    struct held_event {
        event_facts facts;
        std::shared_ptr<std::string const> json;
        std::size_t remaining;
    };
    std::vector<held_event> held{};
    std::function<void()> on_open{};
    // Producers waiting for congestion to clear; each called once.
    std::vector<std::function<void()>> uncongested_waiters{};

    bool congested() const {
        auto const threshold = std::max<std::size_t>(1, options.queue_limit / 2);
        return std::any_of(sessions.begin(), sessions.end(),
                           [&](auto const& entry) { return entry.second->queued() >= threshold; });
    }
    // A frame was written or a connection left: wake the waiters once nothing is congested.
    void check_congestion() {
        if (uncongested_waiters.empty() || congested()) return;
        auto waiters = std::move(uncongested_waiters);
        uncongested_waiters.clear();
        for (auto& waiter : waiters) waiter();
    }

    // The scope a token grants, or nullopt for a bad token.
    std::optional<feed_scope> scope_of(std::string_view token) const {
        auto const claims = tokens.verify(token);
        if (!claims) return std::nullopt;
        // endpoint:<websocket>:* or endpoint:<websocket>:<kind>:<subscription>
        std::vector<std::string> parts;
        std::string_view sub{claims->subject};
        while (true) {
            auto const colon = sub.find(':');
            parts.emplace_back(sub.substr(0, colon));
            if (colon == std::string_view::npos) break;
            sub.remove_prefix(colon + 1);
        }
        if (parts.size() < 3 || parts[0] != "endpoint") return std::nullopt;
        feed_scope scope;
        try {
            scope.websocket_id = std::stoll(parts[1]);
            if (parts.size() == 4) scope.subscription_id = std::stoll(parts[3]);
        } catch (...) {
            return std::nullopt;
        }
        if (!(parts.size() == 3 && parts[2] == "*") && parts.size() != 4) return std::nullopt;
        auto const ws = store.endpoints().find(scope.websocket_id);
        if (ws == store.endpoints().end() || ws->second.type != endpoint_type::websocket) return std::nullopt;
        scope.company = ws->second.company;
        if (scope.subscription_id) {
            auto const s = store.subscriptions().find(*scope.subscription_id);
            if (s == store.subscriptions().end() || s->second.endpoint_id != scope.websocket_id) return std::nullopt;
        }
        return scope;
    }
};

namespace {

net::awaitable<void> run_feed(std::shared_ptr<feed_hub::state> hub, feed_scope scope, web::ws_connection ws) {
    auto const id = hub->next_connection++;
    auto session =
        std::make_shared<feed_session>(hub->executor, id, std::move(scope), std::move(ws), hub->time, hub->options);
    session->journal = &hub->sent;
    session->journal_sequence = &hub->sent_sequence;
    session->on_written = [hub = hub.get()] { hub->check_congestion(); };  // the hub outlives its sessions
    hub->sessions[id] = session;
    HLOG(info, "feed.open").field("conn", id).field("websocket", session->scope().websocket_id);
    if (auto const notify = hub->on_open) notify();  // a copy: the callback may replace itself
    try {
        co_await session->run();
    } catch (...) {
        hub->sessions.erase(id);
        hub->check_congestion();
        throw;
    }
    hub->sessions.erase(id);
    hub->check_congestion();
    HLOG(info, "feed.closed").field("conn", id).field("frames", session->frames_sent());
}

// The old service: prompt for the API key; a valid one opens delivery of
// every websocket of its company, anything else is refused and closed.
net::awaitable<void> legacy_dialogue(std::shared_ptr<feed_hub::state> hub, web::ws_connection ws) {
    auto prompt = std::make_shared<std::string const>(k_legacy_prompt);
    co_await ws.write(prompt);
    auto const key = co_await ws.read();
    if (!key) co_return;
    auto const company = hub->keys.company_of(*key);
    if (!company) {
        auto refusal = std::make_shared<std::string const>(k_legacy_refusal);
        co_await ws.write(refusal);
        co_await ws.close(k_policy_violation, "invalid api key");
        for (;;) {
            auto message = co_await ws.read();
            if (!message) break;
        }
        co_return;
    }
    auto welcome = std::make_shared<std::string const>("Connected with api key " + *key);
    co_await ws.write(welcome);
    feed_scope scope;
    scope.company = *company;
    co_await run_feed(hub, scope, std::move(ws));
}

net::awaitable<void> close_bad_token(web::ws_connection ws) {
    co_await ws.close(k_policy_violation, "invalid or expired token");
    for (;;) {  // drain until the close handshake ends
        auto message = co_await ws.read();
        if (!message) break;
    }
}

// Routes, encodes and queues one event, with the per-delivery faults of the
// plan in force (drop, duplicate, corrupt signature).
std::vector<delivery> route_event(feed_hub::state& s, event_facts const& facts,
                                  std::shared_ptr<std::string const> const& event_json) {
    auto const event_id = s.next_event++;
    std::vector<delivery> result;

    // One encoding per websocket, shared by all its connections (few
    // websockets per event: a flat list beats a map).
    std::vector<std::pair<std::int64_t, std::shared_ptr<std::string const>>> encoded;
    auto frame_for = [&](std::int64_t websocket_id) {
        auto known = std::find_if(encoded.begin(), encoded.end(), [&](auto const& e) { return e.first == websocket_id; });
        if (known == encoded.end()) known = encoded.insert(encoded.end(), {websocket_id, nullptr});
        auto& frame = known->second;
        if (!frame) {
            auto const& ws = s.store.endpoints().at(websocket_id);
            // Unsigned, the frame is the event text itself, not a copy.
            frame = ws.secret ? std::make_shared<std::string const>(jwt::sign_hs256(
                                    jwt::make_header(jwt::algorithm::hs256), *event_json, *ws.secret))
                              : event_json;
        }
        return frame;
    };

    // The newest connection per websocket, when only it should receive.
    std::map<std::int64_t, std::uint64_t> newest;
    if (s.options.fanout == fanout_mode::newest)
        for (auto const& [id, session] : s.sessions) newest[session->scope().websocket_id] = id;

    // The subscriptions this event matches, (websocket, subscription) in id
    // order, found once per event; then sorted by websocket so that each
    // connection looks up its own. (Walking every subscription for every
    // connection cost connections x subscriptions map steps per event: with
    // 100 consumers, most of the mock's time.)
    std::vector<std::pair<std::int64_t, std::int64_t>> matching;
    for (auto const& [sub_id, sub] : s.store.subscriptions())
        if (subscription_matches(sub, facts)) matching.emplace_back(sub.endpoint_id, sub_id);
    auto by_websocket = matching;
    std::sort(by_websocket.begin(), by_websocket.end());  // by websocket, then subscription id

    for (auto const& [id, session] : s.sessions) {
        auto const& scope = session->scope();
        bool const company_wide = scope.websocket_id == 0;
        if (!company_wide && !s.store.endpoints().contains(scope.websocket_id)) continue;  // deleted: no more delivery
        if (s.options.fanout == fanout_mode::newest && newest[scope.websocket_id] != id) continue;
        delivery d{id, scope.websocket_id, {}};
        auto const add = [&](std::int64_t websocket_id, std::int64_t sub_id) {
            if (scope.subscription_id && *scope.subscription_id != sub_id) return;
            if (d.subscriptions.empty()) d.websocket = websocket_id;  // the encoding of the first match
            d.subscriptions.push_back(sub_id);
        };
        if (company_wide) {
            for (auto const& [websocket_id, sub_id] : matching) {
                auto const endpoint = s.store.endpoints().find(websocket_id);
                if (endpoint == s.store.endpoints().end() || endpoint->second.company != scope.company ||
                    endpoint->second.type != endpoint_type::websocket)
                    continue;
                add(websocket_id, sub_id);
            }
        } else {
            auto it = std::lower_bound(by_websocket.begin(), by_websocket.end(),
                                       std::pair{scope.websocket_id, std::numeric_limits<std::int64_t>::min()});
            for (; it != by_websocket.end() && it->first == scope.websocket_id; ++it) add(it->first, it->second);
        }
        if (d.subscriptions.empty()) continue;
        if (s.faults.roll(s.faults.plan() ? s.faults.plan()->drop : 0)) continue;
        auto frame = frame_for(d.websocket);
        if (s.faults.roll(s.faults.plan() ? s.faults.plan()->corrupt_signature : 0) && jwt::looks_like_jwt(*frame)) {
            auto broken = *frame;
            // Change the signature's first character: still base64url, no longer valid.
            auto& c = broken[broken.rfind('.') + 1];
            c = c == 'A' ? 'B' : 'A';
            frame = std::make_shared<std::string const>(std::move(broken));
        }
        if (!session->enqueue(frame, event_id)) continue;
        if (s.faults.roll(s.faults.plan() ? s.faults.plan()->duplicate : 0)) session->enqueue(frame, event_id);
        result.push_back(std::move(d));
    }
    return result;
}

void schedule_events(std::shared_ptr<feed_hub::state> hub, std::vector<std::pair<subscription_kind, std::string>> events,
                     std::vector<mono_duration> offsets, bool apply_delay);

// Delivers one event now, or later when the faults say delay or reorder.
std::vector<delivery> deliver_event(std::shared_ptr<feed_hub::state> const& hub, event_facts const& facts,
                                    std::shared_ptr<std::string const> event_json, bool apply_delay = true) {
    auto& s = *hub;
    auto const* plan = s.faults.plan();
    if (apply_delay && plan && plan->delay.count() > 0) {
        schedule_events(hub, {{facts.family, *event_json}}, {std::chrono::duration_cast<mono_duration>(plan->delay)},
                        false);
        return {};
    }
    auto const hold = s.faults.hold_back();
    std::vector<delivery> result;
    if (hold == 0) result = route_event(s, facts, event_json);
    // This event counts towards releasing those held before it.
    auto held = std::move(s.held);
    s.held.clear();
    for (auto& h : held) {
        if (--h.remaining == 0)
            route_event(s, h.facts, h.json);
        else
            s.held.push_back(std::move(h));
    }
    if (hold > 0) s.held.push_back({facts, std::move(event_json), hold});
    return result;
}

}  // namespace

feed_hub::feed_hub(net::any_io_executor executor, resource_store& store, token_service const& tokens,
                   api_keys const& keys, clock& time_source, feed_options options)
    : state_{std::make_shared<state>(state{std::move(executor), store, tokens, keys, time_source, options})} {}

feed_hub::~feed_hub() = default;

std::vector<delivery> feed_hub::deliver(subscription_kind family, std::string const& event_json) {
    auto const facts = read_event_facts(family, event_json);
    if (!facts) return {};
    return deliver_event(state_, *facts, std::make_shared<std::string const>(event_json));
}

std::vector<delivery> feed_hub::deliver(event_facts const& facts, std::string event_json) {
    return deliver_event(state_, facts, std::make_shared<std::string const>(std::move(event_json)));
}

void feed_hub::set_faults(fault_plan plan) {
    state_->faults.set(plan);
    state_->held.clear();
}

void feed_hub::clear_faults() {
    state_->faults.clear();
    // Events a reorder held back go out now, in order: clearing faults loses nothing.
    auto held = std::move(state_->held);
    state_->held.clear();
    for (auto const& h : held) route_event(*state_, h.facts, h.json);
}

nlohmann::json feed_hub::faults_json() const {
    auto const* plan = state_->faults.plan();
    return plan ? to_json(*plan) : nlohmann::json(nullptr);
}

bool feed_hub::owns(std::string_view path) { return path.starts_with("/events/") || path == "/events"; }

web::upgrade_decision feed_hub::upgrade(web::request const& request) {
    web::upgrade_decision decision;
    if (auto const status = state_->faults.take_upgrade_refusal()) {
        decision.refusal = error_response(*status, "upgrade refused by an injected fault");
        return decision;
    }
    std::string_view const path{request.path};
    auto const token = path.starts_with("/events/") ? path.substr(8) : std::string_view{};
    auto scope = state_->scope_of(token);
    if (!scope) {
        HLOG(info, "feed.bad_token").field("mode", static_cast<int>(state_->options.bad_token));
        if (state_->options.bad_token == bad_token_mode::reject) {
            decision.refusal = error_response(401, "the websocket token is invalid or expired", "unauthorized");
            return decision;
        }
        if (state_->options.bad_token == bad_token_mode::legacy) {
            decision.session = [hub = state_](web::ws_connection ws) { return legacy_dialogue(hub, std::move(ws)); };
            return decision;
        }
        decision.session = [](web::ws_connection ws) { return close_bad_token(std::move(ws)); };
        return decision;
    }
    decision.session = [hub = state_, s = *scope](web::ws_connection ws) { return run_feed(hub, s, std::move(ws)); };
    return decision;
}

namespace {

net::awaitable<void> play_events(std::shared_ptr<feed_hub::state> hub, std::uint64_t player,
                                 std::shared_ptr<clock_timer> timer,
                                 std::vector<std::pair<subscription_kind, std::string>> events,
                                 std::vector<mono_duration> offsets, bool apply_delay) {
    auto const start = hub->time.now();
    for (std::size_t i = 0; i < events.size(); ++i) {
        // close_all() may have run before this coroutine did, and cancel()
        // only ends a wait already under way: a player no longer listed is
        // done (else a stopped mock would wait for it to finish).
        if (!hub->players.contains(player)) co_return;
        // Scheduled against the start, never sleep-after-send: no drift.
        auto const reached = co_await timer->wait_until(start + offsets[i]);
        if (!reached) co_return;  // cancelled by close_all()
        if (auto const facts = read_event_facts(events[i].first, events[i].second))
            deliver_event(hub, *facts, std::make_shared<std::string const>(events[i].second), apply_delay);
    }
    hub->players.erase(player);
}

void schedule_events(std::shared_ptr<feed_hub::state> hub, std::vector<std::pair<subscription_kind, std::string>> events,
                     std::vector<mono_duration> offsets, bool apply_delay) {
    auto const player = hub->next_player++;
    auto timer = std::make_shared<clock_timer>(hub->executor, hub->time);
    hub->players[player] = timer;
    auto executor = hub->executor;
    net::co_spawn(executor, play_events(std::move(hub), player, timer, std::move(events), std::move(offsets), apply_delay),
                  log_on_exit{"scheduled events"});
}

}  // namespace

void feed_hub::play(std::vector<std::pair<subscription_kind, std::string>> events, std::vector<mono_duration> offsets) {
    schedule_events(state_, std::move(events), std::move(offsets), true);
}

nlohmann::json feed_hub::connections_json() const {
    auto list = nlohmann::json::array();
    auto const now = state_->time.now();
    for (auto const& [id, session] : state_->sessions) {
        nlohmann::json j;
        j["id"] = id;
        j["websocket"] = std::to_string(session->scope().websocket_id);
        j["subscription"] = session->scope().subscription_id
                                ? nlohmann::json(std::to_string(*session->scope().subscription_id))
                                : nlohmann::json(nullptr);
        j["company"] = session->scope().company;
        j["remote"] = session->remote();
        j["age_seconds"] = std::chrono::duration<double>(now - session->opened()).count();
        j["frames_sent"] = session->frames_sent();
        j["bytes_sent"] = session->bytes_sent();
        j["queued"] = session->queued();
        j["dropped"] = session->dropped();
        list.push_back(std::move(j));
    }
    return list;
}

bool feed_hub::close_connection(std::uint64_t id, int code, std::string reason, bool abrupt) {
    auto const it = state_->sessions.find(id);
    if (it == state_->sessions.end()) return false;
    it->second->end(close_plan{code, std::move(reason), abrupt});
    return true;
}

nlohmann::json feed_hub::deliveries_json() const {
    auto list = nlohmann::json::array();
    for (auto const& r : state_->sent)
        list.push_back({{"seq", r.sequence}, {"connection", r.connection}, {"event", r.event}, {"bytes", r.bytes}});
    return list;
}

void feed_hub::clear_deliveries() { state_->sent.clear(); }

void feed_hub::on_connection_opened(std::function<void()> callback) { state_->on_open = std::move(callback); }

bool feed_hub::congested() const { return state_->congested(); }

void feed_hub::when_uncongested(std::function<void()> callback) {
    if (!state_->congested()) {
        callback();
        return;
    }
    state_->uncongested_waiters.push_back(std::move(callback));
}

void feed_hub::close_all() {
    auto players = std::move(state_->players);
    for (auto const& [id, timer] : players) timer->cancel();
    for (auto const& [id, session] : state_->sessions) session->end(close_plan{k_going_away, "server shutting down", false});
}

}  // namespace harness::mock
