// dialpad-mock replaying an archived session: the client's own websocket and
// subscriptions decide what it receives, each websocket's secret signs it,
// and the recorded offsets pace it on the mock's virtual clock.

#include "core/archive/archive.hpp"
#include "core/archive/session_jsonl.hpp"
#include "core/jwt/jwt.hpp"
#include "core/model/event_index.hpp"
#include "core/replay/frame_transform.hpp"
#include "tests/support/archive_samples.hpp"
#include "tests/support/mock_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_test_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <future>
#include <thread>

using harness::test::mock_fixture;
using harness::test::temp_dir;
using harness::test::ws_test_client;
using nlohmann::json;
using namespace std::chrono_literals;
namespace archive = harness::archive;
namespace jwt = harness::jwt;

namespace {

constexpr std::int64_t k_recorded_ms = 1700000000000;  // 2023-11-14: far from the fixture's clock

std::string recorded_call(std::int64_t call_id, std::string const& state, std::int64_t timestamp_ms) {
    return R"({"call_id": )" + std::to_string(call_id) + R"(, "state": ")" + state +
           R"(", "direction": "inbound", "total_duration": 8951.029999999999, "date_started": )" +
           std::to_string(k_recorded_ms) + R"(, "target": {"id": 5100000000000001, "type": "user"}, "event_timestamp": )" +
           std::to_string(timestamp_ms) + "}";
}

std::string recorded_sms(std::int64_t timestamp_ms) {
    return R"({"id":7,"direction":"inbound","from_number":"+14155550142","to_number":["+14155550111"],)"
           R"("message_status":"pending","event_timestamp":)" +
           std::to_string(timestamp_ms) + "}";
}

std::string signed_as_recorded(std::string const& event) {
    return jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), event, "the-recorded-secret");
}

// What the session holds, by offset: the call events the client subscribes
// to, an sms event it does not, and one control frame that is not an event.
struct recorded_session {
    std::string path;
    std::vector<std::string> calls;  // the events, as the JSON a client should see
    std::string sms;
};

recorded_session make_archive(temp_dir const& dir, std::string const& file = "session.db") {
    recorded_session r;
    r.path = dir.file(file);
    r.calls = {recorded_call(101, "ringing", k_recorded_ms + 1000), recorded_call(101, "connected", k_recorded_ms + 3000),
               recorded_call(101, "hangup", k_recorded_ms + 5000)};
    r.sms = recorded_sms(k_recorded_ms + 2000);
    archive::archive store{r.path, archive::open_mode::read_write};
    auto const session = store.create_session(harness::test::sample_session("production-morning"));
    auto connection = harness::test::sample_connection(session, 0);
    connection.id = store.add_connection(connection);
    auto add = [&](std::int64_t offset_ms, archive::frame_kind kind, std::string text) {
        archive::frame_record frame;
        frame.connection = connection.id;
        frame.kind = kind;
        frame.offset_ns = offset_ms * 1'000'000;
        frame.wall_ns = k_recorded_ms * 1'000'000 + frame.offset_ns;
        frame.text = std::move(text);
        if (kind == archive::frame_kind::event) frame.index = harness::model::index_event(frame.text);
        store.add_frame(session, frame);
    };
    // Offsets 1 s, 2 s, 3 s and 5 s; production signed two of them with a
    // secret the replay never learns.
    add(1000, archive::frame_kind::event, r.calls[0]);
    add(1500, archive::frame_kind::control, "not an event");
    add(2000, archive::frame_kind::event, signed_as_recorded(r.sms));
    add(3000, archive::frame_kind::event, signed_as_recorded(r.calls[1]));
    add(5000, archive::frame_kind::event, r.calls[2]);
    return r;
}

struct websocket_setup {
    std::string id;
    std::string url;
};

// The client's real set-up flow: a websocket with a secret and a call
// subscription, created over REST, then connected.
websocket_setup set_up_client(mock_fixture& mock, std::string const& secret) {
    auto const ws = mock.call_json("POST", "/api/v2/websockets", "key-a", json{{"secret", secret}}.dump());
    websocket_setup setup{ws["id"].get<std::string>(), ws["websocket_url"].get<std::string>()};
    mock.call_json("POST", "/api/v2/subscriptions/call", "key-a",
                   json{{"endpoint_id", std::stoll(setup.id)}, {"call_states", {"all"}}}.dump());
    return setup;
}

