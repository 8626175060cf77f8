#pragma once
// The last requests the mock answered, for tests to inspect through
// GET /__admin/requests (WireMock's request journal). API keys never appear:
// the Authorization header is not kept and `apikey` in a query is masked.

#include "core/web/http_message.hpp"

#include <cstdint>
#include <deque>
#include <string>

namespace harness::mock {

struct journal_entry {
    std::uint64_t sequence = 0;
    std::int64_t wall_ms = 0;
    std::string method;
    std::string path;   // with the query, apikey masked
    int status = 0;
    std::string body;   // the request body
    std::string company;  // empty when unauthenticated
    // What the request did, e.g. "websockets.create", "websockets.get",
    // "subscriptions.call.list": a test can tell a client that refreshed its
    // URL (get) from one that made a new websocket to reconnect (create).
    std::string operation;
};

// The operation a REST request performs, or "" for other paths.
std::string operation_of(web::request const& request);

class request_journal {
public:
    explicit request_journal(std::size_t capacity = 10'000);
    void record(web::request const& request, int status, std::string company, std::int64_t wall_ms);
    std::deque<journal_entry> const& entries() const { return entries_; }
    void clear();

private:
    std::size_t capacity_;
    std::uint64_t next_sequence_ = 1;
    std::deque<journal_entry> entries_;
};

// `target` with the value of any `apikey` query parameter replaced by "***".
std::string mask_api_key(std::string_view target);

}  // namespace harness::mock
