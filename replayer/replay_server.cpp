#include "replayer/replay_server.hpp"

#include "core/archive/frame_reader.hpp"
#include "core/clock/clock_timer.hpp"
#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "core/web/ws_connection.hpp"
#include "replayer/frame_transform.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <vector>

namespace harness::replayer {
namespace {

using std::chrono::nanoseconds;

// A client is "keeping up" while its p99 lag behind the schedule stays under this.
constexpr nanoseconds k_kept_up_lag = std::chrono::milliseconds{50};

// SHA-256 over the frames sent, each prefixed by its length so that
// different splits of the same bytes differ.
class sequence_digest {
public:
    sequence_digest() : context_{EVP_MD_CTX_new()} { EVP_DigestInit_ex(context_, EVP_sha256(), nullptr); }
    ~sequence_digest() { EVP_MD_CTX_free(context_); }
    sequence_digest(sequence_digest const&) = delete;
    sequence_digest& operator=(sequence_digest const&) = delete;
    void add(std::string const& frame) {
        auto const size = std::to_string(frame.size()) + ":";
        EVP_DigestUpdate(context_, size.data(), size.size());
        EVP_DigestUpdate(context_, frame.data(), frame.size());
    }
    std::string hex() const {
        EVP_MD_CTX* copy = EVP_MD_CTX_new();
        EVP_MD_CTX_copy_ex(copy, context_);
        unsigned char bytes[EVP_MAX_MD_SIZE];
        unsigned length = 0;
        EVP_DigestFinal_ex(copy, bytes, &length);
        EVP_MD_CTX_free(copy);
        static constexpr char k_hex[] = "0123456789abcdef";
        std::string text;
        for (unsigned i = 0; i < length; ++i) text.append({k_hex[bytes[i] >> 4], k_hex[bytes[i] & 15]});
        return text;
    }

private:
    EVP_MD_CTX* context_;
};

struct client_state {
    std::uint64_t id = 0;
    std::string remote;
    std::uint64_t frames = 0, bytes = 0;
    std::optional<std::int64_t> first_send_ns, last_send_ns;  // wall time
    std::vector<std::int64_t> lags_ns;
    sequence_digest digest;
    bool finished = false;  // got the whole session
    std::shared_ptr<clock_timer> timer;  // its pacing; cancelled by stop()
};

std::int64_t percentile(std::vector<std::int64_t> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    auto const index = static_cast<std::size_t>(p * double(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

}  // namespace

struct replay_server::state {
    state(replay_options o, clock& time_source, net::any_io_executor ex, web::server_options server_options)
        : options{std::move(o)},
          time{time_source},
          executor{ex},
          server{std::move(ex), std::move(server_options), [](web::request&) {
                     return web::response::json(404, R"({"error":"connect a websocket to /events/<token>"})");
                 }} {}

    replay_options options;
    clock& time;
    net::any_io_executor executor;
    web::server server;
    std::uint64_t next_client = 1;
    std::map<std::uint64_t, std::shared_ptr<client_state>> clients{};
    std::function<void()> on_client_finished{};
    bool stopped = false;  // stop() was called: no client starts another wait
    // --wait-clients: every client waits on the gate until enough are connected.
    std::shared_ptr<net::steady_timer> gate{};
    bool gate_open = false;
};

namespace {

// Sends the session to one client, paced against the time it connected.
net::awaitable<void> serve_client(std::shared_ptr<replay_server::state> s, std::shared_ptr<client_state> client,
                                  web::ws_connection ws) {
    auto timer = client->timer;
    while (!s->gate_open && !s->stopped) {
        auto gate = s->gate;
        auto [ec] = co_await gate->async_wait(net::as_tuple(net::use_awaitable));
        (void)ec;
    }
    if (s->stopped) co_return;
    auto const start = s->time.now();  // everyone's start, once the gate opened
    auto const& o = s->options;
    nanoseconds shift{0};  // idle time cut by --max-gap, and earlier loops' length
    bool alive = true;
    std::optional<std::int64_t> rebase_ms;  // set at this client's first event
    for (int loop = 0; loop < o.loops && alive; ++loop) {
        archive::frame_reader reader{o.archive_path, o.session,
                                     archive::frame_filter{.kinds = {archive::frame_kind::event, archive::frame_kind::control}}};
        std::optional<std::int64_t> first_offset, previous_offset;
        nanoseconds loop_end{0};
        while (auto frame = reader.next()) {
            if (s->stopped) {  // stop() may have come while this client was writing
                alive = false;
                break;
            }
            if (!first_offset) first_offset = frame->offset_ns;
            if (previous_offset && o.max_gap) {
                auto const gap = nanoseconds{frame->offset_ns - *previous_offset};
                if (gap > *o.max_gap) shift -= gap - *o.max_gap;
            }
            previous_offset = frame->offset_ns;
            auto const recorded = nanoseconds{frame->offset_ns - *first_offset} + shift;
            loop_end = recorded;
            auto due = start;
            if (o.speed) {
                due = start + std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double, std::nano>(
                                  double(recorded.count()) / *o.speed));
                auto const reached = co_await timer->wait_until(due);
                if (!reached) {
                    alive = false;
                    break;
                }
            }
            if (o.rebase_time && !rebase_ms && frame->kind == archive::frame_kind::event) {
                auto const event = event_json_of(frame->text);
                auto const recorded_ms = event ? event_timestamp(*event) : std::nullopt;
                if (recorded_ms) rebase_ms = unix_millis(s->time.wall_now()) - *recorded_ms;
            }
            if (frame->kind == archive::frame_kind::event && (rebase_ms || o.sign_secret)) {
                try {
                    frame->text = transform_frame(frame->text, rebase_ms, o.sign_secret);
                } catch (std::invalid_argument const& e) {
                    HLOG(error, "replay.transform_failed").field("client", client->id).field("reason", e.what());
                    alive = false;
                    break;
                }
            }
            auto text = std::make_shared<std::string const>(std::move(frame->text));
            // The lag is when the frame is handed to the socket, behind its due time.
            auto const sent_at = s->time.now();
            auto const wall = s->time.wall_now().time_since_epoch().count();
            try {
                co_await ws.write(text);
            } catch (std::exception const&) {
                alive = false;
                break;
            }
            if (o.speed) client->lags_ns.push_back(std::max<std::int64_t>(0, (sent_at - due).count()));
            if (!client->first_send_ns) client->first_send_ns = wall;
            client->last_send_ns = wall;
            ++client->frames;
            client->bytes += text->size();
            client->digest.add(*text);
        }
        shift = loop_end;  // offsets restart: the next loop goes on where this one ended
    }
    if (alive) {
        client->finished = true;
        try {
            co_await ws.close(1000, "replay finished");
        } catch (std::exception const&) {
        }
        if (s->on_client_finished) s->on_client_finished();
    }
    HLOG(info, "replay.client_done").field("client", client->id).field("frames", client->frames);
}

}  // namespace

replay_server::replay_server(net::any_io_executor executor, web::server_options server_options, replay_options options,
                             clock& time_source)
    : state_{std::make_shared<state>(std::move(options), time_source, executor, std::move(server_options))} {
    state_->gate = std::make_shared<net::steady_timer>(executor, net::steady_timer::time_point::max());
    state_->gate_open = state_->options.wait_clients == 0;
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
        auto client = std::make_shared<client_state>();
        client->id = s->next_client++;
        client->remote = request.remote_address;
        client->timer = std::make_shared<clock_timer>(s->executor, s->time);
        s->clients[client->id] = client;
        if (!s->gate_open && s->clients.size() >= s->options.wait_clients) {
            s->gate_open = true;
            s->gate->cancel();
        }
        decision.session = [s, client](web::ws_connection ws) { return serve_client(s, client, std::move(ws)); };
        return decision;
    });
}

replay_server::~replay_server() = default;

void replay_server::start() { state_->server.start(); }

std::uint16_t replay_server::port() const { return state_->server.port(); }

void replay_server::stop() {
    state_->stopped = true;
    state_->gate->cancel();
    for (auto const& [id, client] : state_->clients) client->timer->cancel();
    state_->server.stop();
}

void replay_server::on_client_finished(std::function<void()> callback) {
    state_->on_client_finished = std::move(callback);
}

std::size_t replay_server::clients_finished() const {
    return static_cast<std::size_t>(std::count_if(state_->clients.begin(), state_->clients.end(),
                                                  [](auto const& entry) { return entry.second->finished; }));
}

nlohmann::json replay_server::report() const {
    nlohmann::ordered_json report;
    auto& list = report["clients"] = nlohmann::ordered_json::array();
    std::uint64_t frames = 0, bytes = 0;
    bool all_kept_up = true;
    for (auto const& [id, c] : state_->clients) {
        nlohmann::ordered_json j;
        j["id"] = id;
        j["remote"] = c->remote;
        j["frames"] = c->frames;
        j["bytes"] = c->bytes;
        j["first_send_ns"] = c->first_send_ns ? nlohmann::ordered_json(*c->first_send_ns) : nlohmann::ordered_json(nullptr);
        j["last_send_ns"] = c->last_send_ns ? nlohmann::ordered_json(*c->last_send_ns) : nlohmann::ordered_json(nullptr);
        auto const p99 = percentile(c->lags_ns, 0.99);
        j["lag_ms"] = {{"p50", double(percentile(c->lags_ns, 0.5)) / 1e6},
                       {"p99", double(p99) / 1e6},
                       {"max", c->lags_ns.empty() ? 0.0 : double(*std::max_element(c->lags_ns.begin(), c->lags_ns.end())) / 1e6}};
        bool const kept_up = nanoseconds{p99} <= k_kept_up_lag;
        j["kept_up"] = kept_up;
        j["finished"] = c->finished;
        j["sha256"] = c->digest.hex();
        all_kept_up = all_kept_up && kept_up;
        frames += c->frames;
        bytes += c->bytes;
        list.push_back(std::move(j));
    }
    report["totals"] = {{"clients", state_->clients.size()}, {"frames", frames}, {"bytes", bytes}, {"all_kept_up", all_kept_up}};
    return nlohmann::json::parse(report.dump());
}

}  // namespace harness::replayer
