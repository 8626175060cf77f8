#pragma once
// dialpad-mock in the benchmark's own process, on its own thread and a
// paused virtual clock, with a feed queue long enough that no consumer of a
// burst is cut off as slow: what the delivery and ingest benchmarks measure
// against.

#include "core/clock/virtual_clock.hpp"
#include "mockserver/mock_server.hpp"

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <thread>

namespace harness::bench {

class bench_mock {
public:
    // Starts serving on 127.0.0.1:0; `queue_limit`: frames one connection
    // may have waiting.
    explicit bench_mock(std::size_t queue_limit);
    ~bench_mock();  // stops the mock and joins its thread
    bench_mock(bench_mock const&) = delete;
    bench_mock& operator=(bench_mock const&) = delete;

    mock::mock_endpoints const& endpoints() const { return endpoints_; }
    // The mock's clock, paused: others (the recorder) may run on it too.
    virtual_clock& time() { return time_; }

private:
    virtual_clock time_{0.0};
    boost::asio::io_context ioc_{1};
    mock::mock_server server_;
    mock::mock_endpoints endpoints_;
    std::thread thread_;
};

}  // namespace harness::bench
