// Checkers: turn a run's History into verdicts on core NATS promises. Each is a pure function of
// the history and the scenario (bounds come from its ping settings and settle time); each
// returns the violations it found, earliest first, at most violations_max.
//
// Which publishes must arrive (no_loss, queue_once)? NATS core is at-most-once, so a checker may
// only demand what the protocol promises. A publish is *confirmed* when its client later
// completes a flush on the same connection (the server processed it). A subscription is
// *active* on a connection from the first flush completed there (the resubscribe went first).
// A confirmed message must reach an active subscription of the same server if it was published
// after the subscription became active, and the subscriber completed a flush invoked after the
// publisher's confirming flush completed, on the same connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chaos/scenario.h"
#include "sim/cluster.h"

namespace herald::chaos {

struct Violation {
    CheckerType checker = CheckerType::no_phantom;
    Instant at{};  // When it became visible.
    std::string message;
};

inline constexpr std::size_t violations_max = 5;

std::vector<Violation> check(CheckerType checker, const sim::History& history, const Scenario& scenario);

// Runs scenario.checkers in order; violations of all of them, grouped by checker.
std::vector<Violation> check_all(const sim::History& history, const Scenario& scenario);

}  // namespace herald::chaos
