#include "sim/node.h"

#include "engine/base/assert.h"

namespace herald::sim {
namespace {

std::uint64_t node_seed(std::uint64_t world_seed, NodeIndex index) {
    io::SplitMix64 mixer(world_seed ^ (0x9e3779b97f4a7c15ULL * (std::uint64_t{index} + 1)));
    return mixer.next_u64();
}

std::string default_host(NodeIndex index) {
    ASSERT(index < 250 * 250);
    const NodeIndex number = index + 1;
    return "10.0." + std::to_string(number / 250) + "." + std::to_string(number % 250);
}

constexpr std::uint64_t ppm_scale = 1'000'000;

// value * numerator / denominator, rounded down (or up), without overflow for any value that
// fits: the quotient and the remainder are scaled apart.
std::uint64_t scale(std::uint64_t value, std::uint64_t numerator, std::uint64_t denominator,
                    bool round_up) {
    ASSERT(denominator > 0);
    ASSERT(numerator <= 2 * ppm_scale);
    ASSERT(denominator <= 2 * ppm_scale);
    const std::uint64_t whole = (value / denominator) * numerator;
    const std::uint64_t part = (value % denominator) * numerator;
    return whole + part / denominator + (round_up && part % denominator != 0 ? 1 : 0);
}

}  // namespace

SimClock::SimClock(SimWorld& world, NodeIndex node, SimClockOptions options)
    : realtime_offset_ns(options.skew_ns), world_(world), node_(node) {
    ASSERT(options.drift_ppm > -static_cast<std::int64_t>(ppm_scale));
    ASSERT(options.drift_ppm <= static_cast<std::int64_t>(ppm_scale));
    drift_ppm_ = options.drift_ppm;
    anchor_world_ns_ = world.now().ns;
    anchor_local_ns_ = world.now().ns;
}

std::uint64_t SimClock::elapsed_ns() const {
    const std::uint64_t since = world_.now().ns - anchor_world_ns_;
    const auto rate = static_cast<std::uint64_t>(static_cast<std::int64_t>(ppm_scale) + drift_ppm_);
    return anchor_local_ns_ + scale(since, rate, ppm_scale, false);
}

Instant SimClock::monotonic() const { return Instant{elapsed_ns() + monotonic_offset_ns}; }

std::int64_t SimClock::realtime_ns() const {
    return world_.options().epoch_realtime_ns + static_cast<std::int64_t>(elapsed_ns()) +
           realtime_offset_ns;
}

void SimClock::set_skew_ns(std::int64_t skew_ns) {
    world_.record_fault(FaultKind::clock_skew, node_, static_cast<std::uint64_t>(skew_ns));
    realtime_offset_ns = skew_ns;
}

void SimClock::set_drift_ppm(std::int64_t drift_ppm) {
    ASSERT(drift_ppm > -static_cast<std::int64_t>(ppm_scale));
    ASSERT(drift_ppm <= static_cast<std::int64_t>(ppm_scale));
    world_.record_fault(FaultKind::clock_drift, node_, static_cast<std::uint64_t>(drift_ppm));
    anchor_local_ns_ = elapsed_ns();
    anchor_world_ns_ = world_.now().ns;
    drift_ppm_ = drift_ppm;
}

void SimClock::jump_realtime_ns(std::int64_t delta_ns) {
    world_.record_fault(FaultKind::clock_jump, node_, static_cast<std::uint64_t>(delta_ns));
    realtime_offset_ns += delta_ns;
}

Duration SimClock::world_duration(Duration local) const {
    if (drift_ppm_ == 0) return local;
    const auto rate = static_cast<std::uint64_t>(static_cast<std::int64_t>(ppm_scale) + drift_ppm_);
    // One more nanosecond covers the rounding down of elapsed_ns().
    return Duration{scale(local.ns, ppm_scale, rate, true) + 1};
}

void SimLoop::post(std::function<void()> task) {
    ASSERT(task);
    world_.schedule_after(Duration{}, node_, EventKind::post, std::move(task));
}

io::TimerId SimLoop::schedule(Duration after, std::function<void()> task) {
    ASSERT(task);
    return world_.schedule_after(clock_.world_duration(after), node_, EventKind::timer,
                                 std::move(task));
}

void SimLoop::cancel(io::TimerId timer) { static_cast<void>(world_.cancel(timer)); }

SimNode::SimNode(SimWorld& world, NodeIndex index, const SimNodeOptions& options)
    : world_(world),
      index_(index),
      host_(options.host.empty() ? default_host(index) : options.host),
      clock_(world, index, options.clock),
      loop_(world, index, clock_),
      random_(node_seed(world.seed(), index)),
      network_(world, index, host_),
      file_system_(world, index, options.disk),
      env_{clock_, loop_, network_, file_system_, random_} {}

}  // namespace herald::sim
