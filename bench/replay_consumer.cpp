// The fixed websocket consumer replay_fanout_bench measures every server
// with: N plain-ws client connections on one io_context thread, each reading
// until it has FRAMES messages (then on until the server closes), and one
// JSON line on stdout. It is a process of its own so that the replayer (a
// process) and the baselines (threads of the bench) are read alike, with no
// reading done on the bench's threads.
//
// With --timing each frame must carry "offset_us" (its recorded offset); the
// line then reports how far receive times stray from the recorded spacing.
//
//   replay_consumer --url ws://127.0.0.1:PORT/PATH --clients N --expect FRAMES [--timing]

#include "core/cli/program.hpp"
#include "core/net/asio_fwd.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffered_read_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

using namespace harness;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

// Beast's websocket stream reads frame headers into a 1536-byte buffer: a
// system call for every ~1 KB message. Reading the socket 256 KiB at a time
// keeps the consumer from being the figure measured.
struct read_ahead_buffer : beast::flat_buffer {};  // its namespace holds the teardown overloads
using read_ahead_socket =
    beast::buffered_read_stream<net::basic_stream_socket<tcp, net::io_context::executor_type>, read_ahead_buffer>;

// The websocket close handshake ends the TCP connection on the socket itself
// (found by argument-dependent lookup through read_ahead_buffer).
template <class Handler>
void async_teardown(beast::role_type role, read_ahead_socket& s, Handler&& handler) {
    websocket::async_teardown(role, s.next_layer(), std::forward<Handler>(handler));
}

struct client_result {
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;
    steady::time_point opened{};
    steady::time_point last{};                          // when the expected count was reached
    std::vector<std::pair<std::int64_t, std::int64_t>> arrivals;  // --timing: (receive ns, offset µs)
    std::string error;
};

struct run_state {
    std::string host;  // Host header, "127.0.0.1:PORT"
    std::string target;
    tcp::endpoint endpoint;
    std::uint64_t expect = 0;
    bool timing = false;
    std::size_t running = 0;
    net::steady_timer* deadline = nullptr;
};

// The value of "offset_us" near the start of a timing frame.
std::optional<std::int64_t> offset_us_of(std::string_view text) {
    constexpr std::string_view key = "\"offset_us\":";
    auto const at = text.substr(0, 128).find(key);
    if (at == std::string_view::npos) return std::nullopt;
    auto rest = text.substr(at + key.size());
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    std::int64_t value = 0;
    auto const [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (error != std::errc{}) return std::nullopt;
    return value;
}

// One client connection. Callbacks rather than a coroutine, on a socket bound
// to the io_context's own executor: measured here, a fifth less CPU per
// message than a coroutine on any_io_executor.
class connection {
public:
    connection(net::io_context& ioc, client_result* out, run_state* run) : ws_{ioc.get_executor()}, out_{out}, run_{run} {
        ws_.next_layer().capacity(256 * 1024);
        ws_.next_layer().buffer().reserve(256 * 1024);  // read_size() reads no more than the free capacity
        ws_.read_message_max(64u << 20);
        buffer_.reserve(256 * 1024);
        if (run->timing) out->arrivals.reserve(run->expect);
    }

    void start() {
        ws_.next_layer().next_layer().async_connect(run_->endpoint, [this](boost::system::error_code ec) {
            if (ec) return finish(ec);
            ws_.async_handshake(run_->host, run_->target, [this](boost::system::error_code ec) {
                if (ec) return finish(ec);
                out_->opened = steady::now();
                read();
            });
        });
    }

private:
    void read() {
        ws_.async_read(buffer_, [this](boost::system::error_code ec, std::size_t size) { on_read(ec, size); });
    }

    void on_read(boost::system::error_code ec, std::size_t size) {
        if (ec) return finish(ec == websocket::error::closed ? boost::system::error_code{} : ec);
        ++out_->frames;
        out_->bytes += size;
        bool const last = out_->frames == run_->expect;
        auto const now = run_->timing || last ? steady::now() : steady::time_point{};
        if (run_->timing) {
            auto const data = buffer_.cdata();
            auto const offset = offset_us_of({static_cast<char const*>(data.data()), data.size()});
            if (!offset) {
                out_->error = "a frame without \"offset_us\"";
                return finish({});
            }
            out_->arrivals.emplace_back(now.time_since_epoch().count(), *offset);
        }
        if (last) out_->last = now;
        buffer_.consume(buffer_.size());
        read();
    }

    void finish(boost::system::error_code ec) {
        if (ec) out_->error = ec.message();
        if (--run_->running == 0) run_->deadline->cancel();
    }

    websocket::stream<read_ahead_socket> ws_;
    beast::flat_buffer buffer_;
    client_result* out_;
    run_state* run_;
};

double percentile_ms(std::vector<std::int64_t> const& sorted_ns, double p) {
    if (sorted_ns.empty()) return 0;
    auto const at = std::min(sorted_ns.size() - 1, static_cast<std::size_t>(p * double(sorted_ns.size())));
    return double(sorted_ns[at]) / 1e6;
}

// Each client against its own first frame: |(recv_i - recv_0) - (offset_i - offset_0)|.
// The drift is that error, signed, at the last frame; the same less the error
// one second in tells a late first frame (a constant offset) from a clock
// that runs fast or slow.
nlohmann::ordered_json timing_report(std::vector<client_result> const& results) {
    std::vector<std::int64_t> errors;
    std::int64_t drift = 0, drift_after_1s = 0;  // the clients furthest off
    for (auto const& r : results) {
        if (r.arrivals.empty()) continue;
        auto const [recv0, offset0] = r.arrivals.front();
        std::int64_t last = 0;
        std::optional<std::int64_t> at_1s;
        for (auto const& [recv, offset] : r.arrivals) {
            last = (recv - recv0) - (offset - offset0) * 1000;
            errors.push_back(std::abs(last));
            if (!at_1s && offset - offset0 >= 1'000'000) at_1s = last;
        }
        if (std::abs(last) > std::abs(drift)) drift = last;
        if (at_1s && std::abs(last - *at_1s) > std::abs(drift_after_1s)) drift_after_1s = last - *at_1s;
    }
    std::sort(errors.begin(), errors.end());
    nlohmann::ordered_json j;
    j["samples"] = errors.size();
    j["error_ms"] = {{"p50", percentile_ms(errors, 0.5)},
                     {"p99", percentile_ms(errors, 0.99)},
                     {"max", errors.empty() ? 0.0 : double(errors.back()) / 1e6}};
    j["drift_at_last_ms"] = double(drift) / 1e6;
    j["drift_after_1s_ms"] = double(drift_after_1s) / 1e6;
    return j;
}

}  // namespace

