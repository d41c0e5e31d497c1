// herald-load's JetStream modes over the raw protocol (no client library):
//   jspub-sync   one PUB with a reply inbox, wait for its PubAck, repeat;
//   jspub-async  a window of `outstanding` PUBs without a PubAck, refilled as acks arrive;
//   jspull       a pre-filled stream drained by a durable pull consumer (ack explicit) with
//                MSG.NEXT batches, every message acked.
// Each run makes its own stream (HERALD_LOAD_<pid>, subject herald.js.<pid>) through $JS.API and
// deletes it at the end. Every PubAck is checked: no error and seq = position + 1 (one publisher
// on a fresh stream); every pulled message is delivered once; the stream's and the consumer's
// state are checked after the run.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench/load/load_run.h"

namespace herald::load {
namespace {

constexpr std::string_view api_inbox_prefix = "_INBOX.herald_load_api.";
constexpr std::string_view ack_inbox_prefix = "_INBOX.herald_load_ack.";
constexpr std::string_view pull_inbox = "_INBOX.herald_load_pull";
constexpr std::size_t send_batch_bytes_max = 256 * 1024;
constexpr int state_checks_max = 40;  // Consumer state after the run: checks 25 ms apart.
constexpr auto state_check_interval = std::chrono::milliseconds(25);
constexpr std::uint64_t pull_expires_ns = 10'000'000'000;  // A MSG.NEXT request lives 10 s.

// Reads the unsigned integer after "key": in a JSON text, starting at `from`.
bool json_uint(std::string_view text, std::string_view key, std::uint64_t& value,
               std::size_t from = 0) {
    const std::string quoted = "\"" + std::string(key) + "\"";
    std::size_t at = text.find(quoted, from);
    if (at == std::string_view::npos) return false;
    at += quoted.size();
    while (at < text.size() && (text[at] == ' ' || text[at] == ':')) ++at;
    auto [pointer, error] = std::from_chars(text.data() + at, text.data() + text.size(), value);
    return error == std::errc() && pointer != text.data() + at;
}

bool json_has_error(std::string_view text) { return text.find("\"error\"") != std::string_view::npos; }

// One connection used by one thread for API requests, publishes and pulls. MSGs on the API inbox
// (sid 1) answer request(); the others (PubAcks on sid 2, pulled messages on sid 3) go to
// on_data.
class JsSession {
public:
    JsSession(NatsClient& client, const Options& options)
        : client_(client), options_(options) {}

    bool start() {
        client_.set_msg_callback([this](const MsgFrame& frame) { on_msg(frame); });
        if (!client_.send(std::string("SUB ") + std::string(api_inbox_prefix) + "* 1\r\n" +
                          "SUB " + std::string(ack_inbox_prefix) + "* 2\r\n" + "SUB " +
                          std::string(pull_inbox) + " 3\r\n")) {
            return false;
        }
        return client_.flush();
    }

    // Sends a request and waits (bounded by the run's deadline) for its answer.
    bool request(std::string_view subject, std::string_view body, std::string& response) {
        expected_inbox_ = std::string(api_inbox_prefix) + std::to_string(++requests_);
        answered_ = false;
        std::string frame = "PUB " + std::string(subject) + " " + expected_inbox_ + " " +
                            std::to_string(body.size()) + "\r\n";
        frame.append(body).append("\r\n");
        if (!client_.send(frame)) return false;
        while (!answered_) {
            if (!client_.pump()) return false;
        }
        response = std::move(answer_);
        return true;
    }

    std::function<void(const MsgFrame&)> on_data;
    NatsClient& client() { return client_; }

private:
    void on_msg(const MsgFrame& frame) {
        if (frame.sid == "1") {
            if (frame.subject == expected_inbox_) {
                answer_.assign(frame.payload);
                answered_ = true;
            }
            return;
        }
        if (on_data) on_data(frame);
    }

