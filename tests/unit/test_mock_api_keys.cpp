// mockserver/api_keys: the specs of --api-key, --api-keys-file and
// DIALPAD_MOCK_API_KEYS, and which keys may be printed.

#include "mockserver/api_keys.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace harness::mock;

TEST_CASE("mock api_keys: a keys list splits on whitespace and commas and skips comments") {
    auto const keys = api_keys::parse_unlisted("# the team's keys\n  one@acme, two\r\n\tthree@beta # ci\n,,\n");
    REQUIRE(keys.size() == 3);
    CHECK(keys[0].key == "one");
    CHECK(keys[0].company == "acme");
    CHECK(keys[1].key == "two");
    CHECK(keys[1].company == k_default_company);
    CHECK(keys[2].company == "beta");
    for (auto const& key : keys) CHECK_FALSE(key.listed);
    CHECK(api_keys::parse_unlisted("").empty());
    CHECK(api_keys::parse_unlisted("# only a comment").empty());
}

TEST_CASE("mock api_keys: a bad spec in a list is refused without quoting it") {
    try {
        api_keys::parse_unlisted("good, hidden-key@");
        FAIL("a key without its company was accepted");
    } catch (std::invalid_argument const& e) {
        CHECK(std::string{e.what()}.find("needs a company") != std::string::npos);
        CHECK(std::string{e.what()}.find("hidden-key") == std::string::npos);
    }
    CHECK_THROWS_AS(api_keys::parse_unlisted("@acme"), std::invalid_argument);
}

TEST_CASE("mock api_keys: only listed keys are listed, every key is accepted") {
    auto unlisted = api_keys::parse_unlisted("private@acme");
    std::vector<api_key> all{api_keys::parse("public")};
    all.push_back(unlisted.front());
    api_keys const keys{all};
    CHECK(keys.listed_keys() == std::vector<std::string>{"public"});
    CHECK(keys.company_of("private") == "acme");
    CHECK(keys.company_of("public") == std::string{k_default_company});
    CHECK_FALSE(keys.company_of("privat").has_value());
}
