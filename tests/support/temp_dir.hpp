#pragma once
// A fresh directory for one test's files, removed when the test ends.

#include <filesystem>
#include <string>

namespace harness::test {

class temp_dir {
public:
    temp_dir();
    temp_dir(temp_dir const&) = delete;
    temp_dir& operator=(temp_dir const&) = delete;
    ~temp_dir();

    std::filesystem::path const& path() const { return path_; }
    // `name` inside the directory, as a string for APIs that take one.
    std::string file(std::string const& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

}  // namespace harness::test
