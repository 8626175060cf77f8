#include "core/cli/option_parser.hpp"

#include <doctest/doctest.h>

#include <vector>

using harness::cli::option_parser;
using harness::cli::usage_error;

namespace {

option_parser make_parser() {
    option_parser parser{"tool", "[options] FILE", "Does a thing."};
    parser.flag("verbose", "Say more.")
        .value("port", "N", "Port to listen on.", "8088")
        .repeated("api-key", "KEY", "An accepted key.")
        .positional("FILE", "The input.", 1);
    return parser;
}

harness::cli::parsed_args parse(option_parser const& parser, std::vector<char const*> args) {
    return parser.parse(args);
}

}  // namespace

TEST_CASE("cli::option_parser: values, flags, repeats and positionals") {
    auto const parser = make_parser();
    auto const args = parse(parser, {"--verbose", "--port", "0", "--api-key=a", "--api-key", "b", "in.db"});
    CHECK(args.has("verbose"));
    CHECK(args.value("port") == "0");
    CHECK(args.values("api-key") == std::vector<std::string>{"a", "b"});
    CHECK(args.positional() == std::vector<std::string>{"in.db"});
    CHECK_FALSE(args.has("missing"));
    CHECK_FALSE(args.value("verbose-not").has_value());
}

TEST_CASE("cli::option_parser: the last value of a single option wins; '--' ends options") {
    auto const parser = make_parser();
    auto const args = parse(parser, {"--port=1", "--port=2", "--", "--verbose"});
    CHECK(args.value("port") == "2");
    CHECK_FALSE(args.has("verbose"));
    CHECK(args.positional() == std::vector<std::string>{"--verbose"});
}

TEST_CASE("cli::option_parser: an empty value is a value") {
    auto const parser = make_parser();
    auto const args = parse(parser, {"--port="});
    CHECK(args.value("port") == "");
}

TEST_CASE("cli::option_parser: mistakes are usage errors that name the argument") {
    auto const parser = make_parser();
    CHECK_THROWS_WITH_AS(parse(parser, {"--nope"}), "unknown option '--nope'", usage_error);
    CHECK_THROWS_WITH_AS(parse(parser, {"-v"}), "unknown option '-v' (options are long: --name)", usage_error);
    CHECK_THROWS_WITH_AS(parse(parser, {"--port"}), "option '--port' needs a value (N)", usage_error);
    CHECK_THROWS_WITH_AS(parse(parser, {"--verbose=1"}), "option '--verbose' takes no value", usage_error);
    CHECK_THROWS_WITH_AS(parse(parser, {"a", "b"}), "too many arguments at 'b'", usage_error);

    option_parser no_positionals{"tool", "[options]", "x"};
    CHECK_THROWS_WITH_AS(no_positionals.parse(std::vector<char const*>{"stray"}), "unexpected argument 'stray'",
                         usage_error);
}

TEST_CASE("cli::option_parser: help lists every option with its default") {
    auto const help = make_parser().help();
    CHECK(help.starts_with("Usage: tool [options] FILE\n"));
    CHECK(help.find("--port N") != std::string::npos);
    CHECK(help.find("(default: 8088)") != std::string::npos);
    CHECK(help.find("--api-key KEY (repeatable)") != std::string::npos);
    CHECK(help.find("FILE\n      The input.") != std::string::npos);
}
