// `herald bench SUBJECT --js`: JetStream throughput, modelled on `nats bench --js`. A stream on
// SUBJECT is created (or reused when empty, or purged with --purge); --pub publishers each on
// their own thread and connection publish --msgs messages in total, either synchronously (one
// PubAck awaited per message, --syncpub) or asynchronously with up to --pubbatch PubAcks
// outstanding; --sub pullers share one durable pull consumer (ack explicit), fetching batches of
// --pullbatch and acknowledging every message. Every PubAck and every fetch is checked; after
// the run the consumer's ack floor must be the stream's last sequence.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/js_client.h"
#include "cli/js_format.h"

namespace herald::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr double megabyte = 1e6;
constexpr std::string_view bench_consumer = "herald-bench";
constexpr Duration fetch_expires = Duration::milliseconds(500);  // a puller rechecks the total
constexpr auto poll_interval = std::chrono::milliseconds(100);

double thread_cpu_s() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

double seconds_between(SteadyClock::time_point from, SteadyClock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

double rate(double count, double seconds) {
    return seconds > 0 ? count / seconds : 0;
}

struct JsBenchOptions {
    GlobalOptions global;
    std::string subject;
    std::string stream = "benchstream";
    client::StorageType storage = client::StorageType::file;
    int replicas = 1;
    std::uint64_t pubs = 1;
    std::uint64_t subs = 0;
    std::uint64_t msgs = 100000;
    std::uint64_t size = 128;
    std::uint64_t window = 100;      // --pubbatch: async PubAcks outstanding per publisher
    std::uint64_t pull_batch = 100;  // --pullbatch
    bool sync = false;
    bool purge = false;
    bool json = false;
};

// What the main thread and the workers share.
struct JsBoard {
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t ready = 0;
    std::size_t finished = 0;
    bool started = false;
    std::string first_error;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> received{0};  // by all pullers together
    SteadyClock::time_point start;

    void fail(std::string error) {
        std::lock_guard lock(mutex);
        if (first_error.empty()) first_error = std::move(error);
        stop = true;
        changed.notify_all();
    }
    void mark(std::size_t JsBoard::*counter) {
        std::lock_guard lock(mutex);
        ++(this->*counter);
        changed.notify_all();
    }
};

// One publisher or puller: its own thread, connection and loop (JsClient), work in sequence.
class JsWorker {
public:
    JsWorker(const JsBenchOptions& options,
             JsBoard& board,
             bool publisher,
             std::size_t index,
             std::uint64_t quota)
        : options_(options), board_(board), publisher_(publisher), index_(index), quota_(quota) {}

    void launch() {
        thread_ = std::thread([this] { thread_main(); });
    }
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    bool publisher() const { return publisher_; }
    std::uint64_t quota() const { return quota_; }
    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    // Valid after join().
    SteadyClock::time_point end() const { return end_; }
    double cpu_s() const { return cpu_s_; }

private:
    std::string name() const {
        return fmt::format("{} {}", publisher_ ? "publisher" : "puller", index_ + 1);
    }

    void fail(const std::string& what) { board_.fail(fmt::format("{}: {}", name(), what)); }

    void thread_main() {
        GlobalOptions global = options_.global;
        global.name = fmt::format("{} {}", global.name, name());
        JsClient client(global, static_cast<std::size_t>(options_.window));
        if (!client.connect()) {
            fail("could not connect");
            board_.mark(&JsBoard::finished);
            return;
        }
        client::PullSubscription subscription;
        if (!publisher_) {
            auto bound = client.await<client::PullSubscription>(
                [&](client::JsCallback<client::PullSubscription> done) {
                    client.js().pull_subscribe(options_.stream, bench_consumer, std::move(done));
                });
            if (!bound) {
                fail(fmt::format("could not bind the consumer: {}", describe(bound.error())));
                board_.mark(&JsBoard::finished);
                return;
            }
            subscription = *bound;
        }
        board_.mark(&JsBoard::ready);
        {
            std::unique_lock lock(board_.mutex);
            board_.changed.wait(lock, [&] { return board_.started || board_.stop; });
        }
        if (!board_.stop) {
            const double cpu_start = thread_cpu_s();
            if (!publisher_) {
                pull(client, subscription);
            } else if (options_.sync) {
                publish_sync(client);
            } else {
                publish_async(client);
            }
            cpu_s_ = thread_cpu_s() - cpu_start;
        }
        client.close();
        board_.mark(&JsBoard::finished);
    }

    std::string payload() const {
        return std::string(static_cast<std::size_t>(options_.size), 'x');
    }

    void publish_sync(JsClient& client) {
        const std::string body = payload();
        for (std::uint64_t sent = 0; sent < quota_ && !board_.stop; ++sent) {
            auto ack = client.await<client::PubAck>([&](client::JsCallback<client::PubAck> done) {
                client.js().publish(options_.subject, body, {}, std::move(done));
            });
            if (!ack) return fail(fmt::format("publish failed: {}", describe(ack.error())));
            if (ack->duplicate || ack->stream != options_.stream) {
                return fail(fmt::format(
                    "unexpected PubAck (stream {}, seq {})", ack->stream, ack->sequence));
            }
            count_.store(sent + 1, std::memory_order_relaxed);
        }
        end_ = SteadyClock::now();
    }

    void publish_async(JsClient& client) {
        const std::string body = payload();
        client::JetStream& js = client.js();
        // Acks may come after a wait gave up: they write into shared slots, not the stack.
        auto failure = std::make_shared<std::string>();
        auto acked = std::make_shared<std::uint64_t>(0);
        auto on_ack = [failure, acked, this](client::JsResult<client::PubAck> ack) {
            if (!ack) {
                if (failure->empty())
                    *failure = fmt::format("publish failed: {}", describe(ack.error()));
                return;
            }
            if (ack->duplicate || ack->stream != options_.stream) {
                if (failure->empty())
                    *failure = fmt::format("unexpected PubAck (seq {})", ack->sequence);
                return;
            }
            ++*acked;
            count_.store(*acked, std::memory_order_relaxed);
        };
        const Duration ack_wait = options_.global.timeout;
        for (std::uint64_t sent = 0; sent < quota_ && !board_.stop && failure->empty();) {
            const client::JsStatus status =
                js.publish_async(options_.subject, {}, body, {}, on_ack);
            if (status) {
                ++sent;
                continue;
            }
            if (status.error().code != client::JsErrc::too_many_pending) {
                return fail(fmt::format("publish failed: {}", describe(status.error())));
            }
            // The window is full: wait for the oldest acks.
            client.run_until(
                [&] {
                    return js.publish_async_pending() < options_.window || !failure->empty()
                           || board_.stop;
                },
                ack_wait);
            if (js.publish_async_pending() >= options_.window && failure->empty() && !board_.stop) {
                return fail(fmt::format("no PubAck within {}", go_duration(ack_wait)));
            }
        }
        client.run_until([&] { return js.publish_async_pending() == 0 || !failure->empty(); },
                         ack_wait);
        if (!failure->empty()) return fail(*failure);
        if (js.publish_async_pending() != 0 && !board_.stop) {
            return fail(fmt::format(
                "{} PubAcks missing after {}", js.publish_async_pending(), go_duration(ack_wait)));
        }
        end_ = SteadyClock::now();
    }

    void pull(JsClient& client, client::PullSubscription& subscription) {
        std::uint64_t received = 0;
        while (!board_.stop && board_.received.load() < options_.msgs) {
            client::FetchOptions fetch;
            fetch.batch = static_cast<std::size_t>(options_.pull_batch);
            fetch.expires = fetch_expires;
            auto batch = client.await<std::vector<client::JsMsg>>(
                [&](client::JsCallback<std::vector<client::JsMsg>> done) {
                    subscription.fetch(fetch, std::move(done));
                });
            if (!batch && batch.error().code == client::Errc::timeout) continue;
            if (!batch) return fail(fmt::format("fetch failed: {}", describe(batch.error())));
            for (client::JsMsg& message : *batch) {
                if (message.data().size() != options_.size)
                    return fail("a message of the wrong size");
                if (const client::JsStatus acked = message.ack(); !acked) {
                    return fail(fmt::format("ack failed: {}", describe(acked.error())));
                }
                ++received;
            }
            if (!batch->empty()) {
                end_ = SteadyClock::now();
                board_.received.fetch_add(batch->size());
                count_.store(received, std::memory_order_relaxed);
            }
        }
        // The acks are written before the connection drains in close().
    }

    const JsBenchOptions& options_;
    JsBoard& board_;
    const bool publisher_;
    const std::size_t index_;
    const std::uint64_t quota_;
    std::thread thread_;
    std::atomic<std::uint64_t> count_{0};
    SteadyClock::time_point end_;
    double cpu_s_ = 0;
};

// Creates the stream (or reuses an empty one; --purge empties it) and the pull consumer.
std::string prepare(const JsBenchOptions& options) {
    JsClient client(options.global);
    if (!client.connect()) return "could not connect";
    client::StreamConfig config;
    config.name = options.stream;
    config.subjects = {options.subject};
    config.storage = options.storage;
    config.num_replicas = options.replicas;
    auto info = client.await<client::StreamInfo>([&](client::JsCallback<client::StreamInfo> done) {
        client.js().add_stream(config, std::move(done));
    });
    if (!info && info.error().code == client::JsErrc::stream_name_in_use) {
        info = client.await<client::StreamInfo>([&](client::JsCallback<client::StreamInfo> done) {
            client.js().stream_info(options.stream, std::move(done));
        });
    }
    if (!info)
        return fmt::format(
            "could not create stream {}: {}", options.stream, describe(info.error()));
    if (info->state.messages > 0) {
        if (!options.purge) {
            return fmt::format("stream {} holds {} messages: use --purge or another --stream",
                               options.stream,
                               info->state.messages);
        }
        auto purged = client.await<std::uint64_t>([&](client::JsCallback<std::uint64_t> done) {
            client.js().purge_stream(options.stream, {}, std::move(done));
        });
        if (!purged)
            return fmt::format(
                "could not purge stream {}: {}", options.stream, describe(purged.error()));
    }
    // A fresh consumer each run, so the previous run's state does not count.
    auto removed = client.await<client::Done>([&](client::JsCallback<client::Done> done) {
        client.js().delete_consumer(options.stream, bench_consumer, std::move(done));
    });
    if (!removed && removed.error().code != client::JsErrc::consumer_not_found) {
        return fmt::format("could not delete the old consumer: {}", describe(removed.error()));
    }
    if (options.subs > 0) {
        client::ConsumerConfig consumer;
        consumer.durable_name = bench_consumer;
        consumer.deliver_policy = client::DeliverPolicy::new_messages;
        consumer.ack_policy = client::AckPolicy::explicit_ack;
        consumer.max_ack_pending = -1;
        auto created =
            client.await<client::ConsumerInfo>([&](client::JsCallback<client::ConsumerInfo> done) {
                client.js().add_consumer(options.stream, consumer, std::move(done));
            });
        if (!created)
            return fmt::format("could not create the consumer: {}", describe(created.error()));
    }
    return {};
}

// After the run: the stream holds --msgs messages and the consumer's ack floor is its last one.
std::string verify(const JsBenchOptions& options, std::uint64_t& stored) {
    JsClient client(options.global);
    if (!client.connect()) return "could not connect to verify";
    auto info = client.await<client::StreamInfo>([&](client::JsCallback<client::StreamInfo> done) {
        client.js().stream_info(options.stream, std::move(done));
    });
    if (!info)
        return fmt::format("could not read stream {}: {}", options.stream, describe(info.error()));
    stored = info->state.messages;
    if (stored != options.msgs) {
        return fmt::format(
            "stream {} holds {} messages, {} were published", options.stream, stored, options.msgs);
    }
    if (options.subs == 0) return {};
    // Acks are asynchronous: the last ones may still be on their way when the pullers end.
    std::string problem;
    const auto deadline = SteadyClock::now() + std::chrono::nanoseconds(options.global.timeout.ns);
    do {
        auto consumer =
            client.await<client::ConsumerInfo>([&](client::JsCallback<client::ConsumerInfo> done) {
                client.js().consumer_info(options.stream, bench_consumer, std::move(done));
            });
        if (!consumer)
            return fmt::format("could not read the consumer: {}", describe(consumer.error()));
        if (consumer->ack_floor.stream_seq == info->state.last_seq
            && consumer->num_ack_pending == 0) {
            problem.clear();
            break;
        }
        problem = fmt::format("consumer ack floor {} (ack pending {}), stream last sequence {}",
                              consumer->ack_floor.stream_seq,
                              consumer->num_ack_pending,
                              info->state.last_seq);
        client.run_until([] { return false; }, Duration::milliseconds(50));
    } while (SteadyClock::now() < deadline);
    // The next run deletes it too, so a failure here only leaves it behind for inspection.
    const auto removed = client.await<client::Done>([&](client::JsCallback<client::Done> done) {
        client.js().delete_consumer(options.stream, bench_consumer, std::move(done));
    });
    if (!removed && problem.empty())
        print_error(fmt::format(
            "could not delete consumer {}: {}", bench_consumer, describe(removed.error())));
    return problem;
}

struct Figures {
    std::uint64_t total = 0;
    double elapsed_s = 0;
    nlohmann::json clients = nlohmann::json::array();
    std::vector<std::string> lines;
};

Figures figures_of(const JsBenchOptions& options,
                   const std::vector<std::unique_ptr<JsWorker>>& workers,
                   bool publishers,
                   SteadyClock::time_point start) {
    Figures out;
    SteadyClock::time_point end = start;
    const double size = static_cast<double>(options.size);
    for (const auto& worker : workers) {
        if (worker->publisher() != publishers) continue;
        const double elapsed = seconds_between(start, std::max(start, worker->end()));
        const double msgs_per_s = rate(static_cast<double>(worker->count()), elapsed);
        out.total += worker->count();
        end = std::max(end, worker->end());
        out.clients.push_back({{"msgs", worker->count()},
                               {"elapsed_s", elapsed},
                               {"msgs_per_s", msgs_per_s},
                               {"mb_per_s", msgs_per_s * size / megabyte},
                               {"cpu_s", worker->cpu_s()}});
        out.lines.push_back(
            fmt::format("  [{}] {} msgs/s ~ {:.2f} MB/s ({} msgs; client CPU {:.0f}%)",
                        out.lines.size() + 1,
                        comma(static_cast<std::int64_t>(msgs_per_s)),
                        msgs_per_s * size / megabyte,
                        comma(static_cast<std::int64_t>(worker->count())),
                        elapsed > 0 ? 100 * worker->cpu_s() / elapsed : 0.0));
    }
    out.elapsed_s = seconds_between(start, end);
    return out;
}

int report(const JsBenchOptions& options,
           const std::string& error,
           const Figures& pub,
           const Figures& sub,
           std::uint64_t stored) {
    const double size = static_cast<double>(options.size);
    const double pub_rate = rate(static_cast<double>(pub.total), pub.elapsed_s);
    const double sub_rate = rate(static_cast<double>(sub.total), sub.elapsed_s);
    if (options.json) {
        nlohmann::json out = {
            {"tool", "herald bench"},
            {"mode", "js"},
            {"url", servers_text(options.global)},
            {"subject", options.subject},
            {"stream", options.stream},
            {"storage", options.storage == client::StorageType::file ? "file" : "memory"},
            {"publish", options.sync ? "sync" : "async"},
            {"pubbatch", options.sync ? 1 : options.window},
            {"pullbatch", options.pull_batch},
            {"pubs", options.pubs},
            {"subs", options.subs},
            {"msgs", options.msgs},
            {"size", options.size},
            {"ok", error.empty()},
            {"published", pub.total},
            {"stored", stored}};
        if (!error.empty()) out["error"] = error;
        out["publish_elapsed_s"] = pub.elapsed_s;
        out["pub_msgs_per_s"] = pub_rate;
        out["pub_mb_per_s"] = pub_rate * size / megabyte;
        out["pub_clients"] = pub.clients;
        if (options.subs > 0) {
            out["received"] = sub.total;
            out["receive_elapsed_s"] = sub.elapsed_s;
            out["recv_msgs_per_s"] = sub_rate;
            out["recv_mb_per_s"] = sub_rate * size / megabyte;
            out["sub_clients"] = sub.clients;
        }
        std::printf("%s\n", out.dump().c_str());
        std::fflush(stdout);
    }
    if (!error.empty()) {
        print_error(fmt::format("bench failed: {}", error));
        return exit_failure;
    }
    if (options.json) return exit_ok;
    std::printf("Pub stats: %s msgs/s ~ %.2f MB/s (%s msgs acknowledged in %.3f s)\n",
                comma(static_cast<std::int64_t>(pub_rate)).c_str(),
                pub_rate * size / megabyte,
                comma(static_cast<std::int64_t>(pub.total)).c_str(),
                pub.elapsed_s);
    for (const std::string& line : pub.lines)
        std::printf("%s\n", line.c_str());
    if (options.subs > 0) {
        std::printf(
            "Sub stats: %s msgs/s ~ %.2f MB/s (%s msgs pulled and acknowledged in %.3f s)\n",
            comma(static_cast<std::int64_t>(sub_rate)).c_str(),
            sub_rate * size / megabyte,
            comma(static_cast<std::int64_t>(sub.total)).c_str(),
            sub.elapsed_s);
        for (const std::string& line : sub.lines)
            std::printf("%s\n", line.c_str());
    }
    return exit_ok;
}

// Waits for every worker to be ready, starts them together, and waits for the end; a run that
// makes no progress for --timeout fails.
std::string run_workers(const JsBenchOptions& options,
                        JsBoard& board,
                        std::vector<std::unique_ptr<JsWorker>>& workers) {
    for (auto& worker : workers)
        worker->launch();
    std::unique_lock lock(board.mutex);
    const auto ready_deadline =
        SteadyClock::now() + std::chrono::nanoseconds(options.global.timeout.ns * 2);
    board.changed.wait_until(lock, ready_deadline, [&] {
        return board.ready == workers.size() || !board.first_error.empty();
    });
    if (board.first_error.empty() && board.ready < workers.size())
        board.first_error = "timeout while connecting";
    if (!board.first_error.empty()) {
        board.stop = true;
        board.changed.notify_all();
        return board.first_error;
    }
    board.start = SteadyClock::now();
    board.started = true;
    board.changed.notify_all();
    auto total = [&] {
        std::uint64_t sum = 0;
        for (const auto& worker : workers)
            sum += worker->count();
        return sum;
    };
    std::uint64_t last_total = 0;
    auto last_progress = SteadyClock::now();
    const auto stall_limit = std::chrono::nanoseconds(options.global.timeout.ns);
    while (board.finished < workers.size()) {
        board.changed.wait_for(lock, poll_interval);
        const std::uint64_t now_total = total();
        const auto now = SteadyClock::now();
        if (now_total != last_total) {
            last_total = now_total;
            last_progress = now;
        }
        if (now - last_progress > stall_limit && board.first_error.empty()) {
            board.first_error =
                fmt::format("no progress for {}", go_duration(options.global.timeout));
            board.stop = true;
        }
    }
    return board.first_error;
}

}  // namespace

