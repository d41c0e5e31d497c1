// Property: a FileStore behaves exactly like a MemStore under random operation sequences
// (store, remove, purge with filters/seq/keep, compact, loads, limit changes), with clean
// restarts of the FileStore in the middle. Small blocks make rolls and compaction frequent.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <ostream>

#include "tests/store/store_harness.h"

using herald::Duration;
using herald::Result;
using herald::store::Discard;
using herald::store::PurgeRequest;
using herald::store::StoredMessage;
using herald::store::StoreLimits;
using herald::store::testing::Harness;
using herald::store::testing::Kind;

namespace {

enum class Op : int { store, remove, purge, compact, load, load_last, load_next, restart, limits, wait };

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
                          "restart", "limits", "wait"};

std::ostream& operator<<(std::ostream& out, const Step& step) {
    return out << "{" << op_names[static_cast<int>(step.op)] << " subject=" << step.subject
               << " number=" << step.number << " keep=" << step.keep << " size=" << step.payload_size
               << " wildcard=" << step.wildcard << "}";
}

std::string filter_of(const Step& step) {
    if (step.wildcard) return step.subject % 2 == 0 ? "a.*" : "*.x";
    return subjects[step.subject];
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

TEST_CASE("store: FileStore matches MemStore under random operations", "[store][property]") {
    rc::prop("same results and state", [] {
        const auto steps = *rc::gen::container<std::vector<Step>>(rc::gen::build<Step>(
            rc::gen::set(&Step::op, rc::gen::weightedElement<Op>({{30, Op::store}, {6, Op::remove}, {2, Op::purge},
                                                                   {1, Op::compact}, {4, Op::load}, {2, Op::load_last},
                                                                   {3, Op::load_next}, {2, Op::restart},
                                                                   {1, Op::limits}, {1, Op::wait}})),
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
        std::uint64_t counter = 0;
        for (const Step& step : steps) {
            switch (step.op) {
                case Op::store: {
                    std::string payload(static_cast<std::size_t>(step.payload_size), 'p');
                    payload += std::to_string(counter++);
                    auto a = mem.store(subjects[step.subject], payload);
                    auto b = file.store(subjects[step.subject], payload);
                    check_same(a, b);
                    if (a) RC_ASSERT(a->seq == b->seq);
                    break;
                }
                case Op::remove: {
                    auto a = mem.remove(step.number);
                    auto b = file.remove(step.number);
                    check_same(a, b);
                    break;
                }
                case Op::purge: {
                    PurgeRequest request{step.wildcard && step.subject == 3 ? "" : filter_of(step),
                                         step.keep > 0 ? 0 : step.number, step.keep};
                    auto a = mem.purge(request);
                    auto b = file.purge(request);
                    check_same(a, b);
                    if (a) RC_ASSERT(*a == *b);
                    break;
                }
                case Op::compact: {
                    auto a = mem.compact(step.number);
                    auto b = file.compact(step.number);
                    check_same(a, b);
                    if (a) RC_ASSERT(*a == *b);
                    break;
                }
                case Op::load: check_same_messages(mem.load(step.number), file.load(step.number)); break;
                case Op::load_last:
                    check_same_messages(mem.load_last(filter_of(step)), file.load_last(filter_of(step)));
                    break;
                case Op::load_next:
                    check_same_messages(mem.load_next(filter_of(step), step.number),
                                        file.load_next(filter_of(step), step.number));
                    break;
                case Op::restart: file.restart(); break;
                case Op::limits: {
                    StoreLimits limits;
                    limits.max_msgs = step.number % 3 == 0 ? -1 : static_cast<std::int64_t>(step.number % 40 + 1);
                    limits.max_msgs_per_subject = step.keep == 0 ? -1 : static_cast<std::int64_t>(step.keep);
                    limits.discard = step.wildcard ? Discard::new_messages : Discard::old_messages;
                    mem.update_limits(limits);
                    file.update_limits(limits);
                    break;
                }
                case Op::wait:
                    mem.advance(Duration::milliseconds(100));
                    file.advance(Duration::milliseconds(100));
                    break;
            }
            auto a = mem.store().state();
            auto b = file.store().state();
            RC_ASSERT(a.messages == b.messages);
            RC_ASSERT(a.bytes == b.bytes);
            RC_ASSERT(a.first_seq == b.first_seq);
            RC_ASSERT(a.last_seq == b.last_seq);
            RC_ASSERT(a.num_deleted == b.num_deleted);
            RC_ASSERT(a.num_subjects == b.num_subjects);
            RC_ASSERT(mem.store().subjects_state("") == file.store().subjects_state(""));
            RC_ASSERT(b.lost.empty());
        }
        file.restart();
        RC_ASSERT(file.store().recovery_report().clean());
        RC_ASSERT(mem.store().subjects_state("") == file.store().subjects_state(""));
        const auto state = mem.store().state();
        for (std::uint64_t seq = state.first_seq; seq <= state.last_seq && seq > 0; ++seq) {
            check_same_messages(mem.load(seq), file.load(seq));
        }
    });
}
