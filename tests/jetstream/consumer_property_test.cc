// Property: one stream and one durable consumer on a simulated node, driven by random operation
// sequences (publishes on random subjects, pull requests, acks of every kind, simulated time
// past ack_wait/backoff/nak delays, server restarts), agree with a reference model of what may
// be delivered. Method: every delivery the client sees is checked against the model as it
// arrives; CONSUMER.INFO and STREAM.INFO are compared with the model after every operation; a
// final drain phase (pull, wait, ack everything) checks that nothing owed was left undelivered.
//
// Reproduce a failure with the RC_PARAMS it prints (e.g. RC_PARAMS="seed=123"); without
// RC_PARAMS the run uses a fixed seed so CI is deterministic.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <set>

#include "tests/jetstream/jetstream_fixture.h"

using herald::Duration;
using herald::testing::JetStreamFixture;
using herald::testing::ReceivedMessage;
using nlohmann::json;

namespace {

constexpr std::int64_t ms = 1'000'000;
// Upper bound of the time between the server sending a message and the client reading it, and
// between the client sending and the server handling (sim network latency is ~150 µs; file
// syncs are 1 ms).
constexpr std::int64_t slack_ns = 20 * ms;
constexpr Duration slice = Duration::milliseconds(50);  // Time granularity of observations.

const char* const subjects[] = {"orders.a", "orders.b", "orders.c"};
const char* const filters[] = {"", "orders.a", "orders.b"};

enum class Retention : int { limits, workqueue, interest };
enum class AckPolicy : int { none, all, explicit_ack };
enum class Deliver : int { all, new_messages, by_start_sequence, last_per_subject };

struct Setup {
    bool file = true;
    Retention retention = Retention::limits;
    bool push = false;
    AckPolicy ack = AckPolicy::explicit_ack;
    int max_deliver = -1;
    int filter = 0;
    Deliver deliver = Deliver::all;
    int start_seq = 1;
    int max_ack_pending = 0;  // 0: the server's default.
    int ack_wait_ms = 1000;
    bool backoff = false;  // {ack_wait, 2 x ack_wait}; needs max_deliver > 2.
    std::vector<int> before;  // Subjects published before the consumer exists.
};

enum class Op : int { publish, pull, ack, advance, restart };
enum class AckKind : int { ack, nak, nak_delay, wpi, term };

struct Step {
    Op op = Op::publish;
    int subject = 0;
    int batch = 1;
    bool no_wait = false;
    int expires_ms = 0;
    AckKind kind = AckKind::ack;
    int which = 0;  // Index (mod count) into the deliveries seen so far.
    bool with_reply = false;
    int delay_ms = 0;  // Of nak_delay; of advance.
};

const char* const op_names[] = {"publish", "pull", "ack", "advance", "restart"};
const char* const ack_names[] = {"+ACK", "-NAK", "-NAK delay", "+WPI", "+TERM"};

std::ostream& operator<<(std::ostream& out, const Setup& s) {
    out << "{file=" << s.file << " retention=" << static_cast<int>(s.retention) << " push=" << s.push
        << " ack=" << static_cast<int>(s.ack) << " max_deliver=" << s.max_deliver
        << " filter=" << filters[s.filter] << " deliver=" << static_cast<int>(s.deliver)
        << " start_seq=" << s.start_seq << " max_ack_pending=" << s.max_ack_pending
        << " ack_wait_ms=" << s.ack_wait_ms << " backoff=" << s.backoff << " before=[";
    for (const int subject : s.before) out << subject << " ";
    return out << "]}";
}

std::ostream& operator<<(std::ostream& out, const Step& s) {
    out << "{" << op_names[static_cast<int>(s.op)];
    switch (s.op) {
        case Op::publish: out << " " << subjects[s.subject]; break;
        case Op::pull:
            out << " batch=" << s.batch << " no_wait=" << s.no_wait << " expires_ms=" << s.expires_ms;
            break;
        case Op::ack:
            out << " " << ack_names[static_cast<int>(s.kind)] << " which=" << s.which
                << " reply=" << s.with_reply << " delay_ms=" << s.delay_ms;
            break;
        case Op::advance: out << " ms=" << s.delay_ms; break;
        case Op::restart: break;
    }
    return out << "}";
}

rc::Gen<Setup> setup_gen() {
    return rc::gen::exec([] {
        Setup s;
        s.file = *rc::gen::arbitrary<bool>();
        s.retention = *rc::gen::weightedElement<Retention>(
            {{3, Retention::limits}, {2, Retention::workqueue}, {2, Retention::interest}});
        s.push = *rc::gen::arbitrary<bool>();
        s.ack = s.retention == Retention::workqueue
                    ? AckPolicy::explicit_ack
                    : *rc::gen::element(AckPolicy::none, AckPolicy::all, AckPolicy::explicit_ack);
        s.max_deliver = *rc::gen::element(-1, 1, 2, 3, 4);
        s.filter = *rc::gen::inRange(0, 3);
        s.deliver = s.retention == Retention::workqueue
                        ? Deliver::all
                        : *rc::gen::element(Deliver::all, Deliver::new_messages,
                                            Deliver::by_start_sequence, Deliver::last_per_subject);
        if (s.deliver == Deliver::last_per_subject && s.filter == 0) s.filter = 1 + *rc::gen::inRange(0, 2);
        s.start_seq = *rc::gen::inRange(1, 8);
        s.max_ack_pending = s.ack == AckPolicy::none ? 0 : *rc::gen::element(0, 1, 2, 4);
        s.ack_wait_ms = *rc::gen::element(500, 1000, 2000);
        s.backoff = s.ack != AckPolicy::none && s.max_deliver > 2 && *rc::gen::arbitrary<bool>();
        // Interest retention keeps nothing nobody wants: the consumer comes first there.
        if (s.retention != Retention::interest)
            s.before = *rc::gen::container<std::vector<int>>(*rc::gen::inRange<std::size_t>(0, 7),
                                                             rc::gen::inRange(0, 3));
        return s;
    });
}

rc::Gen<Step> step_gen() {
    return rc::gen::build<Step>(
        rc::gen::set(&Step::op, rc::gen::weightedElement<Op>({{8, Op::publish}, {5, Op::pull}, {10, Op::ack},
                                                               {5, Op::advance}, {1, Op::restart}})),
        rc::gen::set(&Step::subject, rc::gen::inRange(0, 3)),
        rc::gen::set(&Step::batch, rc::gen::inRange(1, 6)),
        rc::gen::set(&Step::no_wait, rc::gen::arbitrary<bool>()),
        rc::gen::set(&Step::expires_ms, rc::gen::element(0, 300, 1500, 4000)),
        rc::gen::set(&Step::kind, rc::gen::weightedElement<AckKind>({{5, AckKind::ack}, {2, AckKind::nak},
                                                                     {2, AckKind::nak_delay}, {2, AckKind::wpi},
                                                                     {1, AckKind::term}})),
        rc::gen::set(&Step::which, rc::gen::inRange(0, 1000)),
        rc::gen::set(&Step::with_reply, rc::gen::arbitrary<bool>()),
        rc::gen::set(&Step::delay_ms, rc::gen::element(100, 400, 1000, 2500, 6000)));
}

// What the model knows of one stream message.
struct Message {
    std::string subject;
    std::string payload;
    bool eligible = false;  // The consumer owes it (filter and start position).
    bool stored = true;     // Still in the stream (per the retention rules).
    // Consumer side.
    std::uint64_t deliveries = 0;
    std::uint64_t last_consumer_seq = 0;
    bool done = false;       // Acked or terminated (sent); with ack none, delivered.
    bool confirmed = false;  // The server has certainly stored the ack: never delivered again.
    bool queued = false;     // Nak'ed: may be redelivered at any time.
    std::int64_t allowed_ns = 0;  // No redelivery before this (simulated monotonic ns).
    bool fresh = false;           // A nak delay or +WPI not yet followed by an observation.
    std::int64_t fresh_previous_ns = 0;
};

struct Delivery {
    std::uint64_t seq = 0;
    std::uint64_t consumer_seq = 0;
    std::string reply;
};

std::uint64_t token_u64(const std::string& reply, std::size_t index) {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    std::size_t start = 0;
    for (std::size_t i = 0; i < index; ++i) start = reply.find('.', start) + 1;
    const std::size_t end = reply.find('.', start);
    return std::stoull(reply.substr(start, end == std::string::npos ? std::string::npos : end - start));
}

std::uint64_t number(const json& value) {
    return value.is_number_unsigned() ? value.get<std::uint64_t>() : std::numeric_limits<std::uint64_t>::max();
}

bool matches(const std::string& filter, const std::string& subject) {
    return filter.empty() || filter == subject;
}

class Run {
public:
    explicit Run(const Setup& setup) : s_(setup) {}

