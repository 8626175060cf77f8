#pragma once
// Pseudonymisation of Dialpad events, for `dialpad-record --redact` and
// `dialpad-replay redact`: phone numbers, e-mail addresses and names are
// replaced by fake values derived from HMAC-SHA256 under a secret key, so an
// archive can be shared while the call graph stays intact. The same original
// value always maps to the same fake under one key (a caller's number is the
// same fake number in every leg, frame and field), and without the key the
// small space of phone numbers cannot be searched to undo the mapping.
//
// The event is parsed and re-serialised compactly: keys keep their order,
// integer ids keep every digit, but whitespace and \u escapes of the original
// bytes are not kept (only redacted frames are affected).

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace harness::redact {

// Which kinds of personal data to replace.
struct redact_rules {
    bool phones = true;
    bool emails = true;
    bool names = true;
};

// "" or "all" -> everything; otherwise a comma list of phones, emails, names
// (e.g. "phones,emails"). nullopt for anything else, empty items included.
std::optional<redact_rules> parse_redact_rules(std::string_view text);

class redact_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class redactor {
public:
    // `key`: the HMAC-SHA256 key bytes. It stays in memory and is never
    // written anywhere. Throws std::invalid_argument when empty (an unkeyed
    // hash of a phone number is reversed by trying every number).
    redactor(std::string key, redact_rules rules);

    // A fresh key of 32 bytes from OpenSSL's RAND_bytes: the mapping holds
    // for this object's lifetime only.
    static redactor with_random_key(redact_rules rules);

    // The event JSON object with personal data replaced. Throws redact_error
    // when the text is not a JSON object.
    std::string redact_event_json(std::string_view json) const;

    // A frame as delivered: plain event JSON, or a compact JWS (HS256) whose
    // payload is the event. A JWT is decoded, its payload redacted, and
    // re-signed with `secret` under the same header bytes. A frame whose
    // signature did not verify with `secret` comes out with a broken
    // signature too, so redaction never turns a forged or corrupted frame
    // into a valid one. Throws redact_error for a JWT without a secret, a JWT
    // that is not HS256 or not decodable, and a payload that is not an object.
    std::string redact_frame(std::string_view frame, std::optional<std::string> const& secret) const;

    redact_rules const& rules() const { return rules_; }

private:
    std::string key_;
    redact_rules rules_;
};

}  // namespace harness::redact
