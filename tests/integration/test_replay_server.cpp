// dialpad-replay serve: pacing on the virtual clock, speed, gaps, loops,
// tokens and the report's digest.
#include "core/archive/archive.hpp"
#include "core/clock/virtual_clock.hpp"
#include "core/jwt/jwt.hpp"
#include "core/replay/frame_transform.hpp"
#include "replayer/replay_server.hpp"
#include "tests/support/archive_samples.hpp"
#include "tests/support/replay_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_test_client.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace harness;
using namespace std::chrono_literals;
using harness::test::running_replay;
using harness::test::temp_dir;
using harness::test::ws_test_client;

namespace {

// Frames at 1 s, 2 s and 5 s after the session started.
std::string make_archive(temp_dir const& dir) {
    auto const path = dir.file("replay.db");
    test::session_builder builder{path};
    auto const connection = builder.open_connection(0);
    int n = 0;
    for (auto const offset_s : {1, 2, 5})
        builder.add_event(connection, offset_s * 1'000'000'000LL, test::call_event(++n, "ringing"));
    return path;
}

}  // namespace

TEST_CASE("replay serve: frames go out at their recorded offsets on the virtual clock") {
    temp_dir dir;
    virtual_clock time;
    running_replay replay{test::replay_options_for(make_archive(dir)), time};
    ws_test_client client{replay.url()};
    CHECK(client.wait_for_messages(1).at(0) == test::call_event(1, "ringing"));  // due at once
    time.advance(1s);
    CHECK(client.wait_for_messages(2).at(1) == test::call_event(2, "ringing"));
    time.advance(2999ms);
    CHECK(client.messages().size() == 2);  // the third is due 4 s after the first
    time.advance(1ms);
    CHECK(client.wait_for_messages(3).at(2) == test::call_event(3, "ringing"));
    CHECK(client.wait_closed().code == 1000);
    CHECK(replay.wait_finished(1));  // the server counts it once it has read the client's close reply
    auto const report = replay.report();
    CHECK(report["clients"][0]["frames"] == 3);
    CHECK(report["clients"][0]["finished"] == true);
    CHECK(report["clients"][0]["lag_ms"]["max"] == 0.0);  // the virtual clock does not move while sending
}

TEST_CASE("replay serve: speed and max-gap shorten the schedule") {
    temp_dir dir;
    virtual_clock time;
    auto options = test::replay_options_for(make_archive(dir));
    options.speed = 2.0;
    options.max_gap = 1s;  // the 3 s gap before the last frame becomes 1 s
    running_replay replay{options, time};
    ws_test_client client{replay.url()};
    client.wait_for_messages(1);
    time.advance(500ms);  // 1 s recorded at double speed
    client.wait_for_messages(2);
    time.advance(499ms);
    CHECK(client.messages().size() == 2);
    time.advance(1ms);  // 1 s (the cut gap) at double speed
    client.wait_for_messages(3);
}

TEST_CASE("replay serve: at max speed every client gets the same sequence, looped; the digests agree") {
    temp_dir dir;
    virtual_clock time;
    auto options = test::replay_options_for(make_archive(dir));
    options.speed.reset();
    options.loops = 2;
    running_replay replay{options, time};
    ws_test_client a{replay.url()};
    ws_test_client b{replay.url("another-token")};
    CHECK(a.wait_for_messages(6).at(3) == test::call_event(1, "ringing"));  // the second loop starts over
    b.wait_for_messages(6);
    a.wait_closed();
    b.wait_closed();
    auto const report = replay.report();
    REQUIRE(report["clients"].size() == 2);
    CHECK(report["clients"][0]["sha256"] == report["clients"][1]["sha256"]);
    CHECK(report["clients"][0]["sha256"].get<std::string>().size() == 64);
    CHECK(report["totals"]["frames"] == 12);
}

TEST_CASE("replay serve: --require-token refuses other tokens") {
    temp_dir dir;
    virtual_clock time;
    auto options = test::replay_options_for(make_archive(dir));
    options.require_token = "right";
    running_replay replay{options, time};
    try {
        ws_test_client wrong{replay.url("wrong")};
        FAIL("a wrong token was served");
    } catch (web::ws_refused const& e) {
        CHECK(e.status() == 401);
    }
    ws_test_client right{replay.url("right")};
    right.wait_for_messages(1);
}

TEST_CASE("replay serve: --rebase-time shifts only the time fields; --sign signs every event") {
    temp_dir dir;
    auto const path = dir.file("times.db");
    {
        archive::archive store{path, archive::open_mode::read_write};
        auto const session = store.create_session(test::sample_session("times"));
        auto connection = test::sample_connection(session, 0);
        connection.id = store.add_connection(connection);
        archive::frame_record frame;
        frame.connection = connection.id;
        frame.kind = archive::frame_kind::event;
        frame.offset_ns = 1'000'000'000;
        frame.wall_ns = 1767225601'000'000'000LL;
        frame.text = R"({"call_id":1,"date_started":1767225600000,"event_timestamp":1767225601000,)"
                     R"("note":"\"date_x\":5 stays","ratio":1.50,"contact":{"created_date":1767225000000}})";
        store.add_frame(session, frame);
    }
    virtual_clock time{0.0, wall_time{std::chrono::milliseconds{1800000000000}}};  // "now"
    auto options = test::replay_options_for(path);
    options.rebase_time = true;
    options.sign_secret = "consumer-secret";
    running_replay replay{options, time};
    ws_test_client client{replay.url()};
    auto const frame = client.wait_for_messages(1).at(0);
    REQUIRE(jwt::verify_hs256(frame, "consumer-secret") == jwt::verdict::valid);
    auto const offset = 1800000000000LL - 1767225601000LL;
    CHECK(jwt::decode(frame)->payload ==
          R"({"call_id":1,"date_started":)" + std::to_string(1767225600000LL + offset) +
              R"(,"event_timestamp":1800000000000,"note":"\"date_x\":5 stays","ratio":1.50,"contact":{"created_date":)" +
              std::to_string(1767225000000LL + offset) + "}}");
}

