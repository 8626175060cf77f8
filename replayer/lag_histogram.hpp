#pragma once
// Lags behind schedule in bounded memory, however long the session: log
// buckets 1/16 of an octave wide (percentiles within ~4.5%), the maximum
// exact. A million frames cost the same as ten.

#include <chrono>
#include <cstdint>
#include <vector>

namespace harness::replayer {

class lag_histogram {
public:
    void add(std::chrono::nanoseconds lag, std::uint64_t count = 1);
    std::uint64_t count() const { return count_; }
    // The lag at or below which a fraction `p` of the samples fall (0 when empty).
    std::chrono::nanoseconds percentile(double p) const;
    std::chrono::nanoseconds max() const { return max_; }

private:
    static constexpr int k_steps_per_octave = 16;
    static constexpr int k_buckets = 64 * k_steps_per_octave;
    static int bucket_of(std::int64_t ns);
    static std::int64_t upper_bound_of(int bucket);

    // Up to the highest bucket used so far: a client's lags cover a few
    // octaves, and one that is never paced (--speed max) holds none.
    std::vector<std::uint64_t> buckets_;
    std::uint64_t count_ = 0;
    std::chrono::nanoseconds max_{0};
};

}  // namespace harness::replayer
