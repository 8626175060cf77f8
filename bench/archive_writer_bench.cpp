// Recorder ingest: how close frame_writer (batched commits on its own thread,
// event index included) comes to the ceiling, a bare loop of prepared INSERTs
// of the same rows in 1000-row transactions on the same SQLite settings.
//
//   build/release/bench/archive_writer_bench [--frames N] [--rounds R] [--dir D]
//
// Prints each round and the medians; the ratio is the figure that matters
// (machines here are noisy, absolute rates are not comparable across runs).

#include "core/archive/archive.hpp"
#include "core/archive/frame_writer.hpp"
#include "bench/support/archive_ceiling.hpp"
#include "core/cli/program.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <vector>

using namespace harness::archive;
using steady = std::chrono::steady_clock;

namespace {

double run_frame_writer(harness::bench::prepared_session const& target, std::vector<std::string> const& frames) {
    frame_writer writer{target.path, target.session};  // default options: a 100 ms durability window
    connection_spec spec;
    spec.info.scope = token_scope::websocket;
    auto const start = steady::now();
    auto const connection = writer.open_connection(spec);
    std::int64_t offset = 0;
    for (auto const& text : frames) {
        ++offset;
        writer.write_frame(connection, frame_kind::event, offset, offset, text);
    }
    writer.close();
    return std::chrono::duration<double>(steady::now() - start).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    harness::cli::option_parser parser{"archive_writer_bench", "[options]",
                                       "Measures frame_writer against a bare SQLite insert loop."};
    harness::cli::add_standard_options(parser);
    parser.value("frames", "N", "Frames per round.", "200000")
        .value("rounds", "R", "Rounds of each (medians are reported).", "5")
        .value("dir", "DIR", "Where the scratch archives go.", "the system temp directory");
    return harness::cli::run_program(argc, argv, parser, [](harness::cli::parsed_args const& args) {
        auto const count = std::stoul(args.value("frames").value_or("200000"));
        auto const rounds = std::stoul(args.value("rounds").value_or("5"));
        std::filesystem::path const dir = args.value("dir").value_or(std::filesystem::temp_directory_path().string());

        auto const frames = harness::bench::make_call_frames(count);
        std::vector<harness::model::event_index> indexes;
        std::size_t bytes = 0;
        for (auto const& f : frames) {
            indexes.push_back(harness::model::index_event(f));
            bytes += f.size();
        }
        std::printf("%zu frames, %.0f bytes each on average\n", count, double(bytes) / double(count));

        std::vector<double> writer_rates, bare_rates, ratios;
        for (std::size_t r = 0; r < rounds; ++r) {
            // Alternate the order so drift in machine load hits both alike.
            auto const measure_writer = [&] {
                auto const target = harness::bench::fresh_archive((dir / "bench-writer.db").string(), "bench-writer.db");
                writer_rates.push_back(double(count) / run_frame_writer(target, frames));
            };
            auto const measure_bare = [&] {
                auto const target = harness::bench::fresh_archive((dir / "bench-bare.db").string(), "bench-bare.db");
                bare_rates.push_back(double(count) / harness::bench::bare_insert_seconds(target, frames, indexes));
            };
            if (r % 2 == 0) {
                measure_writer();
                measure_bare();
            } else {
                measure_bare();
                measure_writer();
            }
            ratios.push_back(writer_rates.back() / bare_rates.back());
            std::printf("round %zu: frame_writer %.0f frames/s, bare loop %.0f frames/s, ratio %.2f\n", r + 1,
                        writer_rates.back(), bare_rates.back(), ratios.back());
        }
        // The ratio of each round pairs two runs made moments apart, so its
        // median is the figure least moved by the machine's noise.
        std::printf("median: frame_writer %.0f frames/s, bare loop (ceiling) %.0f frames/s; median ratio %.2f\n",
                    median(writer_rates), median(bare_rates), median(ratios));
        for (auto name : {"bench-writer.db", "bench-bare.db"})
            for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir / (std::string{name} + suffix));
        return 0;
    });
}