    NatsClient& client_;
    const Options& options_;
    std::uint64_t requests_ = 0;
    std::string expected_inbox_;
    std::string answer_;
    bool answered_ = false;
};

struct JsNames {
    std::string stream;
    std::string subject;
    std::string consumer = "HERALD_LOAD_PULL";
};

bool api_call(JsSession& session, FailureLog& failures, const std::string& what,
              const std::string& subject, const std::string& body, std::string& response) {
    if (!session.request(subject, body, response)) {
        failures.record(what, session.client().error());
        return false;
    }
    if (json_has_error(response)) {
        failures.record(what, response);
        return false;
    }
    return true;
}

bool create_stream(JsSession& session, const Options& options, const JsNames& names,
                   FailureLog& failures) {
    std::string response;
    // A stream left by a killed earlier run with the same pid: delete it, ignore "not found".
    if (!session.request("$JS.API.STREAM.DELETE." + names.stream, "", response)) {
        failures.record("stream delete", session.client().error());
        return false;
    }
    const std::string config = R"({"name":")" + names.stream + R"(","subjects":[")" +
                               names.subject + R"("],"retention":"limits","storage":")" +
                               options.storage +
                               R"(","discard":"old","num_replicas":1,"max_msgs":-1,)"
                               R"("max_bytes":-1,"max_msg_size":-1,"max_age":0})";
    return api_call(session, failures, "stream create", "$JS.API.STREAM.CREATE." + names.stream,
                    config, response);
}

bool delete_stream(JsSession& session, const JsNames& names, FailureLog& failures) {
    std::string response;
    return api_call(session, failures, "stream delete", "$JS.API.STREAM.DELETE." + names.stream,
                    "", response);
}

bool stream_messages(JsSession& session, const JsNames& names, FailureLog& failures,
                     std::uint64_t& messages) {
    std::string response;
    if (!api_call(session, failures, "stream info", "$JS.API.STREAM.INFO." + names.stream, "",
                  response)) {
        return false;
    }
    const std::size_t state = response.find("\"state\"");
    if (state == std::string::npos || !json_uint(response, "messages", messages, state)) {
        failures.record("stream info", "no state.messages in " + response);
        return false;
    }
    return true;
}

// The PubAck for the message published with reply inbox <prefix><index> must carry seq index+1.
struct AckChecker {
    std::vector<bool> acked;
    std::uint64_t count = 0;
    std::string error;

    explicit AckChecker(std::size_t total) : acked(total, false) {}

    void on_ack(const MsgFrame& frame) {
        if (!error.empty()) return;
        std::uint64_t index = 0;
        const std::string_view tail = frame.subject.substr(ack_inbox_prefix.size());
        auto [pointer, parse_error] = std::from_chars(tail.data(), tail.data() + tail.size(), index);
        if (parse_error != std::errc() || index >= acked.size()) {
            error = "PubAck on an unknown inbox " + std::string(frame.subject);
            return;
        }
        std::uint64_t seq = 0;
        if (json_has_error(frame.payload) || !json_uint(frame.payload, "seq", seq)) {
            error = "bad PubAck for message " + std::to_string(index) + ": " + std::string(frame.payload);
            return;
        }
        if (seq != index + 1 || acked[index]) {
            error = "PubAck for message " + std::to_string(index) + " has seq " + std::to_string(seq) +
                    (acked[index] ? " (second ack)" : " (expected " + std::to_string(index + 1) + ")");
            return;
        }
        acked[index] = true;
        count++;
    }
};

std::string publish_frame_head(const JsNames& names, std::uint64_t index, std::size_t size) {
    std::string frame = "PUB " + names.subject + " ";
    frame.append(ack_inbox_prefix).append(std::to_string(index)).append(" ");
    frame.append(std::to_string(size)).append("\r\n");
    return frame;
}

// Publishes `total` messages keeping at most `window` without a PubAck. Returns after the last
// PubAck.
bool publish_window(JsSession& session, const Options& options, const JsNames& names,
                    std::size_t total, std::size_t window, FailureLog& failures) {
    AckChecker checker(total);
    session.on_data = [&checker](const MsgFrame& frame) {
        if (frame.sid == "2") checker.on_ack(frame);
    };
    const std::string payload_crlf = std::string(options.size, 'x') + "\r\n";
    std::string batch;
    std::uint64_t sent = 0;
    while (checker.count < total) {
        const std::uint64_t in_flight = sent - checker.count;
        if (sent < total && in_flight < window) {
            batch.clear();
            const std::uint64_t room = std::min<std::uint64_t>(window - in_flight, total - sent);
            for (std::uint64_t index = 0; index < room && batch.size() < send_batch_bytes_max; ++index) {
                batch.append(publish_frame_head(names, sent, options.size)).append(payload_crlf);
                sent++;
            }
            if (!session.client().send(batch)) {
                failures.record("publisher", session.client().error());
                return false;
            }
        }
        if (!session.client().pump()) {
            failures.record("publisher", session.client().error() + " after " +
                                             std::to_string(checker.count) + " PubAcks");
            return false;
        }
        if (!checker.error.empty()) {
            failures.record("publisher", checker.error);
            return false;
        }
    }
    session.on_data = nullptr;
    return true;
}

