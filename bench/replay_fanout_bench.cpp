// Replay fan-out: how fast `dialpad-replay serve --speed max` streams an
// archived session of ~1 KB call events to 1, 10 and 100 clients, beside two
// servers measured in the same run on the same frames:
//   (a) a plain Beast websocket server, one websocket async_write per frame;
//   (b) the frames pre-encoded once as unmasked server text frames in one
//       buffer, written in 512 KiB chunks straight to the TCP socket after a
//       Beast handshake: the most this consumer can take on loopback.
// Every server is read by the same consumer process (replay_consumer), so the
// ratios compare servers, not clients. At 100 clients and more the session is
// a fifth as long (--events-100), which keeps the whole run near a minute.
// The replayer's peak RSS is printed for both lengths at the same client
// count: flat memory means the two figures match.
//
// --timing instead serves a 10 s session (an event every 1 ms) at --speed 1
// to 10 clients and reports how far receive times stray from the recording.
//
//   build/release/bench/replay_fanout_bench [--events N] [--clients 1,10,100] [--rounds R]
//   build/release/bench/replay_fanout_bench --timing

#include "bench/support/archive_ceiling.hpp"
#include "core/archive/frame_writer.hpp"
#include "core/cli/program.hpp"
#include "core/log/log.hpp"
#include "core/net/asio_fwd.hpp"
#include "core/net/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <thread>

using namespace harness;
using namespace std::chrono_literals;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::size_t k_chunk = 512 * 1024;
constexpr std::int64_t k_wall_start_ns = 1767225600000000000;

// --- child processes --------------------------------------------------------

// A program with its stdout on a pipe; killed and reaped if still running
// when this goes out of scope, so no failure leaves a server behind.
class child_process {
public:
    explicit child_process(std::vector<std::string> const& argv) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error{std::string{"pipe: "} + std::strerror(errno)};
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // the baselines' sockets stay here
        std::vector<char*> args;
        for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        int const rc = ::posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        out_ = fds[0];
        if (rc != 0) {
            pid_ = -1;
            ::close(out_);
            throw std::runtime_error{argv[0] + ": " + std::strerror(rc)};
        }
    }
    child_process(child_process const&) = delete;
    child_process& operator=(child_process const&) = delete;
    pid_t pid() const { return pid_; }
    ~child_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(out_);
    }

    // The next stdout line; nullopt at end of output or after `limit`.
    std::optional<std::string> read_line(steady::duration limit) {
        auto const deadline = steady::now() + limit;
        for (;;) {
            if (auto const end = pending_.find('\n'); end != std::string::npos) {
                auto line = pending_.substr(0, end);
                pending_.erase(0, end + 1);
                return line;
            }
            auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
            if (left <= 0) return std::nullopt;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            char chunk[4096];
            auto const n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) return std::nullopt;
            pending_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    // Waits for the program to end by itself: its wait status, or nullopt after `limit`.
    std::optional<int> wait_exit(steady::duration limit) {
        for (auto const deadline = steady::now() + limit; steady::now() < deadline;) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return status;
            }
            std::this_thread::sleep_for(1ms);
        }
        return std::nullopt;
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string pending_;
};

// A process's peak RSS so far (VmHWM), 0 once it is gone. Not wait4's
// ru_maxrss: posix_spawn's child starts out in this process's address space,
// and Linux keeps that high-water mark across exec.
double peak_rss_mib(pid_t pid) {
    std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;  // kB
    return 0;
}

struct bench_paths {
    std::string replay;
    std::string consumer;
    std::filesystem::path dir;
};

