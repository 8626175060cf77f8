#include "core/redact/redactor.hpp"

#include "core/jwt/base64url.hpp"
#include "core/jwt/jwt.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <nlohmann/json.hpp>

#include <array>
#include <utility>

namespace harness::redact {
namespace {

using json = nlohmann::ordered_json;
using digest = std::array<unsigned char, 32>;

// Deeper than any Dialpad event (about 4 levels); the walk below and
// nlohmann's dump both recurse, so a hostile frame must not reach them.
constexpr int k_max_depth = 256;

enum class field_kind { other, phone, email, person_name, given_name, company_name };

// Keys whose values are personal, at any depth, from the event families in
// dialpad-api.md §1:
// - call: external_number, internal_number, selected_caller_id; target,
//   contact, entry_point_target, proxy_target and transferred_from carry
//   name, email, phone.
// - sms: from_number, to_number (an array), target/contact/admins[] with
//   name and phone_number (target's is formatted, "(415) 555-0111");
//   contact.id may be a Google-contacts URL holding an address, caught by
//   the embedded-address scan below.
// - contact: first_name, last_name, display_name, company_name, phones,
//   primary_phone, emails, primary_email.
// - agent_status: target.name, target.email, target.phone_number (the doc's
//   sample says target.phone).
// - changelog: changed_by.name, additional_data.name/email/operator_name,
//   additional_data {"0": "<email>"}, and the note's "PROXYING AS <email>"
//   prefix (embedded address).
// Plus generic names a consumer or a future family may use (phone_numbers,
// to_numbers, caller_id, number, full_name, contact_name, caller_name).
// Free text (SMS text, transcriptions, Ai recaps, custom_data) is not
// rewritten beyond whole E.164 values and embedded addresses.
field_kind kind_of_key(std::string_view key) {
    static constexpr std::string_view phone_keys[] = {
        "external_number", "internal_number", "selected_caller_id",
        "caller_id",       "from_number",     "to_number",
        "to_numbers",      "phone",           "phone_number",
        "phone_numbers",   "phones",          "primary_phone",
        "number"};
    static constexpr std::string_view email_keys[] = {"email", "emails", "primary_email"};
    static constexpr std::string_view person_keys[] = {"name",         "display_name", "full_name",
                                                       "contact_name", "caller_name",  "operator_name"};
    static constexpr std::string_view given_keys[] = {"first_name", "last_name"};
    auto const among = [key](auto const& keys) {
        for (auto const k : keys)
            if (k == key) return true;
        return false;
    };
    if (among(phone_keys)) return field_kind::phone;
    if (among(email_keys)) return field_kind::email;
    if (among(person_keys)) return field_kind::person_name;
    if (among(given_keys)) return field_kind::given_name;
    if (key == "company_name") return field_kind::company_name;
    return field_kind::other;
}

digest hmac_sha256(std::string_view key, std::string_view message) {
    digest out{};
    unsigned int length = 0;
    auto const* result =
        HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<unsigned char const*>(message.data()), message.size(), out.data(), &length);
    if (!result || length != out.size()) throw redact_error{"HMAC-SHA256 failed"};
    return out;
}

std::string hex_prefix(digest const& bytes, std::size_t chars) {
    static constexpr std::string_view k_hex = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < chars; ++i) {
        auto const byte = bytes[i / 2];
        out += k_hex[i % 2 == 0 ? byte >> 4 : byte & 0x0f];
    }
    return out;
}

// Decimal digits drawn from HMAC(key, message), then from HMAC(key, previous
// block) when a formatted number has more digits than one block gives.
class digit_stream {
public:
    digit_stream(std::string_view key, std::string_view message)
        : key_{key}, block_{hmac_sha256(key, message)} {}

    char next() {
        for (;;) {
            if (used_ == block_.size()) {
                block_ = hmac_sha256(key_, {reinterpret_cast<char const*>(block_.data()), block_.size()});
                used_ = 0;
            }
            auto const byte = block_[used_++];
            // 250 = 25 * 10: keeping bytes above it would favour digits 0-5.
            if (byte < 250) return static_cast<char>('0' + byte % 10);
        }
    }

private:
    std::string_view key_;
    digest block_;
    std::size_t used_ = 0;
};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// "+" then 8 to 15 digits (ITU-T E.164 allows 15; 8 leaves out short codes).
bool is_e164(std::string_view text) {
    if (text.size() < 9 || text.size() > 16 || text[0] != '+') return false;
    for (char c : text.substr(1))
        if (!is_digit(c)) return false;
    return true;
}

