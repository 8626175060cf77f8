// dialpad-record's engine against dialpad-mock in-process, both on the
// fixture's virtual clock: an hour passes when the test says so.
#include "core/archive/archive.hpp"
#include "core/archive/frame_reader.hpp"
#include "core/jwt/jwt.hpp"
#include "core/redact/redactor.hpp"
#include "recorder/recorder.hpp"
#include "tests/support/mock_fixture.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

using namespace harness;
using namespace std::chrono_literals;
using harness::test::mock_fixture;
using harness::test::temp_dir;

namespace {

constexpr char const* k_secret = "recorder-test-secret";

// The recorder on its own thread; stop() ends it and returns its exit code.
class running_recorder {
public:
    running_recorder(recorder::recorder_config config, harness::clock& time) : rec_{ioc_.get_executor(), std::move(config), time} {
        std::promise<void> live;
        live_ = live.get_future();
        rec_.on_live([p = std::make_shared<std::promise<void>>(std::move(live))] { p->set_value(); });
        boost::asio::co_spawn(ioc_, rec_.run(), [this](std::exception_ptr error, int code) {
            error_ = error;
            done_.set_value(code);
        });
        thread_ = std::thread{[this] { ioc_.run(); }};
    }
    ~running_recorder() {
        if (thread_.joinable()) {
            boost::asio::post(ioc_, [this] { rec_.stop(); });
            thread_.join();
        }
    }
    bool wait_live() { return live_.wait_for(10s) == std::future_status::ready; }
    // Runs to its own end (a permanent failure) within `limit`.
    std::optional<int> wait_exit(std::chrono::seconds limit) {
        auto future = done_.get_future();
        if (future.wait_for(limit) != std::future_status::ready) return std::nullopt;
        thread_.join();
        if (error_) std::rethrow_exception(error_);
        return future.get();
    }
    int stop() {
        boost::asio::post(ioc_, [this] { rec_.stop(); });
        auto code = wait_exit(20s);
        REQUIRE(code.has_value());
        return *code;
    }
    recorder::recorder_stats stats() const { return rec_.stats(); }
    // Waits (bounded) until the recorder's counters satisfy `condition`.
    template <class Condition>
    bool wait_stats(Condition condition) const {
        auto const deadline = std::chrono::steady_clock::now() + 10s;
        while (!condition(rec_.stats())) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::yield();
        }
        return true;
    }
    // Waits until the recorder has opened `total` connections in all. The
    // mock lists a connection before the recorder's side of the upgrade has
    // finished, and the recorder times the overlap and the next refresh from
    // its own moment of opening: a test that moves the clock in between
    // moves those deadlines with it.
    bool wait_opened(std::uint64_t total) const {
        return wait_stats([total](recorder::recorder_stats const& s) { return s.connections >= total; });
    }
    // Waits until the recorder has taken `total` frames for the archive.
    bool wait_stored(std::uint64_t total) const {
        return wait_stats([total](recorder::recorder_stats const& s) { return s.frames >= total; });
    }
    // Waits until the recorder has read `total` connections to their end. The
    // mock forgets a connection it cut before the recorder has read the end:
    // a clock moved in between could retire the dead connection first.
    bool wait_ended(std::uint64_t total) const {
        return wait_stats([total](recorder::recorder_stats const& s) { return s.connections_ended >= total; });
    }

private:
    boost::asio::io_context ioc_{1};
    recorder::recorder rec_;
    std::future<void> live_;
    std::promise<int> done_;
    std::exception_ptr error_;
    std::thread thread_;
};

recorder::recorder_config config_for(mock_fixture& mock, std::string const& archive_path) {
    recorder::recorder_config c;
    c.archive_path = archive_path;
    c.session_name = "closed-loop";
    c.api_base = mock.endpoints().http;
    c.api_key = "key-a";
    c.mode = recorder::source_mode::create;
    c.secret = k_secret;
    c.subscriptions = {recorder::parse_subscription_spec("call:all")};
    c.refresh_lead = 120s;
    c.overlap = 20s;
    c.backoff_first = 20ms;
    c.backoff_cap = 200ms;
    c.durability_window = 0ms;
    return c;
}