    void create() {
        const char* retention[] = {"limits", "workqueue", "interest"};
        const json created = f_.create_stream(json{{"name", "ORDERS"},
                                                   {"subjects", {"orders.*"}},
                                                   {"storage", s_.file ? "file" : "memory"},
                                                   {"retention", retention[static_cast<int>(s_.retention)]}});
        RC_ASSERT(!created.contains("error"));
        for (const int subject : s_.before) publish(subject);
        json config{{"durable_name", "C"}};
        const char* acks[] = {"none", "all", "explicit"};
        config["ack_policy"] = acks[static_cast<int>(s_.ack)];
        const char* policies[] = {"all", "new", "by_start_sequence", "last_per_subject"};
        config["deliver_policy"] = policies[static_cast<int>(s_.deliver)];
        if (s_.deliver == Deliver::by_start_sequence) config["opt_start_seq"] = s_.start_seq;
        if (s_.filter != 0) config["filter_subject"] = filters[s_.filter];
        config["max_deliver"] = s_.max_deliver;
        if (s_.max_ack_pending > 0) config["max_ack_pending"] = s_.max_ack_pending;
        if (s_.ack != AckPolicy::none) config["ack_wait"] = s_.ack_wait_ms * ms;
        if (s_.backoff) config["backoff"] = {s_.ack_wait_ms * ms, 2 * s_.ack_wait_ms * ms};
        if (s_.push) {
            config["deliver_subject"] = "dlv.C";
            f_.route("dlv.C");
        }
        // Not request(): what a push consumer sends at once is observed once eligibility is set.
        const json reply = f_.request("$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.C",
                                      json{{"stream_name", "ORDERS"}, {"config", config}}.dump());
        RC_ASSERT(!reply.contains("error"));
        // The model's start position (nats-server selectStartingSeqNo on this stream).
        const std::uint64_t last = messages_.size();
        std::uint64_t start = 1;
        if (s_.deliver == Deliver::new_messages) start = last + 1;
        if (s_.deliver == Deliver::by_start_sequence)
            start = std::min<std::uint64_t>(static_cast<std::uint64_t>(s_.start_seq), last + 1);
        if (last == 0) start = 1;
        std::map<std::string, std::uint64_t> last_of;
        for (std::uint64_t seq = 1; seq <= last; ++seq) last_of[messages_[seq - 1].subject] = seq;
        for (std::uint64_t seq = 1; seq <= last; ++seq) {
            Message& m = messages_[seq - 1];
            m.eligible = matches(filter(), m.subject) && seq >= start;
            if (s_.deliver == Deliver::last_per_subject) m.eligible = m.eligible && last_of[m.subject] == seq;
        }
        created_ = true;
        collect();
        check_info();
    }