bool is_local_char(char c) {
    return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '+' || c == '-';
}
bool is_domain_char(char c) {
    return is_alpha(c) || is_digit(c) || c == '.' || c == '-';
}

// At least two non-empty labels and an alphabetic top-level label, so
// "a@b" and "version@2" are not taken for addresses.
bool is_domain(std::string_view domain) {
    auto const last_dot = domain.rfind('.');
    if (last_dot == std::string_view::npos || domain.front() == '.') return false;
    if (domain.find("..") != std::string_view::npos) return false;
    auto const top = domain.substr(last_dot + 1);
    if (top.size() < 2) return false;
    for (char c : top)
        if (!is_alpha(c)) return false;
    return true;
}

struct address_span {
    std::size_t begin;
    std::size_t end;
    std::string_view separator;  // "@", or "%40" inside a URL (Google-contacts ids)
    std::string address;         // local@domain, whichever separator was used
};

std::optional<address_span> find_address(std::string_view text, std::size_t from) {
    for (auto at = from; at < text.size(); ++at) {
        std::string_view separator;
        if (text[at] == '@')
            separator = text.substr(at, 1);
        else if (text.substr(at, 3) == "%40")
            separator = text.substr(at, 3);
        else
            continue;
        auto begin = at;
        while (begin > from && is_local_char(text[begin - 1])) --begin;
        while (begin < at && text[begin] == '.') ++begin;
        auto const domain_begin = at + separator.size();
        auto end = domain_begin;
        while (end < text.size() && is_domain_char(text[end])) ++end;
        while (end > domain_begin && (text[end - 1] == '.' || text[end - 1] == '-')) --end;
        auto const domain = text.substr(domain_begin, end - domain_begin);
        if (begin < at && is_domain(domain)) {
            // Addresses are compared without case (domains are, and mailbox
            // providers treat local parts so), so Sam@ and sam@ share a fake.
            auto address = std::string{text.substr(begin, at - begin)} + '@' + std::string{domain};
            for (auto& c : address)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            return address_span{begin, end, separator, std::move(address)};
        }
    }
    return std::nullopt;
}

// Rewrites one parsed event in place.
class event_rewriter {
public:
    event_rewriter(std::string_view key, redact_rules rules) : key_{key}, rules_{rules} {}

    void visit(json& value, field_kind kind, int depth) {
        if (depth > k_max_depth) throw redact_error{"the event is nested too deeply"};
        if (value.is_object()) {
            for (auto it = value.begin(); it != value.end(); ++it)
                visit(it.value(), kind_of_key(it.key()), depth + 1);
        } else if (value.is_array()) {
            // A list under a personal key (to_number, phones, emails) is a
            // list of personal values.
            for (auto& element : value) visit(element, kind, depth + 1);
        } else if (value.is_string()) {
            rewrite(value.get_ref<std::string&>(), kind);
        }
    }

private:
    void rewrite(std::string& text, field_kind kind) {
        // "" is how Dialpad says "none" (e.g. a department's email).
        if (text.empty()) return;
        bool const names = kind == field_kind::person_name || kind == field_kind::given_name ||
                           kind == field_kind::company_name;
        if (kind == field_kind::phone && rules_.phones)
            text = fake_phone(text);
        else if (kind == field_kind::email && rules_.emails)
            text = fake_email_field(text);
        else if (names && rules_.names)
            text = fake_name(text, kind);
        // Any other string, or a personal key whose rule is off.
        else if (rules_.phones && is_e164(text))
            text = fake_phone(text);
        else if (rules_.emails)
            text = replace_addresses(text);
    }

