// The JetStream checkers (js_no_loss, js_no_phantom, js_consumer, js_exactly_once): a run's
// js_* history entries against the streams read from their stores at the end (History::streams).
#pragma once

#include <vector>

#include "chaos/checkers.h"

namespace herald::chaos {

// Appends at most violations_max violations of `checker` (a js_* type) to `violations`.
void check_jetstream(CheckerType checker, const sim::History& history, const Scenario& scenario,
                     std::vector<Violation>& violations);

}  // namespace herald::chaos
