#include "tests/support/replay_fixture.hpp"

#include "core/model/event_index.hpp"
#include "tests/support/archive_samples.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <future>

namespace harness::test {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

// --- session_builder ---

session_builder::session_builder(std::string const& path, std::string const& name)
    : store_{path, archive::open_mode::read_write} {
    session_ = store_.create_session(sample_session(name));
}

archive::connection_id session_builder::open_connection(std::int64_t opened_offset_ns) {
    auto info = sample_connection(session_, opened_offset_ns);
    info.id = store_.add_connection(info);
    connections_[info.id] = info;
    return info.id;
}

void session_builder::close_connection(archive::connection_id connection, std::int64_t closed_offset_ns,
                                       archive::end_reason ended_by, std::optional<int> code,
                                       std::string const& reason) {
    auto& info = connections_.at(connection);
    info.closed_offset_ns = closed_offset_ns;
    info.close_code = code;
    info.close_reason = reason;
    info.abrupt = !code;
    info.ended_by = ended_by;
    store_.close_connection(info);
}

void session_builder::add_events(archive::connection_id connection, std::vector<timed_text> const& events) {
    archive::archive::transaction batch{store_};
    for (auto const& event : events) {
        archive::frame_record frame;
        frame.connection = connection;
        frame.kind = archive::frame_kind::event;
        frame.offset_ns = event.offset_ns;
        frame.wall_ns = 1767225600'000'000'000LL + event.offset_ns;
        frame.text = event.text;
        frame.index = model::index_event(frame.text);
        store_.add_frame(session_, frame);
    }
    batch.commit();
}

void session_builder::add_event(archive::connection_id connection, std::int64_t offset_ns, std::string const& text) {
    add_events(connection, {timed_text{offset_ns, text}});
}

replayer::replay_options replay_options_for(std::string const& path, archive::session_id session) {
    replayer::replay_options o;
    o.archive_path = path;
    o.session = session;
    return o;
}

// --- running_replay ---

running_replay::running_replay(replayer::replay_options options, harness::clock& time)
    : ioc_{std::make_unique<boost::asio::io_context>(1)},
      server_{ioc_->get_executor(), web::server_options{}, std::move(options), time} {
    server_.on_client_finished([this] {
        {
            std::lock_guard lock{mutex_};
            ++finished_;
        }
        changed_.notify_all();
    });
    server_.start();
    thread_ = std::thread{[this] { ioc_->run(); }};
}

running_replay::~running_replay() {
    boost::asio::post(*ioc_, [this] { server_.stop(); });
    thread_.join();
}

std::uint16_t running_replay::port() const { return server_.port(); }

std::string running_replay::url(std::string const& token) const {
    return "ws://127.0.0.1:" + std::to_string(server_.port()) + "/events/" + token;
}

nlohmann::json running_replay::report() {
    std::promise<nlohmann::json> result;
    boost::asio::post(*ioc_, [&] { result.set_value(server_.report()); });
    return result.get_future().get();
}

nlohmann::json running_replay::wait_for_report(std::function<bool(nlohmann::json const&)> const& done,
                                               std::chrono::milliseconds limit) {
    auto const deadline = std::chrono::steady_clock::now() + limit;
    auto current = report();
    while (!done(current) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
        current = report();
    }
    INFO("last report: " << current.dump());
    CHECK_MESSAGE(done(current), "the report did not reach the expected state in time");
    return current;
}

bool running_replay::wait_finished(std::size_t count, std::chrono::milliseconds limit) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, limit, [&] { return finished_ >= count; });
}

// --- beast_ws_client ---

struct beast_ws_client::impl {
    boost::asio::io_context ioc{1};
    websocket::stream<beast::tcp_stream> ws{ioc};
    beast::flat_buffer buffer;
};

