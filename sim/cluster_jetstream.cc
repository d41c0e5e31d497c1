// The Cluster's JetStream workload: publishers that retry one message with the same Nats-Msg-Id
// until a PubAck says where it is, a durable pull consumer that double-acks each message, and
// the end-of-run read of every stream straight from its store (with the recovery report) for
// the JetStream checkers (chaos/checkers.cc).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/base/assert.h"
#include "engine/client/client.h"
#include "engine/core/account.h"
#include "engine/jetstream/jetstream.h"
#include "engine/jetstream/stream.h"
#include "engine/server/server.h"
#include "engine/store/errc.h"
#include "sim/cluster.h"
#include "sim/cluster_client_state.h"
#include "sim/node.h"

namespace herald::sim {
namespace {

using Json = nlohmann::json;

constexpr Duration ensure_timeout = Duration::seconds(2);
constexpr Duration pull_retry_delay = Duration::milliseconds(100);
// A read of a stream at the end of the run covers at most this many sequences.
constexpr std::uint64_t collect_sequences_max = 1'000'000;

std::string msg_id_of(PayloadId id) { return fmt::format("p{}.{}", id.client, id.seq); }

std::string json_string_list(const std::vector<std::string>& items) {
    Json list = Json::array();
    for (const std::string& item : items) list.push_back(item);
    return list.dump();
}

// The 5th and 6th tokens of $JS.ACK.<stream>.<consumer>.<deliveries>.<sseq>.<cseq>.<ts>.<pending>.
bool parse_ack_subject(std::string_view subject, std::uint64_t& deliveries, std::uint64_t& stream_seq) {
    std::vector<std::string_view> tokens;
    std::size_t start = 0;
    while (start <= subject.size()) {
        const auto dot = subject.find('.', start);
        const auto end = dot == std::string_view::npos ? subject.size() : dot;
        tokens.push_back(subject.substr(start, end - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (tokens.size() != 9 || tokens[0] != "$JS" || tokens[1] != "ACK") return false;
    auto number = [](std::string_view text, std::uint64_t& value) {
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        return error == std::errc{} && end == text.data() + text.size();
    };
    return number(tokens[4], deliveries) && number(tokens[5], stream_seq);
}

// A failed PubAck whose fate is unknown: the server says an I/O error hit the write or its fsync
// (the bytes may be in the page cache and survive a process crash). "store failed after an i/o
// error" is a refusal of a later store: nothing was written.
bool error_is_indeterminate(std::string_view description) {
    return description.find("i/o error") != std::string_view::npos &&
           description.find("store failed after") == std::string_view::npos;
}

}  // namespace

void Cluster::arm_js_timers(std::uint32_t c) {
    const ClientSpec& spec = spec_.clients[c];
    ClientState& state = *clients_[c];
    const std::uint64_t incarnation = state.incarnation;
    for (JsPublisher& publisher : state.js_publishers) publisher.in_flight = false;
    for (std::size_t i = 0; i < spec.js_publish.size(); ++i) {
        const Duration interval{1'000'000'000ULL / std::max<std::uint64_t>(spec.js_publish[i].rate_per_second, 1)};
        const Duration phase{(c * 7919ULL + i * 104729ULL) % std::max<std::uint64_t>(interval.ns, 1) + 1};
        repeat(c, incarnation, phase, interval, [this, c, i] {
            if (!workload_running_) return false;
            js_publish_tick(c, i);
            return true;
        });
    }
    auto& loop = world_->node(client_node(c)).env().loop;
    for (std::size_t i = 0; i < spec.js_consume.size(); ++i) {
        static_cast<void>(loop.schedule(Duration::milliseconds(10 + i), [this, c, i, incarnation] { js_pull(c, i, incarnation); }));
    }
}

bool Cluster::js_ready(std::uint32_t c) {
    ClientState& state = *clients_[c];
    const std::uint32_t epoch = current_epoch(c);
    if (epoch == 0) return false;
    if (state.js_ready_epoch == epoch) return true;
    if (!state.js_ensuring || state.js_ensure_incarnation != state.incarnation) js_ensure(c);
    return false;
}

// Creates every spec stream and this client's durables, one request after the other; an
// existing one counts as created. A failure ends the attempt; the next tick starts another.
void Cluster::js_ensure(std::uint32_t c) {
    ClientState& state = *clients_[c];
    ASSERT(state.connection != nullptr);
    state.js_ensuring = true;
    state.js_ensure_incarnation = state.incarnation;
    const std::uint32_t epoch = current_epoch(c);
    struct Step {
        std::string subject;
        std::string body;
    };
    auto steps = std::make_shared<std::vector<Step>>();
    for (const StreamSpec& stream : spec_.streams) {
        steps->push_back({"$JS.API.STREAM.CREATE." + stream.name,
                          fmt::format(R"({{"name":"{}","subjects":{},"storage":"{}","duplicate_window":{},"num_replicas":1}})",
                                      stream.name, json_string_list(stream.subjects), stream.file ? "file" : "memory",
                                      stream.duplicate_window.ns)});
    }
    for (const JsConsumeSpec& consume : spec_.clients[c].js_consume) {
        steps->push_back({fmt::format("$JS.API.CONSUMER.DURABLE.CREATE.{}.{}", consume.stream, consume.durable),
                          fmt::format(R"({{"stream_name":"{}","config":{{"durable_name":"{}","ack_policy":"explicit","ack_wait":{},"deliver_policy":"all","max_deliver":-1}}}})",
                                      consume.stream, consume.durable, consume.ack_wait.ns)});
    }
    const std::uint64_t incarnation = state.incarnation;
    auto next = std::make_shared<std::function<void(std::size_t)>>();
    *next = [this, c, incarnation, epoch, steps, weak = std::weak_ptr<std::function<void(std::size_t)>>(next)](std::size_t index) {
        ClientState& now = *clients_[c];
        if (now.incarnation != incarnation || now.connection == nullptr) return;
        if (index == steps->size()) {
            now.js_ensuring = false;
            now.js_ready_epoch = epoch;
            note(fmt::format("client {} ({}) jetstream ready epoch={}", c, spec_.clients[c].name, epoch));
            return;
        }
        auto self = weak.lock();
        ASSERT(self != nullptr);
        now.connection->request((*steps)[index].subject, (*steps)[index].body, ensure_timeout,
                                [this, c, incarnation, index, self](Result<client::Message> reply) {
                                    ClientState& then = *clients_[c];
                                    if (then.incarnation != incarnation) return;
                                    bool created = false;
                                    if (reply) {
                                        const Json answer = Json::parse(reply->payload, nullptr, false);
                                        if (answer.is_object() && !answer.contains("error")) created = true;
                                        if (answer.is_object() && answer.contains("error")) {
                                            const std::string text = answer["error"].value("description", std::string());
                                            created = text.find("already") != std::string::npos;
                                        }
                                    }
                                    if (!created) {
                                        then.js_ensuring = false;
                                        return;
                                    }
                                    (*self)(index + 1);
                                });
    };
    // The chain owns itself through the request callbacks; the first step starts it.
    (*next)(0);
}

void Cluster::js_publish_tick(std::uint32_t c, std::size_t index) {
    ClientState& state = *clients_[c];
    ASSERT(state.connection != nullptr);
    if (!js_ready(c)) return;
    JsPublisher& publisher = state.js_publishers[index];
    if (publisher.in_flight && publisher.incarnation == state.incarnation) return;
    const JsPublishSpec& spec = spec_.clients[c].js_publish[index];
    if (publisher.message != 0 && publisher.attempts >= spec.attempts_max) {
        note(fmt::format("client {} ({}) gives up on p{}.{} after {} tries", c, spec_.clients[c].name, c,
                         publisher.message, publisher.attempts));
        publisher.message = 0;
    }
    if (publisher.message == 0) {
        publisher.message = ++state.publish_seq;
        publisher.attempts = 0;
    }
    publisher.attempts += 1;
    publisher.in_flight = true;
    publisher.incarnation = state.incarnation;
    Entry entry;
    entry.client = c;
    entry.op = Op::js_publish;
    entry.invoke = world_->now();
    entry.epoch = sending_epoch(c);
    entry.subject = spec.subject;
    entry.id = PayloadId{PayloadKind::publish, c, publisher.message};
    entry.attempt = publisher.attempts;
    const PayloadId id = entry.id;
    const std::size_t at = add_entry(std::move(entry));
    const client::Headers headers{{"Nats-Msg-Id", msg_id_of(id)}};
    const std::uint64_t incarnation = state.incarnation;
    state.connection->request(
        spec.subject, headers, make_payload(id, std::max<std::size_t>(spec.size_bytes, 24)), spec.timeout,
        [this, c, index, at, incarnation](Result<client::Message> reply) {
            Entry& done = history_.entries[at];
            done.complete = world_->now();
            ClientState& now = *clients_[c];
            JsPublisher& sender = now.js_publishers[index];
            const bool current = now.incarnation == incarnation;
            if (current) sender.in_flight = false;
            if (!reply) {
                // Timeout or connection loss: the store may or may not have it. No responders:
                // the stream is not listening (recovering), nothing was stored.
                const bool none = reply.error() == client::Errc::no_responders;
                done.outcome = none ? Outcome::fail : Outcome::unknown;
                done.error = reply.error().message();
                return;
            }
            const Json answer = Json::parse(reply->payload, nullptr, false);
            if (!answer.is_object()) {
                done.outcome = Outcome::unknown;
                done.error = "PubAck is not JSON: " + reply->payload;
                return;
            }
            if (answer.contains("error")) {
                done.error = answer["error"].value("description", std::string("?"));
                done.outcome = error_is_indeterminate(done.error) ? Outcome::unknown : Outcome::fail;
                return;
            }
            done.outcome = Outcome::ok;
            done.js_seq = answer.value("seq", std::uint64_t{0});
            done.js_duplicate = answer.value("duplicate", false);
            if (current) sender.message = 0;
        });
}

void Cluster::js_retry_pull(std::uint32_t c, std::size_t index, std::uint64_t incarnation) {
    auto& loop = world_->node(client_node(c)).env().loop;
    static_cast<void>(loop.schedule(pull_retry_delay, [this, c, index, incarnation] { js_pull(c, index, incarnation); }));
}

// One pull at a time: MSG.NEXT (batch 1) with the consumer's own inbox as reply subject (the
// message arrives under its stream subject, so it cannot be a muxed request's answer). The pull
// ends with a message, a status (408 expired, 404, 409), or after expires + 1 s of silence.
void Cluster::js_pull(std::uint32_t c, std::size_t index, std::uint64_t incarnation) {
    ClientState& state = *clients_[c];
    if (state.incarnation != incarnation || !state.up || state.connection == nullptr) return;
    JsPuller& puller = state.js_pullers[index];
    if (puller.incarnation != incarnation) {
        puller = JsPuller{};
        puller.incarnation = incarnation;
        puller.inbox = state.connection->new_inbox();
        const auto made = state.connection->subscribe(puller.inbox, [this, c, index, incarnation](const client::Message& message) {
            js_on_pulled(c, index, incarnation, message);
        });
        ASSERT(made);
    }
    if (puller.outstanding || puller.acks_in_flight > 0) return;
    if (!js_ready(c)) return js_retry_pull(c, index, incarnation);
    const JsConsumeSpec& spec = spec_.clients[c].js_consume[index];
    const std::string subject = fmt::format("$JS.API.CONSUMER.MSG.NEXT.{}.{}", spec.stream, spec.durable);
    const std::string body = fmt::format(R"({{"batch":1,"expires":{}}})", spec.expires.ns);
    puller.outstanding = true;
    const std::uint64_t pull = ++puller.pull_id;
    static_cast<void>(state.connection->publish(subject, puller.inbox, body));
    auto& loop = world_->node(client_node(c)).env().loop;
    static_cast<void>(loop.schedule(spec.expires + Duration::seconds(1), [this, c, index, incarnation, pull] {
        ClientState& now = *clients_[c];
        if (now.incarnation != incarnation) return;
        JsPuller& waiting = now.js_pullers[index];
        if (waiting.pull_id != pull || !waiting.outstanding) return;
        waiting.outstanding = false;
        js_pull(c, index, incarnation);
    }));
}

void Cluster::js_on_pulled(std::uint32_t c, std::size_t index, std::uint64_t incarnation,
                           const client::Message& message) {
    ClientState& state = *clients_[c];
    if (state.incarnation != incarnation || state.connection == nullptr) return;
    JsPuller& puller = state.js_pullers[index];
    puller.outstanding = false;
    if (!message.reply.starts_with("$JS.ACK.")) {
        // A status: 408 (expired) pulls again at once; 404/409 or an API error after a pause
        // (and an error may mean the durable is gone: ensure again).
        if (message.headers.status() == "408") return js_pull(c, index, incarnation);
        if (message.headers.status().empty()) state.js_ready_epoch = 0;
        return js_retry_pull(c, index, incarnation);
    }
    Entry entry;
    entry.client = c;
    entry.op = Op::js_deliver;
    entry.invoke = world_->now();
    entry.complete = entry.invoke;
    entry.outcome = Outcome::ok;
    entry.epoch = current_epoch(c);
    entry.subject = message.subject;
    const auto id = parse_payload(message.payload);
    entry.payload_valid = id.has_value();
    if (id) entry.id = *id;
    entry.subscription = static_cast<std::uint32_t>(index);  // The js_consume spec.
    if (!parse_ack_subject(message.reply, entry.deliveries, entry.js_seq)) entry.payload_valid = false;
    if (entry.deliveries > 1) note(fmt::format("client {} got seq {} again (delivery {})", c, entry.js_seq, entry.deliveries));
    Entry ack = entry;
    add_entry(std::move(entry));
    ack.op = Op::js_ack;
    ack.outcome = Outcome::unknown;
    ack.complete = instant_never;
    ack.epoch = sending_epoch(c);
    const std::size_t at = add_entry(std::move(ack));
    const JsConsumeSpec& spec = spec_.clients[c].js_consume[index];
    puller.acks_in_flight += 1;
    state.connection->request(message.reply, "+ACK", spec.timeout,
                              [this, c, index, incarnation, at](Result<client::Message> reply) {
                                  Entry& done = history_.entries[at];
                                  done.complete = world_->now();
                                  if (reply) {
                                      done.outcome = Outcome::ok;
                                  } else {
                                      done.error = reply.error().message();
                                      note(fmt::format("client {} ack of seq {} unknown: {}", c, done.js_seq, done.error));
                                  }
                                  ClientState& now = *clients_[c];
                                  if (now.incarnation != incarnation) return;
                                  JsPuller& acker = now.js_pullers[index];
                                  ASSERT(acker.acks_in_flight > 0);
                                  acker.acks_in_flight -= 1;
                                  js_pull(c, index, incarnation);
                              });
}

void Cluster::collect_streams() {
    ASSERT(collect_pending_ == 0);
    history_.streams.clear();
    for (std::uint32_t s = 0; s < servers_.size(); ++s) {
        for (const StreamSpec& spec : spec_.streams) {
            StreamRecord record;
            record.server = s;
            record.name = spec.name;
            history_.streams.push_back(record);
            const std::size_t at = history_.streams.size() - 1;
            server::Server* server = servers_[s].get();
            if (server == nullptr || server->jetstream() == nullptr) continue;
            jetstream::Stream* stream = server->jetstream()->find_stream(core::global_account_name, spec.name);
            if (stream == nullptr) continue;
            store::StreamStore& store = stream->store();
            const store::StreamState state = store.state();
            const store::RecoveryReport& report = store.recovery_report();
            StreamRecord& filled = history_.streams[at];
            filled.found = true;
            filled.first_seq = state.first_seq;
            filled.last_seq = state.last_seq;
            for (const store::SeqRange& range : report.lost) filled.lost.emplace_back(range.first, range.last);
            filled.damage = report.damage.size();
            if (state.messages == 0) continue;
            ASSERT(state.last_seq - state.first_seq < collect_sequences_max);
            for (std::uint64_t seq = state.first_seq; seq <= state.last_seq; ++seq) {
                collect_pending_ += 1;
                store.load(seq, [this, at](Result<store::StoredMessage> loaded) {
                    ASSERT(collect_pending_ > 0);
                    collect_pending_ -= 1;
                    StreamRecord& target = history_.streams[at];
                    if (!loaded) {
                        if (loaded.error() != store::Errc::message_not_found) target.load_errors += 1;
                        return;
                    }
                    StoredRecord stored;
                    stored.seq = loaded->seq;
                    stored.subject = loaded->subject;
                    stored.id = parse_payload(loaded->payload);
                    const std::string_view marker = "Nats-Msg-Id:";
                    if (const auto found = loaded->headers.find(marker); found != std::string::npos) {
                        auto begin = found + marker.size();
                        while (begin < loaded->headers.size() && loaded->headers[begin] == ' ') ++begin;
                        const auto end = loaded->headers.find("\r\n", begin);
                        stored.msg_id = loaded->headers.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
                    }
                    target.messages.push_back(std::move(stored));
                });
            }
        }
    }
}

}  // namespace herald::sim
