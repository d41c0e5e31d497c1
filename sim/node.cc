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

}  // namespace

void SimLoop::post(std::function<void()> task) {
    ASSERT(task);
    world_.schedule_after(Duration{}, node_, EventKind::post, std::move(task));
}

io::TimerId SimLoop::schedule(Duration after, std::function<void()> task) {
    ASSERT(task);
    return world_.schedule_after(after, node_, EventKind::timer, std::move(task));
}

void SimLoop::cancel(io::TimerId timer) { static_cast<void>(world_.cancel(timer)); }

SimNode::SimNode(SimWorld& world, NodeIndex index, const SimNodeOptions& options)
    : world_(world),
      index_(index),
      host_(options.host.empty() ? default_host(index) : options.host),
      clock_(world),
      loop_(world, index),
      random_(node_seed(world.seed(), index)),
      network_(world, index, host_),
      file_system_(world, index, options.disk),
      env_{clock_, loop_, network_, file_system_, random_} {}

}  // namespace herald::sim