    void step(const Step& step) {
        switch (step.op) {
            case Op::publish: publish(step.subject); break;
            case Op::pull: pull(step.batch, step.no_wait, step.expires_ms); break;
            case Op::ack: ack(step); break;
            case Op::advance: advance(step.delay_ms * ms); break;
            case Op::restart:
                if (!s_.file) break;
                restart();
                break;
        }
        advance(10 * ms);
        check_info();
    }

    // Pulls, waits past every deadline and acks what arrives until the consumer owes nothing.
    // A round waits longer than any redelivery can be due (4 x ack_wait covers the backoff steps,
    // 6 s the longest nak delay), so a round without a delivery means the consumer owes nothing:
    // if acks are still pending then, nothing will ever send them again (a stall). Every round
    // with deliveries acks all of them, so it settles at least one more message; the drain thus
    // ends after at most one round per message owed. It is bounded by that count, not by a fixed
    // number of rounds: with max_ack_pending 1 a round can settle only one message (the next is
    // delivered once the ack is in), so a fixed bound failed cases with many messages owed.
    void drain() {
        const std::int64_t wait_ns = 4 * s_.ack_wait_ms * ms + 6000 * ms + 2 * slack_ns;
        std::size_t acked_from = 0;  // Deliveries before this are of settled messages.
        for (std::uint64_t round = 0;; ++round) {
            RC_ASSERT(round <= messages_.size());
            const std::size_t seen = deliveries_.size();
            const std::uint64_t settled_before = settled();
            if (!s_.push) pull(100, false, static_cast<int>(wait_ns / ms));
            advance(wait_ns);
            // Every delivery not acked yet, also those that arrived after the last round's acks.
            for (; acked_from < deliveries_.size(); ++acked_from) {
                const Message& m = messages_[deliveries_[acked_from].seq - 1];
                if (m.done || s_.ack == AckPolicy::none) continue;
                send_ack(acked_from, "+ACK", acked_from + 1 == deliveries_.size());
            }
            advance(10 * ms);
            const json info = check_info();
            RC_LOG() << "drain round " << round << ": " << deliveries_.size() - seen << " deliveries\n";
            if (deliveries_.size() == seen) {
                RC_ASSERT(number(info["num_ack_pending"]) == 0u);  // Else a stall.
                break;
            }
            RC_ASSERT(settled() > settled_before);
        }
        // Liveness: every message owed was delivered until done or max_deliver.
        for (std::uint64_t seq = 1; seq <= messages_.size(); ++seq) {
            const Message& m = messages_[seq - 1];
            if (!m.eligible) continue;
            RC_LOG() << "seq " << seq << " deliveries " << m.deliveries << " done " << m.done << "\n";
            RC_ASSERT(m.deliveries > 0);
            RC_ASSERT(m.done || exhausted(m));
        }
        const json info = check_info();
        RC_ASSERT(number(info["num_ack_pending"]) == 0u);
        RC_ASSERT(number(info["num_pending"]) == 0u);
        bool any_dropped = false;
        for (const Message& m : messages_)
            any_dropped = any_dropped || (m.eligible && !m.done);
        if (s_.ack != AckPolicy::none && !any_dropped && last_first_seq_ > 0) {
            // Everything delivered is acked: the floor is at or past the last delivered message.
            RC_ASSERT(number(info["ack_floor"]["stream_seq"]) >= last_first_seq_);
        }
        // The stream keeps exactly what the retention rules say, with the same contents.
        for (std::uint64_t seq = 1; seq <= messages_.size(); ++seq) {
            const Message& m = messages_[seq - 1];
            const json got = request("$JS.API.STREAM.MSG.GET.ORDERS", json{{"seq", seq}}.dump());
            const bool present = !got.contains("error");
            RC_LOG() << "seq " << seq << " present " << present << "\n";
            RC_ASSERT(present == m.stored);
        }
    }