int run_js_bench(const GlobalOptions& global, const ParsedArgs& args) {
    std::string error;
    JsBenchOptions options;
    options.global = global;
    options.subject = args.positionals()[0];
    const auto pubs = count_flag(args, "pub", 1, error);
    const auto subs = count_flag(args, "sub", 0, error);
    const auto msgs = count_flag(args, "msgs", options.msgs, error);
    const auto window = count_flag(args, "pubbatch", options.window, error);
    const auto pull_batch = count_flag(args, "pullbatch", options.pull_batch, error);
    const auto replicas = count_flag(args, "replicas", 1, error);
    std::optional<std::uint64_t> size = options.size;
    if (const auto text = args.value("size")) {
        size = parse_size(*text);
        if (!size)
            error = fmt::format("bad value for --size: '{}' (bytes, e.g. 16, 128, 1KB)", *text);
    }
    if (!pubs || !subs || !msgs || !window || !pull_batch || !replicas || !size)
        return usage_error("bench", error);
    if (args.has("request")) return usage_error("bench", "--request and --js exclude each other");
    if (*pubs == 0) return usage_error("bench", "bad value for --pub: must be at least 1");
    if (*msgs < *pubs) return usage_error("bench", "--msgs must be at least --pub");
    if (*window == 0 || *pull_batch == 0)
        return usage_error("bench", "--pubbatch and --pullbatch must be at least 1");
    if (*replicas < 1 || *replicas > 5)
        return usage_error("bench", "bad value for --replicas: 1 to 5");
    constexpr std::uint64_t connections_max = 256;
    if (*pubs + *subs > connections_max) {
        return usage_error("bench",
                           fmt::format("at most {} connections with --js", connections_max));
    }
    if (const auto text = args.value("storage")) {
        const auto storage = parse_storage(*text);
        if (!storage)
            return usage_error(
                "bench", fmt::format("bad value for --storage: '{}' (file or memory)", *text));
        options.storage =
            *storage == StorageWord::file ? client::StorageType::file : client::StorageType::memory;
    }
    if (const auto text = args.value("stream")) {
        if (!client::valid_stream_name(*text))
            return usage_error("bench", fmt::format("invalid stream name '{}'", *text));
        options.stream = *text;
    }
    options.pubs = *pubs;
    options.subs = *subs;
    options.msgs = *msgs;
    options.size = *size;
    options.window = *window;
    options.pull_batch = *pull_batch;
    options.replicas = static_cast<int>(*replicas);
    options.sync = args.has("syncpub");
    options.purge = args.has("purge");
    options.json = args.has("json");

    if (!options.json) {
        std::printf(
            "herald bench: JetStream, %llu pubs (%s), %llu pullers (batch %llu), %s msgs x %llu B "
            "on \"%s\", "
            "stream %s (%s) at %s\n",
            static_cast<unsigned long long>(options.pubs),
            options.sync ? "sync"
                         : fmt::format("async, {} acks outstanding", options.window).c_str(),
            static_cast<unsigned long long>(options.subs),
            static_cast<unsigned long long>(options.pull_batch),
            comma(static_cast<std::int64_t>(options.msgs)).c_str(),
            static_cast<unsigned long long>(options.size),
            options.subject.c_str(),
            options.stream.c_str(),
            options.storage == client::StorageType::file ? "file" : "memory",
            servers_text(global).c_str());
        std::fflush(stdout);
    }
    if (const std::string failure = prepare(options); !failure.empty()) {
        return report(options, failure, {}, {}, 0);
    }
    JsBoard board;
    std::vector<std::unique_ptr<JsWorker>> workers;
    for (std::uint64_t i = 0; i < options.subs; ++i)
        workers.push_back(std::make_unique<JsWorker>(options, board, false, i, 0));
    for (std::uint64_t i = 0; i < options.pubs; ++i) {
        const std::uint64_t quota =
            options.msgs / options.pubs + (i < options.msgs % options.pubs ? 1 : 0);
        workers.push_back(std::make_unique<JsWorker>(options, board, true, i, quota));
    }
    error = run_workers(options, board, workers);
    for (auto& worker : workers)
        worker->join();
    const Figures pub = figures_of(options, workers, true, board.start);
    const Figures sub = figures_of(options, workers, false, board.start);
    std::uint64_t stored = 0;
    if (error.empty()) error = verify(options, stored);
    if (error.empty() && options.subs > 0 && sub.total != options.msgs) {
        error = fmt::format("pulled {} messages, {} were published", sub.total, options.msgs);
    }
    return report(options, error, pub, sub, stored);
}

}  // namespace herald::cli
