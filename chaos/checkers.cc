#include "chaos/checkers.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "chaos/js_checkers.h"
#include "chaos/nemesis.h"
#include "engine/base/assert.h"
#include "engine/protocol/subject.h"

namespace herald::chaos {
namespace {

using sim::Entry;
using sim::History;
using sim::Op;
using sim::Outcome;
using sim::PayloadId;
using sim::PayloadKind;

std::string seconds(Instant at) {
    if (at == sim::instant_never) return "never";
    return fmt::format("{}.{:06}s", at.ns / 1'000'000'000, (at.ns % 1'000'000'000) / 1000);
}

std::string id_text(const PayloadId& id) {
    return fmt::format("{}{}.{}", static_cast<char>(id.kind), id.client, id.seq);
}

// What the checkers share: indexes over the history, built once per check.
struct Index {
    struct EpochInfo {
        const sim::Epoch* epoch = nullptr;
        Instant active_from = sim::instant_never;  // First OK flush completion.
        Instant last_ok_flush_invoke{};             // Zero: none.
        bool has_ok_flush = false;
        std::vector<std::size_t> ok_flushes;  // Entry indexes, in order.
    };

    explicit Index(const History& h) : history(h) {
        for (const sim::Epoch& epoch : h.epochs) epochs[{epoch.client, epoch.number}].epoch = &epoch;
        for (std::size_t i = 0; i < h.entries.size(); ++i) {
            const Entry& e = h.entries[i];
            if (e.op == Op::publish && e.outcome == Outcome::ok) publishes[e.id] = i;
            if (e.op == Op::request) requests[e.id] = i;
            if (e.op == Op::respond && e.outcome == Outcome::ok) responds.insert(e.id);
            if (e.op == Op::flush && e.outcome == Outcome::ok) {
                EpochInfo& info = epochs[{e.client, e.epoch}];
                if (!info.has_ok_flush) info.active_from = e.complete;
                info.has_ok_flush = true;
                info.last_ok_flush_invoke = std::max(info.last_ok_flush_invoke, e.invoke);
                info.ok_flushes.push_back(i);
            }
        }
    }

    const EpochInfo* epoch(std::uint32_t client, std::uint32_t number) const {
        const auto it = epochs.find({client, number});
        return it == epochs.end() || it->second.epoch == nullptr ? nullptr : &it->second;
    }
    // The flush that confirms publish entry `at`: the first OK flush after it on its connection.
    const Entry* confirmation(std::size_t at) const {
        const Entry& publish = history.entries[at];
        const EpochInfo* info = epoch(publish.client, publish.epoch);
        if (info == nullptr) return nullptr;
        const auto it = std::upper_bound(info->ok_flushes.begin(), info->ok_flushes.end(), at);
        return it == info->ok_flushes.end() ? nullptr : &history.entries[*it];
    }
    // The client's epochs, in order.
    std::vector<const EpochInfo*> epochs_of(std::uint32_t client) const {
        std::vector<const EpochInfo*> out;
        for (auto it = epochs.lower_bound({client, 0}); it != epochs.end() && it->first.first == client; ++it) {
            if (it->second.epoch != nullptr) out.push_back(&it->second);
        }
        return out;
    }