json start_replay(mock_fixture& mock, json const& body) {
    return mock.call_json("POST", "/__admin/replay", "", body.dump(), 201);
}

json replay_status(mock_fixture& mock, json const& id) {
    return mock.call_json("GET", "/__admin/replay/" + id.dump(), "");
}

// Round trips until the replay reaches `state` (bounded: fails rather than hangs).
json wait_for_state(mock_fixture& mock, json const& id, std::string const& state) {
    json status;
    for (int attempt = 0; attempt < 500; ++attempt) {
        status = replay_status(mock, id);
        if (status["state"] == state) break;
        std::this_thread::yield();
    }
    CHECK(status["state"] == state);
    return status;
}

// The event a frame carries, if the frame is an HS256 JWT signed with `secret`.
std::optional<std::string> payload_signed_with(std::string const& frame, std::string const& secret) {
    if (jwt::verify_hs256(frame, secret) != jwt::verdict::valid) return std::nullopt;
    return jwt::decode(frame)->payload;
}

}  // namespace

TEST_CASE("mock replay: the client's subscriptions pick the events, its secret signs them, offsets pace them") {
    temp_dir dir;
    auto const recorded = make_archive(dir);
    mock_fixture mock;
    auto const ws = set_up_client(mock, "client-secret");
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");  // a round trip: the connection is registered

    auto const started = start_replay(mock, {{"archive", recorded.path}});
    CHECK(started["events"] == 4);  // the control frame is not an event
    CHECK(started["session"] == 1);
    CHECK(started["session_name"] == "production-morning");
    auto const id = started["id"];

    // The first event is due at once: offsets count from it.
    auto const first = client.wait_for_messages(1).at(0);
    CHECK(payload_signed_with(first, "client-secret") == recorded.calls[0]);
    CHECK_FALSE(payload_signed_with(first, "the-recorded-secret").has_value());

    // The next call event was recorded 2 s after the first.
    mock.clock().advance(1999ms);
    CHECK(replay_status(mock, id)["state"] == "running");
    CHECK(client.messages().size() == 1);
    mock.clock().advance(1ms);
    auto const second = client.wait_for_messages(2).at(1);
    CHECK(payload_signed_with(second, "client-secret") == recorded.calls[1]);  // recorded signed: re-signed

    mock.clock().advance(1999ms);
    mock.call("GET", "/__admin/health", "");
    CHECK(client.messages().size() == 2);
    mock.clock().advance(1ms);
    auto const got = client.wait_for_messages(3);
    CHECK(payload_signed_with(got.at(2), "client-secret") == recorded.calls[2]);

    auto const done = wait_for_state(mock, id, "finished");
    CHECK(done["played"] == 3);
    CHECK(done["delivered"] == 3);
    CHECK(done["skipped"] == 1);
    CHECK(done["skipped_by_family"] == json{{"sms", 1}});
    CHECK(done["errors"] == 0);
    CHECK(client.messages().size() == 3);  // the sms event never went out
    auto const listed = mock.call_json("GET", "/__admin/replay", "")["replays"];
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["id"] == id);
}

TEST_CASE("mock replay: speed divides the offsets; max-gap cuts idle stretches") {
    temp_dir dir;
    auto const recorded = make_archive(dir);
    mock_fixture mock;
    auto const ws = set_up_client(mock, "s");
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");

    SUBCASE("speed 10") {
        start_replay(mock, {{"archive", recorded.path}, {"speed", 10}});
        client.wait_for_messages(1);
        mock.clock().advance(199ms);
        mock.call("GET", "/__admin/health", "");
        CHECK(client.messages().size() == 1);
        mock.clock().advance(1ms);  // 2 s recorded, at ten times the speed
        client.wait_for_messages(2);
        mock.clock().advance(200ms);
        client.wait_for_messages(3);
    }
    SUBCASE("max_gap") {
        start_replay(mock, {{"archive", recorded.path}, {"max_gap", "500ms"}});
        client.wait_for_messages(1);
        // Gaps of 1 s each (1 s -> 2 s -> 3 s) become 500 ms: the second call is due at 1 s.
        mock.clock().advance(999ms);
        mock.call("GET", "/__admin/health", "");
        CHECK(client.messages().size() == 1);
        mock.clock().advance(1ms);
        client.wait_for_messages(2);
        mock.clock().advance(500ms);  // the 2 s gap before the last one, cut to 500 ms
        client.wait_for_messages(3);
    }
    SUBCASE("max: no waiting on the clock at all") {
        auto const started = start_replay(mock, {{"archive", recorded.path}, {"speed", "max"}});
        CHECK(started["speed"] == "max");
        auto const got = client.wait_for_messages(3);
        for (std::size_t i = 0; i < 3; ++i) CHECK(payload_signed_with(got[i], "s") == recorded.calls[i]);
        wait_for_state(mock, started["id"], "finished");
    }
}