bool publish_sync(JsSession& session, const Options& options, const JsNames& names,
                  FailureLog& failures, Results& results) {
    AckChecker checker(options.msgs);
    session.on_data = [&checker](const MsgFrame& frame) {
        if (frame.sid == "2") checker.on_ack(frame);
    };
    const std::string payload_crlf = std::string(options.size, 'x') + "\r\n";
    results.latencies_us.reserve(options.msgs);
    for (std::uint64_t index = 0; index < options.msgs; ++index) {
        const std::string frame = publish_frame_head(names, index, options.size) + payload_crlf;
        const Clock::time_point sent_at = Clock::now();
        bool ok = session.client().send(frame);
        while (ok && checker.count == index && checker.error.empty()) ok = session.client().pump();
        if (!ok || !checker.error.empty()) {
            failures.record("publisher", !checker.error.empty() ? checker.error
                                                                 : session.client().error());
            return false;
        }
        results.latencies_us.push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - sent_at).count());
    }
    session.on_data = nullptr;
    std::sort(results.latencies_us.begin(), results.latencies_us.end());
    return true;
}

// Parses the stream seq out of a $JS.ACK reply subject: $JS.ACK.<stream>.<consumer>.<delivered>.
// <sseq>.<dseq>.<ts>.<pending> (9 tokens), or the 11/12-token form with domain and account hash.
bool ack_reply_stream_seq(std::string_view reply, std::uint64_t& delivered, std::uint64_t& seq) {
    std::string_view tokens[12];
    std::size_t count = 0;
    std::size_t start = 0;
    while (count < 12) {
        const std::size_t dot = reply.find('.', start);
        tokens[count++] = reply.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (count < 9 || tokens[0] != "$JS" || tokens[1] != "ACK") return false;
    const std::size_t base = count == 9 ? 4 : 6;
    auto number = [](std::string_view text, std::uint64_t& value) {
        auto [pointer, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        return error == std::errc() && pointer == text.data() + text.size();
    };
    return number(tokens[base], delivered) && number(tokens[base + 1], seq);
}

bool pull_all(JsSession& session, const Options& options, const JsNames& names,
              FailureLog& failures, Results& results) {
    std::string response;
    const std::string consumer_config =
        R"({"stream_name":")" + names.stream + R"(","config":{"durable_name":")" + names.consumer +
        R"(","deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,)"
        R"("max_deliver":-1,"replay_policy":"instant","max_ack_pending":)" +
        std::to_string(std::max<std::size_t>(options.batch * 2, 1000)) + "}}";
    if (!api_call(session, failures, "consumer create",
                  "$JS.API.CONSUMER.DURABLE.CREATE." + names.stream + "." + names.consumer,
                  consumer_config, response)) {
        return false;
    }
    const std::string next_request = "PUB $JS.API.CONSUMER.MSG.NEXT." + names.stream + "." +
                                     names.consumer + " " + std::string(pull_inbox) + " ";
    std::vector<bool> seen(options.msgs + 1, false);
    std::uint64_t received = 0;
    std::uint64_t requested = 0;
    std::string acks;
    std::string error;
    session.on_data = [&](const MsgFrame& frame) {
        if (frame.sid != "3" || !error.empty()) return;
        if (frame.reply.empty()) {  // A status (408, 409, 100): none is expected here.
            error = "status instead of a message: " + std::string(frame.headers);
            return;
        }
        std::uint64_t delivered = 0;
        std::uint64_t seq = 0;
        if (!ack_reply_stream_seq(frame.reply, delivered, seq) || seq == 0 || seq > options.msgs) {
            error = "bad ack subject " + std::string(frame.reply);
            return;
        }
        if (delivered != 1 || seen[seq]) {
            error = "message " + std::to_string(seq) + " delivered again";
            return;
        }
        seen[seq] = true;
        received++;
        acks.append("PUB ").append(frame.reply).append(" 0\r\n\r\n");
    };
    const Clock::time_point t0 = Clock::now();
    while (received < options.msgs) {
        std::string out;
        out.swap(acks);
        if (received == requested) {
            const std::uint64_t batch = std::min<std::uint64_t>(options.batch, options.msgs - requested);
            const std::string body = R"({"batch":)" + std::to_string(batch) + R"(,"expires":)" +
                                     std::to_string(pull_expires_ns) + "}";
            out.append(next_request).append(std::to_string(body.size())).append("\r\n");
            out.append(body).append("\r\n");
            requested += batch;
        }
        if (!out.empty() && !session.client().send(out)) {
            failures.record("puller", session.client().error());
            return false;
        }
        if (!session.client().pump()) {
            failures.record("puller", session.client().error() + " after " +
                                          std::to_string(received) + " messages");
            return false;
        }
        if (!error.empty()) {
            failures.record("puller", error);
            return false;
        }
    }
    if (!session.client().send(acks) || !session.client().flush()) {
        failures.record("puller", session.client().error());
        return false;
    }
    results.receive_elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    results.received = received;
    session.on_data = nullptr;
    // Every ack must have been taken: the ack floor reaches the last seq (acks are processed in
    // order on nats-server and Herald, but an API request may overtake them: check a few times).
    std::uint64_t floor = 0;
    std::uint64_t ack_pending = 1;
    for (int check = 0; check < state_checks_max; ++check) {
        if (!api_call(session, failures, "consumer info",
                      "$JS.API.CONSUMER.INFO." + names.stream + "." + names.consumer, "", response)) {
            return false;
        }
        const std::size_t ack_floor = response.find("\"ack_floor\"");
        if (ack_floor == std::string::npos || !json_uint(response, "stream_seq", floor, ack_floor) ||
            !json_uint(response, "num_ack_pending", ack_pending)) {
            failures.record("consumer info", "no ack_floor / num_ack_pending in " + response);
            return false;
        }
        if (floor == options.msgs && ack_pending == 0) return true;
        std::this_thread::sleep_for(state_check_interval);
    }
    failures.record("consumer info", "after every ack: ack floor " + std::to_string(floor) +
                                         ", ack pending " + std::to_string(ack_pending) +
                                         " (expected " + std::to_string(options.msgs) + ", 0)");
    return false;
}

}  // namespace

