// Property: a FileStore and a MemStore each behave exactly like a plain model (a map from seq to
// message, no shared code with MessageIndex) that counts bytes as nats-server does for that kind
// of store, under random operation sequences (store, remove, purge with filters/seq/keep,
// compact, skip, loads, filtered counts, max_msgs / max_bytes / per-subject limits with discard old or
// new), with clean restarts of the FileStore in the middle; without max_bytes the two stores
// give the same results. Small blocks make rolls and compaction frequent.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <map>
#include <ostream>
#include <set>

#include "tests/store/store_harness.h"

using herald::Duration;
using herald::Result;
using herald::store::Discard;
using herald::store::PurgeRequest;
using herald::store::Seq;
using herald::store::StoredMessage;
using herald::store::StoreLimits;
using herald::store::testing::Harness;
using herald::store::testing::Kind;

namespace {

enum class Op : int { store, remove, purge, compact, load, load_last, load_next, restart, limits, wait, skip };

struct Step {
    Op op = Op::store;
    int subject = 0;
    std::uint64_t number = 0;
    std::uint64_t keep = 0;
    int payload_size = 0;
    bool wildcard = false;
};

const char* subjects[] = {"a.x", "a.y", "b.x", "c"};

const char* op_names[] = {"store", "remove", "purge", "compact", "load", "load_last", "load_next",
                          "restart", "limits", "wait", "skip"};

std::ostream& operator<<(std::ostream& out, const Step& step) {
    return out << "{" << op_names[static_cast<int>(step.op)] << " subject=" << step.subject
               << " number=" << step.number << " keep=" << step.keep << " size=" << step.payload_size
               << " wildcard=" << step.wildcard << "}";
}

std::string filter_of(const Step& step) {
    if (step.wildcard) return step.subject % 2 == 0 ? "a.*" : "*.x";
    return subjects[step.subject];
}

bool filter_matches(const std::string& filter, const std::string& subject) {
    if (filter.empty() || filter == ">") return true;
    if (filter == "a.*") return subject.rfind("a.", 0) == 0;
    if (filter == "*.x") return subject.size() > 2 && subject.substr(subject.size() - 2) == ".x";
    return filter == subject;
}

// The reference: what a stream store keeps, as a map. Limits follow nats-server storeRawMsg
// (memstore.go, filestore.go): discard new refuses at max_msgs, and at max_bytes when the bytes
// plus the new payload reach it, unless the subject is at its own limit (then its oldest is
// replaced if larger than the new payload: file <=, memory < refuses); then discard old rules
// (subject's oldest, then the stream's oldest) apply under either policy.
class Model {
public:
    explicit Model(bool file) : file_(file) {}
    struct Message {
        std::string subject;
        std::string payload;
        std::uint64_t size = 0;
    };