    const History& history;
    std::map<std::pair<std::uint32_t, std::uint32_t>, EpochInfo> epochs;  // (client, number)
    std::map<PayloadId, std::size_t> publishes;
    std::map<PayloadId, std::size_t> requests;
    std::set<PayloadId> responds;
};

class Report {
public:
    Report(CheckerType checker, std::vector<Violation>& out) : checker_(checker), out_(out) {}
    bool full() const { return count_ >= violations_max; }
    void add(Instant at, std::string message) {
        if (full()) return;
        ++count_;
        out_.push_back(Violation{checker_, at, std::move(message)});
    }

private:
    CheckerType checker_;
    std::vector<Violation>& out_;
    std::size_t count_ = 0;
};

const sim::SubscriptionRecord& subscription_of(const History& h, const Entry& e) {
    return h.clients[e.client].subscriptions[e.subscription];
}

void check_no_phantom(const Index& index, Report& report) {
    const History& h = index.history;
    for (const Entry& e : h.entries) {
        if (e.op != Op::deliver || report.full()) continue;
        const std::string& who = h.clients[e.client].name;
        const auto& sub = subscription_of(h, e);
        if (!e.payload_valid) {
            report.add(e.invoke, fmt::format("{} got a malformed or altered payload on '{}'", who, e.subject));
            continue;
        }
        if (!protocol::subject_matches(sub.subject, e.subject)) {
            report.add(e.invoke, fmt::format("{} got {} on '{}', which its subscription '{}' does not match", who,
                                             id_text(e.id), e.subject, sub.subject));
            continue;
        }
        const Entry* origin = nullptr;
        if (e.id.kind == PayloadKind::publish) {
            const auto it = index.publishes.find(e.id);
            if (it != index.publishes.end()) origin = &h.entries[it->second];
        } else if (e.id.kind == PayloadKind::request) {
            const auto it = index.requests.find(e.id);
            if (it != index.requests.end()) origin = &h.entries[it->second];
        } else if (index.responds.contains(e.id)) {
            continue;
        }
        if (origin == nullptr) {
            report.add(e.invoke, fmt::format("{} got {} on '{}', which nobody published", who, id_text(e.id), e.subject));
        } else if (origin->subject != e.subject) {
            report.add(e.invoke, fmt::format("{} got {} on '{}' but it was published to '{}'", who, id_text(e.id),
                                             e.subject, origin->subject));
        } else if (e.invoke < origin->invoke) {
            report.add(e.invoke, fmt::format("{} got {} before it was published", who, id_text(e.id)));
        }
    }
}

void check_no_duplicate(const Index& index, Report& report) {
    const History& h = index.history;
    std::set<std::tuple<std::uint32_t, std::uint32_t, PayloadId>> seen;
    for (const Entry& e : h.entries) {
        if (e.op != Op::deliver || !e.payload_valid || report.full()) continue;
        if (!seen.emplace(e.client, e.subscription, e.id).second) {
            report.add(e.invoke, fmt::format("{} got {} twice on subscription '{}'", h.clients[e.client].name,
                                             id_text(e.id), subscription_of(h, e).subject));
        }
    }
}

void check_order(const Index& index, Report& report) {
    const History& h = index.history;
    // (subscriber, subscription, its epoch, publisher, publisher's epoch) -> last seq.
    std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t>, std::uint64_t> last;
    for (const Entry& e : h.entries) {
        if (e.op != Op::deliver || !e.payload_valid || e.id.kind != PayloadKind::publish || report.full()) continue;
        const auto origin = index.publishes.find(e.id);
        if (origin == index.publishes.end()) continue;  // no_phantom reports it.
        const std::uint32_t publisher_epoch = h.entries[origin->second].epoch;
        auto [it, inserted] = last.emplace(std::tuple{e.client, e.subscription, e.epoch, e.id.client, publisher_epoch}, e.id.seq);
        if (inserted) continue;
        if (e.id.seq <= it->second) {
            report.add(e.invoke, fmt::format("{} got {} after {}.{} from the same publisher connection (epoch {}) on '{}'",
                                             h.clients[e.client].name, id_text(e.id), e.id.client, it->second,
                                             publisher_epoch, subscription_of(h, e).subject));
        }
        it->second = std::max(it->second, e.id.seq);
    }
}

// Deliveries as a set of (client, subscription, epoch, id).
std::set<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, PayloadId>> deliveries(const History& h) {
    std::set<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, PayloadId>> out;
    for (const Entry& e : h.entries) {
        if (e.op == Op::deliver && e.payload_valid) out.emplace(e.client, e.subscription, e.epoch, e.id);
    }
    return out;
}

void check_no_loss(const Index& index, Report& report) {
    const History& h = index.history;
    const auto delivered = deliveries(h);
    for (const auto& [id, at] : index.publishes) {
        if (report.full()) break;
        const Entry& publish = h.entries[at];
        const Entry* confirm = index.confirmation(at);
        if (confirm == nullptr) continue;
        const auto* publisher_epoch = index.epoch(publish.client, publish.epoch);
        if (publisher_epoch == nullptr) continue;
        const std::uint32_t node = publisher_epoch->epoch->node;
        for (std::uint32_t s = 0; s < h.clients.size() && !report.full(); ++s) {
            const auto& subs = h.clients[s].subscriptions;
            for (std::uint32_t k = 0; k < subs.size(); ++k) {
                if (!subs[k].queue.empty() || !protocol::subject_matches(subs[k].subject, publish.subject)) continue;
                for (const auto* epoch : index.epochs_of(s)) {
                    if (epoch->epoch->node != node || !epoch->has_ok_flush) continue;
                    if (epoch->active_from > publish.invoke || epoch->last_ok_flush_invoke < confirm->complete) continue;
                    if (delivered.contains({s, k, epoch->epoch->number, id})) continue;
                    report.add(confirm->complete,
                               fmt::format("{} never got {} on '{}' (published at {} on n{}, confirmed at {}; the "
                                           "subscriber's connection {} was active from {} and flushed at {})",
                                           h.clients[s].name, id_text(id), subs[k].subject, seconds(publish.invoke), node,
                                           seconds(confirm->complete), epoch->epoch->number, seconds(epoch->active_from),
                                           seconds(epoch->last_ok_flush_invoke)));
                }
            }
        }
    }
}

void check_reply_matches(const Index& index, Report& report) {
    const History& h = index.history;
    for (const Entry& e : h.entries) {
        if (e.op != Op::request || e.outcome != Outcome::ok || report.full()) continue;
        const std::string& who = h.clients[e.client].name;
        if (!e.reply || !e.payload_valid) {
            report.add(e.complete, fmt::format("{} got a malformed reply to {}", who, id_text(e.id)));
            continue;
        }
        const PayloadId expected{PayloadKind::reply, e.client, e.id.seq};
        if (*e.reply != expected) {
            report.add(e.complete, fmt::format("{} asked {} on '{}' and got the answer {} (meant for another request)",
                                               who, id_text(e.id), e.subject, id_text(*e.reply)));
        } else if (!index.responds.contains(expected)) {
            report.add(e.complete, fmt::format("{} got {} that no responder sent", who, id_text(*e.reply)));
        }
    }
}

void check_queue_once(const Index& index, const Scenario& scenario, Report& report) {
    const History& h = index.history;
    // Groups: (queue, subject) -> members (client, subscription).
    std::map<std::pair<std::string, std::string>, std::vector<std::pair<std::uint32_t, std::uint32_t>>> groups;
    for (std::uint32_t c = 0; c < h.clients.size(); ++c) {
        const auto& subs = h.clients[c].subscriptions;
        for (std::uint32_t k = 0; k < subs.size(); ++k) {
            if (!subs[k].queue.empty()) groups[{subs[k].queue, subs[k].subject}].emplace_back(c, k);
        }
    }
    // At most once, always.
    std::map<std::pair<std::pair<std::string, std::string>, PayloadId>, std::uint64_t> counts;
    for (const Entry& e : h.entries) {
        if (e.op != Op::deliver || !e.payload_valid || report.full()) continue;
        const auto& sub = subscription_of(h, e);
        if (sub.queue.empty()) continue;
        if (++counts[{{sub.queue, sub.subject}, e.id}] == 2) {
            report.add(e.invoke, fmt::format("queue group '{}' on '{}' delivered {} twice (again to {})", sub.queue,
                                             sub.subject, id_text(e.id), h.clients[e.client].name));
        }
    }
    // Exactly once while every member stays connected.
    for (const auto& [group, members] : groups) {
        for (const auto& [id, at] : index.publishes) {
            if (report.full()) return;
            const Entry& publish = h.entries[at];
            if (!protocol::subject_matches(group.second, publish.subject)) continue;
            const Entry* confirm = index.confirmation(at);
            const auto* publisher_epoch = index.epoch(publish.client, publish.epoch);
            if (confirm == nullptr || publisher_epoch == nullptr) continue;
            bool stable = true;
            bool reachable = false;
            for (const auto& [client, sub] : members) {
                const Duration settled = std::max(scenario.cluster.clients[client].connect_timeout,
                                                  server_stale_bound(scenario.cluster.nodes[publisher_epoch->epoch->node]));
                bool member_stable = false;
                for (const auto* epoch : index.epochs_of(client)) {
                    if (epoch->epoch->up + settled > publish.invoke || epoch->last_ok_flush_invoke < confirm->complete) continue;
                    member_stable = true;
                    reachable = reachable || (epoch->epoch->node == publisher_epoch->epoch->node && epoch->active_from <= publish.invoke);
                }
                stable = stable && member_stable;
            }
            if (!stable || !reachable || counts[{group, id}] >= 1) continue;
            report.add(confirm->complete, fmt::format("queue group '{}' on '{}' never delivered {} (confirmed at {}) "
                                                      "although its members stayed connected",
                                                      group.first, group.second, id_text(id), seconds(confirm->complete)));
        }
    }
}

bool process_stopped(const History& h, sim::NodeIndex node, Instant from, Instant to) {
    for (const sim::FaultRecord& fault : h.faults) {
        if (!fault.pauses_or_crashes || fault.start > to || fault.end < from) continue;
        if (std::find(fault.nodes.begin(), fault.nodes.end(), node) != fault.nodes.end()) return true;
    }
    return false;
}

void check_stale_detected(const Index& index, const Scenario& scenario, Report& report) {
    const History& h = index.history;
    for (std::size_t f = 0; f < h.faults.size(); ++f) {
        const sim::FaultRecord& fault = h.faults[f];
        for (const sim::SilentPair& pair : fault.silent) {
            if (!pair.client_should_detect || report.full()) continue;
            const Duration bound = client_stale_bound(scenario.cluster.clients[pair.client]);
            if (fault.end.since(fault.start) <= bound) continue;
            if (process_stopped(h, h.clients[pair.client].node, fault.start, fault.start + bound)) continue;
            const Instant window_start{fault.start.ns > bound.ns ? fault.start.ns - bound.ns : 0};
            if (disturbed(h.faults, f, pair.server, h.clients[pair.client].node, window_start, fault.start + bound)) continue;
            for (const auto* epoch : index.epochs_of(pair.client)) {
                const sim::Epoch& e = *epoch->epoch;
                if (e.node != pair.server || e.up > fault.start || e.down <= fault.start) continue;
                if (e.down > fault.start + bound) {
                    report.add(fault.start + bound,
                               fmt::format("{} kept its connection to silent n{} ({} from {}) until {}, past the "
                                           "bound {} (ping_interval x (max_pings_out + 1) + slack)",
                                           h.clients[pair.client].name, pair.server, fault.kind, seconds(fault.start),
                                           seconds(e.down), format_duration(bound)));
                }
            }
        }
    }
    for (const sim::Probe& probe : h.probes) {
        if (probe.open_connections == 0 || report.full()) continue;
        report.add(probe.at, fmt::format("n{} still had {} connection(s) from silent {} at {} ({}), past its stale bound",
                                         probe.server, probe.open_connections, target_name(scenario, probe.peer_node),
                                         seconds(probe.at), probe.why));
    }
}

void check_liveness(const Index& index, const Scenario& scenario, Report& report) {
    const History& h = index.history;
    if (h.heal_at == sim::instant_never) return;
    const Instant deadline = h.heal_at + scenario.settle;
    const auto clients = static_cast<std::uint32_t>(h.clients.size());
    std::vector<std::uint32_t> final_node(clients, sim::no_client);
    std::vector<bool> flushed(clients, false);
    std::vector<bool> answered(clients, false);
    for (const sim::Epoch& epoch : h.epochs) {
        if (epoch.up <= deadline && epoch.down > deadline) final_node[epoch.client] = epoch.node;
    }
    // (publisher, subscriber, subscription) pairs that saw fresh traffic.
    std::set<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>> flowing;
    for (const Entry& e : h.entries) {
        if (e.complete > deadline || e.invoke < h.heal_at || e.outcome != Outcome::ok) continue;
        if (e.op == Op::flush) flushed[e.client] = true;
        if (e.op == Op::request) answered[e.client] = true;
        if (e.op == Op::deliver && e.payload_valid && e.id.kind == PayloadKind::publish) {
            const auto origin = index.publishes.find(e.id);
            if (origin != index.publishes.end() && h.entries[origin->second].invoke >= h.heal_at) {
                flowing.emplace(e.id.client, e.client, e.subscription);
            }
        }
    }
    for (std::uint32_t c = 0; c < clients && !report.full(); ++c) {
        if (!flushed[c]) {
            report.add(deadline, fmt::format("{} did not complete a flush within settle {} after the heal at {}",
                                             h.clients[c].name, format_duration(scenario.settle), seconds(h.heal_at)));
        }
    }
    for (std::uint32_t p = 0; p < clients && !report.full(); ++p) {
        const auto& spec = scenario.cluster.clients[p];
        for (std::uint32_t s = 0; s < clients && final_node[p] != sim::no_client; ++s) {
            if (final_node[s] != final_node[p]) continue;
            const auto& subs = h.clients[s].subscriptions;
            for (std::uint32_t k = 0; k < subs.size(); ++k) {
                if (!subs[k].queue.empty()) continue;
                const bool matches = std::any_of(spec.publish.begin(), spec.publish.end(), [&](const sim::PublishSpec& ps) {
                    return protocol::subject_matches(subs[k].subject, ps.subject);
                });
                if (matches && !flowing.contains({p, s, k})) {
                    report.add(deadline, fmt::format("no message from {} reached {} on '{}' within settle {} after the heal",
                                                     spec.name, h.clients[s].name, subs[k].subject,
                                                     format_duration(scenario.settle)));
                }
            }
        }
        if (spec.request.empty() || answered[p] || final_node[p] == sim::no_client) continue;
        bool served = false;
        for (std::uint32_t s = 0; s < clients; ++s) {
            if (final_node[s] != final_node[p]) continue;
            for (const auto& sub : h.clients[s].subscriptions) {
                for (const auto& r : spec.request) served = served || (sub.responder && protocol::subject_matches(sub.subject, r.subject));
            }
        }
        if (served) {
            report.add(deadline, fmt::format("{} got no answer to a request within settle {} after the heal",
                                             spec.name, format_duration(scenario.settle)));
        }
    }
}

}  // namespace

