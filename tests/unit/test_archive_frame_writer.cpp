#include "core/archive/frame_writer.hpp"

#include "core/archive/frame_reader.hpp"
#include "tests/support/archive_samples.hpp"
#include "tests/support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <condition_variable>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

using namespace harness::archive;
using namespace std::chrono_literals;
using harness::test::temp_dir;

namespace {

struct writer_fixture {
    temp_dir dir;
    std::string path = dir.file("a.db");
    session_id session = [this] {
        archive a{path, open_mode::read_write};
        return a.create_session(harness::test::sample_session());
    }();

    std::vector<frame_record> frames() const {
        frame_reader reader{path, session};
        std::vector<frame_record> all;
        while (auto f = reader.next()) all.push_back(std::move(*f));
        return all;
    }
};

connection_spec websocket_connection(std::int64_t opened) {
    connection_spec spec;
    spec.info.url = "wss://x/events/<token>";
    spec.info.scope = token_scope::websocket;
    spec.info.opened_offset_ns = opened;
    return spec;
}

}  // namespace

TEST_CASE("archive::frame_writer: writes connections, frames with their index, gaps and the session end") {
    writer_fixture f;
    auto texts = harness::test::tricky_event_texts();
    {
        frame_writer writer{f.path, f.session};
        auto spec = websocket_connection(0);
        spec.secret = "secret";  // the JWT among the texts is signed with it
        auto const first = writer.open_connection(spec);
        writer.write_frame(first, frame_kind::open, 0, 1, "wss://x/events/<token>");
        for (std::size_t i = 0; i < texts.size(); ++i)
            writer.write_frame(first, frame_kind::event, static_cast<std::int64_t>(i + 1), 2, texts[i]);
        writer.close_connection(first, {100, std::nullopt, "", true, end_reason::hour_cut});
        auto const gap = writer.begin_gap(100, "hour cut");
        auto const second = writer.open_connection(websocket_connection(150));
        writer.end_gap(gap, 150);
        writer.write_frame(second, frame_kind::event, 160, 3, texts[0]);
        writer.end_session(999);
        writer.close();
        auto const stats = writer.stats();
        CHECK(stats.frames_submitted == texts.size() + 2);
        CHECK(stats.frames_committed == texts.size() + 2);
    }
    auto const frames = f.frames();
    REQUIRE(frames.size() == texts.size() + 2);
    for (std::size_t i = 0; i < texts.size(); ++i) CHECK(frames[i + 1].text == texts[i]);
    auto const& jwt_frame = frames[texts.size()];
    REQUIRE(jwt_frame.index.has_value());
    CHECK(jwt_frame.index->is_jwt);
    CHECK(jwt_frame.index->signature == harness::model::signature_check::valid);

    archive a{f.path, open_mode::read_only};
    auto const connections = a.connections(f.session);
    REQUIRE(connections.size() == 2);
    CHECK(connections[0].abrupt);
    CHECK(connections[0].ended_by == end_reason::hour_cut);
    CHECK(connections[0].closed_offset_ns == 100);
    CHECK(frames.back().connection == connections[1].id);
    auto const gaps = a.gaps(f.session);
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0].start_offset_ns == 100);
    CHECK(gaps[0].end_offset_ns == 150);
    CHECK(a.session(f.session)->ended_wall_ns == 999);
}

TEST_CASE("archive::frame_writer: flush commits everything handed over, at any window") {
    for (auto window : {0ms, 100ms, 10000ms}) {
        CAPTURE(window.count());
        writer_fixture f;
        frame_writer writer{f.path, f.session, {.durability_window = window}};
        auto const c = writer.open_connection(websocket_connection(0));
        for (int i = 0; i < 1000; ++i) writer.write_frame(c, frame_kind::event, i, i, harness::test::call_event(i + 1, "ringing"));
        writer.flush();
        CHECK(writer.stats().frames_committed == 1000);
        CHECK(f.frames().size() == 1000);  // visible to another connection
    }
}

TEST_CASE("archive::frame_writer: a short window commits without a flush") {
    writer_fixture f;
    frame_writer writer{f.path, f.session, {.durability_window = 1ms}};
    std::mutex m;
    std::condition_variable committed;
    std::uint64_t frames_committed = 0;
    writer.on_commit([&](frame_writer_stats const& s) {
        std::lock_guard lock{m};
        frames_committed = s.frames_committed;
        committed.notify_all();
    });
    auto const c = writer.open_connection(websocket_connection(0));
    writer.write_frame(c, frame_kind::event, 1, 1, harness::test::call_event(1, "ringing"));
    std::unique_lock lock{m};
    // The bound only guards against a hang; the commit is signalled.
    REQUIRE(committed.wait_for(lock, 30s, [&] { return frames_committed == 1; }));
}

