// JSON Lines import (core/archive/session_jsonl), as `dialpad-replay import`
// and the mock's fixtures use it. Any text is imported into a new archive
// or refused with archive_error naming the input (a bad line: FILE:LINE),
// leaving the archive as it was; any other exception is a finding. What
// imports must also export, and export -> import -> export must give the
// same bytes. Archives are files under TMPDIR (export reads the archive
// back by its path); scripts/fuzz points TMPDIR at memory when it can.

#include "core/archive/archive.hpp"
#include "core/archive/session_jsonl.hpp"
#include "fuzz/fuzz_support.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

using namespace harness;

namespace {

// Never destroyed, so the exit handler that removes it can still read it.
std::filesystem::path const& scratch_folder() {
    static auto const* const folder = [] {
        auto pattern = (std::filesystem::temp_directory_path() / "fuzz_jsonl_import.XXXXXX").string();
        if (!::mkdtemp(pattern.data())) fuzz::finding("cannot make a scratch folder");
        auto const* path = new std::filesystem::path{pattern};
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(scratch_folder(), ignored);
        });
        return path;
    }();
    return *folder;
}

// A new, empty archive file named `file_name`.
archive::archive fresh_archive(char const* file_name) {
    auto const path = (scratch_folder() / file_name).string();
    for (auto const* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    return archive::archive{path, archive::open_mode::read_write};
}

std::string import_then_export(archive::archive& target, std::string const& text) {
    std::istringstream in{text};
    auto const id = archive::import_session(target, in, "input.jsonl");
    std::ostringstream out;
    archive::export_session(target, id, out);
    return out.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string const text{fuzz::as_text(data, size)};
    auto first_archive = fresh_archive("first.db");
    std::string first;
    try {
        first = import_then_export(first_archive, text);
    } catch (archive::archive_error const& e) {
        if (std::string_view{e.what()}.find("input.jsonl") == std::string_view::npos)
            fuzz::finding("an import refusal does not name the input");
        if (!first_archive.sessions().empty()) fuzz::finding("a refused import left a session behind");
        return 0;
    }
    // Only format version 1 imports, however the number is written.
    std::istringstream lines{text};
    std::string header;
    while ((header.empty() || header == "\r") && std::getline(lines, header)) {
    }
    if (nlohmann::json::parse(header, nullptr, false)["dialpad_harness_session"] != 1)
        fuzz::finding("a header of another format version was imported");
    auto second_archive = fresh_archive("second.db");
    if (import_then_export(second_archive, first) != first) fuzz::finding("export -> import -> export changed the bytes");
    return 0;
}