    // E.164 keeps "+", its first digit (the country code's lead, so the
    // region stays plausible) and its length; a formatted number keeps its
    // punctuation. Every other digit comes from the HMAC.
    std::string fake_phone(std::string const& original) const {
        digit_stream digits{key_, "phone:" + original};
        auto const keep_first = is_e164(original);
        std::string out = original;
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (!is_digit(out[i]) || (keep_first && i == 1)) continue;
            out[i] = digits.next();
        }
        return out;
    }

    std::string fake_address(std::string const& address, std::string_view separator) const {
        return "user-" + hex_prefix(hmac_sha256(key_, "email:" + address), 10) + std::string{separator} +
               "example.com";
    }

    // Addresses inside a longer string are replaced one by one, so the same
    // address gets the same fake whether it stands alone or in a note.
    std::string replace_addresses(std::string const& text) const {
        std::string out;
        std::size_t done = 0;
        while (auto span = find_address(text, done)) {
            out.append(text, done, span->begin - done);
            out += fake_address(span->address, span->separator);
            done = span->end;
        }
        if (done == 0) return text;
        out.append(text, done);
        return out;
    }

    // The value of an email key is personal even when it is not an address.
    std::string fake_email_field(std::string const& text) const {
        if (find_address(text, 0)) return replace_addresses(text);
        return fake_address(text, "@");
    }

    std::string fake_name(std::string const& original, field_kind kind) const {
        std::string_view const prefix = kind == field_kind::given_name     ? "Name "
                                        : kind == field_kind::company_name ? "Company "
                                                                           : "Person ";
        return std::string{prefix} + hex_prefix(hmac_sha256(key_, "name:" + original), 8);
    }

    std::string_view key_;
    redact_rules rules_;
};

// Flips a bit of the token's signature: the frame stays a well-formed JWT
// that fails verification, as the original did.
std::string with_broken_signature(std::string const& token) {
    auto const dot = token.rfind('.');
    auto signature = jwt::base64url_decode(std::string_view{token}.substr(dot + 1)).value();
    signature[0] = static_cast<char>(signature[0] ^ 0x01);
    return token.substr(0, dot + 1) + jwt::base64url_encode(signature);
}

}  // namespace

std::optional<redact_rules> parse_redact_rules(std::string_view text) {
    if (text.empty() || text == "all") return redact_rules{};
    redact_rules rules{false, false, false};
    for (std::size_t start = 0;;) {
        auto const comma = text.find(',', start);
        auto const item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
        if (item == "phones")
            rules.phones = true;
        else if (item == "emails")
            rules.emails = true;
        else if (item == "names")
            rules.names = true;
        else
            return std::nullopt;
        if (comma == std::string_view::npos) return rules;
        start = comma + 1;
    }
}

redactor::redactor(std::string key, redact_rules rules) : key_{std::move(key)}, rules_{rules} {
    if (key_.empty()) throw std::invalid_argument{"the redaction key must not be empty"};
}

redactor redactor::with_random_key(redact_rules rules) {
    std::string key(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
        throw redact_error{"could not draw a random redaction key"};
    return redactor{std::move(key), rules};
}

std::string redactor::redact_event_json(std::string_view text) const {
    auto event = json::parse(text, nullptr, false);
    if (event.is_discarded() || !event.is_object()) throw redact_error{"the event is not a JSON object"};
    event_rewriter{key_, rules_}.visit(event, field_kind::other, 0);
    return event.dump();
}

std::string redactor::redact_frame(std::string_view frame, std::optional<std::string> const& secret) const {
    if (!jwt::looks_like_jwt(frame)) return redact_event_json(frame);
    if (!secret) throw redact_error{"cannot re-sign a JWT frame without the websocket secret"};
    auto const decoded = jwt::decode(frame);
    if (!decoded) throw redact_error{"the frame looks like a JWT but does not decode"};
    if (decoded->alg != jwt::to_string(jwt::algorithm::hs256))
        throw redact_error{"the JWT frame is signed with " + decoded->alg +
                           "; only HS256 frames can be re-signed"};
    auto const was_valid = jwt::verify_hs256(frame, *secret) == jwt::verdict::valid;
    auto token = jwt::sign_hs256(decoded->header_json, redact_event_json(decoded->payload), *secret);
    return was_valid ? token : with_broken_signature(token);
}

}  // namespace harness::redact