TEST_CASE("archive::frame_writer: batches: many frames, few commits") {
    writer_fixture f;
    frame_writer writer{f.path, f.session, {.durability_window = 10000ms, .max_batch = 100}};
    auto const c = writer.open_connection(websocket_connection(0));
    for (int i = 0; i < 1000; ++i) writer.write_frame(c, frame_kind::event, i, i, "{}");
    writer.flush();
    auto const stats = writer.stats();
    CHECK(stats.frames_committed == 1000);
    CHECK(stats.commits >= 10);  // max_batch caps a transaction
    // The long window gathers full ones: each wake-up but the flush has at
    // least max_batch operations queued (1001 with the connection), so at most
    // 10 + 1 wake-ups, each at most one transaction short of full. A commit per
    // frame would be 1000.
    CHECK(stats.commits <= 21);
}

TEST_CASE("archive::frame_writer: frames from several threads all arrive, each thread's in order") {
    writer_fixture f;
    constexpr int k_threads = 4, k_frames = 500;
    {
        frame_writer writer{f.path, f.session, {.durability_window = 5ms}};
        std::vector<frame_writer::connection_handle> handles;
        for (int t = 0; t < k_threads; ++t) handles.push_back(writer.open_connection(websocket_connection(t)));
        std::vector<std::thread> threads;
        for (int t = 0; t < k_threads; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < k_frames; ++i)
                    writer.write_frame(handles[static_cast<std::size_t>(t)], frame_kind::event, i, i,
                                       std::to_string(t) + ":" + std::to_string(i));
            });
        for (auto& th : threads) th.join();
    }  // the destructor commits the rest
    auto const frames = f.frames();
    REQUIRE(frames.size() == k_threads * k_frames);
    std::map<connection_id, int> next;
    for (auto const& frame : frames) {
        auto const expected = next[frame.connection]++;
        CHECK(frame.text.substr(frame.text.find(':') + 1) == std::to_string(expected));
    }
}

TEST_CASE("archive::frame_writer: a missing session or a file that is not an archive fails at once") {
    writer_fixture f;
    CHECK_THROWS_WITH_AS(frame_writer(f.path, f.session + 100), doctest::Contains("no session with id"),
                         archive_error);
    auto const path = f.dir.file("not.db");
    { std::ofstream{path} << std::string(4096, 'x'); }
    CHECK_THROWS_WITH_AS(frame_writer(path, 1), doctest::Contains("not a readable SQLite archive"), archive_error);
}

TEST_CASE("archive::frame_writer: a failed commit stops the writer and is reported") {
    writer_fixture f;
    frame_writer writer{f.path, f.session, {.durability_window = 0ms}};
    // A close for a connection handle that was never opened cannot be applied.
    writer.close_connection(12345, {});
    CHECK_THROWS_WITH_AS(writer.flush(), doctest::Contains("writing the archive failed"), archive_error);
    CHECK(writer.error().has_value());
    auto const c = writer.open_connection(websocket_connection(0));  // dropped: the writer has stopped
    writer.write_frame(c, frame_kind::event, 1, 1, "{}");
    CHECK_THROWS_AS(writer.close(), archive_error);
    CHECK(f.frames().empty());
}

TEST_CASE("archive::frame_writer: the backlog counts frame bytes handed over until they are committed") {
    writer_fixture f;
    frame_writer writer{f.path, f.session, {.durability_window = 10000ms}};
    auto const c = writer.open_connection(websocket_connection(0));
    CHECK(writer.backlog_bytes() == 0);
    std::uint64_t bytes = 0;
    for (int i = 0; i < 10; ++i) {
        auto text = harness::test::call_event(i + 1, "ringing");
        bytes += text.size();
        writer.write_frame(c, frame_kind::event, i, i, std::move(text));
    }
    CHECK(writer.backlog_bytes() == bytes);  // the 10 s window holds them
    writer.flush();
    CHECK(writer.backlog_bytes() == 0);
}

TEST_CASE("archive::frame_writer: megabytes through the log, checkpointed, all kept; closing removes the log") {
    writer_fixture f;
    std::string const text(4000, 'x');  // about a page each: past SQLite's checkpoint threshold several times
    {
        frame_writer writer{f.path, f.session, {.durability_window = 0ms, .max_batch = 100}};
        auto const connection = writer.open_connection(websocket_connection(0));
        for (int i = 0; i < 6000; ++i) writer.write_frame(connection, frame_kind::control, i, i, text);
        writer.flush();
        CHECK(std::filesystem::exists(f.path + "-wal"));
    }
    // The writer's was the last connection: its close checkpointed the rest.
    CHECK_FALSE(std::filesystem::exists(f.path + "-wal"));
    CHECK(std::filesystem::file_size(f.path) > 6000 * 4000);
    CHECK(f.frames().size() == 6000);
    archive reopened{f.path, open_mode::read_only};
    CHECK(reopened.integrity_check() == "ok");
}