std::string call_event(int n, char const* state) {
    nlohmann::ordered_json e;
    e["call_id"] = 5823519046647808 + n;
    e["state"] = state;
    e["direction"] = "inbound";
    e["external_number"] = "+14155550142";
    e["target"] = {{"id", 5100000000000001}, {"type", "user"}};
    e["event_timestamp"] = 1767225601250 + n;
    return e.dump();
}

// Injects one event and returns how many connections it was queued for.
std::size_t inject(mock_fixture& mock, std::string const& event) {
    nlohmann::json body{{"type", "call"}, {"raw", event}};
    return mock.call_json("POST", "/__admin/events", "", body.dump())["delivered"].size();
}

std::size_t open_connections(mock_fixture& mock) {
    return mock.call_json("GET", "/__admin/connections", "")["connections"].size();
}

// Polls the mock until `n` connections are open (the recorder acts on its own thread).
bool wait_connections(mock_fixture& mock, std::size_t n) {
    auto const deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (open_connections(mock) == n) return true;
        std::this_thread::yield();
    }
    return false;
}

std::vector<archive::frame_record> stored_frames(std::string const& path, archive::frame_kind kind) {
    archive::archive store{path, archive::open_mode::read_only};
    auto const session = store.resolve_session("");
    archive::frame_reader reader{path, session.id, archive::frame_filter{.kinds = {kind}}};
    std::vector<archive::frame_record> frames;
    while (auto f = reader.next()) frames.push_back(std::move(*f));
    return frames;
}

std::string signed_frame(std::string const& event) {
    return jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), event, k_secret);
}

void closed_loop(mock::hour_cut_style style) {
    auto options = mock_fixture::default_options();
    options.feed.hour_cut = style;
    mock_fixture mock{options};
    temp_dir dir;
    auto config = config_for(mock, dir.file("loop.db"));
    // The old connection outlives the refresh lead: each one ends at the mock's hour cut.
    config.overlap = 10min;
    running_recorder rec{config, mock.clock()};
    REQUIRE(rec.wait_live());
    REQUIRE(wait_connections(mock, 1));

    std::vector<std::string> expected;
    int n = 0;
    for (int cut = 0; cut < 3; ++cut) {
        for (int i = 0; i < 5; ++i) {
            expected.push_back(call_event(++n, "ringing"));
            CHECK(inject(mock, expected.back()) == 1);
        }
        // Past the newest connection's refresh point (an hour less the lead,
        // from when it opened): the recorder GETs a fresh URL and connects.
        mock.clock().advance(std::chrono::seconds{cut == 0 ? 3600 - 120 + 1 : 3600 - 120 + 1 - 120});
        REQUIRE(wait_connections(mock, 2));
        REQUIRE(rec.wait_opened(cut + 2));
        for (int i = 0; i < 5; ++i) {  // delivered on both: stored once
            expected.push_back(call_event(++n, "connected"));
            CHECK(inject(mock, expected.back()) == 2);
        }
        // The hour cut ends the old connection.
        mock.clock().advance(std::chrono::seconds{120});
        REQUIRE(wait_connections(mock, 1));
        REQUIRE(rec.wait_ended(cut + 1));
    }
    expected.push_back(call_event(++n, "hangup"));
    CHECK(inject(mock, expected.back()) == 1);
    // Everything injected reached the recorder's socket before it stops.
    CHECK(rec.wait_stored(expected.size()));
    CHECK(rec.stop() == 0);

    auto const frames = stored_frames(dir.file("loop.db"), archive::frame_kind::event);
    REQUIRE(frames.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(frames[i].text == signed_frame(expected[i]));
    CHECK(rec.stats().copies_dropped == 15);

    archive::archive store{dir.file("loop.db"), archive::open_mode::read_only};
    auto const session = store.resolve_session("");
    auto const connections = store.connections(session.id);
    CHECK(connections.size() == 4);
    for (std::size_t i = 0; i + 1 < connections.size(); ++i) {
        CHECK(connections[i].ended_by == archive::end_reason::hour_cut);
        CHECK(connections[i].abrupt == (style == mock::hour_cut_style::abrupt));
        CHECK(connections[i].url.ends_with("/events/<token>"));
    }
    CHECK(store.gaps(session.id).empty());
    CHECK(session.ended_wall_ns.has_value());

    // Each refresh was a GET of the websocket, never a second POST.
    auto const requests = mock.call_json("GET", "/__admin/requests", "")["requests"];
    int posts = 0, gets = 0;
    for (auto const& r : requests) {
        auto const path = r["path"].get<std::string>();
        if (path == "/api/v2/websockets" && r["method"] == "POST") ++posts;
        if (path.starts_with("/api/v2/websockets/") && r["method"] == "GET") ++gets;
    }
    CHECK(posts == 1);
    CHECK(gets == 4);  // one per connection
}

}  // namespace

