// Parser tests: every verb, the nats-server leniencies, limits with their errors, and two
// properties: encode -> parse round-trips, and any split of the input gives the same operations.
#include "engine/protocol/parser.h"

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>
#include <string>
#include <vector>

#include "engine/protocol/encoder.h"

#include <fmt/format.h>

using herald::protocol::MessageArgs;
using herald::protocol::ParseError;
using herald::protocol::Parser;
using herald::protocol::ParserLimits;
using herald::protocol::Role;

namespace {

// Records every operation as one line of text so whole sequences compare easily.
struct Recorder {
    std::vector<std::string> ops;
    bool stopped = false;

    void on_connect(std::string_view json) { ops.push_back("CONNECT " + std::string(json)); }
    void on_pub(const MessageArgs& args, std::string_view payload) {
        ops.push_back(fmt::format("PUB subject={} reply={} headers={} hdr={} total={} payload={}",
                                  args.subject, args.reply, args.headers, args.header_size,
                                  args.total_size, payload));
    }
    void on_sub(std::string_view subject, std::string_view queue, std::string_view sid) {
        ops.push_back(fmt::format("SUB {} q={} sid={}", subject, queue, sid));
    }
    void on_unsub(std::string_view sid, std::optional<std::uint64_t> max) {
        ops.push_back(fmt::format("UNSUB {} max={}", sid, max ? *max : 0));
    }
    void on_ping() { ops.emplace_back("PING"); }
    void on_pong() { ops.emplace_back("PONG"); }
    void on_info(std::string_view json) { ops.push_back("INFO " + std::string(json)); }
    void on_msg(const MessageArgs& args, std::string_view payload) {
        ops.push_back(fmt::format("MSG subject={} sid={} reply={} headers={} hdr={} payload={}",
                                  args.subject, args.sid, args.reply, args.headers,
                                  args.header_size, payload));
    }
    void on_ok() { ops.emplace_back("+OK"); }
    void on_err(std::string_view text) { ops.push_back("-ERR " + std::string(text)); }
    void on_parse_error(ParseError error) {
        ops.push_back(fmt::format("ERROR {}", static_cast<int>(error)));
    }
    bool parse_stopped() const { return stopped; }
};

std::vector<std::string> parse_all(Role role, std::string_view input, ParserLimits limits = {}) {
    Parser parser(role, limits);
    Recorder recorder;
    parser.feed(std::span<const char>(input.data(), input.size()), recorder);
    return recorder.ops;
}

// Feeds `input` in pieces cut at the given offsets.
std::vector<std::string> parse_split(Role role, std::string_view input,
                                     const std::vector<std::size_t>& cuts) {
    Parser parser(role, ParserLimits{});
    Recorder recorder;
    std::size_t start = 0;
    for (std::size_t cut : cuts) {
        cut = std::min(std::max(cut, start), input.size());
        parser.feed(std::span<const char>(input.data() + start, cut - start), recorder);
        start = cut;
    }
    parser.feed(std::span<const char>(input.data() + start, input.size() - start), recorder);
    return recorder.ops;
}

}  // namespace

TEST_CASE("parser: reads every client verb", "[protocol][parser]") {
    const auto ops = parse_all(Role::server,
                               "CONNECT {\"verbose\":false}\r\n"
                               "PUB foo 5\r\nhello\r\n"
                               "PUB foo reply.1 0\r\n\r\n"
                               "HPUB foo rep 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
                               "SUB foo.* 1\r\nSUB foo grp 2\r\nUNSUB 1\r\nUNSUB 2 10\r\n"
                               "PING\r\nPONG\r\n");
    REQUIRE(ops == std::vector<std::string>{
                       "CONNECT {\"verbose\":false}",
                       "PUB subject=foo reply= headers=false hdr=0 total=5 payload=hello",
                       "PUB subject=foo reply=reply.1 headers=false hdr=0 total=0 payload=",
                       "PUB subject=foo reply=rep headers=true hdr=12 total=14 payload=NATS/1.0\r\n\r\nhi",
                       "SUB foo.* q= sid=1", "SUB foo q=grp sid=2", "UNSUB 1 max=0",
                       "UNSUB 2 max=10", "PING", "PONG"});
}