int main(int argc, char** argv) {
    cli::option_parser parser{"replay_consumer", "--url URL --clients N --expect FRAMES [--timing]",
                              "Reads a websocket event stream over N connections; prints one JSON line."};
    cli::add_standard_options(parser);
    parser.value("url", "URL", "ws://127.0.0.1:PORT/PATH to connect to.")
        .value("clients", "N", "Connections to open.", "1")
        .value("expect", "FRAMES", "Messages each connection should receive.")
        .value("timeout", "SECONDS", "Give up after this long.", "300")
        .flag("timing", "Record receive times against the frames' \"offset_us\".");
    return cli::run_program(argc, argv, parser, [](cli::parsed_args const& args) {
        auto const url = args.value("url").value_or("");
        auto const expect = args.value("expect");
        if (!url.starts_with("ws://") || !expect) throw cli::usage_error{"--url ws://HOST:PORT/PATH and --expect are required"};
        auto const authority = url.substr(5, url.find('/', 5) - 5);
        auto const colon = authority.rfind(':');
        if (colon == std::string::npos) throw cli::usage_error{"--url needs a port"};

        net::io_context ioc{1};
        net::steady_timer deadline{ioc, std::chrono::seconds{std::stoul(args.value("timeout").value_or("300"))}};
        run_state run;
        run.host = authority;
        run.target = url.find('/', 5) == std::string::npos ? "/" : url.substr(url.find('/', 5));
        run.endpoint = {net::ip::make_address(authority.substr(0, colon)),
                        static_cast<std::uint16_t>(std::stoul(authority.substr(colon + 1)))};
        run.expect = std::stoull(*expect);
        run.timing = args.has("timing");
        auto const clients = std::stoul(args.value("clients").value_or("1"));
        run.running = clients;
        run.deadline = &deadline;
        bool timed_out = false;
        deadline.async_wait([&](boost::system::error_code ec) {
            if (ec) return;  // cancelled: every client ended
            timed_out = true;
            ioc.stop();
        });
        std::vector<client_result> results(clients);
        std::deque<connection> connections;
        for (auto& result : results) connections.emplace_back(ioc, &result, &run).start();
        ioc.run();

        nlohmann::ordered_json line;
        std::uint64_t frames = 0, bytes = 0;
        auto first_open = steady::time_point::max();
        auto last_frame = steady::time_point::min();
        bool complete = !timed_out;
        auto per_client = nlohmann::ordered_json::array();
        std::string error = timed_out ? "timed out" : "";
        for (auto const& r : results) {
            frames += r.frames;
            bytes += r.bytes;
            per_client.push_back(r.frames);
            if (r.opened != steady::time_point{}) first_open = std::min(first_open, r.opened);
            last_frame = std::max(last_frame, r.last);
            complete = complete && r.frames == run.expect;
            if (error.empty() && !r.error.empty()) error = r.error;
        }
        double const seconds = complete ? std::chrono::duration<double>(last_frame - first_open).count() : 0.0;
        line["clients"] = clients;
        line["frames"] = frames;
        line["bytes"] = bytes;
        line["seconds"] = seconds;
        line["frames_per_s"] = seconds > 0 ? double(frames) / seconds : 0.0;
        line["complete"] = complete;
        if (!error.empty()) line["error"] = error;
        line["per_client"] = std::move(per_client);
        if (run.timing) line["timing"] = timing_report(results);
        std::printf("%s\n", line.dump().c_str());
        return complete ? cli::exit_ok : cli::exit_failure;
    });
}
