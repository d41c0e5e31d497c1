#include "chaos/nemesis.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/base/assert.h"
#include "sim/network.h"
#include "sim/node.h"

namespace herald::chaos {
namespace {

constexpr std::uint64_t nemesis_salt = 0x6e656d6573697321ULL;  // "nemesis!"
constexpr std::uint64_t server_first_ping_ns = 2'400'000'000;     // core/client.cc: 2 s + 20%.
constexpr std::int64_t skew_ns_max = 10'000'000'000;
constexpr std::int64_t drift_ppm_max = 500;
constexpr std::int64_t jump_ns_max = 60'000'000'000;
constexpr std::uint64_t bandwidth_limited = 64 * 1024;
constexpr std::uint64_t disk_syncs_failed = 3;

Duration with_slack(Duration bound) { return Duration{bound.ns + bound.ns / 10 + 200'000'000}; }

std::int64_t signed_uniform(io::SplitMix64& random, std::int64_t max) {
    const auto span = static_cast<std::uint64_t>(max) * 2 + 1;
    return static_cast<std::int64_t>(random.uniform(span)) - max;
}

}  // namespace

Duration client_stale_bound(const sim::ClientSpec& client) {
    return with_slack(client.ping_interval * (std::uint64_t{client.max_pings_out} + 1));
}

Duration server_stale_bound(const sim::NodeSpec& node) {
    const Duration interval = node.options.ping_interval;
    const auto pings = static_cast<std::uint64_t>(node.options.ping_max) + 2;
    return with_slack(Duration{std::max(server_first_ping_ns, interval.ns)} + interval * pings);
}

bool disturbed(const std::vector<sim::FaultRecord>& faults, std::size_t self, sim::NodeIndex a, sim::NodeIndex b,
               Instant from, Instant to) {
    for (std::size_t i = 0; i < faults.size(); ++i) {
        const sim::FaultRecord& fault = faults[i];
        if (i == self || fault.kind.starts_with("clock_")) continue;
        // Released bytes may trail the end of a fault by a slow segment's delay.
        const Instant end = fault.end == sim::instant_never ? fault.end : fault.end + Duration::seconds(1);
        if (fault.start > to || end < from) continue;
        // A process or isolate fault on either node, or a link fault between the two.
        const bool has_a = std::find(fault.nodes.begin(), fault.nodes.end(), a) != fault.nodes.end();
        const bool has_b = std::find(fault.nodes.begin(), fault.nodes.end(), b) != fault.nodes.end();
        if (fault.nodes.size() == 1 ? (has_a || has_b) : (has_a && has_b)) return true;
    }
    return false;
}

Nemesis::Nemesis(sim::Cluster& cluster, const Scenario& scenario, std::uint64_t seed,
                 std::array<bool, fault_type_count> enabled)
    : cluster_(cluster), scenario_(scenario), random_(seed ^ nemesis_salt), enabled_(enabled) {}

void Nemesis::start() {
    sim::SimWorld& world = cluster_.world();
    for (const ScriptedFault& fault : scenario_.schedule) {
        std::vector<sim::NodeIndex> targets;
        for (const std::string& name : fault.targets) {
            const auto node = resolve_target(scenario_, name);
            ASSERT(node.has_value());
            targets.push_back(*node);
        }
        world.schedule_at(Instant{} + fault.at, sim::world_node, sim::EventKind::custom,
                          [this, type = fault.type, targets, duration = fault.duration]() mutable {
                              if (targets.empty()) targets = pick_targets(type, {});
                              fire(type, std::move(targets), duration);
                          });
    }
    for (std::size_t i = 0; i < scenario_.random.size(); ++i) schedule_random(i);
}

void Nemesis::schedule_random(std::size_t index) {
    const RandomFault& spec = scenario_.random[index];
    if (!enabled_[static_cast<std::size_t>(spec.type)] || spec.rate_per_minute <= 0.0) return;
    // Gaps uniform in [0, 2 x mean]: the mean rate holds, bursts and lulls both happen.
    const auto mean_ns = static_cast<std::uint64_t>(60e9 / spec.rate_per_minute);
    const Duration gap{uniform(mean_ns * 2 + 1)};
    sim::SimWorld& world = cluster_.world();
    const Instant due = world.now() + gap;
    if (due.ns >= scenario_.duration.ns) return;
    world.schedule_at(due, sim::world_node, sim::EventKind::custom, [this, index] {
        if (healed_) return;
        const RandomFault& fault = scenario_.random[index];
        auto targets = pick_targets(fault.type, fault.targets);
        const std::uint64_t span = fault.duration_max.ns - fault.duration_min.ns;
        const Duration duration{fault.duration_min.ns + uniform(span + 1)};
        if (!targets.empty()) fire(fault.type, std::move(targets), duration);
        schedule_random(index);
    });
}

std::vector<sim::NodeIndex> Nemesis::pick_targets(FaultType type, const std::vector<std::string>& names) {
    const auto servers = static_cast<sim::NodeIndex>(cluster_.server_count());
    const auto nodes = static_cast<sim::NodeIndex>(servers + cluster_.client_count());
    std::vector<sim::NodeIndex> pool;
    for (const std::string& name : names) pool.push_back(*resolve_target(scenario_, name));
    if (pool.empty()) {
        switch (type) {
            case FaultType::server_crash:
            case FaultType::server_crash_silent:
            case FaultType::server_pause:
            case FaultType::disk_crash:
            case FaultType::disk_corrupt:
            case FaultType::disk_errors:
            case FaultType::disk_bitflip:
            case FaultType::disk_full:
                for (sim::NodeIndex n = 0; n < servers; ++n) pool.push_back(n);
                break;
            case FaultType::client_crash:
            case FaultType::client_pause:
            case FaultType::kick:
                for (sim::NodeIndex n = servers; n < nodes; ++n) pool.push_back(n);
                break;
            default:
                for (sim::NodeIndex n = 0; n < nodes; ++n) pool.push_back(n);
                break;
        }
    }
    const std::size_t arity = fault_type_arity(type);
    if (pool.size() < arity) return {};
    std::vector<sim::NodeIndex> targets;
    // Links: one end a server (where the traffic is), the other anything else.
    if (arity >= 2 && names.empty()) {
        targets.push_back(static_cast<sim::NodeIndex>(uniform(servers)));
        std::erase(pool, targets[0]);
    }
    while (targets.size() < arity) {
        const std::size_t at = uniform(pool.size());
        targets.push_back(pool[at]);
        pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(at));
    }
    return targets;
}

