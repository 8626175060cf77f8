#pragma once
// The SHA-256 that proves two runs delivered the same frames: a digest over
// the SHA-256 of each frame's payload, in order. Per-frame hashes are made
// once, when a chunk of the session is loaded, so a thousand clients cost a
// thousand 32-byte updates per frame, not a thousand passes over its bytes.

#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace harness::replayer {

inline constexpr std::size_t k_frame_hash_size = 32;

// Appends SHA-256(payload) (32 bytes) to `out`.
void append_frame_hash(std::string& out, std::string_view payload);

class sequence_digest {
public:
    sequence_digest();
    ~sequence_digest();
    sequence_digest(sequence_digest const&) = delete;
    sequence_digest& operator=(sequence_digest const&) = delete;

    // Adds frames by their hashes (k_frame_hash_size bytes each, in order).
    void add_hashes(std::string_view hashes);
    std::string hex() const;

private:
    evp_md_ctx_st* context_;
};

}  // namespace harness::replayer
