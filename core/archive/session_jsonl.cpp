#include "core/archive/session_jsonl.hpp"

#include "core/archive/frame_reader.hpp"
#include "core/jwt/base64url.hpp"

#include <nlohmann/json.hpp>

#include <istream>
#include <map>
#include <ostream>

namespace harness::archive {
namespace {

using ordered_json = nlohmann::ordered_json;

// The family of the subscription named like "call:123", if any.
std::optional<model::event_family> family_of_subscription(std::string const& subscription) {
    return model::parse_event_family(subscription.substr(0, subscription.find(':')));
}

template <class T>
ordered_json optional_value(std::optional<T> const& v) {
    return v ? ordered_json(*v) : ordered_json(nullptr);
}

std::string header_line(session_info const& session, std::vector<connection_info> const& connections,
                        std::vector<gap_info> const& gaps, std::map<connection_id, int>& refs) {
    ordered_json header;
    header["dialpad_harness_session"] = k_jsonl_format_version;
    auto& s = header["session"];
    s["name"] = session.name;
    s["source"] = to_string(session.source);
    s["base_url"] = session.base_url;
    s["started_wall_ns"] = session.started_wall_ns;
    s["ended_wall_ns"] = optional_value(session.ended_wall_ns);
    s["metadata"] = ordered_json::parse(session.metadata_json, nullptr, false);
    if (s["metadata"].is_discarded()) s["metadata"] = ordered_json::object();

    auto& list = header["connections"] = ordered_json::array();
    int next_ref = 1;
    for (auto const& c : connections) {
        refs[c.id] = next_ref;
        ordered_json j;
        j["ref"] = next_ref++;
        j["url"] = c.url;
        j["scope"] = to_string(c.scope);
        j["subscription"] = c.subscription;
        j["opened_offset_ns"] = c.opened_offset_ns;
        j["closed_offset_ns"] = optional_value(c.closed_offset_ns);
        j["close_code"] = optional_value(c.close_code);
        j["close_reason"] = c.close_reason;
        j["abrupt"] = c.abrupt;
        j["end_reason"] = c.ended_by ? ordered_json(to_string(*c.ended_by)) : ordered_json(nullptr);
        list.push_back(std::move(j));
    }
    auto& gap_list = header["gaps"] = ordered_json::array();
    for (auto const& g : gaps) {
        ordered_json j;
        j["start_offset_ns"] = g.start_offset_ns;
        j["end_offset_ns"] = optional_value(g.end_offset_ns);
        j["reason"] = g.reason;
        gap_list.push_back(std::move(j));
    }
    return header.dump();
}

// `as_base64` is for frames whose bytes are not UTF-8, which a JSON string
// cannot hold.
std::string frame_line(frame_record const& frame, int connection_ref, bool as_base64 = false) {
    ordered_json j;
    j["conn"] = connection_ref;
    j["kind"] = to_string(frame.kind);
    j["offset_ns"] = frame.offset_ns;
    j["wall_ns"] = frame.wall_ns;
    if (as_base64)
        j["text_base64"] = jwt::base64url_encode(frame.text);
    else
        j["text"] = frame.text;
    if (frame.index && frame.index->is_jwt && frame.index->signature != model::signature_check::unchecked)
        j["signature"] = model::to_string(frame.index->signature);
    try {
        return j.dump();
    } catch (nlohmann::json::type_error const&) {  // invalid UTF-8
        if (as_base64) throw;
        return frame_line(frame, connection_ref, true);
    }
}

// Reads a field of an import line with a message that names it.
class line_reader {
public:
    line_reader(std::string const& input_name, std::size_t line_number)
        : where_{input_name + ":" + std::to_string(line_number) + ": "} {}

    [[noreturn]] void fail(std::string const& message) const { throw archive_error{where_ + message}; }

    nlohmann::json parse(std::string const& line) const {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded()) fail("not valid JSON");
        if (!j.is_object()) fail("expected a JSON object");
        return j;
    }
    nlohmann::json const& field(nlohmann::json const& j, char const* name) const {
        auto const it = j.find(name);
        if (it == j.end()) fail(std::string{"missing field '"} + name + "'");
        return *it;
    }
    std::string string(nlohmann::json const& j, char const* name) const {
        auto const& v = field(j, name);
        if (!v.is_string()) fail(std::string{"field '"} + name + "' must be a string");
        return v.get<std::string>();
    }
    std::int64_t integer(nlohmann::json const& j, char const* name) const {
        auto const& v = field(j, name);
        if (!v.is_number_integer()) fail(std::string{"field '"} + name + "' must be an integer");
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
            fail(std::string{"field '"} + name + "' is out of range");
        return v.get<std::int64_t>();
    }
    std::optional<std::int64_t> optional_integer(nlohmann::json const& j, char const* name) const {
        if (field(j, name).is_null()) return std::nullopt;
        return integer(j, name);
    }
    bool boolean(nlohmann::json const& j, char const* name) const {
        auto const& v = field(j, name);
        if (!v.is_boolean()) fail(std::string{"field '"} + name + "' must be true or false");
        return v.get<bool>();
    }
    template <class Enum>
    Enum choice(nlohmann::json const& j, char const* name, std::optional<Enum> (*parse)(std::string_view)) const {
        auto const text = string(j, name);
        auto const value = parse(text);
        if (!value) fail(std::string{"field '"} + name + "' has an unknown value '" + text + "'");
        return *value;
    }

private:
    std::string where_;
};

}  // namespace

