#include "replayer/lag_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace harness::replayer {

int lag_histogram::bucket_of(std::int64_t ns) {
    if (ns <= 1) return 0;
    // The octave from the highest bit, the step from the next four bits.
    auto const value = static_cast<std::uint64_t>(ns);
    int const octave = 63 - std::countl_zero(value);
    int const step = octave >= 4 ? static_cast<int>((value >> (octave - 4)) & 15) : static_cast<int>((value << (4 - octave)) & 15);
    return std::min(octave * k_steps_per_octave + step, k_buckets - 1);
}

std::int64_t lag_histogram::upper_bound_of(int bucket) {
    int const octave = bucket / k_steps_per_octave;
    int const step = bucket % k_steps_per_octave;
    return static_cast<std::int64_t>(std::ldexp(1.0 + double(step + 1) / k_steps_per_octave, octave)) - 1;
}

void lag_histogram::add(std::chrono::nanoseconds lag, std::uint64_t count) {
    if (count == 0) return;
    auto const ns = std::max<std::int64_t>(0, lag.count());
    auto const bucket = static_cast<std::size_t>(bucket_of(ns));
    if (bucket >= buckets_.size()) buckets_.resize(bucket + 1);
    buckets_[bucket] += count;
    count_ += count;
    max_ = std::max(max_, std::chrono::nanoseconds{ns});
}

std::chrono::nanoseconds lag_histogram::percentile(double p) const {
    if (count_ == 0) return std::chrono::nanoseconds{0};
    auto const rank = static_cast<std::uint64_t>(std::ceil(p * double(count_)));
    std::uint64_t seen = 0;
    for (int b = 0; b < static_cast<int>(buckets_.size()); ++b) {
        seen += buckets_[static_cast<std::size_t>(b)];
        if (seen >= std::max<std::uint64_t>(rank, 1))
            return std::min(std::chrono::nanoseconds{b == 0 ? 1 : upper_bound_of(b)}, max_);
    }
    return max_;
}

}  // namespace harness::replayer
