#pragma once
// Archived sessions played into the mock's event feed (`--replay`,
// `POST /__admin/replay`). Each event enters the same pipeline as an
// injected one: routed by the subscriptions the client created, signed with
// each websocket's own secret, due at its recorded offset on the mock's
// clock. Events no websocket subscription would carry are skipped and
// counted per family. The session is streamed, never loaded whole.
//
// Single-threaded: everything runs on the mock's executor.

#include "core/archive/archive_types.hpp"
#include "core/clock/clock.hpp"
#include "core/net/asio_fwd.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace harness::mock {

class feed_hub;
class resource_store;

// A replay refused before it starts, in one line, with the HTTP status the
// admin API answers (400: the file or a parameter, 404: the session).
class replay_error : public std::runtime_error {
public:
    replay_error(int status, std::string const& message) : std::runtime_error{message}, status_{status} {}
    int status() const { return status_; }

private:
    int status_;
};

struct temporary_archive;  // a .jsonl file imported for reading, removed with its last user

// A session checked and ready to play.
struct replay_source {
    std::string archive;  // as given
    std::string path;     // what is read: the archive, or the import of a .jsonl file
    archive::session_info session;
    std::int64_t events = 0;
    std::shared_ptr<temporary_archive const> import;
};

// Opens `archive_path` (an archive, or a session exported as *.jsonl) and
// resolves `session_ref` (a numeric id or a name; empty: the only or latest
// session). Throws replay_error.
replay_source open_replay_source(std::string const& archive_path, std::string const& session_ref);

struct replay_pacing {
    std::optional<double> speed = 1.0;  // nullopt: as fast as the connections take them
    bool rebase_time = false;           // shift event times so the first event reads "now"
    std::optional<mono_duration> max_gap;  // longer idle stretches are cut to this
};

class mock_replays {
public:
    mock_replays(net::any_io_executor executor, feed_hub& feed, resource_store const& store, clock& time_source);
    ~mock_replays();

    // Starts playing `source` at once; returns the replay's id.
    std::uint64_t start(replay_source source, replay_pacing pacing);
    // False when no replay `id` is running.
    bool cancel(std::uint64_t id);
    // Cancels every running replay (shutdown); their status stays.
    void cancel_all();
    // Cancels every replay and forgets them (POST /__admin/reset); ids keep counting.
    void reset();

    // {"replays":[status...]}, and one replay's status (nullopt: unknown id):
    // {"id","archive","session","session_name","speed","rebase_time","state",
    //  "events","played","delivered","skipped","skipped_by_family","errors","last_error"}
    nlohmann::ordered_json list_json() const;
    std::optional<nlohmann::ordered_json> status_json(std::uint64_t id) const;

    struct state;  // the implementation's; opaque here

private:
    std::shared_ptr<state> state_;
};

}  // namespace harness::mock