// Runs the consumer to the end and returns its JSON line.
nlohmann::json run_consumer(bench_paths const& paths, std::string const& url, std::size_t clients,
                            std::size_t expect, bool timing) {
    std::vector<std::string> argv{paths.consumer,        "--url",    url, "--clients", std::to_string(clients),
                                  "--expect", std::to_string(expect), "--log-level", "warn"};
    if (timing) argv.emplace_back("--timing");
    child_process consumer{argv};
    auto const line = consumer.read_line(600s);
    auto const exit = consumer.wait_exit(10s);
    if (!line || line->empty()) throw std::runtime_error{"the consumer printed no result"};
    auto result = nlohmann::json::parse(*line);
    if (!result.value("complete", false) || !exit || *exit != 0) {
        std::ostringstream message;
        message << "the consumer got " << result.value("frames", 0) << " of " << clients * expect << " frames ("
                << result.value("error", std::string{"no error reported"}) << ")";
        throw std::runtime_error{message.str()};
    }
    return result;
}

// --- the replayer -----------------------------------------------------------

struct replay_result {
    nlohmann::json consumer;
    double peak_rss_mib = 0;
};

replay_result run_replay(bench_paths const& paths, std::string const& archive_path, std::size_t clients,
                         std::size_t events, std::string const& speed, bool timing) {
    auto const report = (paths.dir / ("replay-fanout-report-" + std::to_string(::getpid()) + ".json")).string();
    std::filesystem::remove(report);
    auto const n = std::to_string(clients);
    child_process server{{paths.replay, "serve", archive_path, "--port", "0", "--speed", speed, "--wait-clients", n,
                          "--exit-after", n, "--report", report, "--log-level", "warn"}};
    auto const ready_line = server.read_line(10s);
    if (!ready_line) throw std::runtime_error{"dialpad-replay printed no ready line within 10 s"};
    auto const ready = nlohmann::json::parse(*ready_line);
    std::atomic<double> peak{0};
    std::jthread sampler{[&peak, pid = server.pid()](std::stop_token stop) {
        for (; !stop.stop_requested(); std::this_thread::sleep_for(5ms)) peak = std::max(peak.load(), peak_rss_mib(pid));
    }};
    replay_result result;
    result.consumer = run_consumer(paths, ready.at("ws").get<std::string>() + "fanout-bench", clients, events, timing);
    sampler.request_stop();
    sampler.join();
    result.peak_rss_mib = peak;
    auto const exit = server.wait_exit(30s);
    if (!exit) throw std::runtime_error{"dialpad-replay did not exit after its last client"};
    if (!WIFEXITED(*exit) || WEXITSTATUS(*exit) != 0)
        throw std::runtime_error{"dialpad-replay failed (wait status " + std::to_string(*exit) + ")"};
    std::ifstream in{report};
    auto const sent = nlohmann::json::parse(in).at("totals").at("frames").get<std::size_t>();
    std::filesystem::remove(report);
    if (sent != clients * events)
        throw std::runtime_error{"dialpad-replay reports " + std::to_string(sent) + " frames sent, not " +
                                 std::to_string(clients * events)};
    return result;
}

// --- the baselines ----------------------------------------------------------

// Every frame as an unmasked server text frame (RFC 6455 §5.2), then a close 1000.
std::string encode_frames(std::vector<std::string> const& frames) {
    std::string out;
    std::size_t total = 4;
    for (auto const& f : frames) total += f.size() + 10;
    out.reserve(total);
    for (auto const& f : frames) {
        out.push_back(char(0x81));  // FIN, text
        auto const n = f.size();
        if (n < 126) {
            out.push_back(char(n));
        } else if (n <= 0xffff) {
            out.push_back(char(126));
            out.push_back(char(n >> 8));
            out.push_back(char(n & 0xff));
        } else {
            out.push_back(char(127));
            for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char((n >> shift) & 0xff));
        }
        out.append(f);
    }
    out.append("\x88\x02\x03\xe8", 4);
    return out;
}

struct baseline {
    bool chunked = false;  // (b) when set, else (a)
    std::vector<std::string> const* frames = nullptr;
    std::string const* encoded = nullptr;
    std::size_t clients = 0;
    std::size_t handshaken = 0;
    net::steady_timer* gate = nullptr;  // like --wait-clients: everyone starts together
};