void Nemesis::fire(FaultType type, std::vector<sim::NodeIndex> targets, Duration duration) {
    if (healed_) return;
    sim::SimWorld& world = cluster_.world();
    FiredFault fault;
    fault.at = Duration{world.now().ns};
    fault.type = type;
    fault.targets = std::move(targets);
    fault.duration = duration;
    sim::FaultRecord record;
    record.kind = std::string(fault_type_name(type));
    record.nodes = fault.targets;
    record.start = world.now();
    record.end = world.now() + duration;
    std::string names;
    for (const sim::NodeIndex node : fault.targets) names += " " + target_name(scenario_, node);
    if (!apply(fault, record)) {
        cluster_.note(fmt::format("nemesis: {}{} skipped (target not running)", record.kind, names));
        return;
    }
    cluster_.note(fmt::format("nemesis: {}{} for {}ms", record.kind, names, fault.duration.ns / 1'000'000));
    ++counts_[static_cast<std::size_t>(type)];
    fired_.push_back(fault);
    auto& faults = cluster_.history().faults;
    faults.push_back(std::move(record));
    active_.push_back(Active{faults.size() - 1, fault, false, {}});
    const std::size_t active = active_.size() - 1;
    world.schedule_after(fault.duration, sim::world_node, sim::EventKind::custom, [this, active] { undo(active); });
    // Server-side stale detection: if the silence outlasts the bound, look then. A server also
    // learns of a client's own stale detection by its FIN, so the later bound of the two holds.
    Duration bound{};
    for (const sim::SilentPair& pair : faults.back().silent) {
        if (!pair.server_should_detect) continue;
        bound = std::max(bound, server_stale_bound(scenario_.cluster.nodes[pair.server]));
        bound = std::max(bound, client_stale_bound(scenario_.cluster.clients[pair.client]));
    }
    for (const sim::SilentPair& pair : faults.back().silent) {
        if (!pair.server_should_detect) continue;
        const sim::NodeIndex peer = cluster_.client_node(pair.client);
        active_.back().watched.push_back(
            Watched{pair.server, peer, cluster_.server_generation(pair.server), cluster_.server_connections_from(pair.server, peer)});
    }
    if (bound.ns > 0 && fault.duration > bound) {
        world.schedule_after(bound, sim::world_node, sim::EventKind::custom, [this, active] { probe_servers(active); });
    }
}

