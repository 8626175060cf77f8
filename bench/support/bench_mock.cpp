#include "bench/support/bench_mock.hpp"

#include <boost/asio/post.hpp>

namespace harness::bench {

namespace {

mock::mock_options options_for(std::size_t queue_limit) {
    mock::mock_options options;
    options.port = 0;
    options.feed.queue_limit = queue_limit;
    return options;
}

}  // namespace

bench_mock::bench_mock(std::size_t queue_limit)
    : server_{ioc_.get_executor(), options_for(queue_limit), time_, &time_},
      endpoints_{server_.start()},
      thread_{[this] { ioc_.run(); }} {}

bench_mock::~bench_mock() {
    boost::asio::post(ioc_, [this] { server_.stop(); });
    thread_.join();
}

}  // namespace harness::bench
