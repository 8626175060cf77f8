#include "mockserver/fixture_library.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace harness::mock {
namespace {

bool is_fixture_name(std::string const& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

// Event frames of a JSON Lines session: its frame lines start with
// {"conn":N,"kind":"event" (the export writes those keys first).
std::int64_t count_events(std::string const& path) {
    std::ifstream in{path, std::ios::binary};
    std::int64_t events = 0;
    for (std::string line; std::getline(in, line);) {
        auto const kind = line.find(R"("kind":")");
        if (kind != std::string::npos && kind < 32 && line.compare(kind + 8, 6, "event\"") == 0) ++events;
    }
    return events;
}

}  // namespace

fixture_library::fixture_library(std::string folder) : folder_{std::move(folder)} {}

std::vector<fixture_entry> fixture_library::list() const {
    std::vector<fixture_entry> entries;
    if (folder_.empty()) return entries;
    std::error_code error;
    for (auto const& file : std::filesystem::directory_iterator{folder_, error}) {
        auto const& path = file.path();
        if (path.extension() != ".jsonl" || !is_fixture_name(path.stem().string())) continue;
        entries.push_back({path.stem().string(), path.string(), count_events(path.string())});
    }
    std::sort(entries.begin(), entries.end(), [](auto const& a, auto const& b) { return a.name < b.name; });
    return entries;
}

std::optional<std::string> fixture_library::find(std::string const& name) const {
    if (folder_.empty() || !is_fixture_name(name)) return std::nullopt;
    auto const path = std::filesystem::path{folder_} / (name + ".jsonl");
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) return std::nullopt;
    return path.string();
}

nlohmann::ordered_json fixture_library::list_json() const {
    nlohmann::ordered_json body;
    body["folder"] = folder_;
    auto& list = body["fixtures"] = nlohmann::ordered_json::array();
    for (auto const& entry : this->list()) list.push_back({{"name", entry.name}, {"events", entry.events}});
    return body;
}

}  // namespace harness::mock