TEST_CASE("recorder: closed loop across three abrupt hour cuts, overlaps stored once") {
    closed_loop(mock::hour_cut_style::abrupt);
}

TEST_CASE("recorder: closed loop across three close-frame hour cuts") {
    closed_loop(mock::hour_cut_style::close_frame);
}

TEST_CASE("recorder: a refresh closes the old connection after the overlap, with no gap") {
    mock_fixture mock;
    temp_dir dir;
    running_recorder rec{config_for(mock, dir.file("refresh.db")), mock.clock()};
    REQUIRE(rec.wait_live());
    REQUIRE(wait_connections(mock, 1));
    CHECK(inject(mock, call_event(1, "ringing")) == 1);
    mock.clock().advance(std::chrono::seconds{3600 - 120 + 1});
    REQUIRE(wait_connections(mock, 2));
    REQUIRE(rec.wait_opened(2));
    CHECK(inject(mock, call_event(2, "ringing")) == 2);
    mock.clock().advance(std::chrono::seconds{21});  // past the 20 s overlap: the recorder closes the old one
    REQUIRE(wait_connections(mock, 1));
    CHECK(inject(mock, call_event(3, "ringing")) == 1);
    CHECK(rec.wait_stored(3));
    CHECK(rec.stop() == 0);

    auto const frames = stored_frames(dir.file("refresh.db"), archive::frame_kind::event);
    REQUIRE(frames.size() == 3);
    CHECK(frames[1].text == signed_frame(call_event(2, "ringing")));
    archive::archive store{dir.file("refresh.db"), archive::open_mode::read_only};
    auto const session = store.resolve_session("");
    auto const connections = store.connections(session.id);
    REQUIRE(connections.size() == 2);
    CHECK(connections[0].ended_by == archive::end_reason::token_refresh);
    CHECK(connections[0].close_code == 1000);
    CHECK(connections[1].ended_by == archive::end_reason::stop);
    CHECK(connections[1].close_code == 1000);
    CHECK_FALSE(connections[1].abrupt);
    CHECK(store.gaps(session.id).empty());
}

TEST_CASE("recorder: a dropped connection is a gap with its bounds, then it reconnects") {
    mock_fixture mock;
    temp_dir dir;
    running_recorder rec{config_for(mock, dir.file("drop.db")), mock.clock()};
    REQUIRE(rec.wait_live());
    REQUIRE(wait_connections(mock, 1));
    CHECK(inject(mock, call_event(1, "ringing")) == 1);
    auto const id = mock.call_json("GET", "/__admin/connections", "")["connections"][0]["id"].get<std::uint64_t>();
    // The next two upgrades are refused: the recorder backs off and tries again.
    mock.call_json("POST", "/__admin/faults", "", R"({"reject_upgrades":2,"reject_status":503})");
    mock.call_json("POST", "/__admin/connections/" + std::to_string(id) + "/close", "", R"({"abrupt":true})");
    // The recorder's own counts, not the mock's list: the list is empty only
    // for the two refusals' short backoff, which a poll can miss.
    REQUIRE(rec.wait_ended(1));
    REQUIRE(rec.wait_opened(2));  // after two refusals
    REQUIRE(wait_connections(mock, 1));
    CHECK(inject(mock, call_event(2, "ringing")) == 1);
    CHECK(rec.wait_stored(2));
    CHECK(rec.stop() == 0);

    archive::archive store{dir.file("drop.db"), archive::open_mode::read_only};
    auto const session = store.resolve_session("");
    auto const connections = store.connections(session.id);
    REQUIRE(connections.size() == 2);
    CHECK(connections[0].abrupt);
    CHECK(connections[0].ended_by == archive::end_reason::error);
    auto const gaps = store.gaps(session.id);
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0].start_offset_ns == *connections[0].closed_offset_ns);
    REQUIRE(gaps[0].end_offset_ns.has_value());
    CHECK(*gaps[0].end_offset_ns == connections[1].opened_offset_ns);
    CHECK(stored_frames(dir.file("drop.db"), archive::frame_kind::event).size() == 2);
    // Three GETs of the websocket: the first connection, then one per attempt.
    auto const requests = mock.call_json("GET", "/__admin/requests", "")["requests"];
    int gets = 0;
    for (auto const& r : requests)
        if (r["path"].get<std::string>().starts_with("/api/v2/websockets/") && r["method"] == "GET") ++gets;
    CHECK(gets == 4);
}