TEST_CASE("mock replay: rebase_time makes the first event read the mock's now, the rest keep their spacing") {
    temp_dir dir;
    auto const recorded = make_archive(dir);
    mock_fixture mock;
    auto const ws = set_up_client(mock, "s");
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");
    start_replay(mock, {{"archive", recorded.path}, {"speed", "max"}, {"rebase_time", true}});
    auto const got = client.wait_for_messages(3);
    auto const now_ms = harness::test::k_fixture_start_unix_seconds * 1000;
    auto const shift = now_ms - (k_recorded_ms + 1000);
    for (std::size_t i = 0; i < 3; ++i)
        CHECK(payload_signed_with(got[i], "s") == harness::replay::rebase_times(recorded.calls[i], shift));
    CHECK(json::parse(*payload_signed_with(got[0], "s"))["event_timestamp"] == now_ms);
}

TEST_CASE("mock replay: a JSON Lines export is replayed like its archive; sessions by id or name") {
    temp_dir dir;
    auto const recorded = make_archive(dir);
    {
        archive::archive store{recorded.path, archive::open_mode::read_write};
        auto other = harness::test::sample_session("empty-evening");
        store.create_session(other);
        std::ofstream out{dir.file("morning.jsonl"), std::ios::binary};
        archive::export_session(store, 1, out);
    }
    mock_fixture mock;
    auto const ws = set_up_client(mock, "s");
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");

    CHECK(start_replay(mock, {{"archive", recorded.path}})["session_name"] == "empty-evening");  // the latest
    CHECK(start_replay(mock, {{"archive", recorded.path}, {"session", "empty-evening"}})["events"] == 0);
    auto const by_id = start_replay(mock, {{"archive", recorded.path}, {"session", 1}, {"speed", "max"}});
    CHECK(by_id["events"] == 4);
    client.wait_for_messages(3);
    auto const from_jsonl = start_replay(mock, {{"archive", dir.file("morning.jsonl")}, {"speed", "max"}});
    CHECK(from_jsonl["session_name"] == "production-morning");
    CHECK(from_jsonl["events"] == 4);
    auto const got = client.wait_for_messages(6);
    for (std::size_t i = 0; i < 3; ++i) CHECK(payload_signed_with(got[3 + i], "s") == recorded.calls[i]);
}

TEST_CASE("mock replay: a cancelled replay sends nothing more; reset cancels and forgets every replay") {
    temp_dir dir;
    auto const recorded = make_archive(dir);
    mock_fixture mock;
    auto const ws = set_up_client(mock, "s");
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");

    auto const first = start_replay(mock, {{"archive", recorded.path}});
    auto const second = start_replay(mock, {{"archive", recorded.path}, {"speed", 2}});
    client.wait_for_messages(2);  // each one's first event
    auto const cancelled = mock.call_json("DELETE", "/__admin/replay/" + first["id"].dump(), "");
    CHECK(cancelled["state"] == "cancelled");
    // The second's calls are due at 1 s and 2 s; the first's next one was due at 2 s.
    mock.clock().advance(1s);
    CHECK(payload_signed_with(client.wait_for_messages(3).at(2), "s") == recorded.calls[1]);
    mock.clock().advance(1s);
    CHECK(payload_signed_with(client.wait_for_messages(4).at(3), "s") == recorded.calls[2]);
    wait_for_state(mock, second["id"], "finished");
    CHECK(client.messages().size() == 4);
    auto const after = replay_status(mock, first["id"]);
    CHECK(after["state"] == "cancelled");
    CHECK(after["played"] == 1);

    auto const running = start_replay(mock, {{"archive", recorded.path}});
    CHECK(mock.call_json("GET", "/__admin/replay", "")["replays"].size() == 3);
    mock.call_json("POST", "/__admin/reset", "");
    CHECK(mock.call_json("GET", "/__admin/replay", "")["replays"].empty());
    mock.call_json("GET", "/__admin/replay/" + running["id"].dump(), "", "", 404);
    // Ids keep counting after a reset.
    auto const next = start_replay(mock, {{"archive", recorded.path}});
    CHECK(next["id"].get<int>() > running["id"].get<int>());
}