    // What this case exercised (printed with RC_PARAMS set).
    void classify() const {
        std::uint64_t redelivered = 0;
        std::uint64_t exhausted_count = 0;
        for (const Message& m : messages_) {
            if (m.deliveries > 1) ++redelivered;
            if (m.eligible && exhausted(m)) ++exhausted_count;
        }
        RC_TAG(s_.push ? "push" : "pull");
        RC_CLASSIFY(restarts_ > 0, "restarted");
        RC_CLASSIFY(redelivered > 0, "redelivered");
        RC_CLASSIFY(exhausted_count > 0, "max_deliver reached");
        RC_CLASSIFY(deliveries_.size() >= 10, ">= 10 deliveries");
        RC_CLASSIFY(deliveries_.empty(), "no delivery");
    }

private:
    const std::string filter() const { return filters[s_.filter]; }

    // Messages the consumer owes nothing more: acked or terminated, or delivered max_deliver times.
    std::uint64_t settled() const {
        std::uint64_t count = 0;
        for (const Message& m : messages_)
            if (m.eligible && (m.done || exhausted(m))) ++count;
        return count;
    }

    bool exhausted(const Message& m) const {
        return s_.max_deliver > 0 && m.deliveries >= static_cast<std::uint64_t>(s_.max_deliver);
    }
    // The server may have dropped it from pending after max_deliver (it does so when the
    // redelivery would be due).
    bool maybe_dropped(const Message& m) const {
        return exhausted(m) && !m.done && (m.queued || now() + slack_ns >= m.allowed_ns);
    }
    std::int64_t now() const { return static_cast<std::int64_t>(f_.world.now().ns); }

