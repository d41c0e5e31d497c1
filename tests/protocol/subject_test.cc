// Subject validation and matching against the nats-server rules (core-protocol.md §6, sublist.go).
#include "engine/protocol/subject.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

namespace {

using herald::protocol::is_valid_literal_subject;
using herald::protocol::is_valid_queue_name;
using herald::protocol::is_valid_subject;
using herald::protocol::subject_has_wildcard;
using herald::protocol::subject_is_subset;
using herald::protocol::subject_matches;
using herald::protocol::subject_token_count;
using herald::protocol::TokenReader;

std::vector<std::string> tokens_of(std::string_view subject) {
    std::vector<std::string> tokens;
    TokenReader reader(subject);
    while (!reader.done()) tokens.emplace_back(reader.next());
    return tokens;
}

}  // namespace

TEST_CASE("subject: the token reader yields every token, empty ones included", "[protocol][subject]") {
    CHECK(tokens_of("foo") == std::vector<std::string>{"foo"});
    CHECK(tokens_of("foo.bar.>") == std::vector<std::string>{"foo", "bar", ">"});
    CHECK(tokens_of("a..b") == std::vector<std::string>{"a", "", "b"});
    CHECK(tokens_of(".a.") == std::vector<std::string>{"", "a", ""});
    CHECK(tokens_of("") == std::vector<std::string>{""});
    CHECK(subject_token_count("a.b.c") == 3);
    CHECK(subject_token_count("") == 1);
    TokenReader reader("a.b.c");
    CHECK(reader.next() == "a");
    CHECK(reader.rest() == "b.c");
}

TEST_CASE("subject: valid subjects have non-empty tokens, no whitespace and '>' last", "[protocol][subject]") {
    for (const char* subject : {"foo", "foo.bar", "*", ">", "foo.*", "foo.>", "*.*.>", "foo*.bar",
                                "a>b", "foo.>bar", "$JS.API.STREAM.CREATE.ORDERS", "_INBOX.abc",
                                "ü.ñ", "foo.*.bar"}) {
        INFO(subject);
        CHECK(is_valid_subject(subject));
    }
    for (const char* subject : {"", ".", "foo.", ".foo", "foo..bar", ">.foo", "foo.>.bar", "foo.>.*",
                                "foo bar", "foo\tbar", "foo\rbar", "foo\nbar", "foo\fbar", " ",
                                "foo. .bar", "foo.>."}) {
        INFO(subject);
        CHECK_FALSE(is_valid_subject(subject));
    }
}

TEST_CASE("subject: a literal subject is valid and has no wildcard token", "[protocol][subject]") {
    CHECK(is_valid_literal_subject("foo.bar"));
    CHECK(is_valid_literal_subject("foo*.b>r"));
    CHECK_FALSE(is_valid_literal_subject("foo.*"));
    CHECK_FALSE(is_valid_literal_subject("foo.>"));
    CHECK_FALSE(is_valid_literal_subject("*"));
    CHECK_FALSE(is_valid_literal_subject("foo..bar"));
    CHECK_FALSE(is_valid_literal_subject(""));
    CHECK_FALSE(is_valid_literal_subject("foo bar"));
}

TEST_CASE("subject: only whole '*' and '>' tokens are wildcards", "[protocol][subject]") {
    CHECK(subject_has_wildcard("*"));
    CHECK(subject_has_wildcard(">"));
    CHECK(subject_has_wildcard("foo.*"));
    CHECK(subject_has_wildcard("*.foo"));
    CHECK(subject_has_wildcard("foo.*.bar"));
    CHECK(subject_has_wildcard("foo.>"));
    CHECK_FALSE(subject_has_wildcard("foo"));
    CHECK_FALSE(subject_has_wildcard("foo*"));
    CHECK_FALSE(subject_has_wildcard("*foo.bar"));
    CHECK_FALSE(subject_has_wildcard("foo.b*r"));
    CHECK_FALSE(subject_has_wildcard("a>b.>>"));
    CHECK_FALSE(subject_has_wildcard(""));
}

TEST_CASE("subject: queue names are non-empty and free of argument separators", "[protocol][subject]") {
    CHECK(is_valid_queue_name("workers"));
    CHECK(is_valid_queue_name("v1.workers"));
    CHECK(is_valid_queue_name("*"));
    CHECK_FALSE(is_valid_queue_name(""));
    CHECK_FALSE(is_valid_queue_name("a b"));
    CHECK_FALSE(is_valid_queue_name("a\tb"));
    CHECK_FALSE(is_valid_queue_name("a\r"));
    CHECK_FALSE(is_valid_queue_name("\n"));
}

TEST_CASE("subject: literal patterns match only the same subject", "[protocol][subject]") {
    CHECK(subject_matches("foo", "foo"));
    CHECK(subject_matches("foo.bar", "foo.bar"));
    CHECK_FALSE(subject_matches("foo.bar", "foo"));
    CHECK_FALSE(subject_matches("foo", "foo.bar"));
    CHECK_FALSE(subject_matches("foo.bar", "foo.baz"));
    CHECK_FALSE(subject_matches("foo.bar", "foo.barx"));
    CHECK_FALSE(subject_matches("foo", "Foo"));
}

TEST_CASE("subject: '*' matches exactly one token", "[protocol][subject]") {
    CHECK(subject_matches("*", "foo"));
    CHECK(subject_matches("foo.*", "foo.bar"));
    CHECK(subject_matches("*.bar", "foo.bar"));
    CHECK(subject_matches("foo.*.baz", "foo.bar.baz"));
    CHECK_FALSE(subject_matches("*", "foo.bar"));
    CHECK_FALSE(subject_matches("foo.*", "foo"));
    CHECK_FALSE(subject_matches("foo.*", "foo.bar.baz"));
}

