// Raw bytes from one client -> dialpad-mock, through the code that serves
// a socket (core/web/http_server's serve_bytes: Beast's parser, the limits,
// keep-alive, then the mock's routing, REST API, admin API and websocket
// upgrades). Every input must end in responses, or an upgrade, and a clean
// close. A handler that throws is a finding: the server would answer 500
// and log an error.
//
// Each input gets a fresh mock (a paused virtual clock, a fixed seed, the
// README's `dev-key`, the clone's fixtures), as a loopback client, so runs are independent and
// repeatable. Between requests the mock's ready work runs, as it would
// while a connection waits on its socket. Once the mock is stopped nothing
// of it may be left running: a coroutine still waiting would keep a real
// dialpad-mock from exiting.

#include "core/clock/virtual_clock.hpp"
#include "fuzz/fuzz_support.hpp"
#include "mockserver/mock_server.hpp"

#include <boost/asio/io_context.hpp>

using namespace harness;

namespace {

// Rounds of ready handlers run at each point; a replay at full speed or a
// clock advance takes a few.
constexpr int k_poll_rounds = 64;

void run_ready(net::io_context& ioc) {
    for (int round = 0; round < k_poll_rounds && ioc.poll() > 0; ++round) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    static bool const quiet = (fuzz::log_to_nowhere(), true);
    (void)quiet;
    // The clock outlives the io_context: timers on it go when the context does.
    virtual_clock time{0.0, wall_time{std::chrono::seconds{1767225600}}};
    net::io_context ioc{1};
    mock::mock_options options;
    options.port = 0;
    options.request_timeout = std::chrono::milliseconds{100};
    options.fixtures_dir = HARNESS_FUZZ_FIXTURES_DIR;  // POST /__admin/replay {"fixture":...}
    {
        mock::mock_server mock{ioc.get_executor(), options, time, &time};
        mock.start();
        auto const exchange =
            mock.serve_bytes(fuzz::as_text(data, size), "127.0.0.1", [&ioc] { run_ready(ioc); });
        if (exchange.handler_failures > 0) fuzz::finding("a request handler threw (the mock answered 500)");
        if (exchange.answered > 0 && !exchange.written.starts_with("HTTP/1.")) fuzz::finding("an answer that is not HTTP");
        run_ready(ioc);
        mock.stop();
        run_ready(ioc);
    }
    run_ready(ioc);
    // poll() stops the context once no work is left.
    if (!ioc.stopped()) fuzz::finding("work of the mock still pending after stop()");
    return 0;
}
