// The main() of a fuzz target built without libFuzzer: runs every file
// named on the command line, or found under a named folder, once through
// LLVMFuzzerTestOneInput. tests/ runs it over fuzz/seeds/<target> and
// fuzz/regressions/<target>, so an input that once crashed keeps being
// tried in the ordinary and sanitizer builds. A finding aborts, failing
// the test; a folder that does not exist is skipped (a target may have no
// regressions yet), but at least one input must run.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs_under(fs::path const& path) {
    std::vector<fs::path> found;
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
        found.push_back(path);
    } else if (fs::is_directory(path, ec)) {
        for (auto const& entry : fs::recursive_directory_iterator{path})
            if (entry.is_regular_file() && entry.path().filename().string().front() != '.') found.push_back(entry.path());
        std::sort(found.begin(), found.end());  // the same order every run
    } else {
        std::cerr << "skipped (not there): " << path.string() << '\n';
    }
    return found;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t runs = 0;
    for (int i = 1; i < argc; ++i) {
        for (auto const& file : inputs_under(argv[i])) {
            std::ifstream in{file, std::ios::binary};
            std::string const bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
            if (!in.good() && !in.eof()) {
                std::cerr << "cannot read " << file.string() << '\n';
                return 1;
            }
            std::cerr << "running " << file.string() << " (" << bytes.size() << " bytes)\n";
            // A copy of exactly `size` bytes, so ASan sees a read past the end.
            std::vector<std::uint8_t> const copy{bytes.begin(), bytes.end()};
            LLVMFuzzerTestOneInput(copy.data(), copy.size());
            ++runs;
        }
    }
    std::cerr << runs << " inputs ran\n";
    return runs > 0 ? 0 : 1;
}