TEST_CASE("parser: verbs are case-insensitive, args split on runs of spaces and tabs, and a bare LF ends a line",
          "[protocol][parser]") {
    const auto ops = parse_all(Role::server, "sub\tfoo  1\npub foo \t 2\r\nhi\r\nPiNg\n");
    REQUIRE(ops == std::vector<std::string>{
                       "SUB foo q= sid=1",
                       "PUB subject=foo reply= headers=false hdr=0 total=2 payload=hi", "PING"});
}

TEST_CASE("parser: reads every server verb the client library needs", "[protocol][parser]") {
    const auto ops = parse_all(Role::client,
                               "INFO {\"server_id\":\"x\"} \r\n+OK\r\n-ERR 'Stale Connection'\r\n"
                               "MSG foo 1 5\r\nhello\r\nMSG _INBOX.x 1  2\r\nok\r\n"
                               "HMSG foo 3 rep 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPING\r\n");
    REQUIRE(ops == std::vector<std::string>{
                       "INFO {\"server_id\":\"x\"}", "+OK", "-ERR Stale Connection",
                       "MSG subject=foo sid=1 reply= headers=false hdr=0 payload=hello",
                       "MSG subject=_INBOX.x sid=1 reply= headers=false hdr=0 payload=ok",
                       "MSG subject=foo sid=3 reply=rep headers=true hdr=16 payload=NATS/1.0 503\r\n\r\n",
                       "PING"});
}

TEST_CASE("parser: unknown verbs, bad sizes and a missing CRLF after the payload are errors",
          "[protocol][parser]") {
    const auto unknown = static_cast<int>(ParseError::unknown_operation);
    const auto bad = static_cast<int>(ParseError::bad_arguments);
    REQUIRE(parse_all(Role::server, "FOO bar\r\n").back() == fmt::format("ERROR {}", unknown));
    // An unknown verb is caught before its line ends.
    REQUIRE(parse_all(Role::server, "XYZ").back() == fmt::format("ERROR {}", unknown));
    REQUIRE(parse_all(Role::server, "\r\n").back() == fmt::format("ERROR {}", unknown));
    REQUIRE(parse_all(Role::server, "PUB foo\r\n").back() == fmt::format("ERROR {}", bad));
    REQUIRE(parse_all(Role::server, "PUB foo x\r\n").back() == fmt::format("ERROR {}", bad));
    REQUIRE(parse_all(Role::server, "PUB foo 1234567890\r\n").back() ==
            fmt::format("ERROR {}", bad));
    REQUIRE(parse_all(Role::server, "HPUB foo 10 5\r\n").back() == fmt::format("ERROR {}", bad));
    REQUIRE(parse_all(Role::server, "PUB foo 2\r\nhiXX").back() == fmt::format("ERROR {}", unknown));
    REQUIRE(parse_all(Role::server, "SUB\r\n").back() == fmt::format("ERROR {}", bad));
    REQUIRE(parse_all(Role::server, "MSG foo 1 2\r\nhi\r\n").back() ==
            fmt::format("ERROR {}", unknown));
}

TEST_CASE("parser: payload and control line limits are enforced", "[protocol][parser]") {
    ParserLimits limits;
    limits.max_payload = 8;
    limits.max_control_line = 64;
    const auto too_big = fmt::format("ERROR {}", static_cast<int>(ParseError::max_payload));
    const auto too_long = fmt::format("ERROR {}", static_cast<int>(ParseError::max_control_line));
    REQUIRE(parse_all(Role::server, "PUB foo 8\r\n12345678\r\n", limits).size() == 1);
    REQUIRE(parse_all(Role::server, "PUB foo 9\r\n", limits).back() == too_big);
    // HPUB counts headers and payload together.
    REQUIRE(parse_all(Role::server, "HPUB foo 5 9\r\n", limits).back() == too_big);
    const std::string long_subject(65, 'a');
    REQUIRE(parse_all(Role::server, "SUB " + long_subject + " 1\r\n", limits).back() == too_long);
    // An unterminated line is cut off too, before it could grow without bound.
    REQUIRE(parse_all(Role::server, "SUB " + std::string(200, 'a'), limits).back() == too_long);
    // After an error the parser ignores everything.
    Parser parser(Role::server, limits);
    Recorder recorder;
    const std::string bad = "PUB foo 9\r\nPING\r\n";
    REQUIRE_FALSE(parser.feed(std::span<const char>(bad.data(), bad.size()), recorder));
    REQUIRE(recorder.ops.size() == 1);
}

