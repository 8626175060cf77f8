#pragma once
// What the archive benchmarks share: the ~1 KB call frames they write, a
// fresh archive with one session and connection, and the ceiling every
// archive writer is measured against — bare prepared INSERTs.

#include "core/archive/archive.hpp"
#include "core/model/event_index.hpp"

#include <string>
#include <vector>

namespace harness::bench {

// ~1 KB call events of several shapes, each different.
std::vector<std::string> make_call_frames(std::size_t count);

struct prepared_session {
    std::string path;
    archive::session_id session = 0;
    archive::connection_id connection = 0;
};

// Removes `path` (and its WAL files) and creates an archive there with one
// session named `name` and one connection.
prepared_session fresh_archive(std::string const& path, std::string const& name);

// Seconds to store `frames` and their precomputed `indexes` into `target`
// straight through SQLite's C API in 1000-row transactions.
double bare_insert_seconds(prepared_session const& target, std::vector<std::string> const& frames,
                           std::vector<model::event_index> const& indexes);

}  // namespace harness::bench