std::uint32_t Nemesis::client_of(sim::NodeIndex node) const {
    ASSERT(!is_server(node));
    return static_cast<std::uint32_t>(node - cluster_.server_count());
}

void Nemesis::add_silent(sim::FaultRecord& record, sim::NodeIndex a, sim::NodeIndex b, bool a_silent,
                         bool b_silent) {
    // Only server-client paths carry connections.
    if (is_server(a) == is_server(b)) return;
    const bool a_is_server = is_server(a);
    const sim::NodeIndex server = a_is_server ? a : b;
    const sim::NodeIndex client = a_is_server ? b : a;
    const bool server_silent = a_is_server ? a_silent : b_silent;
    const bool client_silent = a_is_server ? b_silent : a_silent;
    sim::SilentPair pair;
    pair.server = server;
    pair.client = client_of(client);
    pair.client_should_detect = server_silent && !client_silent;
    pair.server_should_detect = client_silent && !server_silent;
    // A cut link silences both directions for both: each side hears nothing.
    if (!a_silent && !b_silent) pair.client_should_detect = pair.server_should_detect = true;
    record.silent.push_back(pair);
}

bool Nemesis::apply(FiredFault& fault, sim::FaultRecord& record) {
    sim::SimWorld& world = cluster_.world();
    sim::SimNetworkModel& network = world.network();
    const auto& t = fault.targets;
    const auto nodes = static_cast<sim::NodeIndex>(world.node_count());
    auto running = [&](sim::NodeIndex node) { return world.node_state(node) == sim::NodeState::up; };
    auto every_peer = [&](sim::NodeIndex node, bool node_silent) {
        for (sim::NodeIndex other = 0; other < nodes; ++other) {
            if (other != node) add_silent(record, node, other, node_silent, false);
        }
    };
    switch (fault.type) {
        case FaultType::server_crash:
        case FaultType::server_crash_silent:
        case FaultType::disk_crash: {
            if (!is_server(t[0]) || !running(t[0])) return false;
            sim::CrashOptions options;
            if (fault.type == FaultType::server_crash_silent) options.peers = sim::PeerView::silent;
            if (fault.type == FaultType::disk_crash) {
                fault.detail = uniform(3);
                options.disk = fault.detail == 0 ? sim::DiskCrash::lose_unsynced
                               : fault.detail == 1 ? sim::DiskCrash::keep_some
                                                   : sim::DiskCrash::tear_last;
                options.peers = uniform(2) == 0 ? sim::PeerView::reset : sim::PeerView::silent;
            }
            options.disk = fault.type == FaultType::disk_crash ? options.disk : sim::DiskCrash::keep_unsynced;
            if (options.peers == sim::PeerView::silent) every_peer(t[0], true);
            record.pauses_or_crashes = true;
            cluster_.crash_server(t[0], options);
            return true;
        }
        case FaultType::server_pause:
        case FaultType::client_pause:
            if (is_server(t[0]) != (fault.type == FaultType::server_pause) || !running(t[0])) return false;
            every_peer(t[0], true);
            record.pauses_or_crashes = true;
            world.pause_node(t[0]);
            return true;
        case FaultType::client_crash: {
            if (is_server(t[0]) || !running(t[0])) return false;
            sim::CrashOptions options;
            options.peers = uniform(2) == 0 ? sim::PeerView::reset : sim::PeerView::silent;
            fault.detail = static_cast<std::uint64_t>(options.peers);
            if (options.peers == sim::PeerView::silent) every_peer(t[0], true);
            record.pauses_or_crashes = true;
            cluster_.crash_client(client_of(t[0]), options);
            return true;
        }
        case FaultType::partition:
            network.partition({t[0]}, {t[1]});
            add_silent(record, t[0], t[1], false, false);
            return true;
        case FaultType::partition_one_way:
            network.partition_one_way({t[0]}, {t[1]});
            add_silent(record, t[0], t[1], false, false);
            return true;
        case FaultType::isolate:
            network.isolate(t[0]);
            every_peer(t[0], false);
            return true;
        case FaultType::bridge:
            network.bridge({t[0]}, {t[1]}, {t[2]});
            add_silent(record, t[0], t[2], false, false);
            return true;
        case FaultType::clog:
            network.clog(t[0], t[1], fault.duration);
            add_silent(record, t[0], t[1], false, false);
            return true;
        case FaultType::slow_link:
        case FaultType::bandwidth: {
            sim::SimLinkOptions link = network.link(t[0], t[1]);
            if (fault.type == FaultType::slow_link) {
                link.slow_probability = 0.5;
            } else {
                link.bandwidth_bytes_per_second = bandwidth_limited;
            }
            network.set_link_both(t[0], t[1], link);
            return true;
        }
        case FaultType::reset:
            fault.detail = network.reset_connections(t[0], t[1]);
            record.end = record.start;
            return true;
        case FaultType::blackhole: {
            std::uint64_t count = 0;
            for (const sim::SimConnectionInfo& info : network.connections()) {
                const bool between = (info.client_node == t[0] && info.server_node == t[1]) ||
                                     (info.client_node == t[1] && info.server_node == t[0]);
                if (between && network.blackhole_connection(info.id)) ++count;
            }
            fault.detail = count;
            add_silent(record, t[0], t[1], false, false);
            // The connections stay dead until a side notices: the silence lasts till heal.
            fault.duration = Duration::seconds(3600);
            record.end = sim::instant_never;
            return true;
        }
        case FaultType::kick:
            if (is_server(t[0])) return false;
            fault.detail = cluster_.kick_client(client_of(t[0]));
            record.end = record.start;
            return true;
        case FaultType::clock_skew: {
            const std::int64_t skew = signed_uniform(random_, skew_ns_max);
            fault.detail = static_cast<std::uint64_t>(skew);
            world.node(t[0]).clock().set_skew_ns(skew);
            return true;
        }
        case FaultType::clock_drift: {
            const std::int64_t ppm = signed_uniform(random_, drift_ppm_max);
            fault.detail = static_cast<std::uint64_t>(ppm);
            world.node(t[0]).clock().set_drift_ppm(ppm);
            return true;
        }
        case FaultType::clock_jump: {
            const std::int64_t jump = signed_uniform(random_, jump_ns_max);
            fault.detail = static_cast<std::uint64_t>(jump);
            world.node(t[0]).clock().jump_realtime_ns(jump);
            record.end = record.start;
            return true;
        }
        case FaultType::disk_corrupt: {
            // Core NATS keeps nothing on disk yet; this bites once JetStream stores do.
            if (!is_server(t[0])) return false;
            auto& disk = world.node(t[0]).file_system();
            for (const std::string& path : disk.durable_paths()) {
                switch (uniform(3)) {
                    case 0: static_cast<void>(disk.flip_bits(path, 1)); break;
                    case 1: static_cast<void>(disk.truncate_at_rest(path)); break;
                    default: static_cast<void>(disk.rollback(path)); break;
                }
            }
            record.end = record.start;
            return true;
        }
        case FaultType::disk_errors:
            if (!is_server(t[0])) return false;
            world.node(t[0]).file_system().fail_next_syncs(disk_syncs_failed);
            record.end = record.start;
            return true;
        case FaultType::disk_bitflip: {
            // Bit rot in the stream data only (blk-*.dat): every record it hits is damaged, the
            // rest must survive. Flips in config or consumer files are disk_corrupt's business.
            if (!is_server(t[0])) return false;
            auto& disk = world.node(t[0]).file_system();
            for (const std::string& path : disk.durable_paths()) {
                if (path.find("/msgs/blk-") == std::string::npos) continue;
                record.bits_flipped += disk.flip_bits(path, 1).size();
            }
            fault.detail = record.bits_flipped;
            record.end = record.start;
            return true;
        }
        case FaultType::disk_full: {
            if (!is_server(t[0])) return false;
            auto& disk = world.node(t[0]).file_system();
            disk.options().space_bytes_max = std::max<std::uint64_t>(disk.used_bytes(), 1);
            return true;
        }
        case FaultType::count_:
            break;
    }
    return false;
}

