#include "core/archive/session_jsonl.hpp"

#include "core/archive/frame_reader.hpp"
#include "tests/support/archive_samples.hpp"
#include "tests/support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace harness::archive;
using harness::test::temp_dir;

namespace {

// A session with two connections, a gap and every tricky text, including a
// JWT whose signature was verified and bytes that are not UTF-8.
session_id build_session(archive& a) {
    auto const id = a.create_session(harness::test::sample_session("jsonl"));
    auto first = harness::test::sample_connection(id, 0);
    first.scope = token_scope::subscription;
    first.subscription = "sms:6491633571610624";
    first.closed_offset_ns = 3600'000'000'000;
    first.close_code = 1001;
    first.close_reason = "going away";
    first.ended_by = end_reason::hour_cut;
    auto const c1 = a.add_connection(first);
    auto const c2 = a.add_connection(harness::test::sample_connection(id, 3600'100'000'000));
    a.add_gap(id, {3600'000'000'000, 3600'100'000'000, "hour cut"});
    std::int64_t t = 0;
    // As a recorder would: c1's subscription tells the family of frames whose
    // fields do not.
    auto add = [&](connection_id c, frame_kind kind, std::string text, std::optional<std::string> secret = {}) {
        auto const hint = c == c1 ? std::optional{harness::model::event_family::sms} : std::nullopt;
        frame_record f;
        f.connection = c;
        f.kind = kind;
        f.offset_ns = t;
        f.wall_ns = 1767225600000000000 + t;
        t += 1'000'000;
        f.text = std::move(text);
        if (kind == frame_kind::event) f.index = harness::model::index_event(f.text, {hint, secret});
        a.add_frame(id, f);
    };
    add(c1, frame_kind::open, "wss://x/events/<token>");
    for (auto const& text : harness::test::tricky_event_texts()) add(c1, frame_kind::event, text, "secret");
    add(c1, frame_kind::control, "You are connected without a valid token, please send your api key for verification");
    add(c1, frame_kind::event, std::string{"\xff\xfe not utf-8 \x80", 15});
    add(c1, frame_kind::close, "1001 going away");
    add(c2, frame_kind::event, R"({"note":"no family fields"})");
    return id;
}

std::string export_text(archive const& a, session_id id) {
    std::ostringstream out;
    export_session(a, id, out);
    return out.str();
}

std::vector<frame_record> all_frames(std::string const& path, session_id id) {
    frame_reader reader{path, id};
    std::vector<frame_record> frames;
    while (auto f = reader.next()) frames.push_back(std::move(*f));
    return frames;
}

}  // namespace

TEST_CASE("archive::session_jsonl: export -> import -> export is byte-identical, frames too") {
    temp_dir dir;
    archive source{dir.file("source.db"), open_mode::read_write};
    auto const original = build_session(source);
    auto const first_export = export_text(source, original);

    archive target{dir.file("target.db"), open_mode::read_write};
    std::istringstream in{first_export};
    auto const imported = import_session(target, in, "session.jsonl");
    CHECK(export_text(target, imported) == first_export);

    auto const before = all_frames(dir.file("source.db"), original);
    auto const after = all_frames(dir.file("target.db"), imported);
    REQUIRE(before.size() == after.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
        CAPTURE(i);
        CHECK(after[i].text == before[i].text);
        CHECK(after[i].kind == before[i].kind);
        CHECK(after[i].offset_ns == before[i].offset_ns);
        CHECK(after[i].wall_ns == before[i].wall_ns);
        CHECK(after[i].index == before[i].index);  // including the verified JWT's verdict
    }
    auto const connections = target.connections(imported);
    REQUIRE(connections.size() == 2);
    CHECK(connections[0].close_code == 1001);
    CHECK(connections[0].subscription == "sms:6491633571610624");
    CHECK(target.gaps(imported).size() == 1);
    CHECK(target.session(imported)->metadata_json == source.session(original)->metadata_json);
}

TEST_CASE("archive::session_jsonl: the export is one header line, then one line per frame") {
    temp_dir dir;
    archive a{dir.file("a.db"), open_mode::read_write};
    auto const id = build_session(a);
    std::istringstream lines{export_text(a, id)};
    std::string line;
    REQUIRE(std::getline(lines, line));
    auto const header = nlohmann::json::parse(line);
    CHECK(header.at("dialpad_harness_session") == 1);
    CHECK(header.at("session").at("name") == "jsonl");
    CHECK(header.at("connections").size() == 2);
    int frames = 0;
    bool saw_base64 = false, saw_signature = false;
    while (std::getline(lines, line)) {
        auto const j = nlohmann::json::parse(line);
        saw_base64 = saw_base64 || j.contains("text_base64");
        saw_signature = saw_signature || (j.contains("signature") && j["signature"] == "valid");
        ++frames;
    }
    CHECK(frames == a.frame_count(id));
    CHECK(saw_base64);
    CHECK(saw_signature);
}

TEST_CASE("archive::session_jsonl: a malformed line is named and the archive is left untouched") {
    temp_dir dir;
    archive source{dir.file("source.db"), open_mode::read_write};
    auto const good = export_text(source, build_session(source));

    archive target{dir.file("target.db"), open_mode::read_write};
    target.create_session(harness::test::sample_session("already here"));

    auto lines_of = [](std::string const& text) {
        std::vector<std::string> lines;
        std::istringstream in{text};
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        return lines;
    };
    auto join = [](std::vector<std::string> const& lines) {
        std::string text;
        for (auto const& l : lines) text += l + "\n";
        return text;
    };
    struct broken_case {
        std::size_t line;  // 1-based
        std::string replacement;
        std::string message;
    };
    std::vector<broken_case> const cases{
        {5, R"({"conn":1,"kind":"event","offset_ns":1,"wall_ns":1,"text":"x")", "session.jsonl:5: not valid JSON"},
        {6, R"({"conn":7,"kind":"event","offset_ns":1,"wall_ns":1,"text":"x"})",
         "session.jsonl:6: frame names connection 7, which the header does not list"},
        {3, R"({"conn":1,"kind":"shout","offset_ns":1,"wall_ns":1,"text":"x"})",
         "session.jsonl:3: field 'kind' has an unknown value 'shout'"},
        {4, R"({"conn":1,"kind":"event","offset_ns":"1","wall_ns":1,"text":"x"})",
         "session.jsonl:4: field 'offset_ns' must be an integer"},
        {2, R"({"conn":1,"kind":"event","offset_ns":1,"wall_ns":1})", "session.jsonl:2: missing field 'text'"},
        {1, R"({"dialpad_harness_session":2})", "session.jsonl:1: not a session header of format version 1"},
        {1, R"([1,2,3])", "session.jsonl:1: expected a JSON object"},
    };
    for (auto const& c : cases) {
        CAPTURE(c.message);
        auto lines = lines_of(good);
        lines[c.line - 1] = c.replacement;
        std::istringstream in{join(lines)};
        CHECK_THROWS_WITH_AS(import_session(target, in, "session.jsonl"), c.message.c_str(), archive_error);
        CHECK(target.sessions().size() == 1);
        CHECK(target.integrity_check() == "ok");
    }
    std::istringstream empty{""};
    CHECK_THROWS_WITH_AS(import_session(target, empty, "empty.jsonl"), "empty.jsonl: empty file, no session header",
                         archive_error);
    CHECK(target.sessions().size() == 1);
}
