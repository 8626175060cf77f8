// `dialpad-replay serve --filter` expressions (replayer/filter_expression),
// one per line. Each list parses or is refused with std::invalid_argument;
// what parses keeps its promises: a call id above 0, a window whose end
// comes after its start, only named families.

#include "fuzz/fuzz_support.hpp"
#include "replayer/filter_expression.hpp"

#include <stdexcept>

using namespace harness;

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const expressions = fuzz::lines_of(fuzz::as_text(data, size));
    archive::frame_filter filter;
    try {
        filter = replayer::parse_filter_expressions(expressions);
    } catch (std::invalid_argument const&) {
        return 0;  // refused with a message: what a bad --filter should get
    }
    if (filter.call_id && *filter.call_id <= 0) fuzz::finding("a call id of 0 or less was accepted");
    if (filter.from_offset_ns && *filter.from_offset_ns < 0) fuzz::finding("a negative window start was accepted");
    if (filter.to_offset_ns && *filter.to_offset_ns < 0) fuzz::finding("a negative window end was accepted");
    if (filter.from_offset_ns && filter.to_offset_ns && *filter.to_offset_ns <= *filter.from_offset_ns)
        fuzz::finding("a window ending before it starts was accepted");
    if (filter.families.contains(model::event_family::unknown)) fuzz::finding("family 'unknown' was accepted");
    return 0;
}