TEST_CASE("parser: a handler that stops the parse stops it after the current operation",
          "[protocol][parser]") {
    Parser parser(Role::server, ParserLimits{});
    struct Stopper : Recorder {
        void on_ping() {
            Recorder::on_ping();
            stopped = true;
        }
    } recorder;
    const std::string input = "PING\r\nPING\r\n";
    parser.feed(std::span<const char>(input.data(), input.size()), recorder);
    REQUIRE(recorder.ops.size() == 1);
}

namespace {

// A random client operation, encoded with the encoder, and its expected record.
struct Frame {
    std::string bytes;
    std::string expected;
};

rc::Gen<std::string> token_gen() {
    return rc::gen::container<std::string>(rc::gen::element('a', 'b', 'Z', '9', '_', '-', '$'))
        .as("token");
}

rc::Gen<Frame> frame_gen() {
    using namespace rc;  // NOLINT(google-build-using-namespace): local to a generator.
    return gen::mapcat(gen::inRange(0, 5), [](int kind) -> Gen<Frame> {
        return gen::map(
            gen::tuple(gen::nonEmpty(token_gen()), token_gen(),
                       gen::container<std::string>(gen::arbitrary<char>())),
            [kind](const std::tuple<std::string, std::string, std::string>& t) {
                const auto& [subject, reply, payload] = t;
                Frame frame;
                switch (kind) {
                    case 0:
                        herald::protocol::append_pub(frame.bytes, subject, reply, payload);
                        frame.expected = fmt::format(
                            "PUB subject={} reply={} headers=false hdr=0 total={} payload={}",
                            subject, reply, payload.size(), payload);
                        break;
                    case 1: {
                        const std::string headers = "NATS/1.0\r\nK: " + reply + "\r\n\r\n";
                        herald::protocol::append_hpub(frame.bytes, subject, reply, headers,
                                                      payload);
                        frame.expected = fmt::format(
                            "PUB subject={} reply={} headers=true hdr={} total={} payload={}{}",
                            subject, reply, headers.size(), headers.size() + payload.size(),
                            headers, payload);
                        break;
                    }
                    case 2:
                        herald::protocol::append_sub(frame.bytes, subject, reply, "42");
                        frame.expected = fmt::format("SUB {} q={} sid=42", subject, reply);
                        break;
                    case 3:
                        herald::protocol::append_unsub(frame.bytes, subject, payload.size());
                        frame.expected = fmt::format("UNSUB {} max={}", subject, payload.size());
                        break;
                    default:
                        frame.bytes = "PING\r\n";
                        frame.expected = "PING";
                        break;
                }
                return frame;
            });
    });
}

}  // namespace

TEST_CASE("parser: encode then parse round-trips, whatever the split", "[protocol][parser][property]") {
    rc::prop("encoded frames parse back to the same operations at any split",
             [] {
                 const auto frames = *rc::gen::container<std::vector<Frame>>(frame_gen());
                 std::string input;
                 std::vector<std::string> expected;
                 for (const auto& frame : frames) {
                     input += frame.bytes;
                     expected.push_back(frame.expected);
                 }
                 RC_ASSERT(parse_all(Role::server, input) == expected);
                 auto cuts = *rc::gen::container<std::vector<std::size_t>>(
                     rc::gen::inRange<std::size_t>(0, input.size() + 1));
                 std::sort(cuts.begin(), cuts.end());
                 RC_ASSERT(parse_split(Role::server, input, cuts) == expected);
             });
}

TEST_CASE("parser: splitting a stream at every single byte gives the same operations",
          "[protocol][parser]") {
    const std::string input =
        "CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB foo 1\r\nPUB foo r 5\r\nhello\r\n"
        "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUNSUB 1 3\r\nPING\r\n";
    const auto whole = parse_all(Role::server, input);
    REQUIRE(whole.size() == 6);
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        REQUIRE(parse_split(Role::server, input, {cut}) == whole);
    }
    std::vector<std::size_t> every;
    for (std::size_t cut = 1; cut < input.size(); ++cut) every.push_back(cut);
    REQUIRE(parse_split(Role::server, input, every) == whole);
}