net::awaitable<void> serve_baseline_client(tcp::socket socket, baseline* b) {
    websocket::stream<tcp::socket> ws{std::move(socket)};
    co_await ws.async_accept(net::use_awaitable);
    if (++b->handshaken == b->clients) {
        b->gate->cancel();
    } else {
        auto [ec] = co_await b->gate->async_wait(net::as_tuple(net::use_awaitable));
        (void)ec;
    }
    if (!b->chunked) {
        for (auto const& frame : *b->frames) co_await ws.async_write(net::buffer(frame), net::use_awaitable);
        co_await ws.async_close(websocket::close_code::normal, net::use_awaitable);
        co_return;
    }
    auto& socket_out = ws.next_layer();
    std::string_view const all = *b->encoded;
    for (std::size_t at = 0; at < all.size(); at += k_chunk)
        co_await net::async_write(socket_out, net::buffer(all.substr(at, k_chunk)), net::use_awaitable);
    // The client answers the close with 8 bytes (masked, code 1000) and then
    // waits for the server to end the TCP connection, as RFC 6455 has it.
    char reply[8];
    auto [ec, n] = co_await net::async_read(socket_out, net::buffer(reply), net::as_tuple(net::use_awaitable));
    (void)ec;
    (void)n;
    socket_out.shutdown(tcp::socket::shutdown_both, ec);
}

net::awaitable<void> accept_clients(tcp::acceptor* acceptor, baseline* b) {
    for (std::size_t i = 0; i < b->clients; ++i) {
        auto socket = co_await acceptor->async_accept(net::use_awaitable);
        net::co_spawn(acceptor->get_executor(), serve_baseline_client(std::move(socket), b), log_on_exit{"baseline.client"});
    }
    acceptor->close();
}

