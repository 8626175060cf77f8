#pragma once
#include <string_view>

namespace harness {
// The project version from CMakeLists.txt, e.g. "0.1.0".
std::string_view version();
}  // namespace harness
