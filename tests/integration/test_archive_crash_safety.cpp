// The archive's promises under failure: a recorder killed with SIGKILL
// leaves a file that opens, passes integrity_check and holds every frame
// whose commit was reported; readers run while a writer is busy.

#include "core/archive/frame_reader.hpp"
#include "core/archive/frame_writer.hpp"
#include "tests/support/archive_samples.hpp"
#include "tests/support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <cstdint>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace harness::archive;
using namespace std::chrono_literals;
using harness::test::temp_dir;

namespace {

// Frame n of the crash test: ~1 KB, different every time, so a torn or
// misplaced frame cannot pass for the right one.
std::string crash_frame(std::int64_t n) {
    auto text = harness::test::call_event(1000000 + n, n % 2 ? "ringing" : "hangup");
    text.pop_back();
    text += R"(,"custom_data":")" + std::string(900, static_cast<char>('a' + n % 26)) + std::to_string(n) + "\"}";
    return text;
}

// Child side: write frames as fast as possible, reporting each commit's
// running frame count on `report_fd`, until killed. Never returns.
[[noreturn]] void write_until_killed(std::string const& path, session_id session, int report_fd) {
    try {
        frame_writer writer{path, session, {.durability_window = 2ms}};
        writer.on_commit([report_fd](frame_writer_stats const& stats) {
            auto const committed = stats.frames_committed;
            if (::write(report_fd, &committed, sizeof committed) != sizeof committed) _exit(3);
        });
        connection_spec spec;
        spec.info.scope = token_scope::websocket;
        auto const connection = writer.open_connection(spec);
        for (std::int64_t n = 0;; ++n) {
            writer.write_frame(connection, frame_kind::event, n, n, crash_frame(n));
            if (n % 256 == 255) std::this_thread::yield();  // let the writer thread keep up
        }
    } catch (...) {
        _exit(2);
    }
}

}  // namespace

TEST_CASE("archive: a writer killed with SIGKILL loses nothing it reported committed") {
    temp_dir dir;
    auto const path = dir.file("crash.db");
    std::int64_t expected_frames = 0;
    // Kill at several depths: right after the first commit, and later.
    for (std::uint64_t kill_after : {1u, 300u, 2500u}) {
        CAPTURE(kill_after);
        session_id session = 0;
        {
            archive a{path, open_mode::read_write};
            session = a.create_session(harness::test::sample_session("crash"));
        }  // closed before fork: a SQLite connection must not cross fork()

        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_t const child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            ::close(fds[0]);
            write_until_killed(path, session, fds[1]);
        }
        ::close(fds[1]);
        std::uint64_t reported = 0;
        while (reported < kill_after) {
            std::uint64_t value = 0;
            auto const got = ::read(fds[0], &value, sizeof value);
            REQUIRE_MESSAGE(got == static_cast<ssize_t>(sizeof value), "the writer child stopped reporting");
            reported = value;
        }
        ::kill(child, SIGKILL);
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        CHECK(WIFSIGNALED(status));
        // Commits reported after the last one read may also have landed.
        for (std::uint64_t value = 0; ::read(fds[0], &value, sizeof value) == sizeof value;) reported = value;
        ::close(fds[0]);

        archive a{path, open_mode::read_write};
        CHECK(a.integrity_check() == "ok");
        auto const stored = a.frame_count(session);
        CHECK(static_cast<std::uint64_t>(stored) >= reported);
        frame_reader reader{path, session};
        std::int64_t n = 0;
        while (auto frame = reader.next()) {
            if (frame->text != crash_frame(n)) {
                FAIL_CHECK("frame " << n << " differs from what was written");
                break;
            }
            ++n;
        }
        CHECK(n == stored);
        expected_frames += stored;
    }
    archive a{path, open_mode::read_only};
    CHECK(a.sessions().size() == 3);
    CHECK(expected_frames > 0);
}

TEST_CASE("archive: a reader streams a session while a writer is still adding to it") {
    temp_dir dir;
    auto const path = dir.file("live.db");
    session_id session = 0;
    {
        archive a{path, open_mode::read_write};
        session = a.create_session(harness::test::sample_session("live"));
    }
    constexpr std::int64_t k_frames = 20000;
    std::thread producer{[&] {
        frame_writer writer{path, session, {.durability_window = 1ms}};
        connection_spec spec;
        auto const connection = writer.open_connection(spec);
        for (std::int64_t n = 0; n < k_frames; ++n)
            writer.write_frame(connection, frame_kind::event, n, n, harness::test::call_event(n + 1, "ringing"));
        writer.close();
    }};
    frame_reader reader{path, session, {}, 256};
    std::int64_t seen = 0;
    auto const give_up = std::chrono::steady_clock::now() + 60s;  // a hang guard, not a timing assertion
    while (seen < k_frames && std::chrono::steady_clock::now() < give_up) {
        auto frame = reader.next();
        if (!frame) {
            std::this_thread::yield();  // caught up with the writer: poll again
            continue;
        }
        REQUIRE(frame->text == harness::test::call_event(seen + 1, "ringing"));
        ++seen;
    }
    producer.join();
    CHECK(seen == k_frames);
}