std::vector<Violation> check(CheckerType checker, const History& history, const Scenario& scenario) {
    std::vector<Violation> out;
    Report report(checker, out);
    const Index index(history);
    switch (checker) {
        case CheckerType::no_phantom: check_no_phantom(index, report); break;
        case CheckerType::no_duplicate: check_no_duplicate(index, report); break;
        case CheckerType::order: check_order(index, report); break;
        case CheckerType::no_loss: check_no_loss(index, report); break;
        case CheckerType::reply_matches: check_reply_matches(index, report); break;
        case CheckerType::queue_once: check_queue_once(index, scenario, report); break;
        case CheckerType::stale_detected: check_stale_detected(index, scenario, report); break;
        case CheckerType::liveness: check_liveness(index, scenario, report); break;
        case CheckerType::js_no_loss:
        case CheckerType::js_no_phantom:
        case CheckerType::js_consumer:
        case CheckerType::js_exactly_once: check_jetstream(checker, history, scenario, out); break;
        case CheckerType::count_: ASSERT(false); break;
    }
    std::stable_sort(out.begin(), out.end(), [](const Violation& a, const Violation& b) { return a.at < b.at; });
    return out;
}

std::vector<Violation> check_all(const History& history, const Scenario& scenario) {
    std::vector<Violation> out;
    for (const CheckerType checker : scenario.checkers) {
        auto found = check(checker, history, scenario);
        out.insert(out.end(), found.begin(), found.end());
    }
    return out;
}

}  // namespace herald::chaos
