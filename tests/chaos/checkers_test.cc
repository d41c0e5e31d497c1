// Checkers on hand-made histories: each one flags the broken promise it is named after and
// stays quiet on the correct history next to it.
#include <catch2/catch.hpp>

#include "chaos/checkers.h"
#include "sim/cluster.h"

using herald::Instant;
using herald::chaos::CheckerType;
using herald::sim::Entry;
using herald::sim::Op;
using herald::sim::Outcome;
using herald::sim::PayloadId;
using herald::sim::PayloadKind;

namespace {

Instant at_ms(std::uint64_t ms) { return Instant{ms * 1'000'000}; }

// A publisher (client 0) and a subscriber (client 1) on node 0, both connected from 0 ms.
struct Fixture {
    Fixture() {
        history.clients.push_back({"pub", 1, {}});
        history.clients.push_back({"sub", 2, {{"a.*", "", false}}});
        history.epochs.push_back({0, 1, 0, at_ms(0), herald::sim::instant_never});
        history.epochs.push_back({1, 1, 0, at_ms(0), herald::sim::instant_never});
        scenario.cluster.nodes.resize(1);
        scenario.cluster.clients.resize(2);
        flush(1, 1, 2);  // The subscription is active from 2 ms.
    }
    void publish(std::uint64_t seq, std::uint64_t ms) {
        Entry e;
        e.client = 0;
        e.op = Op::publish;
        e.invoke = e.complete = at_ms(ms);
        e.outcome = Outcome::ok;
        e.epoch = 1;
        e.subject = "a.b";
        e.id = PayloadId{PayloadKind::publish, 0, seq};
        history.entries.push_back(e);
    }
    void deliver(std::uint64_t seq, std::uint64_t ms) {
        Entry e;
        e.client = 1;
        e.op = Op::deliver;
        e.invoke = e.complete = at_ms(ms);
        e.outcome = Outcome::ok;
        e.epoch = 1;
        e.subject = "a.b";
        e.id = PayloadId{PayloadKind::publish, 0, seq};
        history.entries.push_back(e);
    }
    void flush(std::uint32_t client, std::uint64_t from_ms, std::uint64_t to_ms) {
        Entry e;
        e.client = client;
        e.op = Op::flush;
        e.invoke = at_ms(from_ms);
        e.complete = at_ms(to_ms);
        e.outcome = Outcome::ok;
        e.epoch = 1;
        history.entries.push_back(e);
    }
    std::size_t violations(CheckerType checker) { return herald::chaos::check(checker, history, scenario).size(); }

    herald::sim::History history;
    herald::chaos::Scenario scenario;
};

}  // namespace

TEST_CASE("checkers: a delivery nobody published is a phantom", "[chaos][checkers]") {
    Fixture f;
    f.publish(1, 10);
    f.deliver(1, 11);
    REQUIRE(f.violations(CheckerType::no_phantom) == 0);
    f.deliver(2, 12);
    REQUIRE(f.violations(CheckerType::no_phantom) == 1);
}

TEST_CASE("checkers: the same message twice to one subscription is a duplicate", "[chaos][checkers]") {
    Fixture f;
    f.publish(1, 10);
    f.deliver(1, 11);
    REQUIRE(f.violations(CheckerType::no_duplicate) == 0);
    f.deliver(1, 12);
    REQUIRE(f.violations(CheckerType::no_duplicate) == 1);
}

TEST_CASE("checkers: messages of one publisher connection arrive in order", "[chaos][checkers]") {
    Fixture f;
    f.publish(1, 10);
    f.publish(2, 11);
    f.deliver(2, 12);
    f.deliver(1, 13);
    REQUIRE(f.violations(CheckerType::order) == 1);
}

TEST_CASE("checkers: a confirmed publish must reach a subscriber that stayed connected", "[chaos][checkers]") {
    // Goal: no_loss demands only what NATS promises. Method: without the subscriber's later flush
    // the loss is allowed; with it, it is a violation.
    Fixture f;
    f.publish(1, 10);
    f.flush(0, 11, 12);  // Confirms p0.1.
    REQUIRE(f.violations(CheckerType::no_loss) == 0);
    f.flush(1, 13, 14);  // The subscriber's connection was still up after the server had it.
    REQUIRE(f.violations(CheckerType::no_loss) == 1);
    f.deliver(1, 13);
    REQUIRE(f.violations(CheckerType::no_loss) == 0);
}

TEST_CASE("checkers: a reply must answer the request it came back for", "[chaos][checkers]") {
    Fixture f;
    Entry request;
    request.client = 0;
    request.op = Op::request;
    request.invoke = at_ms(10);
    request.complete = at_ms(11);
    request.outcome = Outcome::ok;
    request.id = PayloadId{PayloadKind::request, 0, 5};
    request.reply = PayloadId{PayloadKind::reply, 0, 4};
    f.history.entries.push_back(request);
    REQUIRE(f.violations(CheckerType::reply_matches) == 1);
}

TEST_CASE("checkers: payloads carry their publisher and sequence and detect damage", "[chaos][checkers]") {
    const PayloadId id{PayloadKind::publish, 12, 345};
    std::string payload = herald::sim::make_payload(id, 64);
    REQUIRE(payload.size() == 64);
    REQUIRE(herald::sim::parse_payload(payload) == id);
    payload[40] = static_cast<char>(payload[40] == 'a' ? 'b' : 'a');
    REQUIRE(!herald::sim::parse_payload(payload));
}