    // False when refused (discard new).
    bool store(const std::string& subject, const std::string& payload) {
        // fileStoreMsgSize / memStoreMsgSize without headers, written out.
        const std::uint64_t size = subject.size() + payload.size() + (file_ ? 30 : 16);
        const std::uint64_t same = count_of(subject);
        const bool at_subject_limit =
            limits.max_msgs_per_subject > 0 && same >= static_cast<std::uint64_t>(limits.max_msgs_per_subject);
        if (limits.discard == Discard::new_messages) {
            if (at_subject_limit && limits.discard_new_per_subject) return false;
            if (limits.max_msgs > 0 && messages.size() >= static_cast<std::uint64_t>(limits.max_msgs) &&
                !at_subject_limit)
                return false;
            if (limits.max_bytes > 0 && bytes() + payload.size() >= static_cast<std::uint64_t>(limits.max_bytes)) {
                if (!at_subject_limit) return false;
                const std::uint64_t oldest = messages.at(oldest_of(subject)).size;
                if (file_ ? oldest <= payload.size() : oldest < payload.size()) return false;
            }
        }
        last_seq += 1;
        messages[last_seq] = Message{subject, payload, size};
        enforce(subject);
        return true;
    }
    void enforce(const std::string& subject) {
        if (limits.max_msgs_per_subject > 0) {
            while (count_of(subject) > static_cast<std::uint64_t>(limits.max_msgs_per_subject))
                messages.erase(oldest_of(subject));
        }
        if (limits.max_msgs > 0) {
            while (messages.size() > static_cast<std::uint64_t>(limits.max_msgs)) messages.erase(messages.begin());
        }
        if (limits.max_bytes > 0) {
            while (bytes() > static_cast<std::uint64_t>(limits.max_bytes)) messages.erase(messages.begin());
        }
    }
    // New limits apply at once: each subject (in subject order) to its own limit, then the
    // stream's. (nats-server memstore UpdateConfig trims max_msgs / max_bytes before the
    // per-subject limit, which can remove one message more; Herald trims per subject first.)
    void set_limits(const StoreLimits& new_limits) {
        limits = new_limits;
        std::set<std::string> stored;
        for (const auto& [seq, m] : messages) stored.insert(m.subject);
        for (const auto& subject : stored) enforce(subject);
        enforce("");
    }
    std::uint64_t compact(Seq seq) {
        std::uint64_t count = 0;
        while (!messages.empty() && messages.begin()->first < seq) {
            messages.erase(messages.begin());
            ++count;
        }
        if (seq > last_seq + 1) last_seq = seq - 1;
        return count;
    }
    std::uint64_t purge(const PurgeRequest& request) {
        if (request.filter.empty() || request.filter == ">") {
            if (request.keep == 0 && request.seq <= 1) return compact(last_seq + 1);
            if (request.seq > 1) return compact(request.seq);
            std::uint64_t count = 0;
            while (messages.size() > request.keep) {
                messages.erase(messages.begin());
                ++count;
            }
            return count;
        }
        std::vector<Seq> seqs;
        for (const auto& [seq, m] : messages)
            if (filter_matches(request.filter, m.subject)) seqs.push_back(seq);
        std::size_t count = seqs.size();
        if (request.keep > 0) count = seqs.size() > request.keep ? seqs.size() - request.keep : 0;
        std::uint64_t removed = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (request.seq > 1 && seqs[i] >= request.seq) break;
            messages.erase(seqs[i]);
            ++removed;
        }
        return removed;
    }
    std::uint64_t bytes() const {
        std::uint64_t total = 0;
        for (const auto& [seq, m] : messages) total += m.size;
        return total;
    }
    std::uint64_t count_of(const std::string& subject) const {
        std::uint64_t count = 0;
        for (const auto& [seq, m] : messages) count += m.subject == subject ? 1u : 0u;
        return count;
    }
    Seq oldest_of(const std::string& subject) const {
        for (const auto& [seq, m] : messages)
            if (m.subject == subject) return seq;
        return 0;
    }
    Seq last_matching(const std::string& filter) const {
        for (auto it = messages.rbegin(); it != messages.rend(); ++it)
            if (filter_matches(filter, it->second.subject)) return it->first;
        return 0;
    }
    Seq next_matching(const std::string& filter, Seq start) const {
        for (auto it = messages.lower_bound(start); it != messages.end(); ++it)
            if (filter_matches(filter, it->second.subject)) return it->first;
        return 0;
    }
    std::uint64_t count_matching(const std::string& filter, Seq first, Seq last) const {
        std::uint64_t count = 0;
        for (const auto& [seq, m] : messages)
            if (seq >= first && seq <= last && filter_matches(filter, m.subject)) ++count;
        return count;
    }

    std::map<Seq, Message> messages;
    Seq last_seq = 0;
    StoreLimits limits;

private:
    bool file_ = false;
};

// A load's result against the model's message at `seq` (0 = none expected).
void check_model(const Result<StoredMessage>& got, const Model& model, Seq seq) {
    RC_ASSERT(got.has_value() == (seq != 0));
    if (seq == 0) return;
    const Model::Message& m = model.messages.at(seq);
    RC_ASSERT(got->seq == seq);
    RC_ASSERT(got->subject == m.subject);
    RC_ASSERT(got->payload == m.payload);
}

template <class T>
void check_same(const Result<T>& mem, const Result<T>& file) {
    RC_ASSERT(mem.has_value() == file.has_value());
    if (!mem) RC_ASSERT(mem.error() == file.error());
}

