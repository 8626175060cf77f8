// dialpad-replay's archive commands on real archive files.
#include "core/archive/archive.hpp"
#include "core/archive/frame_reader.hpp"
#include "core/jwt/jwt.hpp"
#include "replayer/archive_tool.hpp"
#include "tests/support/archive_samples.hpp"
#include "tests/support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace harness;
using harness::test::temp_dir;

namespace {

constexpr char const* k_secret = "tool-secret";

// An archive with one session: a connection, three call events (one signed
// when `signed_frames`), a gap.
std::string make_archive(temp_dir const& dir, std::string const& name, bool signed_frames = false) {
    auto const path = dir.file(name);
    archive::archive store{path, archive::open_mode::read_write};
    auto const session = store.create_session(test::sample_session("morning"));
    auto connection = test::sample_connection(session, 0);
    connection.id = store.add_connection(connection);
    for (int i = 0; i < 3; ++i) {
        archive::frame_record frame;
        frame.connection = connection.id;
        frame.kind = archive::frame_kind::event;
        frame.offset_ns = (i + 1) * 1'000'000'000LL;
        frame.wall_ns = 1767225600'000'000'000LL + frame.offset_ns;
        auto event = nlohmann::ordered_json::parse(test::call_event(100 + i, i == 2 ? "hangup" : "ringing"));
        event["external_number"] = "+14155550142";
        frame.text = signed_frames ? jwt::sign_hs256(jwt::make_header(jwt::algorithm::hs256), event.dump(), k_secret)
                                   : event.dump();
        store.add_frame(session, frame);
    }
    store.add_gap(session, archive::gap_info{5'000'000'000LL, 6'000'000'000LL, "connection lost"});
    return path;
}

std::vector<std::string> frame_texts(std::string const& path) {
    archive::archive store{path, archive::open_mode::read_only};
    archive::frame_reader reader{path, store.resolve_session("").id};
    std::vector<std::string> texts;
    while (auto f = reader.next()) texts.push_back(f->text);
    return texts;
}

}  // namespace

TEST_CASE("archive tool: list and show describe the sessions") {
    temp_dir dir;
    auto const path = make_archive(dir, "a.db");
    std::ostringstream list;
    replayer::list_sessions(path, list);
    CHECK(list.str().find("morning") != std::string::npos);
    CHECK(list.str().find("\t3\t1\t1\n") != std::string::npos);  // frames, connections, gaps

    std::ostringstream show;
    replayer::show_session(path, "morning", show);
    CHECK(show.str().find("call 3: hangup 1 ringing 2") != std::string::npos);
    CHECK(show.str().find("5.000s .. 6.000s  connection lost") != std::string::npos);
    CHECK_THROWS_AS(replayer::show_session(path, "evening", show), archive::archive_error);
}

TEST_CASE("archive tool: export then import gives the same frames, byte for byte") {
    temp_dir dir;
    auto const path = make_archive(dir, "a.db");
    {
        std::ofstream out{dir.file("s.jsonl"), std::ios::binary};
        replayer::export_session_jsonl(path, "", out);
    }
    auto const id = replayer::import_session_jsonl(dir.file("s.jsonl"), dir.file("b.db"));
    CHECK(id == 1);
    CHECK(frame_texts(dir.file("b.db")) == frame_texts(path));
}

TEST_CASE("archive tool: a bad JSON Lines file is named with its line") {
    temp_dir dir;
    auto const path = make_archive(dir, "a.db");
    std::stringstream exported;
    replayer::export_session_jsonl(path, "", exported);
    auto text = exported.str();
    auto const second_line = text.find('\n') + 1;
    text.insert(second_line, "{not json\n");
    {
        std::ofstream out{dir.file("bad.jsonl"), std::ios::binary};
        out << text;
    }
    try {
        replayer::import_session_jsonl(dir.file("bad.jsonl"), dir.file("b.db"));
        FAIL("a malformed line was accepted");
    } catch (std::exception const& e) {
        CHECK(std::string{e.what()}.find("bad.jsonl:2") != std::string::npos);
    }
    CHECK_THROWS(replayer::import_session_jsonl(dir.file("missing.jsonl"), dir.file("b.db")));
}

TEST_CASE("archive tool: verify passes a good archive and refuses a file that is not one") {
    temp_dir dir;
    auto const path = make_archive(dir, "a.db");
    std::ostringstream report;
    CHECK(replayer::verify_archive(path, report));
    CHECK(report.str().find("integrity ok") != std::string::npos);
    CHECK(report.str().ends_with("ok\n"));
    {
        std::ofstream junk{dir.file("junk.db"), std::ios::binary};
        junk << "this is not a database, just text that is long enough to look like a file";
    }
    CHECK_THROWS_AS(replayer::verify_archive(dir.file("junk.db"), report), archive::archive_error);
}

TEST_CASE("archive tool: redact replaces personal data, keeps the rest, re-signs JWT frames") {
    temp_dir dir;
    auto const plain = make_archive(dir, "plain.db");
    replayer::redact_archive(plain, dir.file("plain-redacted.db"), std::nullopt, {});
    auto const texts = frame_texts(dir.file("plain-redacted.db"));
    REQUIRE(texts.size() == 3);
    auto const first = nlohmann::json::parse(texts[0]);
    CHECK(first["external_number"] != "+14155550142");
    CHECK(first["call_id"] == 100);
    CHECK(nlohmann::json::parse(texts[1])["external_number"] == first["external_number"]);  // consistent
    CHECK_THROWS(replayer::redact_archive(plain, dir.file("plain-redacted.db"), std::nullopt, {}));  // no overwrite

    auto const signed_path = make_archive(dir, "signed.db", true);
    try {
        replayer::redact_archive(signed_path, dir.file("refused.db"), std::nullopt, {});
        FAIL("JWT frames were redacted without the secret");
    } catch (std::exception const& e) {
        CHECK(std::string{e.what()}.find("DIALPAD_WEBSOCKET_SECRET") != std::string::npos);
    }
    CHECK_FALSE(std::filesystem::exists(dir.file("refused.db")));
    replayer::redact_archive(signed_path, dir.file("signed-redacted.db"), std::string{k_secret}, {});
    auto const signed_texts = frame_texts(dir.file("signed-redacted.db"));
    REQUIRE(signed_texts.size() == 3);
    CHECK(jwt::verify_hs256(signed_texts[0], k_secret) == jwt::verdict::valid);
    CHECK(nlohmann::json::parse(jwt::decode(signed_texts[0])->payload)["external_number"] != "+14155550142");
}
