// herald-load: a raw-protocol NATS load generator (no client library) for comparing Herald with
// nats-server on loopback. Core modes: pub (publish throughput), pubsub / fanout (every subscriber
// receives every message), queue (subscribers in one queue group share the messages) and reqrep
// (sequential request latency), one thread per connection. JetStream modes (js_modes.cc):
// jspub-sync, jspub-async, jspull.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "bench/load/load_run.h"

namespace herald::load {
namespace {

constexpr std::size_t publish_batch_size_target = 256 * 1024;  // Bytes per send().
constexpr std::size_t message_size_max = 64 * 1024 * 1024;
constexpr std::size_t connections_max = 1024;
constexpr double megabyte = 1e6;
constexpr std::string_view queue_group_name = "herald_load_q";

void print_usage() {
    std::fputs(
        "usage: herald-load [--url nats://127.0.0.1:4222]\n"
        "                   [--mode pub|pubsub|fanout|queue|reqrep|jspub-sync|jspub-async|jspull]\n"
        "                   [--pubs N] [--subs M] [--msgs K] [--size B] [--subject S]\n"
        "                   [--warmup W] [--outstanding O] [--batch B] [--storage file|memory]\n"
        "                   [--timeout SECONDS] [--json]\n"
        "  pub          N publishers send K messages in total (split evenly), pipelined, then flush.\n"
        "  pubsub       as pub, plus M subscribers (default 1) that must each receive all K.\n"
        "  fanout       pubsub with M = 4 by default.\n"
        "  queue        as pub, plus M subscribers (default 4) in one queue group: K received in all.\n"
        "  reqrep       one responder on the subject, one requester making K sequential requests.\n"
        "  jspub-sync   K JetStream publishes, each waiting for its PubAck (fresh file stream).\n"
        "  jspub-async  K JetStream publishes with up to O (default 1000) PubAcks outstanding.\n"
        "  jspull       K messages stored, then pulled by a durable consumer (ack explicit) in\n"
        "               MSG.NEXT batches of B (default 500), each message acked.\n"
        "Exit status: 0 ok, 1 usage error, 2 run failed (connection error, timeout, bad ack).\n",
        stderr);
}

bool parse_count(std::string_view text, std::size_t& value) {
    auto [pointer, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && pointer == text.data() + text.size();
}

// Accepts "--flag value" and "--flag=value". Returns false on a usage error.
bool parse_options(int argc, char** argv, Options& options) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t index = 0; index < args.size(); ++index) {
        std::string_view flag = args[index];
        std::string_view value;
        bool has_value = false;
        if (const std::size_t equals = flag.find('='); equals != std::string_view::npos) {
            value = flag.substr(equals + 1);
            flag = flag.substr(0, equals);
            has_value = true;
        }
        if (flag == "--json") {
            options.json = true;
            continue;
        }
        if (flag == "-h" || flag == "--help") return false;
        if (!has_value) {
            if (index + 1 >= args.size()) {
                std::fprintf(stderr, "missing value for %.*s\n", static_cast<int>(flag.size()),
                             flag.data());
                return false;
            }
            value = args[++index];
        }
        bool ok = true;
        if (flag == "--url") {
            options.url = std::string(value);
        } else if (flag == "--mode") {
            options.mode = std::string(value);
        } else if (flag == "--subject") {
            options.subject = std::string(value);
        } else if (flag == "--pubs") {
            ok = parse_count(value, options.pubs);
        } else if (flag == "--subs") {
            ok = parse_count(value, options.subs);
        } else if (flag == "--msgs") {
            ok = parse_count(value, options.msgs);
        } else if (flag == "--size") {
            ok = parse_count(value, options.size);
        } else if (flag == "--warmup") {
            ok = parse_count(value, options.warmup);
        } else if (flag == "--outstanding") {
            ok = parse_count(value, options.outstanding) && options.outstanding > 0;
        } else if (flag == "--batch") {
            ok = parse_count(value, options.batch) && options.batch > 0;
        } else if (flag == "--storage") {
            options.storage = std::string(value);
            ok = options.storage == "file" || options.storage == "memory";
        } else if (flag == "--timeout") {
            auto [pointer, error] =
                std::from_chars(value.data(), value.data() + value.size(), options.timeout_s);
            ok = error == std::errc() && pointer == value.data() + value.size() &&
                 options.timeout_s > 0;
        } else {
            std::fprintf(stderr, "unknown flag %.*s\n", static_cast<int>(flag.size()),
                         flag.data());
            return false;
        }
        if (!ok) {
            std::fprintf(stderr, "bad value for %.*s: %.*s\n", static_cast<int>(flag.size()),
                         flag.data(), static_cast<int>(value.size()), value.data());
            return false;
        }
    }
    const std::string_view modes[] = {"pub",    "pubsub",     "fanout",      "queue",
                                      "reqrep", "jspub-sync", "jspub-async", "jspull"};
    if (std::find(std::begin(modes), std::end(modes), options.mode) == std::end(modes)) {
        std::fprintf(stderr, "unknown mode %s\n", options.mode.c_str());
        return false;
    }
    if (options.subs == 0 && options.mode != "pub") {
        options.subs = options.mode == "fanout" || options.mode == "queue" ? 4 : 1;
    }
    if (options.pubs == 0 || options.pubs > connections_max || options.subs > connections_max ||
        options.msgs == 0 || options.size > message_size_max || options.subject.empty()) {
        std::fputs("out of range: need 1 <= pubs <= 1024, subs <= 1024, msgs >= 1, size <= 64 MiB\n",
                   stderr);
        return false;
    }
    return true;
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

std::string publish_frame(const Options& options, std::string_view reply) {
    std::string frame = "PUB " + options.subject;
    if (!reply.empty()) frame.append(" ").append(reply);
    frame.append(" ").append(std::to_string(options.size)).append("\r\n");
    frame.append(options.size, 'x');
    frame.append("\r\n");
    return frame;
}

// Sends `count` copies of the PUB frame in large batches, then PING/PONG so the server has
// processed all of them.
bool publish_all(NatsClient& client, const Options& options, std::size_t count) {
    const std::string frame = publish_frame(options, {});
    const std::size_t frames_per_batch =
        std::clamp<std::size_t>(publish_batch_size_target / frame.size(), 1, count);
    std::string batch;
    batch.reserve(frames_per_batch * frame.size());
    for (std::size_t index = 0; index < frames_per_batch; ++index) batch.append(frame);
    std::size_t left = count;
    while (left > 0) {
        const std::size_t frames = std::min(left, frames_per_batch);
        if (!client.send(std::string_view(batch).substr(0, frames * frame.size()))) return false;
        left -= frames;
    }
    return client.flush();
}

struct Connections {
    std::vector<std::unique_ptr<NatsClient>> publishers;
    std::vector<std::unique_ptr<NatsClient>> subscribers;
};

bool open_connections(const Options& options, const ServerAddress& address, RunControl& control,
                      FailureLog& failures, Connections& connections) {
    const std::size_t subscriber_count = options.mode == "pub" ? 0 : options.subs;
    const std::string queue = options.mode == "queue" ? std::string(queue_group_name) + " " : "";
    for (std::size_t index = 0; index < subscriber_count; ++index) {
        auto client = std::make_unique<NatsClient>(control);
        const std::string name = "herald-load-sub-" + std::to_string(index);
        if (!client->connect(address, name) ||
            !client->send("SUB " + options.subject + " " + queue + "1\r\n") || !client->flush()) {
            failures.record(name, client->error());
            return false;
        }
        connections.subscribers.push_back(std::move(client));
    }
    for (std::size_t index = 0; index < options.pubs; ++index) {
        auto client = std::make_unique<NatsClient>(control);
        const std::string name = "herald-load-pub-" + std::to_string(index);
        if (!client->connect(address, name)) {
            failures.record(name, client->error());
            return false;
        }
        connections.publishers.push_back(std::move(client));
    }
    return true;
}

// pub, pubsub, fanout and queue: every connection gets a thread; all start together at t0.
// pubsub / fanout: each subscriber must receive all messages. queue: the group receives each
// message once; the subscriber that takes the last one wakes the main thread, which then stops
// the others (they are blocked in a receive) through control.aborted.
bool run_throughput(const Options& options, const ServerAddress& address, RunControl& control,
                    FailureLog& failures, Results& results) {
    Connections connections;
    if (!open_connections(options, address, control, failures, connections)) return false;
    const std::size_t subscriber_count = connections.subscribers.size();
    const bool queue = options.mode == "queue";
    std::latch start(static_cast<std::ptrdiff_t>(options.pubs + subscriber_count + 1));
    Clock::time_point t0;
    std::vector<Clock::time_point> publish_done(options.pubs);
    std::vector<Clock::time_point> receive_done(subscriber_count);
    std::vector<std::uint64_t> received(subscriber_count, 0);
    std::vector<std::thread> publishers;
    std::vector<std::thread> subscribers;
    results.expected = options.msgs;
    // queue mode: messages received by the whole group, and the time the last one arrived.
    std::mutex group_mutex;
    std::condition_variable group_done_signal;
    std::uint64_t group_received = 0;
    bool group_done = false;
    Clock::time_point group_done_at;
    for (std::size_t index = 0; index < subscriber_count; ++index) {
        subscribers.emplace_back([&, index] {
            NatsClient& client = *connections.subscribers[index];
            std::uint64_t& count = received[index];
            if (queue) {
                client.set_msg_callback([&](const MsgFrame&) {
                    count++;
                    std::lock_guard lock(group_mutex);
                    if (++group_received == results.expected) {
                        group_done = true;
                        group_done_at = Clock::now();
                        group_done_signal.notify_all();
                    }
                });
            } else {
                client.set_msg_callback([&count](const MsgFrame&) { count++; });
            }
            start.arrive_and_wait();
            while (queue || count < results.expected) {
                if (!client.pump()) {
                    std::lock_guard lock(group_mutex);
                    if (queue && group_done) return;  // Stopped by the main thread: done.
                    failures.record("subscriber " + std::to_string(index), client.error());
                    return;
                }
            }
            receive_done[index] = Clock::now();
        });
    }
    for (std::size_t index = 0; index < options.pubs; ++index) {
        const std::size_t share =
            options.msgs / options.pubs + (index < options.msgs % options.pubs ? 1 : 0);
        publishers.emplace_back([&, index, share] {
            NatsClient& client = *connections.publishers[index];
            start.arrive_and_wait();
            if (!publish_all(client, options, share)) {
                failures.record("publisher " + std::to_string(index), client.error());
                return;
            }
            publish_done[index] = Clock::now();
        });
    }
    t0 = Clock::now();
    start.arrive_and_wait();
    for (std::thread& thread : publishers) thread.join();
    if (queue) {
        std::unique_lock lock(group_mutex);
        const bool done = group_done_signal.wait_until(lock, control.deadline, [&] {
            return group_done || control.aborted.load();
        });
        if (done && group_done) {
            control.aborted.store(true);  // Wakes the subscribers out of their receives.
            receive_done.assign(subscriber_count, group_done_at);
        } else if (!control.aborted.load()) {
            lock.unlock();
            failures.record("queue group", "timed out after " + std::to_string(group_received) +
                                               " messages");
        }
    }
    for (std::thread& thread : subscribers) thread.join();
    for (std::uint64_t count : received) results.received += count;
    if (!failures.first().empty()) return false;
    if (queue && results.received != results.expected) return false;
    results.published = options.msgs;
    results.publish_elapsed_s =
        seconds_between(t0, *std::max_element(publish_done.begin(), publish_done.end()));
    if (subscriber_count > 0) {
        results.receive_elapsed_s =
            seconds_between(t0, *std::max_element(receive_done.begin(), receive_done.end()));
    }
    return true;
}

// reqrep: one responder answers every MSG to its reply subject; one requester measures each
// round trip.
bool run_reqrep(const Options& options, const ServerAddress& address, RunControl& control,
                FailureLog& failures, Results& results) {
    NatsClient responder(control);
    NatsClient requester(control);
    if (!responder.connect(address, "herald-load-responder") ||
        !responder.send("SUB " + options.subject + " 1\r\n") || !responder.flush()) {
        failures.record("responder", responder.error());
        return false;
    }
    const std::string inbox = "_INBOX.herald_load";
    if (!requester.connect(address, "herald-load-requester") ||
        !requester.send("SUB " + inbox + ".* 1\r\n") || !requester.flush()) {
        failures.record("requester", requester.error());
        return false;
    }
    std::thread responder_thread([&] {
        std::string replies;
        const std::string payload(options.size, 'y');
        responder.set_msg_callback([&](const MsgFrame& frame) {
            if (frame.reply.empty()) return;
            replies.append("PUB ").append(frame.reply).append(" ");
            replies.append(std::to_string(payload.size())).append("\r\n");
            replies.append(payload).append("\r\n");
        });
        while (!control.aborted.load()) {
            if (!responder.pump()) {
                if (!control.aborted.load()) failures.record("responder", responder.error());
                return;
            }
            if (!replies.empty()) {
                if (!responder.send(replies)) {
                    failures.record("responder", responder.error());
                    return;
                }
                replies.clear();
            }
        }
    });
    std::string expected_subject;
    bool answered = false;
    requester.set_msg_callback([&](const MsgFrame& frame) {
        if (frame.subject == expected_subject) answered = true;
    });
    const std::size_t total = options.warmup + options.msgs;
    results.latencies_us.reserve(options.msgs);
    const std::string payload(options.size, 'x');
    const std::string tail = " " + std::to_string(options.size) + "\r\n" + payload + "\r\n";
    const Clock::time_point t0 = Clock::now();
    for (std::size_t index = 0; index < total; ++index) {
        expected_subject = inbox + "." + std::to_string(index);
        const std::string request = "PUB " + options.subject + " " + expected_subject + tail;
        answered = false;
        const Clock::time_point sent_at = Clock::now();
        bool ok = requester.send(request);
        while (ok && !answered) ok = requester.pump();
        if (!ok) {
            failures.record("requester", requester.error() + " after " + std::to_string(index) +
                                             " requests");
            break;
        }
        const double latency_us = std::chrono::duration<double, std::micro>(Clock::now() - sent_at).count();
        if (index >= options.warmup) results.latencies_us.push_back(latency_us);
    }
    results.receive_elapsed_s = seconds_between(t0, Clock::now());
    control.aborted.store(true);  // Stops the responder within one poll slice.
    responder_thread.join();
    results.received = results.latencies_us.size();
    results.expected = options.msgs;
    std::sort(results.latencies_us.begin(), results.latencies_us.end());
    return results.received == options.msgs;
}

// Nearest-rank percentile of a sorted sample.
double percentile(const std::vector<double>& sorted, double fraction) {
    if (sorted.empty()) return 0;
    const double rank = std::ceil(fraction * static_cast<double>(sorted.size()));
    const std::size_t index = static_cast<std::size_t>(std::max(rank, 1.0)) - 1;
    return sorted[std::min(index, sorted.size() - 1)];
}

double rate(double count, double seconds) { return seconds > 0 ? count / seconds : 0; }

// CPU time (user + system) this process used so far, in seconds.
double client_cpu_s() {
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    auto seconds = [](const timeval& value) {
        return static_cast<double>(value.tv_sec) + static_cast<double>(value.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

bool is_jetstream(const Options& options) { return options.mode.rfind("js", 0) == 0; }
bool receives(const Options& options) {
    return options.mode == "pubsub" || options.mode == "fanout" || options.mode == "queue" ||
           options.mode == "jspull";
}
bool publishes(const Options& options) { return options.mode != "jspull"; }

void report(const Options& options, const Results& results) {
    const double size = static_cast<double>(options.size);
    const double published = static_cast<double>(results.published);
    const double received = static_cast<double>(results.received);
    const double pub_rate = rate(published, results.publish_elapsed_s);
    const double recv_rate = rate(received, results.receive_elapsed_s);
    const bool latencies = options.mode == "reqrep" || options.mode == "jspub-sync";
    auto latency_json = [&] {
        std::printf(",\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
                    percentile(results.latencies_us, 0.50), percentile(results.latencies_us, 0.90),
                    percentile(results.latencies_us, 0.99),
                    results.latencies_us.empty() ? 0.0 : results.latencies_us.back());
    };
    if (options.json) {
        std::printf(
            "{\"mode\":\"%s\",\"url\":\"%s\",\"subject\":\"%s\",\"pubs\":%zu,\"subs\":%zu,"
            "\"msgs\":%zu,\"size\":%zu,\"ok\":true,\"client_cpu_s\":%.3f",
            options.mode.c_str(), options.url.c_str(), options.subject.c_str(), options.pubs,
            receives(options) && !is_jetstream(options) ? options.subs : std::size_t{0},
            options.msgs, options.size, client_cpu_s());
        if (is_jetstream(options)) {
            std::printf(",\"stream\":\"%s\",\"storage\":\"%s\",\"stream_messages\":%llu",
                        results.stream.c_str(), options.storage.c_str(),
                        static_cast<unsigned long long>(results.stream_messages));
            if (options.mode == "jspub-async") std::printf(",\"outstanding\":%zu", options.outstanding);
            if (options.mode == "jspull") {
                std::printf(",\"batch\":%zu,\"fill_elapsed_s\":%.6f", options.batch,
                            results.publish_elapsed_s);
            }
        }
        if (options.mode == "reqrep") {
            std::printf(",\"requests\":%llu,\"elapsed_s\":%.6f,\"requests_per_s\":%.1f",
                        static_cast<unsigned long long>(results.received),
                        results.receive_elapsed_s, recv_rate);
            latency_json();
            std::printf("}\n");
            return;
        }
        if (publishes(options)) {
            std::printf(
                ",\"published\":%llu,\"publish_elapsed_s\":%.6f,\"pub_msgs_per_s\":%.1f,"
                "\"pub_mb_per_s\":%.3f",
                static_cast<unsigned long long>(results.published), results.publish_elapsed_s,
                pub_rate, pub_rate * size / megabyte);
        }
        if (receives(options)) {
            std::printf(
                ",\"received\":%llu,\"receive_elapsed_s\":%.6f,\"recv_msgs_per_s\":%.1f,"
                "\"recv_mb_per_s\":%.3f",
                static_cast<unsigned long long>(results.received), results.receive_elapsed_s,
                recv_rate, recv_rate * size / megabyte);
        }
        if (latencies) latency_json();
        std::printf("}\n");
        return;
    }
    if (options.mode == "reqrep") {
        std::printf(
            "reqrep: %llu requests x %zu B in %.3f s (%.0f req/s): latency us p50 %.1f p90 %.1f "
            "p99 %.1f max %.1f\n",
            static_cast<unsigned long long>(results.received), options.size,
            results.receive_elapsed_s, recv_rate, percentile(results.latencies_us, 0.50),
            percentile(results.latencies_us, 0.90), percentile(results.latencies_us, 0.99),
            results.latencies_us.empty() ? 0.0 : results.latencies_us.back());
        return;
    }
    std::printf("%s:", options.mode.c_str());
    if (publishes(options)) {
        std::printf(" %zu pubs, %llu msgs x %zu B in %.3f s: %.0f msgs/s, %.2f MB/s",
                    is_jetstream(options) ? std::size_t{1} : options.pubs,
                    static_cast<unsigned long long>(results.published), options.size,
                    results.publish_elapsed_s, pub_rate, pub_rate * size / megabyte);
    }
    if (receives(options)) {
        std::printf("%s %zu %s received %llu in %.3f s: %.0f msgs/s, %.2f MB/s",
                    publishes(options) ? ";" : "", is_jetstream(options) ? std::size_t{1} : options.subs,
                    is_jetstream(options) ? "pull consumer" : "subs",
                    static_cast<unsigned long long>(results.received), results.receive_elapsed_s,
                    recv_rate, recv_rate * size / megabyte);
    }
    if (options.mode == "jspull") std::printf(" (filled in %.3f s)", results.publish_elapsed_s);
    if (options.mode == "jspub-sync") {
        std::printf("; PubAck latency us p50 %.1f p99 %.1f", percentile(results.latencies_us, 0.50),
                    percentile(results.latencies_us, 0.99));
    }
    std::printf("; client CPU %.2f s\n", client_cpu_s());
}

void report_failure(const Options& options, const std::string& error, const Results& results) {
    if (options.json) {
        std::string escaped;
        for (char c : error) {
            if (c == '"' || c == '\\') escaped.push_back('\\');
            escaped.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
        }
        std::printf("{\"mode\":\"%s\",\"ok\":false,\"error\":\"%s\",\"received\":%llu}\n",
                    options.mode.c_str(), escaped.c_str(),
                    static_cast<unsigned long long>(results.received));
    }
    std::fprintf(stderr, "herald-load: %s failed: %s (received %llu)\n", options.mode.c_str(),
                 error.c_str(), static_cast<unsigned long long>(results.received));
}

int run(int argc, char** argv) {
    Options options;
    if (!parse_options(argc, argv, options)) {
        print_usage();
        return 1;
    }
    ServerAddress address;
    std::string url_error;
    if (!parse_url(options.url, address, url_error)) {
        std::fprintf(stderr, "herald-load: %s\n", url_error.c_str());
        return 1;
    }
    RunControl control;
    control.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options.timeout_s));
    FailureLog failures(control);
    Results results;
    bool ok = false;
    if (options.mode == "reqrep") {
        ok = run_reqrep(options, address, control, failures, results);
    } else if (is_jetstream(options)) {
        ok = run_jetstream(options, address, control, failures, results);
    } else {
        ok = run_throughput(options, address, control, failures, results);
    }
    if (!ok) {
        std::string error = failures.first();
        if (error.empty()) error = "incomplete run";
        report_failure(options, error, results);
        return 2;
    }
    report(options, results);
    return 0;
}

}  // namespace
}  // namespace herald::load

int main(int argc, char** argv) { return herald::load::run(argc, argv); }