TEST_CASE("replay serve: frame transforms refuse a JWT they cannot re-sign") {
    auto const token = jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), R"({"event_timestamp":5})", "s");
    CHECK_THROWS_AS(replay::transform_frame(token, 10, std::nullopt), std::invalid_argument);
    auto const resigned = replay::transform_frame(token, 10, std::string{"t"});
    CHECK(jwt::decode(resigned)->payload == R"({"event_timestamp":15})");
    CHECK(replay::transform_frame(R"({"a":1})", std::nullopt, std::nullopt) == R"({"a":1})");
}

TEST_CASE("replay serve: --wait-clients holds everyone until that many are connected") {
    temp_dir dir;
    virtual_clock time;
    auto options = test::replay_options_for(make_archive(dir));
    options.speed.reset();
    options.wait_clients = 2;
    running_replay replay{options, time};
    ws_test_client first{replay.url()};
    CHECK(first.messages().empty());  // alone: held at the gate
    ws_test_client second{replay.url()};
    CHECK(first.wait_for_messages(3).size() == 3);
    CHECK(second.wait_for_messages(3).size() == 3);
    // The close comes after the server has counted its last frame.
    first.wait_closed();
    second.wait_closed();
    auto const report = replay.report();
    CHECK(report["clients"][0]["sha256"] == report["clients"][1]["sha256"]);
}

TEST_CASE("replay serve: clients that come and go leave their report entry behind, the latest ones listed") {
    temp_dir dir;
    virtual_clock time;
    auto options = test::replay_options_for(make_archive(dir));
    options.speed.reset();
    options.report_ended_clients = 3;
    running_replay replay{options, time};
    for (std::size_t i = 1; i <= 5; ++i) {
        ws_test_client client{replay.url()};
        client.wait_for_messages(3);
        CHECK(client.wait_closed().code == 1000);
        REQUIRE(replay.wait_finished(i));
    }
    auto const report = replay.report();
    CHECK(report["totals"]["clients"] == 5);
    CHECK(report["totals"]["finished"] == 5);
    CHECK(report["totals"]["frames"] == 15);
    // Clients 3 to 5, ended, or 2 to 4 ended and 5 still on its way out:
    // in id order, the first never listed.
    auto const& clients = report["clients"];
    REQUIRE(clients.size() >= 3);
    REQUIRE(clients.size() <= 4);
    CHECK(clients.front()["id"].get<int>() >= 2);
    CHECK(clients.back()["id"] == 5);
    for (std::size_t i = 1; i < clients.size(); ++i)
        CHECK(clients[i]["id"].get<int>() == clients[i - 1]["id"].get<int>() + 1);
    for (auto const& client : clients) {
        CHECK(client["frames"] == 3);
        CHECK(client["sha256"] == clients.front()["sha256"]);
    }
}
