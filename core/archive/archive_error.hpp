#pragma once
#include <stdexcept>

namespace harness::archive {

// Anything wrong with an archive file or its contents, phrased for a person:
// a foreign or newer file, a malformed import line, an unknown session.
class archive_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace harness::archive