// Serves `setup` from this process on its own thread, read by the consumer.
nlohmann::json run_baseline(bench_paths const& paths, baseline setup) {
    net::io_context ioc{1};
    tcp::acceptor acceptor{ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
    net::steady_timer gate{ioc, net::steady_timer::time_point::max()};
    setup.gate = &gate;
    auto const url = "ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
    net::co_spawn(ioc, accept_clients(&acceptor, &setup), log_on_exit{"baseline.accept"});
    std::promise<void> ran;
    auto finished = ran.get_future();
    std::thread thread{[&] {
        ioc.run();
        ran.set_value();
    }};
    // The sessions end when the consumer does; if it failed, they are stopped.
    struct stop_on_exit {
        net::io_context& ioc;
        std::thread& thread;
        std::future<void>& finished;
        ~stop_on_exit() {
            auto const grace = std::uncaught_exceptions() > 0 ? 0s : 10s;
            if (finished.wait_for(grace) != std::future_status::ready) ioc.stop();
            thread.join();
        }
    } guard{ioc, thread, finished};
    return run_consumer(paths, url, setup.clients, setup.frames->size(), false);
}

// --- sessions, figures, the program -------------------------------------------

// Event i at i ms, in a fresh archive of one session.
void write_session(std::string const& path, std::vector<std::string> const& frames) {
    auto const target = bench::fresh_archive(path, "replay-fanout-bench");
    archive::frame_writer writer{path, target.session};
    archive::connection_spec spec;
    spec.info.scope = archive::token_scope::websocket;
    auto const connection = writer.open_connection(spec);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        auto const offset = static_cast<std::int64_t>(i) * 1'000'000;
        writer.write_frame(connection, archive::frame_kind::event, offset, k_wall_start_ns + offset, frames[i]);
    }
    writer.close();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

void remove_archive(std::string const& path) {
    for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

int run_timing(bench_paths const& paths, std::string const& archive_path) {
    constexpr std::size_t events = 10000, clients = 10;
    auto frames = bench::make_call_frames(events);
    for (std::size_t i = 0; i < events; ++i)
        frames[i] = R"({"offset_us": )" + std::to_string(i * 1000) + ", " + frames[i].substr(1);
    write_session(archive_path, frames);
    auto const run = run_replay(paths, archive_path, clients, events, "1", true);
    auto const& t = run.consumer.at("timing");
    auto const p99 = t.at("error_ms").at("p99").get<double>();
    auto const drift = t.at("drift_at_last_ms").get<double>();
    std::printf("timing: %zu clients, %zu events 1 ms apart (10 s), --speed 1; error per frame against its"
                " client's first frame, over %zu frames:\n"
                "  p50 %.3f ms, p99 %.3f ms, max %.3f ms; drift at the last frame %+.3f ms, from 1 s in to"
                " the last frame %+.3f ms; replay peak RSS %.1f MiB\n"
                "  target p99 <= 1 ms and no drift: %s\n",
                clients, events, t.at("samples").get<std::size_t>(), t.at("error_ms").at("p50").get<double>(), p99,
                t.at("error_ms").at("max").get<double>(), drift, t.at("drift_after_1s_ms").get<double>(),
                run.peak_rss_mib, p99 <= 1.0 && std::abs(drift) <= 1.0 ? "met" : "missed");
    return 0;
}

// One served session: its archive, frames and pre-encoded form.
struct served_session {
    std::string archive_path;
    std::vector<std::string> frames;
    std::string encoded;
};

struct fanout_row {
    double replay = 0, a = 0, b = 0, to_b = 0, to_a = 0;  // medians: frames/s and ratios
    double replay_rss_mib = 0;                             // the highest of the rounds
};

fanout_row measure_fanout(bench_paths const& paths, served_session const& session, std::size_t clients,
                          std::size_t rounds) {
    std::vector<double> replay, a, b, to_b, to_a;
    fanout_row row;
    auto const rate = [](nlohmann::json const& consumer) { return consumer.at("frames_per_s").get<double>(); };
    for (std::size_t r = 0; r < rounds; ++r) {
        // Rotate the order so drift in machine load hits all three alike.
        for (std::size_t k = 0; k < 3; ++k) {
            if ((r + k) % 3 == 0) {
                auto const run = run_replay(paths, session.archive_path, clients, session.frames.size(), "max", false);
                replay.push_back(rate(run.consumer));
                row.replay_rss_mib = std::max(row.replay_rss_mib, run.peak_rss_mib);
            } else {
                bool const chunked = (r + k) % 3 == 2;
                auto& rates = chunked ? b : a;
                rates.push_back(rate(run_baseline(paths, baseline{chunked, &session.frames, &session.encoded, clients})));
            }
        }
        to_b.push_back(replay.back() / b.back());
        to_a.push_back(replay.back() / a.back());
    }
    row.replay = median(replay);
    row.a = median(a);
    row.b = median(b);
    row.to_b = median(to_b);
    row.to_a = median(to_a);
    return row;
}

}  // namespace

int main(int argc, char** argv) {
    cli::option_parser parser{"replay_fanout_bench", "[options]",
                              "Measures dialpad-replay's fan-out at --speed max against two in-process baselines."};
    cli::add_standard_options(parser);
    parser.value("events", "N", "Events in the session.", "100000")
        .value("clients", "LIST", "Client counts, comma separated.", "1,10,100")
        .value("events-100", "N", "Events in the shorter session: served to 100 clients or more, and in the RSS comparison.",
               "a fifth of --events")
        .value("rounds", "R", "Rounds below 100 clients (medians are reported).", "3")
        .value("rounds-100", "R", "Rounds at 100 clients and more.", "1")
        .value("replay-binary", "PATH", "dialpad-replay to measure.", "../replayer/dialpad-replay from this binary")
        .value("consumer-binary", "PATH", "The consumer program.", "replay_consumer beside this binary")
        .value("dir", "DIR", "Where the scratch archives go.", "the system temp directory")
        .flag("timing", "Measure pacing accuracy at --speed 1 instead of throughput.");
    return cli::run_program(argc, argv, parser, [](cli::parsed_args const& args) {
        log_config quiet;
        quiet.level = log_level::warn;
        configure_logging(quiet);
        auto const here = std::filesystem::read_symlink("/proc/self/exe").parent_path();
        bench_paths paths;
        paths.replay = args.value("replay-binary").value_or((here / "../replayer/dialpad-replay").lexically_normal().string());
        paths.consumer = args.value("consumer-binary").value_or((here / "replay_consumer").string());
        paths.dir = args.value("dir").value_or(std::filesystem::temp_directory_path().string());
        for (auto const& program : {paths.replay, paths.consumer})
            if (::access(program.c_str(), X_OK) != 0) throw std::runtime_error{program + ": not an executable"};
        auto const stem = (paths.dir / ("replay-fanout-bench-" + std::to_string(::getpid()))).string();
        struct cleanup {
            std::string stem;
            ~cleanup() {
                for (auto name : {"-full.db", "-short.db", "-timing.db"}) remove_archive(stem + name);
            }
        } scratch{stem};
        if (args.has("timing")) return run_timing(paths, stem + "-timing.db");

        auto const count = std::stoul(args.value("events").value_or("100000"));
        auto const short_count = std::stoul(args.value("events-100").value_or(std::to_string(count / 5)));
        auto const rounds = std::stoul(args.value("rounds").value_or("3"));
        auto const rounds_100 = std::stoul(args.value("rounds-100").value_or("1"));
        std::vector<std::size_t> client_counts;
        std::istringstream list{args.value("clients").value_or("1,10,100")};
        for (std::string item; std::getline(list, item, ',');) client_counts.push_back(std::stoul(item));
        if (count == 0 || short_count == 0 || client_counts.empty() || rounds == 0 || rounds_100 == 0)
            throw cli::usage_error{"--events, --events-100, --rounds and --rounds-100 must be above 0, --clients not empty"};

        // Everything served is built before any clock starts.
        auto const started = steady::now();
        served_session full{stem + "-full.db", bench::make_call_frames(count), {}};
        full.encoded = encode_frames(full.frames);
        write_session(full.archive_path, full.frames);
        served_session short_session{stem + "-short.db", bench::make_call_frames(short_count), {}};
        short_session.encoded = encode_frames(short_session.frames);
        write_session(short_session.archive_path, short_session.frames);
        std::size_t bytes = 0;
        for (auto const& frame : full.frames) bytes += frame.size();
        std::printf("sessions of %zu and %zu events (the shorter one at 100 clients and more), %.0f bytes each on"
                    " average; archives written in %.1f s\n",
                    count, short_count, double(bytes) / double(count),
                    std::chrono::duration<double>(steady::now() - started).count());
        std::printf("clients | events | replay frames/s | (a) frames/s | (b) frames/s | replay/(b) | replay/(a) |"
                    " replay peak RSS\n");
        std::fflush(stdout);

        // Memory against session length: both sessions at the largest count
        // below 100 (each client is sent the whole session).
        std::size_t rss_clients = 0;
        double full_rss = 0;
        for (auto const clients : client_counts) {
            bool const large = clients >= 100;
            auto const& session = large ? short_session : full;
            auto const row = measure_fanout(paths, session, clients, large ? rounds_100 : rounds);
            if (!large && clients >= rss_clients) {
                rss_clients = clients;
                full_rss = row.replay_rss_mib;
            }
            std::printf("%7zu | %6zu | %15.0f | %12.0f | %12.0f | %10.2f | %10.2f | %11.1f MiB\n", clients,
                        session.frames.size(), row.replay, row.a, row.b, row.to_b, row.to_a, row.replay_rss_mib);
            std::fflush(stdout);
        }
        if (rss_clients > 0) {
            auto const short_run = run_replay(paths, short_session.archive_path, rss_clients, short_count, "max", false);
            std::printf("replay peak RSS at %zu clients: %zu-event session %.1f MiB, %zu-event session %.1f MiB\n",
                        rss_clients, count, full_rss, short_count, short_run.peak_rss_mib);
        }
        return 0;
    });
}
