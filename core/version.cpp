#include "core/version.hpp"

// HARNESS_VERSION is set on this file alone, so a version bump rebuilds one TU.
namespace harness {
std::string_view version() { return HARNESS_VERSION; }
}  // namespace harness