TEST_CASE("mock replay: bad requests get one clear 4xx, never a start") {
    temp_dir dir;
    auto const recorded = make_archive(dir);
    {
        std::ofstream text{dir.file("notes.txt")};
        text << "this is not an archive\n";
        std::ofstream broken{dir.file("broken.jsonl")};
        broken << "{\"not\":\"a session header\"}\n";
    }
    mock_fixture mock;
    auto refused = [&](json const& body, int status) {
        auto const answer = mock.call_json("POST", "/__admin/replay", "", body.dump(), status);
        auto const message = answer["error"]["message"].get<std::string>();
        CHECK_FALSE(message.empty());
        CHECK(message.find('\n') == std::string::npos);
        return message;
    };
    CHECK(refused(json::object(), 400).find("archive") != std::string::npos);
    CHECK(refused({{"archive", dir.file("missing.db")}}, 400).find("no such file") != std::string::npos);
    refused({{"archive", dir.path().string()}}, 400);
    refused({{"archive", dir.file("notes.txt")}}, 400);
    refused({{"archive", dir.file("broken.jsonl")}}, 400);
    CHECK(refused({{"archive", recorded.path}, {"session", "no-such-session"}}, 404).find("no-such-session") !=
          std::string::npos);
    refused({{"archive", recorded.path}, {"session", 99}}, 404);
    refused({{"archive", recorded.path}, {"session", true}}, 400);
    for (auto const& speed : {json(0), json(-1), json("fast"), json("0"), json(nullptr)})
        refused({{"archive", recorded.path}, {"speed", speed}}, 400);
    refused({{"archive", recorded.path}, {"rebase_time", "yes"}}, 400);
    refused({{"archive", recorded.path}, {"max_gap", "soon"}}, 400);
    refused({{"archive", recorded.path}, {"max_gap", 5}}, 400);
    CHECK(mock.call("POST", "/__admin/replay", "", "[1,2]").status == 400);
    CHECK(mock.call("PUT", "/__admin/replay", "").status == 405);
    CHECK(mock.call("GET", "/__admin/replay/7", "").status == 404);
    CHECK(mock.call("GET", "/__admin/replay/abc", "").status == 404);
    CHECK(mock.call("DELETE", "/__admin/replay/7", "").status == 404);
    CHECK(mock.call_json("GET", "/__admin/replay", "")["replays"].empty());
}

namespace {

// dialpad-mock in-process as main.cpp wires `--replay`: the replay is set up
// before the port is bound and starts with the first event connection.
class mock_with_replay {
public:
    mock_with_replay(harness::mock::replay_source source, harness::mock::replay_pacing pacing)
        : clock_{0.0, harness::wall_time{std::chrono::seconds{harness::test::k_fixture_start_unix_seconds}}},
          server_{ioc_.get_executor(), mock_fixture::default_options(), clock_, &clock_} {
        server_.replay_on_first_connection(std::move(source), pacing);
        endpoints_ = server_.start();
        thread_ = std::thread{[this] { ioc_.run(); }};
    }
    ~mock_with_replay() {
        std::promise<void> stopped;
        boost::asio::post(ioc_, [&] {
            server_.stop();
            stopped.set_value();
        });
        stopped.get_future().wait();
        thread_.join();
    }
    json call(std::string const& method, std::string const& path, json const& body = nullptr) const {
        harness::web::header_map headers{{"Authorization", "Bearer key-a"}, {"Content-Type", "application/json"}};
        auto const response =
            harness::web::fetch(method, endpoints_.http + path, headers, body.is_null() ? "" : body.dump());
        REQUIRE(response.status < 300);
        return json::parse(response.body);
    }
    harness::virtual_clock& clock() { return clock_; }

private:
    harness::virtual_clock clock_;
    boost::asio::io_context ioc_{1};
    harness::mock::mock_server server_;
    harness::mock::mock_endpoints endpoints_;
    std::thread thread_;
};

}  // namespace