bool run_jetstream(const Options& options, const ServerAddress& address, RunControl& control,
                   FailureLog& failures, Results& results) {
    NatsClient client(control);
    if (!client.connect(address, "herald-load-js")) {
        failures.record("connect", client.error());
        return false;
    }
    JsSession session(client, options);
    if (!session.start()) {
        failures.record("subscribe", client.error());
        return false;
    }
    JsNames names;
    const std::string id = std::to_string(::getpid());
    names.stream = "HERALD_LOAD_" + id;
    names.subject = "herald.js." + id;
    results.stream = names.stream;
    if (!create_stream(session, options, names, failures)) return false;
    bool ok = false;
    if (options.mode == "jspub-sync") {
        const Clock::time_point t0 = Clock::now();
        ok = publish_sync(session, options, names, failures, results);
        results.publish_elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    } else if (options.mode == "jspub-async") {
        const Clock::time_point t0 = Clock::now();
        ok = publish_window(session, options, names, options.msgs, options.outstanding, failures);
        results.publish_elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    } else {  // jspull: fill untimed, then drain.
        const Clock::time_point t0 = Clock::now();
        ok = publish_window(session, options, names, options.msgs, 1000, failures);
        results.publish_elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
        ok = ok && pull_all(session, options, names, failures, results);
    }
    if (!ok) return false;
    results.published = options.msgs;
    results.expected = options.msgs;
    if (!stream_messages(session, names, failures, results.stream_messages)) return false;
    if (results.stream_messages != options.msgs) {
        failures.record("stream info", "stream holds " + std::to_string(results.stream_messages) +
                                           " messages, expected " + std::to_string(options.msgs));
        return false;
    }
    return delete_stream(session, names, failures);
}

}  // namespace herald::load
