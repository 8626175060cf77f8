#include "mockserver/admin_api.hpp"

#include "core/cli/duration_text.hpp"
#include "core/replay/replay_speed.hpp"
#include "core/version.hpp"
#include "mockserver/api_error.hpp"
#include "mockserver/event_generator.hpp"
#include "mockserver/event_router.hpp"
#include "mockserver/feed_hub.hpp"
#include "mockserver/injected_events.hpp"
#include "mockserver/mock_replay.hpp"
#include "mockserver/request_journal.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <charconv>
#include <cmath>

namespace harness::mock {

admin_api::admin_api(request_journal& journal, feed_hub& feed, mock_replays& replays, clock const& time_source,
                     virtual_clock* steerable, admin_actions actions)
    : journal_{journal},
      feed_{feed},
      replays_{replays},
      clock_{time_source},
      steerable_{steerable},
      actions_{std::move(actions)} {}

bool admin_api::owns(std::string_view path) { return path == "/__admin" || path.starts_with("/__admin/"); }

namespace {

// Whether `request` carries `Authorization: Bearer <token>`, compared in
// constant time so the answer's timing does not leak the token.
bool carries_token(web::request const& request, std::string const& token) {
    auto const authorization = request.header("Authorization");
    if (!authorization || !authorization->starts_with("Bearer ")) return false;
    std::string_view const given = std::string_view{*authorization}.substr(7);
    return given.size() == token.size() && CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

}  // namespace

web::response admin_api::handle(web::request const& request) {
    if (!request.remote_is_loopback && !actions_.expose)
        return error_response(403, "the admin API answers loopback clients only", "forbidden");
    if (actions_.admin_token && !carries_token(request, *actions_.admin_token)) {
        auto r = error_response(401, "the admin API needs 'Authorization: Bearer <admin token>'", "unauthorized");
        r.set_header("WWW-Authenticate", "Bearer realm=\"dialpad-mock admin\"");
        return r;
    }
    auto const& path = request.path;
    auto const method_not_allowed = [&](std::string allowed) {
        auto r = error_response(405, "method " + request.method + " is not allowed on " + path);
        r.set_header("Allow", std::move(allowed));
        return r;
    };

    if (path == "/__admin/health") {
        if (request.method != "GET") return method_not_allowed("GET");
        nlohmann::ordered_json body;
        body["status"] = "ok";
        body["version"] = std::string{version()};
        return web::response::json(200, body.dump());
    }
    if (path == "/__admin/reset") {
        if (request.method != "POST") return method_not_allowed("POST");
        actions_.reset();
        journal_.clear();
        return web::response::json(200, R"({"reset":true})");
    }
    if (path == "/__admin/requests") {
        if (request.method == "DELETE") {
            journal_.clear();
            return web::response::json(200, R"({"cleared":true})");
        }
        if (request.method != "GET") return method_not_allowed("GET, DELETE");
        nlohmann::ordered_json body;
        auto& list = body["requests"] = nlohmann::ordered_json::array();
        for (auto const& e : journal_.entries()) {
            nlohmann::ordered_json j;
            j["seq"] = e.sequence;
            j["time_ms"] = e.wall_ms;
            j["method"] = e.method;
            j["path"] = e.path;
            j["status"] = e.status;
            j["company"] = e.company;
            j["operation"] = e.operation;
            j["body"] = e.body;
            list.push_back(std::move(j));
        }
        return web::response::json(200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (path == "/__admin/events") {
        if (request.method != "POST") return method_not_allowed("POST");
        return events(request);
    }
    if (path == "/__admin/deliveries") {
        if (request.method == "DELETE") {
            feed_.clear_deliveries();
            return web::response::json(200, R"({"cleared":true})");
        }
        if (request.method != "GET") return method_not_allowed("GET, DELETE");
        nlohmann::json body;
        body["deliveries"] = feed_.deliveries_json();
        return web::response::json(200, body.dump());
    }
    if (path == "/__admin/connections" || path.starts_with("/__admin/connections/")) return connections(request);
    if (path == "/__admin/clock" || path == "/__admin/clock/advance") return clock_endpoint(request);
    if (path == "/__admin/scenarios" || path.starts_with("/__admin/scenarios/")) return scenarios(request);
    if (path == "/__admin/replay" || path.starts_with("/__admin/replay/")) return replays(request);
    if (path == "/__admin/fixtures") {
        if (request.method != "GET") return method_not_allowed("GET");
        return web::response::json(200, actions_.fixtures.list_json().dump());
    }
    if (path == "/__admin/faults") {
        if (request.method == "DELETE") {
            feed_.clear_faults();
            return web::response::json(200, R"({"faults":null})");
        }
        if (request.method == "GET") return web::response::json(200, nlohmann::json{{"faults", feed_.faults_json()}}.dump());
        if (request.method != "POST") return method_not_allowed("GET, POST, DELETE");
        auto const body = nlohmann::json::parse(request.body.empty() ? std::string{"{}"} : request.body, nullptr, false);
        try {
            feed_.set_faults(parse_fault_plan(body));
        } catch (std::invalid_argument const& e) {
            return error_response(400, e.what());
        }
        return web::response::json(200, nlohmann::json{{"faults", feed_.faults_json()}}.dump());
    }
    return error_response(404, "no such admin endpoint: " + path, "notFound");
}

namespace {

// The admin body as JSON (an empty body is {}), or an error response.
std::optional<nlohmann::json> admin_body(web::request const& request, web::response& error) {
    if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        error = error_response(400, "the request body must be a JSON object");
        return std::nullopt;
    }
    return body;
}

}  // namespace

web::response admin_api::events(web::request const& request) {
    auto read = read_injected_events(request.body);
    if (auto* problem = std::get_if<std::string>(&read)) return error_response(400, *problem);
    auto& injected = std::get<injected_events>(read);
    nlohmann::json response;
    if (injected.batch) {  // a batch answers with counts only
        std::size_t deliveries = 0;
        for (auto& event : injected.events) deliveries += feed_.deliver(event.facts, std::move(event.json)).size();
        response["events"] = injected.events.size();
        response["deliveries"] = deliveries;
        return web::response::json(200, response.dump());
    }
    auto& list = response["delivered"] = nlohmann::json::array();
    for (auto& event : injected.events) {
        for (auto const& d : feed_.deliver(event.facts, std::move(event.json))) {
            nlohmann::json subscriptions = nlohmann::json::array();
            for (auto id : d.subscriptions) subscriptions.push_back(std::to_string(id));
            list.push_back({{"connection", d.connection}, {"websocket", std::to_string(d.websocket)},
                            {"subscriptions", subscriptions}});
        }
    }
    return web::response::json(200, response.dump());
}

web::response admin_api::connections(web::request const& request) {
    auto const& path = request.path;
    if (path == "/__admin/connections") {
        if (request.method != "GET") return error_response(405, "method " + request.method + " is not allowed");
        nlohmann::json body;
        body["connections"] = feed_.connections_json();
        return web::response::json(200, body.dump());
    }
    // /__admin/connections/{id}/close
    auto const rest = std::string_view{path}.substr(std::string_view{"/__admin/connections/"}.size());
    auto const slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(slash) != "/close")
        return error_response(404, "no such admin endpoint: " + path, "notFound");
    if (request.method != "POST") return error_response(405, "method " + request.method + " is not allowed");
    std::uint64_t id = 0;
    try {
        id = std::stoull(std::string{rest.substr(0, slash)});
    } catch (...) {
        return error_response(404, "no connection " + std::string{rest.substr(0, slash)}, "notFound");
    }
    web::response error;
    auto const body = admin_body(request, error);
    if (!body) return error;
    // Each field checked for its type first: value() would throw on another
    // type, and convert a number of any size to int.
    auto const field = [&](char const* name) -> nlohmann::json const* {
        auto const it = body->find(name);
        return it == body->end() ? nullptr : &*it;
    };
    auto const* abrupt_field = field("abrupt");
    auto const* code_field = field("code");
    auto const* reason_field = field("reason");
    if (abrupt_field && !abrupt_field->is_boolean()) return error_response(400, "field 'abrupt' must be true or false");
    if (reason_field && !reason_field->is_string()) return error_response(400, "field 'reason' must be a string");
    bool const abrupt = abrupt_field && abrupt_field->get<bool>();
    std::int64_t const code = code_field && code_field->is_number_integer() ? code_field->get<std::int64_t>() : 1000;
    if ((code_field && !code_field->is_number_integer()) ||
        (!abrupt && (code < 1000 || code > 4999 || code == 1005 || code == 1006)))
        return error_response(400, "field 'code' must be a websocket close code from 1000 to 4999");
    std::string const reason = reason_field ? reason_field->get<std::string>() : std::string{};
    if (!feed_.close_connection(id, static_cast<int>(code), reason, abrupt))
        return error_response(404, "no connection " + std::to_string(id), "notFound");
    return web::response::json(200, R"({"closing":true})");
}

web::response admin_api::clock_endpoint(web::request const& request) {
    auto describe = [&] {
        nlohmann::ordered_json body;
        body["virtual"] = steerable_ != nullptr;
        body["scale"] = steerable_ ? steerable_->scale() : 1.0;
        body["now_ms"] = unix_millis(clock_.wall_now());
        body["monotonic_ns"] = clock_.now().time_since_epoch().count();
        return web::response::json(200, body.dump());
    };
    if (request.path == "/__admin/clock") {
        if (request.method != "GET") return error_response(405, "method " + request.method + " is not allowed");
        return describe();
    }
    if (request.method != "POST") return error_response(405, "method " + request.method + " is not allowed");
    if (!steerable_)
        return error_response(409, "the mock runs on the system clock; start it with --clock virtual to move time",
                              "conflict");
    web::response error;
    auto const body = admin_body(request, error);
    if (!body) return error;
    auto const seconds = body->find("seconds");
    if (seconds == body->end() || !seconds->is_number() || seconds->get<double>() < 0)
        return error_response(400, "field 'seconds' must be a number >= 0");
    // The clock stops at the year 2200 (virtual_clock::k_latest_wall); a
    // request to go past it is refused rather than silently cut short.
    auto const room = std::chrono::duration<double>(virtual_clock::k_latest_wall - steerable_->wall_now()).count();
    if (!(seconds->get<double>() <= room))
        return error_response(400, "field 'seconds' would move the clock past the year 2200");
    steerable_->advance(std::chrono::duration_cast<mono_duration>(std::chrono::duration<double>(seconds->get<double>())));
    return describe();
}

}  // namespace harness::mock

namespace harness::mock {

web::response admin_api::scenarios(web::request const& request) {
    if (request.path == "/__admin/scenarios") {
        if (request.method != "GET") return error_response(405, "method " + request.method + " is not allowed");
        nlohmann::ordered_json body;
        auto& list = body["scenarios"] = nlohmann::ordered_json::array();
        for (auto const& name : scenario_names())
            list.push_back({{"name", name}, {"description", scenario_description(name)}});
        return web::response::json(200, body.dump());
    }
    if (request.method != "POST") return error_response(405, "method " + request.method + " is not allowed");
    auto const name = request.path.substr(std::string_view{"/__admin/scenarios/"}.size());
    web::response error;
    auto const body = admin_body(request, error);
    if (!body) return error;
    scenario_request scenario{name, actions_.default_seed, clock_.wall_now()};
    if (auto const seed = body->find("seed"); seed != body->end()) {
        if (!seed->is_number_unsigned()) return error_response(400, "field 'seed' must be a whole number >= 0");
        scenario.seed = seed->get<std::uint64_t>();
    }
    bool immediate = false;
    if (auto const params = body->find("params"); params != body->end()) {
        if (!params->is_object()) return error_response(400, "field 'params' must be an object");
        if (auto const flag = params->find("immediate"); flag != params->end()) {
            if (!flag->is_boolean()) return error_response(400, "field 'params.immediate' must be true or false");
            immediate = flag->get<bool>();
        }
    }
    std::vector<generated_event> events;
    try {
        events = generate_scenario(scenario);
    } catch (std::invalid_argument const& e) {
        return error_response(404, e.what(), "notFound");
    }
    nlohmann::ordered_json response;
    response["scenario"] = name;
    response["seed"] = scenario.seed;
    auto& list = response["events"] = nlohmann::ordered_json::array();
    std::vector<std::pair<subscription_kind, std::string>> payloads;
    std::vector<mono_duration> offsets;
    for (auto& e : events) {
        list.push_back({{"type", to_string(e.family)},
                        {"offset_ms", std::chrono::duration_cast<std::chrono::milliseconds>(e.offset).count()}});
        payloads.emplace_back(e.family, std::move(e.json));
        offsets.push_back(immediate ? mono_duration::zero() : e.offset);
    }
    if (immediate) {
        std::size_t delivered = 0;
        for (auto const& [family, json] : payloads) delivered += feed_.deliver(family, json).size();
        response["delivered"] = delivered;
    } else {
        feed_.play(std::move(payloads), std::move(offsets));
    }
    return web::response::json(200, response.dump());
}

namespace {

// The pacing fields of a replay request; throws replay_error (400).
replay_pacing read_replay_pacing(nlohmann::json const& body) {
    replay_pacing pacing;
    if (auto const speed = body.find("speed"); speed != body.end()) {
        if (speed->is_string()) {
            try {
                pacing.speed = replay::parse_speed(speed->get<std::string>());
            } catch (std::invalid_argument const& e) {
                throw replay_error{400, std::string{"field 'speed': "} + e.what()};
            }
        } else if (speed->is_number() && replay::valid_speed(speed->get<double>())) {
            pacing.speed = speed->get<double>();
        } else {
            throw replay_error{400, "field 'speed' must be a number from 0.001 up or \"max\""};
        }
    }
    if (auto const rebase = body.find("rebase_time"); rebase != body.end()) {
        if (!rebase->is_boolean()) throw replay_error{400, "field 'rebase_time' must be true or false"};
        pacing.rebase_time = rebase->get<bool>();
    }
    if (auto const gap = body.find("max_gap"); gap != body.end() && !gap->is_null()) {
        auto const parsed = gap->is_string() ? cli::parse_duration(gap->get<std::string>()) : std::nullopt;
        if (!parsed || parsed->count() <= 0)
            throw replay_error{400, "field 'max_gap' must be a duration such as \"5s\" or \"250ms\""};
        pacing.max_gap = *parsed;
    }
    return pacing;
}

}  // namespace

// POST /__admin/replay starts one, GET lists them; GET and DELETE
// /__admin/replay/{id} show and cancel one.
web::response admin_api::replays(web::request const& request) {
    if (request.path == "/__admin/replay") {
        if (request.method == "GET") return web::response::json(200, replays_.list_json().dump());
        if (request.method != "POST") {
            auto r = error_response(405, "method " + request.method + " is not allowed on " + request.path);
            r.set_header("Allow", "GET, POST");
            return r;
        }
        web::response error;
        auto const body = admin_body(request, error);
        if (!body) return error;
        std::string archive_path;
        auto const archive = body->find("archive");
        auto const fixture = body->find("fixture");
        if (archive != body->end() && fixture != body->end())
            return error_response(400, "give 'archive' or 'fixture', not both");
        if (fixture != body->end()) {
            if (!fixture->is_string()) return error_response(400, "field 'fixture' must be a fixture's name");
            auto const found = actions_.fixtures.find(fixture->get<std::string>());
            if (!found)
                return error_response(404, "no fixture named '" + fixture->get<std::string>() +
                                               "' (GET /__admin/fixtures lists them)", "notFound");
            archive_path = *found;
        } else {
            if (archive == body->end() || !archive->is_string() || archive->get<std::string>().empty())
                return error_response(400, "field 'archive' must be the path of an archive or a .jsonl session "
                                           "(or give 'fixture': a name from GET /__admin/fixtures)");
            archive_path = archive->get<std::string>();
        }
        std::string session;
        if (auto const s = body->find("session"); s != body->end() && !s->is_null()) {
            if (s->is_number_unsigned())
                session = std::to_string(s->get<std::uint64_t>());
            else if (s->is_string())
                session = s->get<std::string>();
            else
                return error_response(400, "field 'session' must be a session id or name");
        }
        try {
            auto const pacing = read_replay_pacing(*body);
            auto const id = replays_.start(open_replay_source(archive_path, session), pacing);
            return web::response::json(201, replays_.status_json(id)->dump());
        } catch (replay_error const& e) {
            return error_response(e.status(), e.what(), e.status() == 404 ? "notFound" : std::string_view{});
        }
    }
    auto const id_text = request.path.substr(std::string_view{"/__admin/replay/"}.size());
    std::uint64_t id = 0;
    auto const [end, parse_error] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    std::optional<nlohmann::ordered_json> status;
    if (parse_error == std::errc{} && end == id_text.data() + id_text.size()) status = replays_.status_json(id);
    if (!status) return error_response(404, "no replay " + id_text, "notFound");
    if (request.method == "DELETE") {
        replays_.cancel(id);
        return web::response::json(200, replays_.status_json(id)->dump());
    }
    if (request.method != "GET") {
        auto r = error_response(405, "method " + request.method + " is not allowed on " + request.path);
        r.set_header("Allow", "GET, DELETE");
        return r;
    }
    return web::response::json(200, status->dump());
}

}  // namespace harness::mock