TEST_CASE("mock replay: --replay waits for the first event connection, after the client subscribed") {
    temp_dir dir;
    auto const recorded = make_archive(dir);
    mock_with_replay mock{harness::mock::open_replay_source(recorded.path, "production-morning"), {}};
    auto const ws = mock.call("POST", "/api/v2/websockets", {{"secret", "late"}});
    mock.call("POST", "/api/v2/subscriptions/call",
              {{"endpoint_id", std::stoll(ws["id"].get<std::string>())}, {"call_states", {"all"}}});
    mock.clock().advance(10min);  // nothing plays while no one is connected (the token lasts an hour)
    CHECK(mock.call("GET", "/__admin/replay")["replays"].empty());

    ws_test_client client{ws["websocket_url"].get<std::string>()};
    CHECK(payload_signed_with(client.wait_for_messages(1).at(0), "late") == recorded.calls[0]);
    mock.clock().advance(4s);
    auto const got = client.wait_for_messages(3);
    CHECK(payload_signed_with(got[2], "late") == recorded.calls[2]);
    ws_test_client second{ws["websocket_url"].get<std::string>()};  // a later connection starts nothing new
    mock.call("GET", "/api/v2/websockets");
    CHECK(mock.call("GET", "/__admin/replay")["replays"].size() == 1);
    CHECK_THROWS_AS(harness::mock::open_replay_source(recorded.path, "nope"), harness::mock::replay_error);
}

TEST_CASE("mock replay: a fixture is played by name; a name never reaches outside the fixtures folder") {
    auto options = mock_fixture::default_options();
    options.fixtures_dir = HARNESS_FIXTURES_DIR;
    mock_fixture mock{options};
    auto const listed = mock.call_json("GET", "/__admin/fixtures", "");
    CHECK(listed["folder"] == HARNESS_FIXTURES_DIR);
    std::map<std::string, std::int64_t> events_by_name;
    for (auto const& f : listed["fixtures"]) events_by_name[f["name"].get<std::string>()] = f["events"].get<std::int64_t>();
    CHECK(events_by_name.size() >= 10);
    REQUIRE(events_by_name.contains("inbound_call_answered"));

    // The fixture's event frames, in order, as the client should see them.
    std::vector<std::string> expected;
    std::ifstream file{std::string{HARNESS_FIXTURES_DIR} + "/inbound_call_answered.jsonl"};
    for (std::string line; std::getline(file, line);) {
        auto const frame = json::parse(line);
        if (frame.value("kind", "") == "event") expected.push_back(frame["text"].get<std::string>());
    }
    CHECK(static_cast<std::int64_t>(expected.size()) == events_by_name["inbound_call_answered"]);

    auto const ws = set_up_client(mock, "client-secret");
    ws_test_client client{ws.url};
    mock.call("GET", "/api/v2/websockets");  // a round trip: the connection is registered
    auto const started = start_replay(mock, {{"fixture", "inbound_call_answered"}, {"speed", "max"}});
    CHECK(started["session_name"] == "inbound_call_answered");
    auto const got = client.wait_for_messages(expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(payload_signed_with(got.at(i), "client-secret") == expected[i]);
    CHECK(wait_for_state(mock, started["id"], "finished")["delivered"] == expected.size());

    auto refused = [&](json const& body, int status) {
        auto const answer = mock.call_json("POST", "/__admin/replay", "", body.dump(), status);
        return answer["error"]["message"].get<std::string>();
    };
    CHECK(refused({{"fixture", "no_such_fixture"}}, 404).find("GET /__admin/fixtures") != std::string::npos);
    refused({{"fixture", "../fixtures/busy_hour"}}, 404);
    refused({{"fixture", "/etc/passwd"}}, 404);
    refused({{"fixture", 7}}, 400);
    refused({{"fixture", "busy_hour"}, {"archive", "busy_hour.db"}}, 400);
    CHECK(mock.call("POST", "/__admin/fixtures", "", "{}").status == 405);

    mock_fixture without;  // no folder: nothing is offered
    CHECK(without.call_json("GET", "/__admin/fixtures", "")["fixtures"].empty());
    without.call_json("POST", "/__admin/replay", "", json{{"fixture", "busy_hour"}}.dump(), 404);
}
