#pragma once
// The one place that names Asio in headers: the cheap headers and the
// namespace aliases every networking declaration in the project uses.
// Heavy Beast/Asio instantiations stay in core/net/*.cpp.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace harness {
namespace net = boost::asio;  // from <boost/asio.hpp>
}  // namespace harness