void check_same_messages(const Result<StoredMessage>& mem, const Result<StoredMessage>& file) {
    check_same(mem, file);
    if (mem) {
        RC_ASSERT(mem->seq == file->seq);
        RC_ASSERT(mem->subject == file->subject);
        RC_ASSERT(mem->payload == file->payload);
        RC_ASSERT(mem->headers == file->headers);
    }
}

}  // namespace

TEST_CASE("store: FileStore and MemStore match their models under random operations", "[store][property]") {
    rc::prop("same results and state", [] {
        const auto steps = *rc::gen::container<std::vector<Step>>(rc::gen::build<Step>(
            rc::gen::set(&Step::op, rc::gen::weightedElement<Op>({{30, Op::store}, {6, Op::remove}, {2, Op::purge},
                                                                   {1, Op::compact}, {4, Op::load}, {2, Op::load_last},
                                                                   {3, Op::load_next}, {2, Op::restart},
                                                                   {1, Op::limits}, {1, Op::wait},
                                                                   {2, Op::skip}})),
            rc::gen::set(&Step::subject, rc::gen::inRange(0, 4)),
            rc::gen::set(&Step::number, rc::gen::inRange<std::uint64_t>(0, 120)),
            rc::gen::set(&Step::keep, rc::gen::inRange<std::uint64_t>(0, 4)),
            rc::gen::set(&Step::payload_size, rc::gen::inRange(0, 300)),
            rc::gen::set(&Step::wildcard, rc::gen::arbitrary<bool>())));
        const int file_kind_index = *rc::gen::inRange(0, 3);
        const Kind file_kind = file_kind_index == 0   ? Kind::file
                               : file_kind_index == 1 ? Kind::file_interval
                                                      : Kind::file_no_group_commit;
        Harness mem(Kind::memory, {}, 1);
        Harness file(file_kind, {}, 1, 4096);
        Model mem_model(false);
        Model file_model(true);
        struct Side {
            Harness& store;
            Model& model;
        };
        Side sides[] = {{mem, mem_model}, {file, file_model}};
        std::uint64_t counter = 0;
        bool same = true;  // Until max_bytes is first set, the two kinds of store agree exactly.
        for (const Step& step : steps) {
            switch (step.op) {
                case Op::store: {
                    std::string payload(static_cast<std::size_t>(step.payload_size), 'p');
                    payload += std::to_string(counter++);
                    auto a = mem.store(subjects[step.subject], payload);
                    auto b = file.store(subjects[step.subject], payload);
                    if (same) check_same(a, b);
                    if (same && a) RC_ASSERT(a->seq == b->seq);
                    RC_ASSERT(mem_model.store(subjects[step.subject], payload) == a.has_value());
                    RC_ASSERT(file_model.store(subjects[step.subject], payload) == b.has_value());
                    if (a) RC_ASSERT(a->seq == mem_model.last_seq);
                    if (b) RC_ASSERT(b->seq == file_model.last_seq);
                    break;
                }
                case Op::remove:
                    for (Side& side : sides) {
                        auto a = side.store.remove(step.number);
                        RC_ASSERT(a.has_value() == (side.model.messages.erase(step.number) == 1));
                    }
                    break;
                case Op::purge: {
                    PurgeRequest request{step.wildcard && step.subject == 3 ? "" : filter_of(step),
                                         step.keep > 0 ? 0 : step.number, step.keep};
                    for (Side& side : sides) {
                        auto a = side.store.purge(request);
                        RC_ASSERT(a.has_value());  // seq and keep are never both set here.
                        RC_ASSERT(*a == side.model.purge(request));
                    }
                    break;
                }
                case Op::compact:
                    for (Side& side : sides) {
                        auto a = side.store.compact(step.number);
                        if (a) RC_ASSERT(*a == side.model.compact(step.number));
                    }
                    break;
                case Op::load: {
                    const auto a = mem.load(step.number);
                    const auto b = file.load(step.number);
                    if (same) check_same_messages(a, b);
                    check_model(a, mem_model, mem_model.messages.contains(step.number) ? step.number : 0);
                    check_model(b, file_model, file_model.messages.contains(step.number) ? step.number : 0);
                    break;
                }
                case Op::load_last:
                    for (Side& side : sides) {
                        check_model(side.store.load_last(filter_of(step)), side.model,
                                    side.model.last_matching(filter_of(step)));
                    }
                    break;
                case Op::load_next:
                    for (Side& side : sides) {
                        check_model(side.store.load_next(filter_of(step), step.number), side.model,
                                    side.model.next_matching(filter_of(step), step.number));
                    }
                    break;
                case Op::restart: file.restart(); break;
                case Op::limits: {
                    StoreLimits limits;
                    limits.max_msgs = step.number % 3 == 0 ? -1 : static_cast<std::int64_t>(step.number % 40 + 1);
                    limits.max_msgs_per_subject = step.keep == 0 ? -1 : static_cast<std::int64_t>(step.keep);
                    limits.discard = step.wildcard ? Discard::new_messages : Discard::old_messages;
                    limits.discard_new_per_subject = step.wildcard && step.subject == 0;
                    if (step.subject == 1) limits.max_bytes = static_cast<std::int64_t>(step.number * 40 + 200);
                    for (Side& side : sides) {
                        side.store.update_limits(limits);
                        side.model.set_limits(limits);
                    }
                    break;
                }
                case Op::skip:
                    // A mirror's gap (nats SkipMsg): no limit applies, nothing is removed.
                    for (Side& side : sides) {
                        const Seq first = side.store.store().state().last_seq + 1;
                        RC_ASSERT(side.store.skip(first, first + step.number % 20).has_value());
                        side.model.last_seq = first + step.number % 20;
                    }
                    break;
                case Op::wait:
                    mem.advance(Duration::milliseconds(100));
                    file.advance(Duration::milliseconds(100));
                    break;
            }
            if (mem_model.limits.max_bytes > 0) same = false;
            const auto a = mem.store().state();
            const auto b = file.store().state();
            RC_ASSERT(b.lost.empty());
            if (same) {
                RC_ASSERT(a.messages == b.messages);
                RC_ASSERT(a.first_seq == b.first_seq);
                RC_ASSERT(a.last_seq == b.last_seq);
                RC_ASSERT(a.num_deleted == b.num_deleted);
                RC_ASSERT(mem.store().subjects_state("") == file.store().subjects_state(""));
            }
            // Against the models.
            for (Side& side : sides) {
                const auto state = side.store.store().state();
                const Model& model = side.model;
                RC_ASSERT(state.messages == model.messages.size());
                RC_ASSERT(state.bytes == model.bytes());
                RC_ASSERT(state.last_seq == model.last_seq);
                const Seq first = model.messages.empty() ? (model.last_seq == 0 ? 0 : model.last_seq + 1)
                                                         : model.messages.begin()->first;
                RC_ASSERT(state.first_seq == first);
                std::map<std::string, std::uint64_t> per_subject;
                for (const auto& [seq, m] : model.messages) per_subject[m.subject] += 1;
                RC_ASSERT(state.num_subjects == per_subject.size());
                for (const auto& subject : side.store.store().subjects_state("")) {
                    RC_ASSERT(subject.messages == per_subject[subject.subject]);
                    RC_ASSERT(subject.first_seq == model.next_matching(subject.subject, 0));
                    RC_ASSERT(subject.last_seq == model.last_matching(subject.subject));
                }
                // Filtered counts (consumers' num_pending) against brute force, from the step's
                // seq to the end and over a short span.
                for (const std::string& filter : {filter_of(step), std::string(), std::string(">")}) {
                    const Seq from = step.number;
                    RC_ASSERT(side.store.store().count_matching(filter, from, herald::store::Seq(-1)) ==
                              model.count_matching(filter, from, herald::store::Seq(-1)));
                    RC_ASSERT(side.store.store().count_matching(filter, from, from + step.keep * 5) ==
                              model.count_matching(filter, from, from + step.keep * 5));
                }
            }
        }
        file.restart();
        RC_ASSERT(file.store().recovery_report().clean());
        for (Side& side : sides) {
            const auto state = side.store.store().state();
            for (std::uint64_t seq = state.first_seq; seq <= state.last_seq && seq > 0; ++seq) {
                check_model(side.store.load(seq), side.model, side.model.messages.contains(seq) ? seq : 0);
            }
        }
    });
}