void export_session(archive const& source, session_id id, std::ostream& out) {
    auto const session = source.session(id);
    if (!session) throw archive_error{source.path() + ": no session with id " + std::to_string(id)};
    std::map<connection_id, int> refs;
    out << header_line(*session, source.connections(id), source.gaps(id), refs) << '\n';
    frame_reader reader{source.path(), id};
    while (auto frame = reader.next()) out << frame_line(*frame, refs.at(frame->connection)) << '\n';
    if (!out) throw archive_error{"writing the export failed"};
}

session_id import_session(archive& target, std::istream& in, std::string const& input_name) {
    archive::transaction transaction{target};
    std::string line;
    std::size_t line_number = 0;

    // Header.
    while (line.empty()) {
        if (!std::getline(in, line)) throw archive_error{input_name + ": empty file, no session header"};
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
    }
    line_reader header_reader{input_name, line_number};
    auto const header = header_reader.parse(line);
    auto const& format = header_reader.field(header, "dialpad_harness_session");
    // Read at full width: get<int>() would wrap 4294967297 to 1.
    if (!format.is_number_integer() || format.get<std::int64_t>() != k_jsonl_format_version)
        header_reader.fail("not a session header of format version " + std::to_string(k_jsonl_format_version));

    auto const& s = header_reader.field(header, "session");
    if (!s.is_object()) header_reader.fail("field 'session' must be an object");
    session_info session;
    session.name = header_reader.string(s, "name");
    session.source = header_reader.choice(s, "source", &parse_session_source);
    session.base_url = header_reader.string(s, "base_url");
    session.started_wall_ns = header_reader.integer(s, "started_wall_ns");
    session.ended_wall_ns = header_reader.optional_integer(s, "ended_wall_ns");
    auto const& metadata = header_reader.field(s, "metadata");
    if (!metadata.is_object()) header_reader.fail("field 'metadata' must be an object");
    // Keep the metadata's key order: parse again as ordered.
    session.metadata_json = ordered_json::parse(line, nullptr, false)["session"]["metadata"].dump();
    auto const id = target.create_session(session);

    struct imported_connection {
        connection_id id;
        std::optional<model::event_family> family;
    };
    std::map<std::int64_t, imported_connection> connections;
    auto const& connection_list = header_reader.field(header, "connections");
    if (!connection_list.is_array()) header_reader.fail("field 'connections' must be an array");
    for (auto const& c : connection_list) {
        if (!c.is_object()) header_reader.fail("each connection must be an object");
        connection_info info;
        info.session = id;
        auto const ref = header_reader.integer(c, "ref");
        info.url = header_reader.string(c, "url");
        info.scope = header_reader.choice(c, "scope", &parse_token_scope);
        info.subscription = header_reader.string(c, "subscription");
        info.opened_offset_ns = header_reader.integer(c, "opened_offset_ns");
        info.closed_offset_ns = header_reader.optional_integer(c, "closed_offset_ns");
        if (auto code = header_reader.optional_integer(c, "close_code")) info.close_code = static_cast<int>(*code);
        info.close_reason = header_reader.string(c, "close_reason");
        info.abrupt = header_reader.boolean(c, "abrupt");
        if (!header_reader.field(c, "end_reason").is_null())
            info.ended_by = header_reader.choice(c, "end_reason", &parse_end_reason);
        if (connections.contains(ref)) header_reader.fail("connection ref " + std::to_string(ref) + " repeats");
        connections[ref] = {target.add_connection(info), family_of_subscription(info.subscription)};
    }
    auto const& gap_list = header_reader.field(header, "gaps");
    if (!gap_list.is_array()) header_reader.fail("field 'gaps' must be an array");
    for (auto const& g : gap_list) {
        if (!g.is_object()) header_reader.fail("each gap must be an object");
        target.add_gap(id, {header_reader.integer(g, "start_offset_ns"), header_reader.optional_integer(g, "end_offset_ns"),
                            header_reader.string(g, "reason")});
    }

    // Frames.
    while (std::getline(in, line)) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        line_reader reader{input_name, line_number};
        auto const j = reader.parse(line);
        auto const ref = reader.integer(j, "conn");
        auto const connection = connections.find(ref);
        if (connection == connections.end())
            reader.fail("frame names connection " + std::to_string(ref) + ", which the header does not list");
        frame_record frame;
        frame.connection = connection->second.id;
        frame.kind = reader.choice(j, "kind", &parse_frame_kind);
        frame.offset_ns = reader.integer(j, "offset_ns");
        frame.wall_ns = reader.integer(j, "wall_ns");
        if (j.contains("text_base64")) {
            auto bytes = jwt::base64url_decode(reader.string(j, "text_base64"));
            if (!bytes) reader.fail("field 'text_base64' is not base64url");
            frame.text = std::move(*bytes);
        } else {
            frame.text = reader.string(j, "text");
        }
        if (frame.kind == frame_kind::event) {
            frame.index = model::index_event(frame.text, {connection->second.family, std::nullopt});
            if (j.contains("signature")) {
                auto const check = reader.choice(j, "signature", &model::parse_signature_check);
                if (frame.index->is_jwt) frame.index->signature = check;
            }
        }
        target.add_frame(id, frame);
    }
    if (in.bad()) throw archive_error{input_name + ": reading failed"};
    transaction.commit();
    return id;
}

}  // namespace harness::archive