void Nemesis::undo(std::size_t index) {
    Active& active = active_[index];
    if (active.undone) return;
    active.undone = true;
    sim::SimWorld& world = cluster_.world();
    sim::SimNetworkModel& network = world.network();
    const auto& t = active.fault.targets;
    auto& record = cluster_.history().faults[active.record];
    record.end = std::min(record.end, world.now());
    switch (active.fault.type) {
        case FaultType::server_crash:
        case FaultType::server_crash_silent:
        case FaultType::disk_crash:
            cluster_.restart_server(t[0]);
            break;
        case FaultType::server_pause:
        case FaultType::client_pause:
            if (world.node_state(t[0]) == sim::NodeState::paused) world.resume_node(t[0]);
            break;
        case FaultType::client_crash:
            cluster_.restart_client(client_of(t[0]));
            break;
        case FaultType::partition:
            network.heal(t[0], t[1]);
            network.heal(t[1], t[0]);
            break;
        case FaultType::partition_one_way:
            network.heal(t[0], t[1]);
            break;
        case FaultType::isolate:
            for (sim::NodeIndex other = 0; other < world.node_count(); ++other) {
                network.heal(t[0], other);
                network.heal(other, t[0]);
            }
            break;
        case FaultType::bridge:
            network.heal(t[0], t[2]);
            network.heal(t[2], t[0]);
            break;
        case FaultType::slow_link:
        case FaultType::bandwidth:
            network.set_link_both(t[0], t[1], scenario_.cluster.world.network.link);
            break;
        case FaultType::clock_skew:
            world.node(t[0]).clock().set_skew_ns(0);
            break;
        case FaultType::clock_drift:
            world.node(t[0]).clock().set_drift_ppm(0);
            break;
        case FaultType::disk_full:
            world.node(t[0]).file_system().options().space_bytes_max = 0;
            break;
        default:
            break;  // Instant faults, and clogs that end by themselves.
    }
    cluster_.note(fmt::format("nemesis: {} ends", record.kind));
}