    std::int64_t wait_after(std::uint64_t deliveries) const {
        if (!s_.backoff) return s_.ack_wait_ms * ms;
        return (deliveries <= 1 ? 1 : 2) * s_.ack_wait_ms * ms;
    }

    json request(const std::string& subject, const std::string& body = "") {
        sync_pending_ = unsynced_;
        unsynced_.clear();
        const json reply = f_.request(subject, body);
        // Only what came before the reply: INFO describes the consumer when it answered, and a
        // delivery sent after it (read in the same turn) is for the next observation.
        collect(true);
        return reply;
    }

    void publish(int subject) {
        const std::string payload = "m" + std::to_string(messages_.size() + 1);
        sync_pending_ = unsynced_;
        unsynced_.clear();
        const json ack = f_.publish(subjects[subject], payload);
        RC_ASSERT(ack.value("seq", 0u) == messages_.size() + 1);
        Message m;
        m.subject = subjects[subject];
        m.payload = payload;
        m.eligible = created_ && matches(filter(), m.subject);
        // Interest retention: nothing is kept that the consumer does not want.
        m.stored = s_.retention != Retention::interest || matches(filter(), m.subject);
        messages_.push_back(m);
        collect();
    }

    void pull(int batch, bool no_wait, int expires_ms) {
        if (!s_.push) {
            const std::string inbox = "pull." + std::to_string(++pulls_);
            f_.route(inbox);
            request_of_sid_[*f_.route_sids[inbox].begin()] = pulls_;
            batch_of_[pulls_] = batch;
            json body{{"batch", batch}};
            if (no_wait) body["no_wait"] = true;
            if (expires_ms > 0) body["expires"] = static_cast<std::int64_t>(expires_ms) * ms;
            f_.client->send("PUB $JS.API.CONSUMER.MSG.NEXT.ORDERS.C " + inbox + " " +
                            std::to_string(body.dump().size()) + "\r\n" + body.dump() + "\r\n");
        }
        advance(10 * ms);
    }

    void send_ack(std::size_t index, const std::string& body, bool with_reply) {
        const Delivery& d = deliveries_[index];
        std::string reply;
        if (with_reply) {
            reply = "ackr." + std::to_string(++ack_replies_);
            f_.route(reply);
            ack_reply_of_sid_[*f_.route_sids[reply].begin()] = unsynced_;
        }
        f_.client->send("PUB " + d.reply + (reply.empty() ? "" : " " + reply) + " " +
                        std::to_string(body.size()) + "\r\n" + body + "\r\n");
        apply_ack(d, body);
        if (with_reply) {
            // The double ack: answered once the ack is stored.
            const std::string sid = *f_.route_sids[reply].begin();
            const bool answered = f_.wait([&] {
                for (const auto& message : f_.client->messages())
                    if (message.sid == sid) return true;
                return false;
            });
            RC_ASSERT(answered);
            collect();
        }
    }

    void ack(const Step& step) {
        if (deliveries_.empty()) return;
        const std::size_t index = static_cast<std::size_t>(step.which) % deliveries_.size();
        std::string body = ack_names[static_cast<int>(step.kind)];
        if (step.kind == AckKind::nak_delay)
            body = "-NAK {\"delay\":" + std::to_string(static_cast<std::int64_t>(step.delay_ms) * ms) + "}";
        send_ack(index, body, step.with_reply);
    }

    // The model's effect of an ack body sent now on delivery `d`.
    void apply_ack(const Delivery& d, const std::string& body) {
        Message& m = messages_[d.seq - 1];
        const std::int64_t sent = now();
        if (s_.ack == AckPolicy::none) return;
        if (body == "+ACK" || body == "+TERM") {
            const bool all = s_.ack == AckPolicy::all;
            for (std::uint64_t seq = all ? 1 : d.seq; seq <= d.seq; ++seq) {
                Message& target = messages_[seq - 1];
                if (target.deliveries == 0 || target.done) continue;
                // Also when the server may already have dropped it after max_deliver: the ack
                // counts all the same (nats-server processAckMsg).
                target.done = true;
                unsynced_.push_back(seq);
                if (s_.retention != Retention::limits) target.stored = false;
            }
            return;
        }
        if (m.done || m.deliveries == 0) return;
        // Perhaps already dropped after max_deliver: it stays "perhaps dropped" (never sent again).
        if (maybe_dropped(m)) return;
        if (body == "+WPI") {
            // Any delivery's +WPI counts (nats-server progressUpdate takes the stream seq only);
            // the wait starts again, with backoff the step of the current delivery.
            if (m.queued || sent + slack_ns >= m.allowed_ns) return;  // Already due: stays due.
            m.fresh = true;
            m.fresh_previous_ns = m.allowed_ns;
            m.allowed_ns = sent + wait_after(m.deliveries);
            return;
        }
        if (d.consumer_seq != m.last_consumer_seq) return;  // A nak of an older delivery.
        if (body == "-NAK") {
            m.queued = true;
            m.allowed_ns = 0;
            return;
        }
        // -NAK with a delay.
        const json delay = json::parse(body.substr(5));
        m.fresh = true;
        m.fresh_previous_ns = m.queued ? 0 : m.allowed_ns;
        m.queued = false;
        m.allowed_ns = sent + delay["delay"].get<std::int64_t>();
    }

