#include "core/archive/frame_reader.hpp"

#include "tests/support/archive_samples.hpp"
#include "tests/support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace harness::archive;
using harness::model::event_family;
using harness::test::call_event;
using harness::test::temp_dir;

namespace {

// A session with two connections: open, a mixed run of events, close.
// Call legs: 100 is an entry leg whose operator leg is 101; 102 names 100 as
// its entry point; 200 is an unrelated call; 300 links to nothing.
struct sample_archive {
    temp_dir dir;
    std::string path = dir.file("a.db");
    session_id session = 0;
    std::vector<std::string> event_texts;

    sample_archive() {
        archive a{path, open_mode::read_write};
        session = a.create_session(harness::test::sample_session());
        auto const c1 = a.add_connection(harness::test::sample_connection(session, 0));
        auto const c2 = a.add_connection(harness::test::sample_connection(session, 50));
        std::int64_t t = 0;
        auto add = [&](connection_id c, frame_kind kind, std::string text) {
            frame_record f;
            f.connection = c;
            f.kind = kind;
            f.offset_ns = t;
            f.wall_ns = 1767225600000000000 + t;
            t += 10;
            f.text = std::move(text);
            if (kind == frame_kind::event) {
                f.index = harness::model::index_event(f.text);
                event_texts.push_back(f.text);
            }
            a.add_frame(session, f);
        };
        add(c1, frame_kind::open, "wss://x/events/<token>");
        add(c1, frame_kind::event, call_event(100, "ringing", 0, 101));
        add(c1, frame_kind::event, call_event(101, "ringing", 100));
        add(c1, frame_kind::event, R"({"id":1,"from_number":"+1","to_number":["+2"],"message_status":"pending"})");
        add(c2, frame_kind::open, "wss://x/events/<token>");
        add(c2, frame_kind::event, call_event(200, "ringing"));
        add(c1, frame_kind::event, call_event(102, "connected", 100));
        add(c1, frame_kind::close, "abrupt");
        add(c2, frame_kind::event, call_event(300, "hangup"));
        add(c2, frame_kind::event, call_event(100, "hangup", 0, 101));
    }

    std::vector<frame_record> read(frame_filter filter = {}, std::size_t page_size = 512) const {
        frame_reader reader{path, session, std::move(filter), page_size};
        std::vector<frame_record> frames;
        while (auto f = reader.next()) frames.push_back(std::move(*f));
        return frames;
    }
};

std::vector<std::int64_t> call_ids(std::vector<frame_record> const& frames) {
    std::vector<std::int64_t> ids;
    for (auto const& f : frames)
        if (f.index && f.index->call_id) ids.push_back(*f.index->call_id);
    return ids;
}

}  // namespace

TEST_CASE("archive::frame_reader: streams every frame in arrival order, in pages of any size") {
    sample_archive s;
    for (std::size_t page : {1, 3, 512}) {
        CAPTURE(page);
        auto const frames = s.read({}, page);
        REQUIRE(frames.size() == 10);
        for (std::size_t i = 1; i < frames.size(); ++i) CHECK(frames[i].id > frames[i - 1].id);
        CHECK(frames[0].kind == frame_kind::open);
        CHECK_FALSE(frames[0].index.has_value());
        REQUIRE(frames[1].index.has_value());
        CHECK(frames[1].text == s.event_texts[0]);
        CHECK(frames[1].index->family == event_family::call);
    }
}

TEST_CASE("archive::frame_reader: filters by kind, family and state") {
    sample_archive s;
    auto const events = s.read({.kinds = {frame_kind::event}});
    CHECK(events.size() == 7);

    auto const sms = s.read({.kinds = {frame_kind::event}, .families = {event_family::sms}});
    REQUIRE(sms.size() == 1);
    CHECK(sms[0].index->state == "pending");

    // Event filters leave open/close frames to `kinds`.
    auto const ringing = s.read({.states = {"ringing"}});
    CHECK(call_ids(ringing) == std::vector<std::int64_t>{100, 101, 200});
    CHECK(ringing.size() == 3 + 3);  // 2 opens and 1 close pass

    auto const two_states = s.read({.kinds = {frame_kind::event}, .states = {"connected", "hangup"}});
    CHECK(call_ids(two_states) == std::vector<std::int64_t>{102, 300, 100});
}

TEST_CASE("archive::frame_reader: one call leg, or its whole call graph") {
    sample_archive s;
    auto const leg = s.read({.kinds = {frame_kind::event}, .call_id = 101});
    // Leg 101's own frame, plus frames of legs that name 101 (100's operator).
    CHECK(call_ids(leg) == std::vector<std::int64_t>{100, 101, 100});

    frame_reader graph_reader{s.path, s.session, {.kinds = {frame_kind::event}, .call_id = 102, .whole_call_graph = true}};
    CHECK(graph_reader.call_graph() == std::vector<std::int64_t>{100, 101, 102});
    auto const graph = s.read({.kinds = {frame_kind::event}, .call_id = 102, .whole_call_graph = true});
    CHECK(call_ids(graph) == std::vector<std::int64_t>{100, 101, 102, 100});

    auto const alone = s.read({.kinds = {frame_kind::event}, .call_id = 300, .whole_call_graph = true});
    CHECK(call_ids(alone) == std::vector<std::int64_t>{300});
    CHECK(s.read({.kinds = {frame_kind::event}, .call_id = 999}).empty());
}

TEST_CASE("archive::frame_reader: filters by a time range") {
    sample_archive s;
    auto const window = s.read({.from_offset_ns = 20, .to_offset_ns = 50});
    REQUIRE(window.size() == 3);
    CHECK(window.front().offset_ns == 20);
    CHECK(window.back().offset_ns == 40);
}

TEST_CASE("archive::frame_reader: sees frames committed while it reads") {
    sample_archive s;
    frame_reader reader{s.path, s.session, {}, 4};
    int seen = 0;
    while (reader.next()) ++seen;
    CHECK(seen == 10);
    {
        archive writer{s.path, open_mode::read_write};
        frame_record f;
        f.connection = writer.connections(s.session).front().id;
        f.text = call_event(400, "ringing");
        f.index = harness::model::index_event(f.text);
        writer.add_frame(s.session, f);
    }
    auto const late = reader.next();
    REQUIRE(late.has_value());
    CHECK(late->text == call_event(400, "ringing"));
    CHECK_FALSE(reader.next().has_value());
}

TEST_CASE("archive::frame_reader: an unknown session is an error") {
    sample_archive s;
    CHECK_THROWS_AS(frame_reader(s.path, 999), archive_error);
}
