// Every session in fixtures/: listed in fixtures/README.md with its event
// count, imported into an archive that passes SQLite's integrity check,
// shaped as its description says, free of the generators' original names,
// and served back by dialpad-replay frame for frame.
#include "core/archive/archive.hpp"
#include "core/archive/frame_reader.hpp"
#include "core/archive/session_jsonl.hpp"
#include "core/clock/virtual_clock.hpp"
#include "tests/support/replay_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_test_client.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace harness;
using json = nlohmann::json;

namespace {

std::filesystem::path const k_fixtures{HARNESS_FIXTURES_DIR};

std::string read_text(std::filesystem::path const& path) {
    std::ifstream in{path, std::ios::binary};
    REQUIRE_MESSAGE(in, "cannot read " << path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The fixture files, by name without `.jsonl`.
std::set<std::string> fixture_names() {
    std::set<std::string> names;
    for (auto const& entry : std::filesystem::directory_iterator{k_fixtures})
        if (entry.path().extension() == ".jsonl") names.insert(entry.path().stem().string());
    return names;
}

// The README table's rows: file name -> the event count it states.
std::map<std::string, std::int64_t> readme_event_counts() {
    static std::regex const row{R"(^\| `([a-z0-9_]+)\.jsonl` \| ([0-9]+) \|)"};
    std::map<std::string, std::int64_t> counts;
    std::istringstream lines{read_text(k_fixtures / "README.md")};
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_search(line, m, row)) counts[m[1]] = std::stoll(m[2]);
    }
    return counts;
}

// One fixture imported into an archive of its own.
struct loaded_fixture {
    std::string name;
    std::string archive_path;
    archive::session_id session = 0;
    json metadata;
    std::vector<archive::connection_info> connections;
    std::vector<archive::gap_info> gaps;
    std::vector<archive::frame_record> events;  // with their index
    std::int64_t last_offset_ns = 0;