    void advance(std::int64_t ns) {
        for (std::int64_t done = 0; done < ns; done += static_cast<std::int64_t>(slice.ns)) {
            f_.world.run_for(slice);
            collect();
        }
    }

    void restart() {
        // The client goes away first, as it would: it unsubscribes the deliver subject and every
        // pull inbox, so nothing is sent that it cannot read. Without this, a redelivery that
        // went out between the INFO reply and the disconnect was counted by the server (rightly:
        // nats-server counts a delivery on send) but never seen here, and the model's consumer
        // sequence fell one behind after the restart.
        for (const auto& [subject, sids] : f_.route_sids) {
            if (subject != "dlv.C" && subject.rfind("pull.", 0) != 0) continue;
            for (const std::string& sid : sids) f_.client->send("UNSUB " + sid + "\r\n");
        }
        // Everything sent so far was read (the UNSUBs are handled before the request), and where
        // the consumer stands.
        const std::uint64_t delivered = number(request("$JS.API.CONSUMER.INFO.ORDERS.C")["delivered"]["stream_seq"]);
        f_.restart_server();
        ++restarts_;
        if (s_.deliver == Deliver::last_per_subject) {
            // Like nats-server, the skip list of last_per_subject is not kept: a durable resumes
            // after its delivered position and takes every matching message from there.
            for (std::uint64_t seq = delivered + 1; seq <= messages_.size(); ++seq) {
                Message& m = messages_[seq - 1];
                if (matches(filter(), m.subject)) m.eligible = true;
            }
        }
        cursor_ = 0;
        last_collect_ns_ = now();
        if (s_.push) f_.route("dlv.C");
        sync_pending_.clear();
        for (Message& m : messages_) {
            // A nak without delay is not kept across a restart (nats-server keeps its redelivery
            // queue in memory only): the message waits for its ack_wait again.
            m.fresh = false;
        }
        collect();
    }

    // Reads what the client received since the last call, in order.
    // `through_reply`: up to the reply of the one request in flight (sid 1: every earlier reply
    // was collected by its own request or publish).
    void collect(bool through_reply = false) {
        const auto& received = f_.client->messages();
        while (cursor_ < received.size()) {
            const bool reply = received[cursor_].sid == "1";
            observe(received[cursor_++]);
            if (through_reply && reply) break;
        }
        for (Message& m : messages_) m.fresh = false;
        last_collect_ns_ = now();
    }

