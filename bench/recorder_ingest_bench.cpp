// Recorder ingest: dialpad-mock (in-process, its own thread) sends a burst of
// ~1 KB call events as fast as it can; dialpad-record's engine (in-process,
// another thread) archives them. The rate, from the first admin POST until
// every frame is stored and the archive closed (run() returned), is set
// beside the archive's raw insert ceiling measured in the same run: a bare
// loop of prepared INSERTs of the same frame texts and their index rows in
// 1000-row transactions (as archive_writer_bench's baseline). Memory: the
// resident size sampled during each recorder run, and the process's peak
// (VmHWM) at the end.
//
//   build/release/bench/recorder_ingest_bench [--events N] [--rounds R] [--dir D]
//
// The ratio is the figure that matters (machines here are noisy).

#include "bench/support/archive_ceiling.hpp"
#include "core/archive/archive.hpp"
#include "core/archive/frame_reader.hpp"
#include "core/cli/program.hpp"
#include "core/clock/virtual_clock.hpp"
#include "core/log/log.hpp"
#include "core/model/event_index.hpp"
#include "core/web/http_client.hpp"
#include "bench/support/bench_mock.hpp"
#include "mockserver/mock_server.hpp"
#include "recorder/recorder.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <thread>
#include <vector>

using namespace harness;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

void remove_archive(std::string const& path) {
    for (auto suffix : {"", "-wal", "-shm"}) {
        std::string file = path;
        file.append(suffix);
        std::filesystem::remove(file);
    }
}

// A /proc/self/status field ("VmRSS", "VmHWM") in MiB.
double proc_status_mib(std::string const& field) {
    std::ifstream status{"/proc/self/status"};
    std::string prefix = field;
    prefix.append(":");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with(prefix)) return std::stod(line.substr(prefix.size())) / 1024.0;  // kB
    return 0;
}

// How many event frames an archive holds, and their bytes.
std::pair<std::int64_t, std::int64_t> stored_event_frames(std::string const& path) {
    archive::archive store{path, archive::open_mode::read_only};
    archive::frame_reader reader{path, store.resolve_session("").id,
                                 archive::frame_filter{.kinds = {archive::frame_kind::event}}};
    std::pair<std::int64_t, std::int64_t> result{0, 0};
    while (auto frame = reader.next()) {
        ++result.first;
        result.second += static_cast<std::int64_t>(frame->text.size());
    }
    return result;
}

// --- the recorder against the mock ------------------------------------------

struct recorder_result {
    double seconds = 0;
    double rss_before_mib = 0;    // at the start of the run (the inputs are resident already)
    double rss_peak_mib = 0;      // sampled every 5 ms during the run
    double rss_after_mib = 0;     // when run() returned, mock and recorder still alive
    // When the last POST was answered: how long the injection took, and where
    // the burst was then (queued in the mock, received by the recorder).
    double injected_seconds = 0;
    std::uint64_t mock_queued = 0;
    std::uint64_t recorder_received = 0;
};

// Joins a thread on the way out, after asking its io_context to wind down.
struct thread_guard {
    std::thread thread;
    std::function<void()> before_join;
    ~thread_guard() {
        if (!thread.joinable()) return;
        if (before_join) before_join();
        thread.join();
    }
};