TEST_CASE("subject: '>' matches one or more trailing tokens", "[protocol][subject]") {
    CHECK(subject_matches(">", "foo"));
    CHECK(subject_matches(">", "foo.bar.baz"));
    CHECK(subject_matches("foo.>", "foo.bar"));
    CHECK(subject_matches("foo.>", "foo.bar.baz"));
    CHECK(subject_matches("*.>", "foo.bar"));
    CHECK_FALSE(subject_matches("foo.>", "foo"));
    CHECK_FALSE(subject_matches("foo.>", "bar.baz"));
    CHECK_FALSE(subject_matches("*.>", "foo"));
}

TEST_CASE("subject: wildcards in a published subject are literal tokens", "[protocol][subject]") {
    // nats-server quirk (core-protocol.md §6): a publish to foo.* reaches foo.*, foo.> and >.
    CHECK(subject_matches("foo.*", "foo.*"));
    CHECK(subject_matches("foo.>", "foo.*"));
    CHECK(subject_matches(">", "foo.*"));
    CHECK(subject_matches("foo.*", "foo.>"));
    CHECK_FALSE(subject_matches("foo.bar", "foo.*"));
    CHECK_FALSE(subject_matches("foo.bar", "foo.>"));
}

TEST_CASE("subject: a subject with an empty token matches nothing", "[protocol][subject]") {
    CHECK_FALSE(subject_matches(">", ""));
    CHECK_FALSE(subject_matches("*", ""));
    CHECK_FALSE(subject_matches(">", "foo..bar"));
    CHECK_FALSE(subject_matches("foo.>", "foo.bar."));
    CHECK_FALSE(subject_matches("*.*", ".foo"));
    CHECK_FALSE(subject_matches("foo.*", "foo."));
}

TEST_CASE("subject: subset holds when the wider pattern matches all the narrower one does", "[protocol][subject]") {
    CHECK(subject_is_subset("foo.bar", "foo.bar"));
    CHECK(subject_is_subset("foo.bar", "foo.*"));
    CHECK(subject_is_subset("foo.bar", "foo.>"));
    CHECK(subject_is_subset("foo.bar", ">"));
    CHECK(subject_is_subset("foo.*", "foo.*"));
    CHECK(subject_is_subset("foo.*", "*.*"));
    CHECK(subject_is_subset("foo.*", "foo.>"));
    CHECK(subject_is_subset("foo.*", ">"));
    CHECK(subject_is_subset("foo.>", "foo.>"));
    CHECK(subject_is_subset("foo.bar.>", "foo.>"));
    CHECK(subject_is_subset("foo.*.>", "*.>"));
    CHECK_FALSE(subject_is_subset("foo.*", "foo.bar"));
    CHECK_FALSE(subject_is_subset("foo.>", "foo.*"));
    CHECK_FALSE(subject_is_subset("foo.>", "foo.bar"));
    CHECK_FALSE(subject_is_subset("foo", "foo.>"));
    CHECK_FALSE(subject_is_subset("foo.bar", "foo"));
    CHECK_FALSE(subject_is_subset("foo", "foo.bar"));
    CHECK_FALSE(subject_is_subset(">", "foo.>"));
    CHECK_FALSE(subject_is_subset("*", "foo"));
}

namespace {

// Small alphabets so that generated patterns and subjects actually meet.
rc::Gen<std::string> gen_literal_subject() {
    return rc::gen::map(rc::gen::container<std::vector<std::string>>(
                            rc::gen::element<std::string>("a", "b", "c")),
                        [](std::vector<std::string> tokens) {
                            if (tokens.empty()) tokens.emplace_back("a");
                            if (tokens.size() > 4) tokens.resize(4);
                            std::string subject;
                            for (const auto& token : tokens) {
                                if (!subject.empty()) subject += '.';
                                subject += token;
                            }
                            return subject;
                        });
}

rc::Gen<std::string> gen_pattern() {
    return rc::gen::map(rc::gen::container<std::vector<std::string>>(
                            rc::gen::element<std::string>("a", "b", "*", ">")),
                        [](std::vector<std::string> tokens) {
                            if (tokens.empty()) tokens.emplace_back(">");
                            if (tokens.size() > 4) tokens.resize(4);
                            std::string pattern;
                            for (std::size_t i = 0; i < tokens.size(); i++) {
                                // '>' is only allowed last.
                                const bool last = i + 1 == tokens.size();
                                const std::string token = (tokens[i] == ">" && !last) ? "*" : tokens[i];
                                if (!pattern.empty()) pattern += '.';
                                pattern += token;
                            }
                            return pattern;
                        });
}

}  // namespace

TEST_CASE("subject: subset agrees with matching over literal subjects", "[protocol][subject][property]") {
    // Goal: subject_is_subset is sound. Method: if narrower ⊆ wider, every literal subject matched
    // by narrower is matched by wider; and a literal subject is a subset exactly when it matches.
    rc::prop("subject: a subset never matches more than its superset", [] {
        const std::string narrower = *gen_pattern();
        const std::string wider = *gen_pattern();
        const std::string subject = *gen_literal_subject();
        RC_ASSERT(is_valid_subject(narrower));
        if (subject_is_subset(narrower, wider) && subject_matches(narrower, subject)) {
            RC_ASSERT(subject_matches(wider, subject));
        }
        RC_ASSERT(subject_is_subset(subject, wider) == subject_matches(wider, subject));
        RC_ASSERT(subject_is_subset(narrower, narrower));
    });
}