TEST_CASE("recorder: --redact keeps personal data off the disk, consistently") {
    mock_fixture mock;
    temp_dir dir;
    auto config = config_for(mock, dir.file("redact.db"));
    config.redactor = std::make_shared<redact::redactor const>(redact::redactor::with_random_key({}));
    running_recorder rec{config, mock.clock()};
    REQUIRE(rec.wait_live());
    REQUIRE(wait_connections(mock, 1));
    CHECK(inject(mock, call_event(1, "ringing")) == 1);
    CHECK(inject(mock, call_event(2, "hangup")) == 1);
    CHECK(rec.wait_stored(2));
    CHECK(rec.stop() == 0);

    auto const frames = stored_frames(dir.file("redact.db"), archive::frame_kind::event);
    REQUIRE(frames.size() == 2);
    std::vector<std::string> numbers;
    for (auto const& f : frames) {
        CHECK(jwt::verify_hs256(f.text, k_secret) == jwt::verdict::valid);  // re-signed with the websocket's secret
        auto const payload = nlohmann::json::parse(jwt::decode(f.text)->payload);
        CHECK(payload["call_id"] == 5823519046647808 + static_cast<std::int64_t>(numbers.size()) + 1);
        numbers.push_back(payload["external_number"].get<std::string>());
    }
    CHECK(numbers[0] != "+14155550142");
    CHECK(numbers[0] == numbers[1]);  // the same number, the same stand-in
    CHECK(numbers[0].size() == std::string{"+14155550142"}.size());
    // Nothing of the original in the file.
    std::ifstream in{dir.file("redact.db"), std::ios::binary};
    std::string const bytes{std::istreambuf_iterator<char>{in}, {}};
    CHECK(bytes.find("4155550142") == std::string::npos);
}

TEST_CASE("recorder: reading pauses while the archive is behind, and nothing is lost") {
    mock_fixture mock;
    temp_dir dir;
    auto config = config_for(mock, dir.file("pause.db"));
    config.durability_window = 20ms;
    config.max_backlog_bytes = 1;  // every frame waits for its commit
    running_recorder rec{config, mock.clock()};
    REQUIRE(rec.wait_live());
    REQUIRE(wait_connections(mock, 1));
    nlohmann::json batch{{"events", nlohmann::json::array()}};
    std::vector<std::string> expected;
    for (int i = 0; i < 30; ++i) {
        expected.push_back(call_event(i + 1, "ringing"));
        batch["events"].push_back({{"type", "call"}, {"raw", expected.back()}});
    }
    CHECK(mock.call_json("POST", "/__admin/events", "", batch.dump())["deliveries"] == 30);
    CHECK(rec.wait_stored(30));
    auto const stats = rec.stats();
    CHECK(rec.stop() == 0);
    CHECK(stats.disk_waits > 0);
    auto const frames = stored_frames(dir.file("pause.db"), archive::frame_kind::event);
    REQUIRE(frames.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(frames[i].text == signed_frame(expected[i]));
}
