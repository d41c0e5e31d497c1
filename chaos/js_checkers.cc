// The JetStream checkers: the history's js_publish / js_deliver / js_ack entries against the
// streams as their servers hold them at the end of the run (History::streams, read after a final
// power loss and restart). Rules in checkers.h and docs/simulator.md.
#include "chaos/js_checkers.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "engine/base/assert.h"
#include "engine/protocol/subject.h"

namespace herald::chaos {
namespace {

using sim::Entry;
using sim::History;
using sim::Op;
using sim::Outcome;
using sim::PayloadId;

std::string id_text(const PayloadId& id) { return fmt::format("p{}.{}", id.client, id.seq); }

std::string seconds(Instant at) {
    if (at == sim::instant_never) return "never";
    return fmt::format("{}.{:06}s", at.ns / 1'000'000'000, (at.ns % 1'000'000'000) / 1000);
}

class Out {
public:
    Out(CheckerType checker, std::vector<Violation>& out) : checker_(checker), out_(out) {}
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

// The server an entry went to: the node of the client's connection epoch (no_client if none).
std::uint32_t server_of(const History& h, const Entry& e) {
    for (const sim::Epoch& epoch : h.epochs) {
        if (epoch.client == e.client && epoch.number == e.epoch) return epoch.node;
    }
    return sim::no_client;
}

// The spec stream whose subjects take `subject`.
const sim::StreamSpec* stream_of(const Scenario& scenario, std::string_view subject) {
    for (const sim::StreamSpec& stream : scenario.cluster.streams) {
        for (const std::string& pattern : stream.subjects) {
            if (protocol::subject_matches(pattern, subject)) return &stream;
        }
    }
    return nullptr;
}

const sim::StreamRecord* record_of(const History& h, std::uint32_t server, std::string_view name) {
    for (const sim::StreamRecord& record : h.streams) {
        if (record.server == server && record.name == name) return &record;
    }
    return nullptr;
}

bool in_lost(const sim::StreamRecord& record, std::uint64_t seq) {
    return std::any_of(record.lost.begin(), record.lost.end(),
                       [seq](const auto& range) { return seq >= range.first && seq <= range.second; });
}

std::uint64_t bits_flipped(const History& h, std::uint32_t server) {
    std::uint64_t total = 0;
    for (const sim::FaultRecord& fault : h.faults) {
        if (!fault.nodes.empty() && fault.nodes[0] == server) total += fault.bits_flipped;
    }
    return total;
}

std::map<std::uint64_t, const sim::StoredRecord*> by_seq(const sim::StreamRecord& record) {
    std::map<std::uint64_t, const sim::StoredRecord*> out;
    for (const sim::StoredRecord& stored : record.messages) out[stored.seq] = &stored;
    return out;
}

// Every PubAck'd message is in its stream at the acked seq, and an acked (server, stream, seq)
// names one id only: two different ids acked with one seq is a violation even if the store holds
// one of them; the same id acked twice (a duplicate's PubAck) is checked once. The only excuse
// for a missing message is bit rot: a seq the recovery report lists as lost, on a server whose
// block files took flipped bits, and no more such losses than bits flipped there (one flipped
// bit damages one record).
void check_no_loss(const History& h, const Scenario& scenario, Out& out) {
    std::map<std::pair<std::uint32_t, std::string>, std::set<std::uint64_t>> damaged;
    std::map<std::tuple<std::uint32_t, std::string, std::uint64_t>, const Entry*> acked;
    for (const Entry& e : h.entries) {
        if (e.op != Op::js_publish || e.outcome != Outcome::ok || out.full()) continue;
        const sim::StreamSpec* spec = stream_of(scenario, e.subject);
        const std::uint32_t server = server_of(h, e);
        if (spec == nullptr || server == sim::no_client) continue;
        const auto [first, fresh] = acked.emplace(std::tuple{server, spec->name, e.js_seq}, &e);
        if (!fresh) {
            if (first->second->id != e.id) {
                out.add(e.complete, fmt::format("{} was acked at seq {} of {} on n{} at {}, but {} was acked at that seq at {}",
                                                id_text(e.id), e.js_seq, spec->name, server, seconds(e.complete),
                                                id_text(first->second->id), seconds(first->second->complete)));
            }
            continue;  // The same id again: checked against the store once.
        }
        const sim::StreamRecord* record = record_of(h, server, spec->name);
        if (record == nullptr || !record->found) {
            out.add(h.end, fmt::format("stream {} is gone from n{} but {} was acked at seq {} ({})", spec->name, server,
                                       id_text(e.id), e.js_seq, seconds(e.complete)));
            continue;
        }
        const auto stored = by_seq(*record);
        const auto it = stored.find(e.js_seq);
        if (it != stored.end() && it->second->id == e.id) continue;
        if (in_lost(*record, e.js_seq) && bits_flipped(h, server) > 0) {
            damaged[{server, spec->name}].insert(e.js_seq);
            continue;
        }
        const std::string found = it == stored.end()                ? std::string("nothing")
                                  : it->second->id.has_value() ? id_text(*it->second->id)
                                                               : std::string("a damaged payload");
        out.add(e.complete, fmt::format("{} was acked at seq {} of {} on n{} at {}, the store has {} there{}", id_text(e.id),
                                        e.js_seq, spec->name, server, seconds(e.complete), found,
                                        in_lost(*record, e.js_seq) ? " (reported lost, no bit rot there)" : ""));
    }
    for (const auto& [where, seqs] : damaged) {
        const std::uint64_t bits = bits_flipped(h, where.first);
        if (seqs.size() > bits) {
            out.add(h.end, fmt::format("{} acked messages of {} on n{} lost to damage (first seq {}), but only {} bits flipped: "
                                       "intact records were dropped",
                                       seqs.size(), where.second, where.first, *seqs.begin(), bits));
        }
    }
}

// Every stored message is intact and was published (by a js publisher, to a subject of its
// stream, with its own Nats-Msg-Id); a message whose every try got a definite error is absent.
void check_no_phantom(const History& h, const Scenario& scenario, Out& out) {
    struct Tries {
        bool ok = false;
        bool unknown = false;
        bool failed = false;
        std::string subject;
        Instant last{};
    };
    std::map<PayloadId, Tries> tries;
    for (const Entry& e : h.entries) {
        if (e.op != Op::js_publish) continue;
        Tries& t = tries[e.id];
        t.subject = e.subject;
        t.ok = t.ok || e.outcome == Outcome::ok;
        t.unknown = t.unknown || e.outcome == Outcome::unknown;
        t.failed = t.failed || e.outcome == Outcome::fail;
        t.last = std::max(t.last, e.complete == sim::instant_never ? e.invoke : e.complete);
    }
    std::set<PayloadId> stored_ids;
    for (const sim::StreamRecord& record : h.streams) {
        for (const sim::StoredRecord& stored : record.messages) {
            if (out.full()) return;
            if (!stored.id) {
                out.add(h.end, fmt::format("seq {} of {} on n{} has a damaged or foreign payload", stored.seq, record.name,
                                           record.server));
                continue;
            }
            stored_ids.insert(*stored.id);
            const auto t = tries.find(*stored.id);
            if (t == tries.end()) {
                out.add(h.end, fmt::format("seq {} of {} on n{} holds {}, never published to JetStream", stored.seq,
                                           record.name, record.server, id_text(*stored.id)));
            } else if (t->second.subject != stored.subject || stored.msg_id != id_text(*stored.id)) {
                out.add(h.end, fmt::format("seq {} of {} on n{} holds {} under subject {} msg id '{}' (published to {})",
                                           stored.seq, record.name, record.server, id_text(*stored.id), stored.subject,
                                           stored.msg_id, t->second.subject));
            }
        }
        if (record.load_errors > 0) {
            out.add(h.end, fmt::format("{} loads of {} on n{} failed", record.load_errors, record.name, record.server));
        }
    }
    static_cast<void>(scenario);
    for (const auto& [id, t] : tries) {
        if (out.full()) return;
        if (t.ok || t.unknown || !t.failed || !stored_ids.contains(id)) continue;
        out.add(t.last, fmt::format("{}: every try got a definite error, yet it is stored", id_text(id)));
    }
}

// The durable a js_deliver / js_ack entry belongs to: "<stream>/<durable>" (clients that share
// a durable are one consumer).
std::string durable_of(const Scenario& scenario, const Entry& e) {
    const auto& consume = scenario.cluster.clients.at(e.client).js_consume;
    if (e.subscription >= consume.size()) return fmt::format("?{}", e.client);
    return consume[e.subscription].stream + "/" + consume[e.subscription].durable;
}

// Per durable: no delivery of a (seq, id) after its ack was confirmed; at the end every stored
// message of its stream was acked (single server: the consumer's server). An ack whose answer
// never came counts as sent: the server may have recorded it (then it never redelivers), and if
// it did not, the redelivery gets acked again.
void check_consumer(const History& h, const Scenario& scenario, Out& out) {
    using Key = std::tuple<std::string, std::uint64_t, PayloadId>;  // durable, seq, id
    std::map<Key, Instant> confirmed;
    std::set<Key> sent;
    for (const Entry& e : h.entries) {
        if (e.op == Op::js_ack && e.outcome != Outcome::fail) sent.insert(Key{durable_of(scenario, e), e.js_seq, e.id});
        if (e.op != Op::js_ack || e.outcome != Outcome::ok) continue;
        const Key key{durable_of(scenario, e), e.js_seq, e.id};
        const auto it = confirmed.find(key);
        if (it == confirmed.end() || e.complete < it->second) confirmed[key] = e.complete;
    }
    for (const Entry& e : h.entries) {
        if (e.op != Op::js_deliver || out.full()) continue;
        const auto it = confirmed.find(Key{durable_of(scenario, e), e.js_seq, e.id});
        if (it == confirmed.end() || e.invoke <= it->second) continue;
        out.add(e.invoke, fmt::format("{} got seq {} ({}) again at {} (delivery {}), its ack was confirmed at {}",
                                      h.clients[e.client].name, e.js_seq, id_text(e.id), seconds(e.invoke), e.deliveries,
                                      seconds(it->second)));
    }
    if (scenario.cluster.nodes.size() != 1) return;
    for (std::uint32_t c = 0; c < scenario.cluster.clients.size(); ++c) {
        for (const sim::JsConsumeSpec& consume : scenario.cluster.clients[c].js_consume) {
            const sim::StreamRecord* record = record_of(h, 0, consume.stream);
            if (record == nullptr || !record->found) continue;
            for (const sim::StoredRecord& stored : record->messages) {
                if (out.full()) return;
                if (!stored.id || sent.contains(Key{consume.stream + "/" + consume.durable, stored.seq, *stored.id})) continue;
                out.add(h.end, fmt::format("{} ({}) never acked seq {} ({})", h.clients[c].name,
                                           consume.durable, stored.seq, id_text(*stored.id)));
            }
        }
    }
}

// Each Nats-Msg-Id is stored at most once per stream, and each durable confirms at most one ack
// per id.
void check_exactly_once(const History& h, const Scenario& scenario, Out& out) {
    for (const sim::StreamRecord& record : h.streams) {
        std::map<PayloadId, std::uint64_t> first;
        for (const sim::StoredRecord& stored : record.messages) {
            if (!stored.id || out.full()) continue;
            const auto [it, fresh] = first.emplace(*stored.id, stored.seq);
            if (!fresh) {
                out.add(h.end, fmt::format("{} is stored twice in {} on n{}: seqs {} and {}", id_text(*stored.id),
                                           record.name, record.server, it->second, stored.seq));
            }
        }
    }
    std::map<std::pair<std::string, PayloadId>, const Entry*> acked;
    for (const Entry& e : h.entries) {
        if (e.op != Op::js_ack || e.outcome != Outcome::ok || out.full()) continue;
        const auto [it, fresh] = acked.emplace(std::pair{durable_of(scenario, e), e.id}, &e);
        if (fresh || it->second->js_seq == e.js_seq) {
            if (!fresh) {
                out.add(e.complete, fmt::format("{} confirmed two acks of {} (seq {}) at {} and {}", h.clients[e.client].name,
                                                id_text(e.id), e.js_seq, seconds(it->second->complete), seconds(e.complete)));
            }
            continue;
        }
        out.add(e.complete, fmt::format("durable {} processed {} twice: acks confirmed for seq {} at {} ({}) and seq {} at {} ({})",
                                        durable_of(scenario, e), id_text(e.id), it->second->js_seq,
                                        seconds(it->second->complete), h.clients[it->second->client].name, e.js_seq,
                                        seconds(e.complete), h.clients[e.client].name));
    }
}

}  // namespace

void check_jetstream(CheckerType checker, const History& history, const Scenario& scenario,
                     std::vector<Violation>& violations) {
    Out out(checker, violations);
    switch (checker) {
        case CheckerType::js_no_loss: check_no_loss(history, scenario, out); break;
        case CheckerType::js_no_phantom: check_no_phantom(history, scenario, out); break;
        case CheckerType::js_consumer: check_consumer(history, scenario, out); break;
        case CheckerType::js_exactly_once: check_exactly_once(history, scenario, out); break;
        default: ASSERT(false); break;
    }
}

}  // namespace herald::chaos
