// Unit tests of the JetStream commands' pure helpers: natscli's ways of printing durations,
// sizes and counts, the flag value parsers, tables and base64.
#include "cli/js_format.h"

#include <string>

#include <catch2/catch.hpp>

namespace {

using herald::Duration;
using namespace herald::cli;

}  // namespace

TEST_CASE("cli js format: durations print as Go's time.Duration.String", "[cli][js_format]") {
    CHECK(go_duration(Duration{}) == "0s");
    CHECK(go_duration(Duration::nanoseconds(500)) == "500ns");
    CHECK(go_duration(Duration::microseconds(1500)) == "1.5ms");
    CHECK(go_duration(Duration::milliseconds(250)) == "250ms");
    CHECK(go_duration(Duration::seconds(30)) == "30s");
    CHECK(go_duration(Duration::milliseconds(1500)) == "1.5s");
    CHECK(go_duration(Duration::seconds(120)) == "2m0s");
    CHECK(go_duration(Duration::seconds(86400)) == "24h0m0s");
    CHECK(go_duration(Duration::seconds(3723)) == "1h2m3s");
}

TEST_CASE("cli js format: ages take Go durations and natscli's d, w, M, y units",
          "[cli][js_format]") {
    CHECK(parse_age("1h") == Duration::seconds(3600));
    CHECK(parse_age("1m30s") == Duration::seconds(90));
    CHECK(parse_age("2d") == Duration::seconds(2 * 86400));
    CHECK(parse_age("1w") == Duration::seconds(7 * 86400));
    CHECK(parse_age("1M") == Duration::seconds(30 * 86400));
    CHECK(parse_age("1y2d") == Duration::seconds(367 * 86400));
    CHECK(parse_age("0") == Duration{});
    CHECK(parse_age("unlimited") == Duration{});
    CHECK_FALSE(parse_age("soon"));
    CHECK_FALSE(parse_age("5"));
    CHECK_FALSE(parse_age(""));
}

TEST_CASE("cli js format: sizes and counts print as go-humanize does", "[cli][js_format]") {
    CHECK(ibytes(0) == "0 B");
    CHECK(ibytes(512) == "512 B");
    CHECK(ibytes(1536) == "1.5 KiB");
    CHECK(ibytes(300 * 1000) == "293 KiB");
    CHECK(ibytes(16 * 1024 * 1024) == "16 MiB");
    CHECK(comma(0) == "0");
    CHECK(comma(999) == "999");
    CHECK(comma(20000) == "20,000");
    CHECK(comma(-1234567) == "-1,234,567");
    CHECK(limit_text(-1) == "unlimited");
    CHECK(limit_text(0, true) == "unlimited");
    CHECK(limit_text(1000) == "1,000");
    CHECK(size_limit_text(-1) == "unlimited");
    CHECK(size_limit_text(1024) == "1.0 KiB");
}

TEST_CASE("cli js format: flag words accept natscli's spellings and refuse others",
          "[cli][js_format]") {
    CHECK(parse_limit("-1", false) == -1);
    CHECK(parse_limit("unlimited", true) == -1);
    CHECK(parse_limit("1000", false) == 1000);
    CHECK(parse_limit("1KB", true) == 1024);
    CHECK_FALSE(parse_limit("1KB", false));
    CHECK(parse_storage("memory") == StorageWord::memory);
    CHECK(parse_storage("f") == StorageWord::file);
    CHECK_FALSE(parse_storage("disk"));
    CHECK(parse_retention("work") == RetentionWord::work);
    CHECK(parse_retention("workqueue") == RetentionWord::work);
    CHECK_FALSE(parse_retention("forever"));
    CHECK(parse_discard("new") == DiscardWord::new_messages);
    CHECK_FALSE(parse_discard("newest"));
    CHECK(parse_ack("explicit") == AckWord::explicit_ack);
    CHECK_FALSE(parse_ack("yes"));
    CHECK(parse_replay("original") == ReplayWord::original);
}

TEST_CASE("cli js format: --deliver takes a policy, a sequence or an age", "[cli][js_format]") {
    using Kind = DeliverChoice::Kind;
    CHECK(parse_deliver("all")->kind == Kind::all);
    CHECK(parse_deliver("last")->kind == Kind::last);
    CHECK(parse_deliver("new")->kind == Kind::new_messages);
    CHECK(parse_deliver("last-per-subject")->kind == Kind::last_per_subject);
    const auto sequence = parse_deliver("42");
    REQUIRE(sequence);
    CHECK(sequence->kind == Kind::by_start_sequence);
    CHECK(sequence->sequence == 42);
    const auto age = parse_deliver("1h");
    REQUIRE(age);
    CHECK(age->kind == Kind::by_start_time);
    CHECK(age->age == Duration::seconds(3600));
    CHECK_FALSE(parse_deliver("0"));
    CHECK_FALSE(parse_deliver("sometimes"));
}

TEST_CASE("cli js format: lists split on commas and spaces; times shorten", "[cli][js_format]") {
    CHECK(split_list("a,b c,,d") == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK(split_list(" , ").empty());
    CHECK(short_time("2026-11-26T16:30:05.123456789Z") == "2026-11-26 16:30:05");
    CHECK(short_time("0") == "0");
}

TEST_CASE("cli js format: tables box every row and pad to the widest cell", "[cli][js_format]") {
    Table table("Streams", {"Name", "Messages"});
    table.add_row({"ORDERS", "1,000"});
    table.add_row({"X", "2"});
    const std::string expected =
        "╭───────────────────╮\n"
        "│      Streams      │\n"
        "├────────┬──────────┤\n"
        "│ Name   │ Messages │\n"
        "├────────┼──────────┤\n"
        "│ ORDERS │ 1,000    │\n"
        "│ X      │ 2        │\n"
        "╰────────┴──────────╯\n";
    CHECK(table.render() == expected);
    Section section;
    section.add("Subjects", "a");
    section.add("Replicas", "1");
    section.add("Maximum Age", "unlimited");
    CHECK(section.render() == "     Subjects: a\n     Replicas: 1\n  Maximum Age: unlimited\n");
}

TEST_CASE("cli js format: base64 round-trips every byte value", "[cli][js_format]") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    std::string all;
    for (int byte = 0; byte < 256; ++byte)
        all += static_cast<char>(byte);
    for (std::size_t length = 0; length <= all.size(); length += 37) {
        const std::string part = all.substr(0, length);
        CHECK(base64_decode(base64_encode(part)) == part);
    }
    CHECK(base64_decode("Zm9v-_8") == std::string("foo\xfb\xff"));
    CHECK_FALSE(base64_decode("Zm9v!"));
    CHECK_FALSE(base64_decode("Z"));
}