beast_ws_client::beast_ws_client(std::uint16_t port, std::string const& path, int receive_buffer)
    : impl_{std::make_unique<impl>()} {
    auto& socket = beast::get_lowest_layer(impl_->ws).socket();
    socket.open(tcp::v4());
    if (receive_buffer > 0) socket.set_option(boost::asio::socket_base::receive_buffer_size{receive_buffer});
    tcp::endpoint const endpoint{boost::asio::ip::make_address("127.0.0.1"), port};
    std::optional<error_code> connected, handshaken;
    beast::get_lowest_layer(impl_->ws).async_connect(endpoint, [&](error_code ec) { connected = ec; });
    REQUIRE_MESSAGE(run_until([&] { return connected.has_value(); }, std::chrono::seconds{10}), "no TCP connection");
    REQUIRE_MESSAGE(!*connected, "connect failed: " << connected->message());
    impl_->ws.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
        if (kind == websocket::frame_type::pong) pongs_.emplace_back(payload);
    });
    impl_->ws.async_handshake("127.0.0.1:" + std::to_string(port), path, [&](error_code ec) { handshaken = ec; });
    REQUIRE_MESSAGE(run_until([&] { return handshaken.has_value(); }, std::chrono::seconds{10}), "no handshake");
    REQUIRE_MESSAGE(!*handshaken, "handshake failed: " << handshaken->message());
}

beast_ws_client::~beast_ws_client() {
    error_code ignored;
    beast::get_lowest_layer(impl_->ws).socket().close(ignored);
    // Let pending operations see the close before the io_context goes.
    impl_->ioc.restart();
    impl_->ioc.poll();
}

bool beast_ws_client::run_until(std::function<bool()> const& done, std::chrono::milliseconds limit) {
    auto const deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (impl_->ioc.stopped()) impl_->ioc.restart();
        if (impl_->ioc.run_one_until(deadline) == 0 && std::chrono::steady_clock::now() >= deadline) return done();
    }
    return true;
}

void beast_ws_client::start_read() {
    if (reading_ || ended_) return;
    reading_ = true;
    impl_->ws.async_read(impl_->buffer, [this](error_code ec, std::size_t size) {
        reading_ = false;
        if (ec) {
            ended_ = true;
            if (ec == websocket::error::closed) {
                end_.code = impl_->ws.reason().code;
                end_.reason = std::string{impl_->ws.reason().reason.c_str()};
            } else {
                end_.abrupt = true;
            }
            return;
        }
        messages_.push_back(beast::buffers_to_string(impl_->buffer.data()));
        impl_->buffer.consume(size);
    });
}

std::optional<std::string> beast_ws_client::read(std::chrono::milliseconds limit) {
    start_read();
    bool const done = run_until([&] { return !messages_.empty() || ended_; }, limit);
    REQUIRE_MESSAGE(done, "no message and no end within the limit");
    if (messages_.empty()) return std::nullopt;
    auto message = std::move(messages_.front());
    messages_.pop_front();
    return message;
}

bool beast_ws_client::ping_and_wait_pong(std::string const& payload, std::chrono::milliseconds limit) {
    std::optional<error_code> sent;
    impl_->ws.async_ping(websocket::ping_data{payload.c_str()}, [&](error_code ec) { sent = ec; });
    auto const seen = [&] { return std::find(pongs_.begin(), pongs_.end(), payload) != pongs_.end(); };
    return run_until(
        [&] {
            if (!seen()) start_read();  // control frames are only seen while a read is in progress
            return (sent && seen()) || ended_;
        },
        limit) &&
           sent && !*sent && seen();
}

web::close_status beast_ws_client::close(int code, std::chrono::milliseconds limit) {
    std::optional<error_code> closed;
    impl_->ws.async_close(websocket::close_reason{static_cast<websocket::close_code>(code)},
                          [&](error_code ec) { closed = ec; });
    bool const done = run_until([&] { return closed.has_value() && !reading_; }, limit);
    REQUIRE_MESSAGE(done, "the close handshake did not end within the limit");
    web::close_status status;
    if (*closed && *closed != websocket::error::closed) {
        status.abrupt = true;
    } else {
        status.code = impl_->ws.reason().code;
        status.reason = std::string{impl_->ws.reason().reason.c_str()};
    }
    ended_ = true;
    end_ = status;
    return status;
}

}  // namespace harness::test
