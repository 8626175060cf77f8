#include "core/net/spawn.hpp"

#include "core/log/log.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/system/system_error.hpp>

namespace harness {

bool is_normal_disconnect(boost::system::error_code const& ec) noexcept {
    namespace asio_error = boost::asio::error;
    return ec == boost::beast::websocket::error::closed || ec == asio_error::eof ||
           ec == asio_error::operation_aborted || ec == asio_error::connection_reset ||
           ec == asio_error::broken_pipe || ec == asio_error::not_connected || ec == asio_error::bad_descriptor ||
           ec == boost::beast::http::error::end_of_stream || ec == boost::beast::error::timeout ||
           ec == boost::asio::ssl::error::stream_truncated;
}

void log_on_exit::operator()(std::exception_ptr error) const {
    if (!error) return;
    try {
        std::rethrow_exception(error);
    } catch (boost::system::system_error const& e) {
        if (!is_normal_disconnect(e.code())) HLOG(error, "task.failed").field("task", what).field("error", e.what());
    } catch (std::exception const& e) {
        HLOG(error, "task.failed").field("task", what).field("error", e.what());
    } catch (...) {
        HLOG(error, "task.failed").field("task", what).field("error", "unknown exception");
    }
}

}  // namespace harness
