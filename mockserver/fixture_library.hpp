#pragma once
// The sessions in a fixtures folder (the project's fixtures/ by default),
// offered by name to POST /__admin/replay {"fixture":"busy_hour"} and
// `--replay busy_hour`, and listed by GET /__admin/fixtures.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace harness::mock {

struct fixture_entry {
    std::string name;  // the file name without .jsonl
    std::string path;
    std::int64_t events = 0;  // event frames in the file
};

class fixture_library {
public:
    // `folder` empty: no fixtures.
    explicit fixture_library(std::string folder = {});

    std::string const& folder() const { return folder_; }
    // The *.jsonl files, by name; read from the folder on each call so a
    // fixture added while the mock runs is offered.
    std::vector<fixture_entry> list() const;
    // The path of fixture `name`, or nullopt when there is none of that name.
    // Only [a-z0-9_-] names are looked up: a name never reaches outside the folder.
    std::optional<std::string> find(std::string const& name) const;
    // {"folder":"...","fixtures":[{"name","events"}...]}
    nlohmann::ordered_json list_json() const;

private:
    std::string folder_;
};

}  // namespace harness::mock
