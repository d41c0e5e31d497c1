// Bad input: a herald server on the simulated network takes random, mutated and truncated protocol
// bytes from many connections at once while well-behaved clients keep exchanging messages. Goal:
// no crash or ASSERT, the good clients get exactly what was published to them (count, content,
// order per publisher) during the garbage and after it, and the broker's counts come back to the
// good clients' alone. Method: a seeded loop of bounded rounds on one SimWorld per seed.
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/base/log.h"
#include "engine/io/io.h"
#include "engine/protocol/encoder.h"
#include "engine/server/server.h"
#include "sim/node.h"
#include "sim/world.h"
#include "tests/support/raw_client.h"

using herald::Duration;
using herald::config::Options;
using herald::testing::RawClient;
using herald::testing::ReceivedMessage;
namespace protocol = herald::protocol;

namespace {

constexpr std::uint64_t seed_first = 1;
constexpr std::uint64_t seed_count = 20;
constexpr std::uint64_t soak_seed_first = 1000;
constexpr std::uint64_t soak_seed_count = 500;
constexpr std::size_t garbage_concurrent_max = 30;
constexpr std::size_t garbage_total_max = 150;  // garbage connections per seed
constexpr std::size_t rounds_with_garbage = 400;
constexpr std::size_t rounds_after_garbage = 30;
constexpr std::uint64_t round_duration_us_max = 400;
constexpr std::uint64_t steps_max = 2'000'000;  // per wait
constexpr std::size_t good_payload_size_max = 100;
constexpr std::size_t good_client_count = 7;
constexpr std::size_t good_subscription_count = 5;

constexpr std::string_view good_connect =
    R"({"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1})";

// The test's own randomness, seeded per run (the world has its own).
class Dice {
public:
    explicit Dice(std::uint64_t seed) : random_(seed) {}
    std::size_t below(std::size_t bound) {
        return static_cast<std::size_t>(random_.uniform(bound));
    }
    bool chance(std::size_t percent) { return below(100) < percent; }
    char byte() { return static_cast<char>(static_cast<unsigned char>(random_.uniform(256))); }
    std::string bytes(std::size_t count) {
        std::string out;
        out.reserve(count);
        for (std::size_t i = 0; i < count; ++i)
            out += byte();
        return out;
    }
    template <class T, std::size_t n>
    const T& pick(const std::array<T, n>& items) {
        return items[below(n)];
    }

private:
    herald::io::SplitMix64 random_;
};

using namespace std::string_view_literals;

// Tokens for the subjects garbage clients use. Every garbage publish subject starts with "junk"
// or is a bare wildcard, so no good subscription ("good.>", "good.work", "svc.echo",
// "_INBOX.req.*") can match it, even after a byte flip.
constexpr std::array junk_tokens = {
    "a"sv,
    "b1"sv,
    "*"sv,
    ">"sv,
    ""sv,
    "foo*"sv,
    "a>b"sv,
    "x\ty"sv,
    "_INBOX"sv,
    "\xc3\xbc\xc3\xb1\xc3\xaf"sv,  // üñï
    "\xf0\x9f\x98\x80"sv,          // an emoji
    "\xff\xfe\x80"sv,              // not UTF-8
    "n\0l"sv,                      // NUL inside
    "\x7f\x01"sv,
};

std::string junk_subject(Dice& dice) {
    if (dice.chance(10)) {
        static constexpr std::array odd = {
            ">"sv, "*"sv, "*.*"sv, ".junk"sv, "junk."sv, "junk..x"sv, "junk.>"sv, "junk.*.>"sv};
        return std::string(dice.pick(odd));
    }
    std::string subject = "junk";
    const std::size_t tokens = dice.below(4);
    for (std::size_t i = 0; i < tokens; ++i) {
        subject += '.';
        subject += dice.pick(junk_tokens);
    }
    return subject;
}

