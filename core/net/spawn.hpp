#pragma once
// How the project spawns coroutines: never with `detached` (it drops
// exceptions silently on Boost 1.81); always with log_on_exit, which logs a
// failure unless it is an ordinary disconnect.

#include <boost/system/error_code.hpp>

#include <exception>
#include <string>

namespace harness {

// Peer went away, we closed, or the operation was cancelled: expected on the
// network path, never logged as an error.
bool is_normal_disconnect(boost::system::error_code const& ec) noexcept;

// Completion handler for co_spawn.
struct log_on_exit {
    std::string what;
    void operator()(std::exception_ptr error) const;
};

}  // namespace harness