    std::vector<std::string> states() const {
        std::vector<std::string> list;
        for (auto const& e : events) list.push_back(e.index->state);
        return list;
    }
    std::vector<std::string> event_texts() const {
        std::vector<std::string> list;
        for (auto const& e : events) list.push_back(e.text);
        return list;
    }
    bool has_state(std::string const& state) const {
        auto const all = states();
        return std::find(all.begin(), all.end(), state) != all.end();
    }
};

loaded_fixture load(std::string const& name, test::temp_dir const& dir) {
    loaded_fixture f;
    f.name = name;
    f.archive_path = dir.file(name + ".db");
    archive::archive store{f.archive_path, archive::open_mode::read_write};
    std::ifstream in{k_fixtures / (name + ".jsonl"), std::ios::binary};
    REQUIRE(in);
    f.session = archive::import_session(store, in, name + ".jsonl");
    CHECK(store.integrity_check() == "ok");
    auto const info = store.session(f.session);
    REQUIRE(info);
    f.metadata = json::parse(info->metadata_json);
    f.connections = store.connections(f.session);
    f.gaps = store.gaps(f.session);
    archive::frame_reader all{f.archive_path, f.session};
    while (auto frame = all.next()) {
        f.last_offset_ns = std::max(f.last_offset_ns, frame->offset_ns);
        if (frame->kind == archive::frame_kind::event) f.events.push_back(std::move(*frame));
    }
    return f;
}

json event_json(archive::frame_record const& frame) { return json::parse(frame.text); }

std::int64_t minutes(std::int64_t ns) { return ns / 60'000'000'000; }

std::size_t count_end_reason(loaded_fixture const& f, archive::end_reason reason) {
    return static_cast<std::size_t>(std::count_if(f.connections.begin(), f.connections.end(),
                                                  [&](auto const& c) { return c.ended_by == reason; }));
}

// What each fixture's description in fixtures/README.md promises.
std::map<std::string, std::function<void(loaded_fixture const&)>> const& promises() {
    static std::map<std::string, std::function<void(loaded_fixture const&)>> const all{
        {"inbound_call_answered",
         [](loaded_fixture const& f) {
             std::int64_t entry_leg = 0;
             for (auto const& e : f.events)
                 if (e.index->target_type == "department") entry_leg = e.index->call_id.value_or(0);
             REQUIRE(entry_leg != 0);
             bool operator_leg_linked = false;
             for (auto const& e : f.events) operator_leg_linked |= e.index->entry_point_call_id == entry_leg;
             CHECK(operator_leg_linked);
             auto const states = f.states();
             auto const hangup = std::find(states.begin(), states.end(), "hangup");
             CHECK(std::find(hangup, states.end(), "recording") != states.end());
             CHECK(std::find(hangup, states.end(), "recap_summary") != states.end());
             CHECK(f.has_state("call_transcription"));
             CHECK(f.has_state("recap_action_items"));
         }},
        {"inbound_call_voicemail",
         [](loaded_fixture const& f) {
             CHECK(f.states() ==
                   std::vector<std::string>{"ringing", "voicemail", "hangup", "voicemail_uploaded", "transcription"});
             CHECK(event_json(f.events.at(2))["date_connected"].is_null());
             CHECK(event_json(f.events.at(3))["voicemail_link"].is_string());
             CHECK(event_json(f.events.at(4))["transcription_text"].is_string());
         }},
        {"outbound_call_answered",
         [](loaded_fixture const& f) {
             CHECK(f.states() == std::vector<std::string>{"calling", "ringing", "connected", "hangup"});
             for (auto const& e : f.events) CHECK(e.index->direction == "outbound");
         }},
        {"call_transfer",
         [](loaded_fixture const& f) {
             std::set<std::int64_t> legs;
             bool linked_and_marked = false;
             for (auto const& e : f.events) legs.insert(*e.index->call_id);
             for (auto const& e : f.events)
                 linked_and_marked |= e.index->master_call_id && legs.contains(*e.index->master_call_id) &&
                                      event_json(e)["is_transferred"] == true;
             CHECK(legs.size() == 2);
             CHECK(linked_and_marked);
         }},
        {"sms_in_and_out",
         [](loaded_fixture const& f) {
             std::set<std::string> directions;
             for (auto const& e : f.events) {
                 CHECK(e.index->family == model::event_family::sms);
                 directions.insert(e.index->direction);
             }
             CHECK(directions == std::set<std::string>{"inbound", "outbound"});
             CHECK(f.has_state("pending"));
             CHECK(f.has_state("success"));
         }},
        {"contact_lifecycle",
         [](loaded_fixture const& f) { CHECK(f.states() == std::vector<std::string>{"Created", "Updated", "Deleted"}); }},
        {"agent_shift",
         [](loaded_fixture const& f) {
             CHECK(f.states() ==
                   std::vector<std::string>{"available", "occupied", "wrapup", "available", "busy", "unavailable"});
             CHECK(minutes(f.last_offset_ns) > 60);  // crosses the hourly cut...
             CHECK(count_end_reason(f, archive::end_reason::token_refresh) == 1);
             CHECK(f.gaps.empty());  // ...with the URL refreshed ahead of it
         }},
        {"changelog_actions",
         [](loaded_fixture const& f) {
             CHECK(f.states() == std::vector<std::string>{"operator_removed", "updated_ivr",
                                                          "admin_call_recording_override", "auto_hold_seconds_changed"});
         }},
        {"busy_hour",
         [](loaded_fixture const& f) {
             std::map<std::int64_t, std::pair<std::size_t, std::size_t>> span;  // each leg's first and last event
             for (std::size_t i = 0; i < f.events.size(); ++i)
                 if (auto const leg = f.events[i].index->call_id) span.try_emplace(*leg, i, i).first->second.second = i;
             CHECK(span.size() >= 16);
             std::size_t interleaved = 0;
             for (auto const& [leg, s] : span)
                 for (auto const& [other, o] : span) interleaved += other != leg && o.first > s.first && o.first < s.second;
             CHECK(interleaved >= 10);
             CHECK(minutes(f.events.back().offset_ns - f.events.front().offset_ns) >= 45);
             CHECK(f.has_state("pending"));  // texts among the calls
         }},
        {"long_session_hour_cut",
         [](loaded_fixture const& f) {
             CHECK(minutes(f.last_offset_ns) > 60);
             REQUIRE(f.gaps.size() == 1);
             CHECK(f.gaps[0].end_offset_ns.has_value());  // a reconnect closed it
             CHECK(std::any_of(f.connections.begin(), f.connections.end(), [](auto const& c) { return c.abrupt; }));
             CHECK(count_end_reason(f, archive::end_reason::token_refresh) == 1);
             CHECK(f.connections.size() == 3);
             auto const texts = f.event_texts();
             std::set<std::string> const unique{texts.begin(), texts.end()};
             CHECK(unique.size() == f.events.size());  // the overlap's copies were dropped
         }},
    };
    return all;
}

}  // namespace

TEST_CASE("fixtures: every session file is described in fixtures/README.md with its event count") {
    auto const files = fixture_names();
    auto const counts = readme_event_counts();
    std::set<std::string> described;
    for (auto const& [name, count] : counts) described.insert(name);
    CHECK(files.size() >= 10);
    CHECK(files == described);
    for (auto const& name : files) {
        INFO(name);
        CHECK(promises().contains(name));
    }
}

TEST_CASE("fixtures: each loads, verifies, keeps its promises, carries no original names, and replays exactly") {
    auto const counts = readme_event_counts();
    // The scenarios' fictional people; the redactor must have replaced them.
    std::vector<std::string> const originals{"Avery Kim", "Jordan Lee", "Riley Chen", "Sam Ortiz", "Casey Park",
                                             "Morgan Diaz", "avery.kim@", "sam@example.net"};
    for (auto const& name : fixture_names()) {
        INFO("fixture " << name);
        test::temp_dir dir;
        auto const f = load(name, dir);
        CHECK(static_cast<std::int64_t>(f.events.size()) == counts.at(name));
        CHECK(f.metadata["redacted"] == true);
        for (auto const& e : f.events) {
            REQUIRE(e.index);
            CHECK(e.index->parsed);
            CHECK(e.index->family != model::event_family::unknown);
            for (auto const& original : originals) CHECK(e.text.find(original) == std::string::npos);
        }
        if (auto const promise = promises().find(name); promise != promises().end()) promise->second(f);

        // Served back at full speed, the client gets the event frames as stored.
        virtual_clock time;
        auto options = test::replay_options_for(f.archive_path, f.session);
        options.speed.reset();
        test::running_replay replay{options, time};
        test::ws_test_client client{replay.url()};
        CHECK(client.wait_for_messages(f.events.size()) == f.event_texts());
        CHECK(client.wait_closed().code == 1000);
    }
}