    void observe(const ReceivedMessage& message) {
        if (message.sid == "1") {
            // A reply to one of our requests: every ack sent before it was handled.
            for (const std::uint64_t seq : sync_pending_) messages_[seq - 1].confirmed = true;
            sync_pending_.clear();
            return;
        }
        if (const auto it = ack_reply_of_sid_.find(message.sid); it != ack_reply_of_sid_.end()) {
            for (const std::uint64_t seq : it->second) messages_[seq - 1].confirmed = true;
            return;
        }
        if (message.reply.rfind("$JS.ACK.", 0) != 0) {
            // A status line (pull 404/408/409): no data.
            RC_ASSERT(message.payload.empty());
            return;
        }
        Delivery d;
        d.reply = message.reply;
        const std::uint64_t delivered = token_u64(message.reply, 4);
        d.seq = token_u64(message.reply, 5);
        d.consumer_seq = token_u64(message.reply, 6);
        RC_LOG() << "delivery seq=" << d.seq << " dc=" << delivered << " cseq=" << d.consumer_seq
                 << " at " << now() << "\n";
        RC_ASSERT(d.seq >= 1);
        RC_ASSERT(d.seq <= messages_.size());
        Message& m = messages_[d.seq - 1];
        // Only what matches the filter from the start position; under its own subject, intact.
        RC_ASSERT(m.eligible);
        RC_ASSERT(message.subject == m.subject);
        RC_ASSERT(message.payload == m.payload);
        // Never after its ack was stored.
        RC_ASSERT(!m.confirmed);
        RC_ASSERT(delivered == m.deliveries + 1);
        RC_ASSERT(d.consumer_seq == last_consumer_seq_ + 1);
        if (s_.push) {
            RC_ASSERT(message.sid == *f_.route_sids["dlv.C"].begin());
        } else {
            const auto it = request_of_sid_.find(message.sid);
            RC_ASSERT(it != request_of_sid_.end());
            RC_ASSERT(++taken_[it->second] <= batch_of_[it->second]);
        }
        if (delivered == 1) {
            RC_ASSERT(d.seq > last_first_seq_);  // First deliveries in stream order.
            if (s_.max_ack_pending > 0) RC_ASSERT(pending_lower() < static_cast<std::uint64_t>(s_.max_ack_pending));
            last_first_seq_ = d.seq;
        } else {
            RC_ASSERT(s_.ack != AckPolicy::none);
            if (s_.max_deliver > 0) RC_ASSERT(delivered <= static_cast<std::uint64_t>(s_.max_deliver));
            // Not before ack_wait / backoff / nak delay / +WPI allow it.
            const std::int64_t allowed = m.fresh ? std::min(m.allowed_ns, m.fresh_previous_ns) : m.allowed_ns;
            RC_LOG() << "allowed at " << allowed << " queued " << m.queued << "\n";
            RC_ASSERT(m.queued || m.done || now() >= allowed);
        }
        last_consumer_seq_ = d.consumer_seq;
        m.deliveries = delivered;
        m.last_consumer_seq = d.consumer_seq;
        m.queued = false;
        m.fresh = false;
        m.allowed_ns = last_collect_ns_ - slack_ns + wait_after(delivered);
        if (s_.ack == AckPolicy::none) {
            m.done = true;
            m.confirmed = true;
            if (s_.retention == Retention::interest) m.stored = false;
        }
        deliveries_.push_back(d);
    }

    // Pending acks the server certainly still has.
    std::uint64_t pending_lower() const {
        std::uint64_t count = 0;
        for (const Message& m : messages_)
            if (m.deliveries > 0 && !m.done && !maybe_dropped(m)) ++count;
        return count;
    }