recorder_result run_recorder(std::vector<std::string> const& batches, std::size_t count, std::size_t bytes,
                             std::string const& path) {
    remove_archive(path);
    recorder_result result;
    result.rss_before_mib = proc_status_mib("VmRSS");

    // The mock, on its own thread, on a paused virtual clock; a slow reader
    // is not cut off: the burst queues up.
    bench::bench_mock mock{count + 1};
    auto const& endpoints = mock.endpoints();
    auto& time = mock.time();

    // The recorder, on another thread.
    recorder::recorder_config config;
    config.archive_path = path;
    config.session_name = "ingest-bench";
    config.api_base = endpoints.http;
    config.api_key = std::string{mock::k_default_api_key};
    config.mode = recorder::source_mode::create;
    config.subscriptions = {recorder::parse_subscription_spec("call:all")};
    config.durability_window = 100ms;
    // It stops itself at the last frame; run() then closes the archive.
    config.max_events = count;
    net::io_context rec_ioc{1};
    recorder::recorder rec{rec_ioc.get_executor(), config, time};
    std::promise<void> live;
    auto live_future = live.get_future();
    rec.on_live([&live] { live.set_value(); });
    std::promise<int> done;
    auto done_future = done.get_future();
    steady::time_point finished{};
    net::co_spawn(rec_ioc, rec.run(), [&](std::exception_ptr error, int code) {
        finished = steady::now();
        if (error) done.set_exception(error);
        else done.set_value(code);
    });
    thread_guard rec_thread{std::thread{[&] { rec_ioc.run(); }}, [&] { net::post(rec_ioc, [&] { rec.stop(); }); }};

    if (live_future.wait_for(10s) != std::future_status::ready) throw std::runtime_error{"the recorder did not go live"};
    // Its connection is registered with the mock's feed before the burst starts.
    for (auto const deadline = steady::now() + 10s;;) {
        auto const list = nlohmann::json::parse(web::fetch("GET", endpoints.http + "/__admin/connections").body);
        if (list["connections"].size() == 1) break;
        if (steady::now() > deadline) throw std::runtime_error{"the recorder's connection did not reach the mock"};
        std::this_thread::sleep_for(1ms);
    }

    std::atomic<bool> sampling{true};
    std::atomic<double> peak{proc_status_mib("VmRSS")};
    std::thread sampler{[&] {
        while (sampling.load()) {
            peak.store(std::max(peak.load(), proc_status_mib("VmRSS")));
            std::this_thread::sleep_for(5ms);
        }
    }};
    struct stop_sampler {
        std::atomic<bool>& flag;
        std::thread& thread;
        ~stop_sampler() {
            flag = false;
            if (thread.joinable()) thread.join();
        }
    } sampler_guard{sampling, sampler};

    auto const start = steady::now();
    for (auto const& batch : batches) {
        auto const response = web::fetch("POST", endpoints.http + "/__admin/events", {}, batch);
        if (response.status != 200) {
            std::string message = "the mock refused a batch: ";
            message.append(std::to_string(response.status)).append(" ").append(response.body.substr(0, 200));
            throw std::runtime_error{message};
        }
    }
    result.injected_seconds = std::chrono::duration<double>(steady::now() - start).count();
    {
        auto const list = nlohmann::json::parse(web::fetch("GET", endpoints.http + "/__admin/connections").body);
        if (!list["connections"].empty()) result.mock_queued = list["connections"][0]["queued"].get<std::uint64_t>();
        std::promise<std::uint64_t> received;  // read on the recorder's thread: its counters are not atomic
        auto received_future = received.get_future();
        net::post(rec_ioc, [&] { received.set_value(rec.stats().frames); });
        // A recorder already done (a small burst) may not run the handler: it has everything.
        while (received_future.wait_for(1ms) != std::future_status::ready)
            if (done_future.wait_for(0s) == std::future_status::ready) break;
        result.recorder_received = received_future.wait_for(0s) == std::future_status::ready ? received_future.get() : count;
    }
    auto const limit = std::chrono::seconds{60 + count / 1000};
    if (done_future.wait_for(limit) != std::future_status::ready)
        throw std::runtime_error{"the recorder did not store every frame in time"};
    auto const code = done_future.get();  // rethrows run()'s exception
    result.seconds = std::chrono::duration<double>(finished - start).count();
    sampling = false;
    sampler.join();
    result.rss_peak_mib = peak.load();
    result.rss_after_mib = proc_status_mib("VmRSS");
    if (code != 0) {
        std::string message = "the recorder exited with ";
        message.append(std::to_string(code));
        throw std::runtime_error{message};
    }

    rec_thread.thread.join();  // run() has returned: the io_context runs out of work
    auto const stats = rec.stats();
    if (stats.frames != count) {
        std::string message = "the recorder stored ";
        message.append(std::to_string(stats.frames)).append(" frames, not ").append(std::to_string(count));
        throw std::runtime_error{message};
    }
    // Every frame, byte for byte as injected (the mock sends an unsigned event's text as it is).
    if (auto const [stored, stored_bytes] = stored_event_frames(path);
        stored != static_cast<std::int64_t>(count) || stored_bytes != static_cast<std::int64_t>(bytes)) {
        std::string message = "the archive holds ";
        message.append(std::to_string(stored))
            .append(" event frames of ")
            .append(std::to_string(stored_bytes))
            .append(" bytes, not ")
            .append(std::to_string(count))
            .append(" of ")
            .append(std::to_string(bytes));
        throw std::runtime_error{message};
    }
    return result;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    cli::option_parser parser{"recorder_ingest_bench", "[options]",
                              "Measures dialpad-record's ingest from dialpad-mock against a bare SQLite insert loop."};
    cli::add_standard_options(parser);
    parser.value("events", "N", "Events in the burst.", "200000")
        .value("rounds", "R", "Rounds of each (medians are reported).", "3")
        .value("dir", "DIR", "Where the scratch archives go.", "the system temp directory");
    return cli::run_program(argc, argv, parser, [](cli::parsed_args const& args) {
        log_config quiet;
        quiet.level = log_level::warn;
        configure_logging(quiet);
        auto const count = std::stoul(args.value("events").value_or("200000"));
        auto const rounds = std::stoul(args.value("rounds").value_or("3"));
        std::filesystem::path const dir = args.value("dir").value_or(std::filesystem::temp_directory_path().string());
        std::string stem = "recorder-ingest-bench-";
        stem.append(std::to_string(::getpid()));
        auto const recorder_path = (dir / (stem + "-recorder.db")).string();
        auto const bare_path = (dir / (stem + "-bare.db")).string();

        // Everything sent or inserted is built before any clock starts.
        auto const frames = bench::make_call_frames(count);
        std::vector<model::event_index> indexes;
        indexes.reserve(count);
        std::size_t bytes = 0;
        for (auto const& f : frames) {
            indexes.push_back(model::index_event(f));
            bytes += f.size();
        }
        std::vector<std::string> batches;
        for (std::size_t i = 0; i < frames.size(); i += 500) {
            nlohmann::json batch{{"events", nlohmann::json::array()}};
            for (std::size_t j = i; j < std::min(frames.size(), i + 500); ++j)
                batch["events"].push_back({{"type", "call"}, {"raw", frames[j]}});
            batches.push_back(batch.dump());
        }
        std::printf("%zu events, %.0f bytes each on average, injected in POSTs of 500; inputs built, VmRSS %.0f MiB\n",
                    count, double(bytes) / double(count), proc_status_mib("VmRSS"));
        std::fflush(stdout);

        std::vector<double> recorder_rates, bare_rates, ratios;
        int code = 0;
        try {
            for (std::size_t r = 0; r < rounds; ++r) {
                recorder_result rec;
                // Alternate the order so drift in machine load hits both alike.
                auto const measure_recorder = [&] {
                    rec = run_recorder(batches, count, bytes, recorder_path);
                    recorder_rates.push_back(double(count) / rec.seconds);
                };
                auto const measure_bare = [&] {
                    bare_rates.push_back(double(count) / bench::bare_insert_seconds(bench::fresh_archive(bare_path, "bare"), frames, indexes));
                };
                if (r % 2 == 0) {
                    measure_recorder();
                    measure_bare();
                } else {
                    measure_bare();
                    measure_recorder();
                }
                ratios.push_back(recorder_rates.back() / bare_rates.back());
                std::printf("round %zu: recorder %.0f frames/s, bare loop %.0f frames/s, ratio %.2f\n"
                            "         burst injected in %.2f s of %.2f (then %llu queued in the mock, %llu received"
                            " by the recorder); VmRSS %.0f MiB at the start, peak %.0f, %.0f when run() returned,"
                            " %.0f after teardown\n",
                            r + 1, recorder_rates.back(), bare_rates.back(), ratios.back(), rec.injected_seconds,
                            rec.seconds, static_cast<unsigned long long>(rec.mock_queued),
                            static_cast<unsigned long long>(rec.recorder_received), rec.rss_before_mib,
                            rec.rss_peak_mib, rec.rss_after_mib, proc_status_mib("VmRSS"));
                std::fflush(stdout);
            }
            // The ratio of each round pairs two runs made moments apart, so its
            // median is the figure least moved by the machine's noise.
            std::printf("median: recorder %.0f frames/s, bare loop (ceiling) %.0f frames/s; median ratio %.2f\n",
                        median(recorder_rates), median(bare_rates), median(ratios));
            std::printf("peak RSS of the whole process (VmHWM): %.0f MiB\n", proc_status_mib("VmHWM"));
        } catch (...) {
            remove_archive(recorder_path);
            remove_archive(bare_path);
            throw;
        }
        remove_archive(recorder_path);
        remove_archive(bare_path);
        return code;
    });
}