// Garbage may subscribe to good subjects too (plain subscriptions only: they take nothing away
// from the good clients), but never joins the good queue group "workers".
std::string garbage_sub_subject(Dice& dice) {
    static constexpr std::array subjects = {
        ">"sv, "good.>"sv, "svc.echo"sv, "_INBOX.>"sv, "good.work"sv};
    return dice.chance(25) ? std::string(dice.pick(subjects)) : junk_subject(dice);
}

std::string garbage_connect(Dice& dice) {
    std::string json = "{";
    json += dice.chance(50) ? R"("verbose":true)" : R"("verbose":false)";
    json += dice.chance(50) ? R"(,"pedantic":true)" : R"(,"pedantic":false)";
    json += dice.chance(50) ? R"(,"echo":true)" : R"(,"echo":false)";
    const bool headers = dice.chance(50);
    json += headers ? R"(,"headers":true)" : R"(,"headers":false)";
    if (headers && dice.chance(50)) json += R"(,"no_responders":true)";
    json += dice.chance(50) ? R"(,"protocol":1)" : R"(,"protocol":0)";
    if (dice.chance(30)) json += R"(,"name":"junk-\u00fc-{}-%s")";
    json += "}";
    return "CONNECT " + json + "\r\n";
}

// One client frame built with the encoder: well-formed, except that a junk subject may itself be
// bad (a tab splits it, an empty token, a NUL) and CONNECT options may contradict earlier ones.
std::string valid_frame(Dice& dice) {
    std::string out;
    const std::string reply = dice.chance(30) ? "junk.reply" : "";
    switch (dice.below(10)) {
        case 0:
            out = garbage_connect(dice);
            break;
        case 1:
        case 2:
            protocol::append_pub(out, junk_subject(dice), reply, dice.bytes(dice.below(300)));
            break;
        case 3: {
            const std::string headers =
                dice.chance(70) ? "NATS/1.0\r\nJunk: \xc3\xbc\r\n\r\n" : dice.bytes(dice.below(40));
            protocol::append_hpub(
                out, junk_subject(dice), reply, headers, dice.bytes(dice.below(200)));
            break;
        }
        case 4: {
            static constexpr std::array queues = {""sv, ""sv, "jq"sv, "q\xc3\xbc"sv};
            protocol::append_sub(
                out, garbage_sub_subject(dice), dice.pick(queues), std::to_string(dice.below(8)));
            break;
        }
        case 5:
            protocol::append_unsub(out, std::to_string(dice.below(8)), dice.below(4));
            break;
        case 6:
            out = protocol::ping_frame;
            break;
        case 7:
            out = protocol::pong_frame;
            break;
        case 8:  // valid, oddly spelt
            out = "pUb " + junk_subject(dice) + "\t\t3 \r\nabc\r\n";
            break;
        default:
            // Bigger than the server's first read buffer, so its payload arrives split.
            protocol::append_pub(out, "junk.big", reply, dice.bytes(dice.below(70'000)));
            break;
    }
    return out;
}

// A valid frame, damaged in one way.
std::string mutated_frame(Dice& dice) {
    std::string frame = valid_frame(dice);
    switch (dice.below(9)) {
        case 0: {  // flipped bytes
            const std::size_t flips = 1 + dice.below(4);
            for (std::size_t i = 0; i < flips; ++i)
                frame[dice.below(frame.size())] = dice.byte();
            break;
        }
        case 1:  // truncated
            frame.resize(dice.below(frame.size()));
            break;
        case 2:  // bare LF
            std::erase(frame, '\r');
            break;
        case 3: {  // a CRLF missing
            const auto crlf = frame.find("\r\n");
            if (crlf != std::string::npos) frame.erase(crlf, dice.chance(50) ? 2 : 1);
            break;
        }
        case 4: {  // NUL bytes
            const std::size_t count = 1 + dice.below(3);
            for (std::size_t i = 0; i < count; ++i)
                frame.insert(dice.below(frame.size() + 1), 1, '\0');
            break;
        }
        case 5:  // tabs for spaces (valid) or tabs anywhere
            if (dice.chance(50)) {
                std::replace(frame.begin(), frame.end(), ' ', '\t');
            } else {
                frame.insert(dice.below(frame.size() + 1), "\t");
            }
            break;
        case 6: {  // unicode anywhere
            static constexpr std::array unicode = {"\xc3\xa9"sv,
                                                   "\xe2\x82\xac"sv,
                                                   "\xf0\x9f\x92\xa9"sv,
                                                   "\xed\xa0\x80"sv,
                                                   "\xc0\xaf"sv};
            frame.insert(dice.below(frame.size() + 1), dice.pick(unicode));
            break;
        }
        case 7: {  // a payload whose size does not match the declared one
            const std::string payload = dice.bytes(dice.below(50));
            std::size_t declared = payload.size() + 1 + dice.below(20);
            if (dice.chance(50) && !payload.empty()) declared = dice.below(payload.size());
            frame = "PUB " + junk_subject(dice) + " " + std::to_string(declared) + "\r\n" + payload
                    + "\r\n";
            break;
        }
        default:  // an extra line break
            frame.insert(dice.below(frame.size() + 1), "\r\n");
            break;
    }
    return frame;
}

// Frames aimed at the edges: sizes, argument counts, control line length, CONNECT JSON.
std::string nasty_frame(Dice& dice, const Options& options) {
    static constexpr std::array fixed = {
        "PUB junk.a 999999999\r\n"sv,
        "PUB junk.a 1048577\r\n"sv,
        "PUB junk.a 12345678901\r\nx\r\n"sv,
        "PUB junk.a -1\r\n"sv,
        "PUB junk.a 18446744073709551616\r\n"sv,
        "PUB junk.a 0x10\r\n"sv,
        "HPUB junk.a 10 5\r\n0123456789\r\n"sv,
        "HPUB junk.a 999999999 999999999\r\n"sv,
        "HPUB junk.a 5\r\nhello\r\n"sv,
        "HPUB junk.a 0 0\r\n\r\n"sv,
        "HPUB junk.a 3 3\r\nabc\r\n"sv,
        "PUB junk.a 0\r\n\r\n"sv,
        "PUB junk.a 5\r\nhelloXX"sv,
        "PUB junk.a 5\r\nhel"sv,
        "PUB junk.a 2\r\n\r\n\r\n"sv,
        "PUB\r\n"sv,
        "PUB \r\n"sv,
        "PUB a b c d e\r\n"sv,
        "SUB\r\n"sv,
        "SUB junk.a\r\n"sv,
        "SUB a b c d\r\n"sv,
        "SUB junk..a 1\r\n"sv,
        "SUB junk.a 1\r\nSUB junk.a 1\r\nUNSUB 1 1\r\nPUB junk.a 1\r\nx\r\nPUB junk.a 1\r\ny\r\n"sv,
        "UNSUB\r\n"sv,
        "UNSUB 1 x\r\n"sv,
        "UNSUB 1 2 3\r\n"sv,
        "UNSUB 1 9999999999\r\n"sv,
        "UNSUB 1 0\r\n"sv,
        "\r\n"sv,
        "\n"sv,
        " \r\n"sv,
        "\t\r\n"sv,
        "\r\r\r\n"sv,
        "PINGPONG\r\n"sv,
        "PING PONG extra args\r\n"sv,
        "PING"sv,
        "CONNECT\r\n"sv,
        "CONNECT \r\n"sv,
        "CONNECT {\r\n"sv,
        "CONNECT {\"verbose\":\r\n"sv,
        "CONNECT [1,2,3]\r\n"sv,
        "CONNECT null\r\n"sv,
        "CONNECT \"text\"\r\n"sv,
        "CONNECT 42\r\n"sv,
        "CONNECT {\"protocol\":\"x\"}\r\n"sv,
        "CONNECT {\"protocol\":2}\r\n"sv,
        "CONNECT {\"protocol\":-1}\r\n"sv,
        "CONNECT {\"protocol\":1.5}\r\n"sv,
        "CONNECT {\"protocol\":1e400}\r\n"sv,
        "CONNECT {\"protocol\":18446744073709551615}\r\n"sv,
        "CONNECT {\"protocol\":99999999999999999999999}\r\n"sv,
        "CONNECT {\"protocol\":-9223372036854775808}\r\n"sv,
        "CONNECT {\"no_responders\":true,\"headers\":false}\r\n"sv,
        "CONNECT {\"name\":\"\\ud800\"}\r\n"sv,
        "CONNECT {\"name\":\"\xff\xfe\"}\r\n"sv,
        "CONNECT {\"name\":\"{} {:>99999999} {0}\"}\r\n"sv,
        "CONNECT {\"name\":\"\\u0000\\t\\r\\n\"}\r\n"sv,
        "CONNECT {\"verbose\":true,\"verbose\":false}\r\n"sv,
        "CONNECT {\"verbose\":\"yes\",\"echo\":null,\"headers\":1,\"user\":[],\"pass\":{}}\r\n"sv,
        "CONNECT {\"user\":\"u\",\"pass\":\"p\",\"auth_token\":\"t\"}\r\n"sv,
        "CONNECT {}\r\nCONNECT {\"headers\":true,\"no_responders\":true}\r\n"sv,
        "CONNECT\t{}\t\r\n"sv,
        "\0\0\0\0"sv,
        "PUB junk.a 1\r\n\0\r\n"sv,
        "SUB junk\0a 1\r\n"sv,
        "PUB \0 1\r\nx\r\n"sv,
        "\xef\xbb\xbfPING\r\n"sv,
        "INFO {}\r\n"sv,
        "MSG junk.a 1 1\r\nx\r\n"sv,
        "+OK\r\n"sv,
        "-ERR 'x'\r\n"sv,
        "HTTP/1.1 200 OK\r\n\r\n"sv,
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n"sv,
    };
    const auto line_max = static_cast<std::size_t>(options.max_control_line);
    switch (dice.below(8)) {
        case 0:  // a terminated control line just over the limit
            return "SUB junk." + std::string(line_max + dice.below(64), 'a') + " 1\r\n";
        case 1:  // an unterminated one
            return "PUB junk." + std::string(line_max + 16 + dice.below(64), 'b');
        case 2:  // a line just under the limit: valid
            return "SUB junk." + std::string(line_max - 20, 'c') + " 9\r\n";
        case 3: {  // deeply nested JSON, within the limit
            if (dice.chance(50)) {
                return "CONNECT " + std::string(line_max / 3, '[') + std::string(line_max / 3, ']')
                       + "\r\n";
            }
            const std::size_t depth = std::min<std::size_t>((line_max - 20) / 6, 1000);
            std::string json;
            for (std::size_t i = 0; i < depth; ++i)
                json += R"({"a":)";
            json += "1";
            json += std::string(depth, '}');
            return "CONNECT " + json + "\r\n";
        }
        case 4: {  // many subscriptions, left for the close to clean up
            std::string out;
            const std::size_t count = 1 + dice.below(50);
            for (std::size_t i = 0; i < count; ++i) {
                protocol::append_sub(out,
                                     "junk.many." + std::to_string(i),
                                     i % 3 == 0 ? "jq" : "",
                                     std::to_string(100 + i));
            }
            return out;
        }
        default:
            return std::string(dice.pick(fixed));
    }
}

// What one garbage connection sends, cut in chunks sent at different times.
struct GarbageScript {
    std::vector<std::string> chunks;
    bool close_at_end = true;  // else it waits for the server (or the end of the run)
};

GarbageScript make_garbage_script(Dice& dice, const Options& options) {
    std::string bytes;
    const std::size_t kind = dice.below(4);
    if (kind == 0) {
        bytes = dice.bytes(1 + dice.below(3000));  // pure random bytes
    } else {
        if (dice.chance(70)) bytes += garbage_connect(dice);
        // Some valid frames first, so the damage meets a connection with state (subscriptions,
        // a split payload), then a mix.
        const std::size_t valid_first = dice.below(20);
        for (std::size_t i = 0; i < valid_first; ++i)
            bytes += valid_frame(dice);
        const std::size_t frames = 1 + dice.below(8);
        for (std::size_t i = 0; i < frames; ++i) {
            const std::size_t which = dice.below(10);
            if (which < 3) {
                bytes += valid_frame(dice);
            } else if (which < 6) {
                bytes += mutated_frame(dice);
            } else {
                bytes += nasty_frame(dice, options);
            }
        }
        if (kind == 3) bytes.resize(dice.below(bytes.size() + 1));  // closes in mid-frame
    }
    GarbageScript script;
    script.close_at_end = kind == 3 || dice.chance(80);
    std::size_t position = 0;
    while (position < bytes.size()) {
        const std::size_t left = bytes.size() - position;
        const std::size_t size = dice.chance(50) ? 1 + dice.below(std::min<std::size_t>(left, 16))
                                                 : 1 + dice.below(left);
        script.chunks.push_back(bytes.substr(position, size));
        position += size;
    }
    return script;
}

struct Garbage {
    std::unique_ptr<RawClient> client;
    GarbageScript script;
    std::size_t next_chunk = 0;
};

// One message a good client expects.
struct Expected {
    std::string subject;
    std::string headers;
    std::string payload;
    bool operator==(const Expected&) const = default;
};

Expected as_expected(const ReceivedMessage& message) {
    return Expected{message.subject, message.headers, message.payload};
}

std::vector<Expected> from_publisher(const std::vector<ReceivedMessage>& messages, char publisher) {
    std::vector<Expected> out;
    for (const auto& message : messages) {
        if (!message.payload.empty() && message.payload[0] == publisher)
            out.push_back(as_expected(message));
    }
    return out;
}

// The world, the server, and the good clients with what each must receive.
class Run {
public:
    Run(std::uint64_t seed, Options options)
        : world_(seed), dice_(seed * 0x9e3779b97f4a7c15ULL + 1), options_(std::move(options)) {
        options_.host = "0.0.0.0";
        options_.port = 4222;
        node_ = &world_.add_node();
        client_node_ = &world_.add_node();
        // Every log statement runs at trace level, so client-sent bytes go through the formatting
        // too; the lines are only hashed.
        auto backend = std::make_shared<herald::base::LogBackend>();
        backend->level = herald::base::LogLevel::trace;
        backend->now_ns = [this] {
            return world_.realtime_ns();
        };
        backend->sink = [this](herald::base::LogLevel, std::string_view line) {
            ++log_lines_;
            for (const char c : line) {
                log_hash_ = (log_hash_ ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
            }
        };
        server_ = std::make_unique<herald::server::Server>(
            node_->env(), options_, herald::base::Logger(backend, "n1"));
        REQUIRE(server_->start());
        address_ = node_->host() + ":4222";
    }
    ~Run() {
        garbage_.clear();
        wild_.reset();
        queue_a_.reset();
        queue_b_.reset();
        publisher_a_.reset();
        publisher_b_.reset();
        responder_.reset();
        requester_.reset();
        server_.reset();
    }
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    void start_good_clients() {
        wild_ = connect_good();
        queue_a_ = connect_good();
        queue_b_ = connect_good();
        publisher_a_ = connect_good();
        publisher_b_ = connect_good();
        responder_ = connect_good();
        requester_ = connect_good();
        wild_->send("SUB good.> 1\r\n");
        queue_a_->send("SUB good.work workers 1\r\n");
        queue_b_->send("SUB good.work workers 1\r\n");
        responder_->send("SUB svc.echo 1\r\n");
        requester_->send("SUB _INBOX.req.* 1\r\n");
        for (RawClient* client : good_clients())
            REQUIRE(flush(*client));
        REQUIRE(server_->broker().subscription_count() == good_subscription_count);
        REQUIRE(server_->broker().connection_count() == good_client_count);
    }

    // One round: good traffic, garbage, then a short stretch of simulated time.
    void round(bool with_garbage) {
        good_traffic();
        if (with_garbage) garbage_traffic();
        world_.run_for(Duration::microseconds(1 + dice_.below(round_duration_us_max)));
        answer_requests();
        reap_garbage();
    }

    // Closes every garbage connection still open and waits until the server has dropped them.
    void close_all_garbage() {
        garbage_.clear();
        REQUIRE(wait([&] { return server_->broker().connection_count() == good_client_count; }));
    }

    // Waits until every good message has arrived, then checks each one.
    void check_good_traffic() {
        REQUIRE(wait([&] {
            answer_requests();
            return wild_->messages().size() == expected_a_.size() + expected_b_.size()
                   && queue_a_->messages().size() + queue_b_->messages().size()
                          == work_a_.size() + work_b_.size()
                   && responder_->messages().size() == requests_.size()
                   && requester_->messages().size() == requests_.size();
        }));
        for (RawClient* client : good_clients())
            REQUIRE(flush(*client));
        for (RawClient* client : good_clients()) {
            REQUIRE(client->errors().empty());
            REQUIRE_FALSE(client->eof());
            REQUIRE_FALSE(client->parse_stopped());
        }
        REQUIRE(from_publisher(wild_->messages(), 'a') == expected_a_);
        REQUIRE(from_publisher(wild_->messages(), 'b') == expected_b_);
        REQUIRE(wild_->messages().size() == expected_a_.size() + expected_b_.size());
        check_queue_group(work_a_, 'a');
        check_queue_group(work_b_, 'b');
        REQUIRE(queue_a_->messages().size() + queue_b_->messages().size()
                == work_a_.size() + work_b_.size());
        std::vector<Expected> requests_seen;
        for (const auto& message : responder_->messages()) {
            REQUIRE(message.sid == "1");
            requests_seen.push_back(as_expected(message));
            requests_seen.back().subject += " " + message.reply;
        }
        REQUIRE(requests_seen == requests_);
        REQUIRE(requester_->messages().size() == replies_.size());
        for (std::size_t i = 0; i < replies_.size(); ++i) {
            REQUIRE(as_expected(requester_->messages()[i]) == replies_[i]);
        }
    }

    void check_broker() {
        REQUIRE(server_->broker().connection_count() == good_client_count);
        REQUIRE(server_->broker().subscription_count() == good_subscription_count);
    }

    herald::sim::SimWorld& world() { return world_; }
    std::uint64_t log_hash() const { return log_hash_; }
    std::size_t log_lines() const { return log_lines_; }
    std::size_t garbage_spawned() const { return garbage_spawned_; }

private:
    std::unique_ptr<RawClient> connect_good() {
        auto client = std::make_unique<RawClient>(client_node_->env(), address_);
        REQUIRE(wait([&] { return !client->info().empty(); }));
        client->send("CONNECT " + std::string(good_connect) + "\r\n");
        REQUIRE(flush(*client));
        return client;
    }

    std::array<RawClient*, good_client_count> good_clients() {
        return {wild_.get(),
                queue_a_.get(),
                queue_b_.get(),
                publisher_a_.get(),
                publisher_b_.get(),
                responder_.get(),
                requester_.get()};
    }

    bool flush(RawClient& client) {
        const auto before = client.pongs();
        client.send("PING\r\n");
        return wait([&] { return client.pongs() > before || client.eof(); }) && !client.eof();
    }

    bool wait(const std::function<bool()>& done) { return world_.run_until(done, steps_max); }

    void publish(RawClient& publisher,
                 char name,
                 std::vector<Expected>& events,
                 std::vector<Expected>& work) {
        const std::size_t sequence = events.size();
        Expected message;
        const bool to_work = dice_.chance(40);
        message.subject =
            to_work ? "good.work"
                    : "good." + std::string(1, name) + ".events." + std::to_string(sequence % 7);
        message.payload = std::string(1, name) + ":" + std::to_string(sequence) + ":"
                          + dice_.bytes(dice_.below(good_payload_size_max));
        if (dice_.chance(25))
            message.headers = "NATS/1.0\r\nSeq: " + std::to_string(sequence) + "\r\n\r\n";
        std::string frame;
        if (message.headers.empty()) {
            protocol::append_pub(frame, message.subject, "", message.payload);
        } else {
            protocol::append_hpub(frame, message.subject, "", message.headers, message.payload);
        }
        publisher.send(frame);
        events.push_back(message);
        if (to_work) work.push_back(message);
    }

    void good_traffic() {
        if (dice_.chance(70)) publish(*publisher_a_, 'a', expected_a_, work_a_);
        if (dice_.chance(70)) publish(*publisher_b_, 'b', expected_b_, work_b_);
        if (dice_.chance(50)) {
            const std::string reply = "_INBOX.req." + std::to_string(requests_.size());
            const std::string payload = "q:" + std::to_string(requests_.size()) + ":"
                                        + dice_.bytes(dice_.below(good_payload_size_max));
            std::string frame;
            protocol::append_pub(frame, "svc.echo", reply, payload);
            requester_->send(frame);
            requests_.push_back(Expected{"svc.echo " + reply, "", payload});
            replies_.push_back(Expected{reply, "", "r:" + payload});
        }
    }

    // The responder answers every request it has seen, in order.
    void answer_requests() {
        const auto& requests = responder_->messages();
        for (; answered_ < requests.size(); ++answered_) {
            std::string frame;
            protocol::append_pub(
                frame, requests[answered_].reply, "", "r:" + requests[answered_].payload);
            responder_->send(frame);
        }
    }

    void garbage_traffic() {
        if (garbage_.size() < garbage_concurrent_max && garbage_spawned_ < garbage_total_max
            && dice_.chance(60)) {
            Garbage garbage;
            garbage.client = std::make_unique<RawClient>(client_node_->env(), address_);
            garbage.script = make_garbage_script(dice_, options_);
            garbage_.push_back(std::move(garbage));
            ++garbage_spawned_;
        }
        for (Garbage& garbage : garbage_) {
            if (garbage.next_chunk < garbage.script.chunks.size() && dice_.chance(60)) {
                garbage.client->send(garbage.script.chunks[garbage.next_chunk++]);
            }
        }
    }

    // Drops garbage clients the server closed, or that have sent everything and mean to close.
    void reap_garbage() {
        std::erase_if(garbage_, [&](const Garbage& garbage) {
            if (garbage.client->eof() || garbage.client->connect_failed()) return true;
            const bool sent_all = garbage.next_chunk == garbage.script.chunks.size();
            return sent_all && garbage.script.close_at_end && dice_.chance(50);
        });
    }

    // Each queue member gets a subsequence of the publisher's work messages, in order, and the
    // two members together get every one exactly once.
    void check_queue_group(const std::vector<Expected>& work, char publisher) {
        std::map<std::string, std::size_t> index_of;
        for (std::size_t i = 0; i < work.size(); ++i)
            index_of.emplace(work[i].payload, i);
        REQUIRE(index_of.size() == work.size());
        std::vector<bool> seen(work.size(), false);
        for (const RawClient* member : {queue_a_.get(), queue_b_.get()}) {
            std::size_t next_allowed = 0;
            for (const Expected& message : from_publisher(member->messages(), publisher)) {
                const auto found = index_of.find(message.payload);
                REQUIRE(found != index_of.end());
                REQUIRE(message == work[found->second]);
                REQUIRE(found->second >= next_allowed);
                REQUIRE_FALSE(seen[found->second]);
                seen[found->second] = true;
                next_allowed = found->second + 1;
            }
        }
        REQUIRE(std::count(seen.begin(), seen.end(), true)
                == static_cast<std::ptrdiff_t>(work.size()));
    }

    herald::sim::SimWorld world_;
    Dice dice_;
    Options options_;
    herald::sim::SimNode* node_ = nullptr;
    herald::sim::SimNode* client_node_ = nullptr;
    std::unique_ptr<herald::server::Server> server_;
    std::string address_;

    std::unique_ptr<RawClient> wild_;     // SUB good.>
    std::unique_ptr<RawClient> queue_a_;  // SUB good.work workers
    std::unique_ptr<RawClient> queue_b_;  // SUB good.work workers
    std::unique_ptr<RawClient> publisher_a_;
    std::unique_ptr<RawClient> publisher_b_;
    std::unique_ptr<RawClient> responder_;  // SUB svc.echo, answers each request
    std::unique_ptr<RawClient> requester_;  // SUB _INBOX.req.*, PUB svc.echo _INBOX.req.<n>
    std::vector<Expected> expected_a_;      // everything publisher a sent, in order
    std::vector<Expected> expected_b_;
    std::vector<Expected> work_a_;  // the part of it on good.work
    std::vector<Expected> work_b_;
    std::vector<Expected> requests_;  // subject is "svc.echo <reply>"
    std::vector<Expected> replies_;
    std::size_t answered_ = 0;

    std::vector<Garbage> garbage_;
    std::size_t garbage_spawned_ = 0;
    std::size_t log_lines_ = 0;
    std::uint64_t log_hash_ = 0xcbf29ce484222325ULL;  // FNV-1a
};

Options options_for_seed(std::uint64_t seed) {
    static constexpr std::array<std::int64_t, 3> control_lines = {4096, 1024, 512};
    static constexpr std::array<std::int64_t, 3> payloads = {1024 * 1024, 64 * 1024, 4096};
    Options options;
    options.max_control_line = control_lines[seed % control_lines.size()];
    options.max_payload = payloads[(seed / control_lines.size()) % payloads.size()];
    // Small limits on odd seeds: garbage subscribed to ">" is cut off as a slow consumer in the
    // middle of a routing pass, and many SUBs run into the per-connection limit. The good
    // clients stay far below both.
    if (seed % 2 == 1) {
        options.max_pending = 64 * 1024;
        options.max_subscriptions = 16;
    }
    return options;
}

// One seed: garbage and good traffic together, then good traffic alone. Returns the world's
// trace hash mixed with the hash of the server's log.
std::uint64_t run_seed(std::uint64_t seed) {
    CAPTURE(seed);
    Run run(seed, options_for_seed(seed));
    run.start_good_clients();
    for (std::size_t i = 0; i < rounds_with_garbage; ++i)
        run.round(true);
    run.check_good_traffic();  // while garbage connections are still open
    run.close_all_garbage();
    run.check_broker();
    for (std::size_t i = 0; i < rounds_after_garbage; ++i)
        run.round(false);
    run.check_good_traffic();
    run.check_broker();
    REQUIRE(run.garbage_spawned() == garbage_total_max);
    REQUIRE(run.log_lines() > garbage_total_max);
    return run.world().trace_hash() ^ run.log_hash();
}

}  // namespace

TEST_CASE(
    "server: random and truncated protocol bytes from many connections never disturb good clients",
    "[server][sim][property]") {
    for (std::uint64_t seed = seed_first; seed < seed_first + seed_count; ++seed)
        run_seed(seed);
}

// Outside the default run: more seeds, for a sanitizer build or a long hunt.
TEST_CASE("server: bad input soak over many more seeds", "[server][sim][.soak]") {
    for (std::uint64_t seed = soak_seed_first; seed < soak_seed_first + soak_seed_count; ++seed) {
        run_seed(seed);
    }
}

TEST_CASE("server: a bad-input run is reproducible from its seed", "[server][sim]") {
    REQUIRE(run_seed(seed_first) == run_seed(seed_first));
}