void Nemesis::probe_servers(std::size_t index) {
    const Active& active = active_[index];
    if (active.undone) return;
    const sim::FaultRecord& record = cluster_.history().faults[active.record];
    for (const Watched& watched : active.watched) {
        if (watched.cids.empty() || cluster_.world().node_state(watched.server) != sim::NodeState::up) continue;
        if (cluster_.server_generation(watched.server) != watched.generation) continue;
        if (disturbed(cluster_.history().faults, active.record, watched.server, watched.peer_node, record.start,
                      cluster_.world().now())) {
            continue;
        }
        const auto open = cluster_.server_connections_from(watched.server, watched.peer_node);
        sim::Probe probe;
        probe.at = cluster_.world().now();
        probe.server = watched.server;
        probe.peer_node = watched.peer_node;
        for (const std::uint64_t cid : watched.cids) {
            if (std::find(open.begin(), open.end(), cid) != open.end()) ++probe.open_connections;
        }
        probe.why = fmt::format("{} since {} (fault #{})", record.kind, record.start.ns, active.record);
        if (probe.open_connections > 0) {
            cluster_.note(fmt::format("probe: n{} still has {} connection(s) from {} after {}", watched.server,
                                      probe.open_connections, target_name(scenario_, probe.peer_node), record.kind));
        }
        cluster_.history().probes.push_back(std::move(probe));
    }
}

void Nemesis::heal() {
    if (healed_) return;
    healed_ = true;
    for (std::size_t i = 0; i < active_.size(); ++i) undo(i);
    cluster_.world().network().heal();
    // disk_errors left over (syncs that would still fail) end with the faults.
    for (std::uint32_t s = 0; s < cluster_.server_count(); ++s) cluster_.world().node(s).file_system().clear_failing_syncs();
    for (std::uint32_t s = 0; s < cluster_.server_count(); ++s) {
        const auto state = cluster_.world().node_state(s);
        if (state == sim::NodeState::paused) cluster_.world().resume_node(s);
        if (!cluster_.server_up(s)) cluster_.restart_server(s);
    }
    for (std::uint32_t c = 0; c < cluster_.client_count(); ++c) {
        const sim::NodeIndex node = cluster_.client_node(c);
        if (cluster_.world().node_state(node) == sim::NodeState::paused) cluster_.world().resume_node(node);
        if (!cluster_.client_up(c)) cluster_.restart_client(c);
    }
    cluster_.history().heal_at = cluster_.world().now();
    cluster_.note("nemesis: heal");
}

}  // namespace herald::chaos