    json check_info() {
        const json info = request("$JS.API.CONSUMER.INFO.ORDERS.C");
        RC_LOG() << info.dump() << "\n";
        RC_ASSERT(!info.contains("error"));
        const std::uint64_t delivered_stream = info["delivered"]["stream_seq"];
        RC_ASSERT(number(info["delivered"]["consumer_seq"]) == last_consumer_seq_);
        RC_ASSERT(delivered_stream >= last_first_seq_);
        RC_ASSERT(delivered_stream <= messages_.size());
        std::uint64_t owed = 0;
        std::uint64_t matching = 0;
        std::uint64_t matching_after = 0;
        std::uint64_t pending_upper = 0;
        std::uint64_t redelivered_lower = 0;
        std::uint64_t redelivered_upper = 0;
        std::uint64_t stored = 0;
        std::uint64_t stored_upper = 0;
        for (std::uint64_t seq = 1; seq <= messages_.size(); ++seq) {
            const Message& m = messages_[seq - 1];
            // Nothing owed was skipped: below the delivered position everything was delivered.
            if (m.eligible && seq <= delivered_stream) RC_ASSERT(m.deliveries > 0);
            if (m.eligible && seq > delivered_stream && m.stored) ++owed;
            if (matches(filter(), m.subject) && m.stored) ++matching;
            if (matches(filter(), m.subject) && m.stored && seq > delivered_stream) ++matching_after;
            if (m.deliveries > 0 && !m.done) ++pending_upper;
            if (m.deliveries > 1 && !m.done && !maybe_dropped(m)) ++redelivered_lower;
            // A message dropped after max_deliver keeps its redelivery count (nats-server rdc).
            if ((m.deliveries > 1 && !m.done) || maybe_dropped(m)) ++redelivered_upper;
            if (m.stored) ++stored;
            if (m.stored) ++stored_upper;
            // The ack floor never passes a message still waiting for its ack.
            if (seq <= info["ack_floor"]["stream_seq"].get<std::uint64_t>() && m.eligible)
                RC_ASSERT(m.done || maybe_dropped(m) || s_.ack == AckPolicy::none);
        }
        const std::uint64_t num_ack_pending = info["num_ack_pending"];
        RC_ASSERT(num_ack_pending >= pending_lower());
        RC_ASSERT(num_ack_pending <= pending_upper);
        if (s_.max_ack_pending > 0) RC_ASSERT(num_ack_pending <= static_cast<std::uint64_t>(s_.max_ack_pending));
        const std::uint64_t num_redelivered = info["num_redelivered"];
        RC_ASSERT(num_redelivered >= redelivered_lower);
        RC_ASSERT(num_redelivered <= redelivered_upper);
        // Exact, as nats-server (FilteredState from the delivered position): the stored messages
        // matching the filter after it; with last_per_subject the skip list is counted besides.
        const std::uint64_t num_pending = number(info["num_pending"]);
        if (s_.deliver != Deliver::last_per_subject) {
            RC_ASSERT(num_pending == matching_after);
        } else {
            RC_ASSERT(num_pending >= owed);
        }
        RC_ASSERT(info["ack_floor"]["stream_seq"].get<std::uint64_t>() <= delivered_stream);
        RC_ASSERT(info["ack_floor"]["consumer_seq"].get<std::uint64_t>() <= last_consumer_seq_);
        const json stream = request("$JS.API.STREAM.INFO.ORDERS")["state"];
        const std::uint64_t messages = stream["messages"];
        RC_ASSERT(messages >= stored);
        RC_ASSERT(messages <= stored_upper);
        return info;
    }

    Setup s_;
    JetStreamFixture f_;
    bool created_ = false;
    std::vector<Message> messages_;  // By stream seq - 1.
    std::vector<Delivery> deliveries_;
    std::size_t cursor_ = 0;
    std::int64_t last_collect_ns_ = 0;
    std::uint64_t last_consumer_seq_ = 0;
    std::uint64_t last_first_seq_ = 0;
    std::vector<std::uint64_t> unsynced_;      // Acks sent since the last request.
    std::vector<std::uint64_t> sync_pending_;  // Acks confirmed by the next request's reply.
    std::map<std::string, std::vector<std::uint64_t>> ack_reply_of_sid_;
    std::map<std::string, std::uint64_t> request_of_sid_;
    std::map<std::uint64_t, int> batch_of_;
    std::map<std::uint64_t, int> taken_;
    std::uint64_t pulls_ = 0;
    std::uint64_t restarts_ = 0;
    std::uint64_t ack_replies_ = 0;
};

}  // namespace

TEST_CASE("jetstream consumer: deliveries, acks and INFO agree with a model under random operations",
          "[jetstream][consumer][property][sim]") {
    rc::detail::TestParams params = rc::detail::configuration().testParams;
    if (std::getenv("RC_PARAMS") == nullptr) {
        params.seed = 20261126;  // Deterministic in CI; RC_PARAMS="seed=N" explores.
        params.maxSuccess = 100;
    }
    rc::detail::TestMetadata metadata;
    metadata.id = "consumer-model";
    metadata.description = "deliveries, acks and INFO agree with the model";
    const auto result = rc::detail::checkTestable(
        [] {
            const Setup setup = *setup_gen();
            const auto steps = *rc::gen::resize(100, rc::gen::container<std::vector<Step>>(step_gen()));
            RC_LOG() << setup << "\n";
            Run run(setup);
            run.create();
            for (const Step& step : steps) {
                RC_LOG() << step << "\n";
                run.step(step);
            }
            run.drain();
            run.classify();
        },
        metadata, params);
    std::ostringstream text;
    rc::detail::printResultMessage(result, text);
    if (std::getenv("RC_PARAMS") != nullptr) std::cout << text.str() << "\n";
    INFO(text.str());
    CHECK(result.template is<rc::detail::SuccessResult>());
}
