// `herald bench`: throughput (publishers and subscribers) or request/reply latency against a real
// server. Every connection runs on its own thread with its own AsioEnv, so the run measures the
// server and not one core of the tool. The figures are defined as herald-load's
// (bench/load/README.md) so the two tools can be compared.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
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

namespace herald::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;

// CPU time of the calling thread, to tell a client-bound run from a server-bound one.
double thread_cpu_s() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

constexpr double megabyte = 1e6;
constexpr std::size_t publish_turn_bytes = 256 * 1024;  // encoded per loop turn, then yield
// Flow control: a publisher sends a flush (PING) after each window and keeps at most
// windows_in_flight_max windows unconfirmed, so it waits for the server instead of spinning.
constexpr std::size_t window_bytes = 4 * 1024 * 1024;
constexpr std::size_t windows_in_flight_max = 4;
constexpr std::size_t frame_overhead = 32;  // "PUB subject size\r\n...\r\n", about
constexpr auto progress_interval = std::chrono::milliseconds(100);
constexpr std::string_view responder_queue = "herald-bench";
constexpr Duration bench_flush_timeout = Duration::seconds(60);

struct BenchOptions {
    GlobalOptions global;
    std::string subject;
    std::uint64_t pubs = 1;
    std::uint64_t subs = 0;
    std::uint64_t msgs = 100000;
    std::uint64_t size = 128;
    std::uint64_t warmup = 100;
    bool request = false;
    bool json = false;
    bool progress = false;
};

enum class Role { publisher, subscriber, requester, responder };

// What the main thread and the workers share. Counters are written by one worker each.
struct Board {
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t ready = 0;
    std::size_t finished = 0;
    std::string first_error;
    SteadyClock::time_point start;

    void fail(std::string error) {
        std::lock_guard lock(mutex);
        if (first_error.empty()) first_error = std::move(error);
        changed.notify_all();
    }
    void mark_ready() {
        std::lock_guard lock(mutex);
        ++ready;
        changed.notify_all();
    }
    void mark_finished() {
        std::lock_guard lock(mutex);
        ++finished;
        changed.notify_all();
    }
};

// One connection on its own thread and AsioEnv. The main thread talks to it only through
// post() and stop(), which reach the loop via AsioEnv::post_external.
class Worker {
public:
    Worker(const BenchOptions& options,
           Board& board,
           Role role,
           std::size_t index,
           std::uint64_t quota)
        : options_(options),
          board_(board),
          role_(role),
          index_(index),
          quota_(quota),
          payload_(static_cast<std::size_t>(options.size), 'x') {}

    void launch() {
        thread_ = std::thread([this] { thread_main(); });
    }
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    // Thread-safe: runs `task` on the worker's loop, if it still runs.
    void post(std::function<void()> task) {
        std::lock_guard lock(env_mutex_);
        if (env_ != nullptr) env_->post_external(std::move(task));
    }
    // Thread-safe: ends the worker's loop soon (a posted stop, so a stop before run() holds).
    void stop() {
        std::lock_guard lock(env_mutex_);
        stop_requested_ = true;
        if (env_ != nullptr) env_->post_external([env = env_] { env->stop(); });
    }
    void start_work() {
        post([this] {
            cpu_start_s_ = thread_cpu_s();
            role_ == Role::publisher ? publish_turn() : request_next();
        });
    }

    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    std::uint64_t quota() const { return quota_; }
    // Valid after join(): the time its work completed (last flush, last message, last reply).
    SteadyClock::time_point end() const { return end_; }
    const std::vector<double>& latencies_us() const { return latencies_us_; }
    // Valid after join(): CPU seconds this connection's thread used for its work.
    double cpu_s() const { return cpu_s_; }
    Role role() const { return role_; }

private:
    std::string name() const {
        static constexpr std::string_view names[] = {
            "publisher", "subscriber", "requester", "responder"};
        return fmt::format("{} {}", names[static_cast<int>(role_)], index_ + 1);
    }

    void thread_main() {
        io::AsioEnv asio;
        client::Options client = client_options(options_.global);
        client.name = fmt::format("{} {}", options_.global.name, name());
        client.flush_timeout = bench_flush_timeout;
        client.on_closed = [this] {
            if (done_) return;
            // nats-server and herald close a subscriber that falls max_pending behind without a
            // -ERR, so the client sees only the close.
            fail(
                fmt::format("connection closed: {}{}",
                            connection_->last_error().message(),
                            role_ == Role::subscriber ? " (by the server: a slow consumer?)" : ""));
        };
        client.on_error = [this](std::error_code, std::string_view text) {
            fail(fmt::format("server error: {}", text));
        };
        connection_ = std::make_unique<client::Connection>(asio.env(), std::move(client));
        env_loop_ = &asio.env();
        connection_->connect([this](Status status) {
            if (!status) {
                board_.fail(describe_connect_error(status.error(), *connection_, options_.global));
                board_.mark_finished();
                done_ = true;
                env_stop();
                return;
            }
            set_up();
        });
        {
            std::lock_guard lock(env_mutex_);
            env_ = &asio;
            if (stop_requested_) asio.post_external([&asio] { asio.stop(); });
        }
        asio.run();
        {
            std::lock_guard lock(env_mutex_);
            env_ = nullptr;
        }
        connection_.reset();
    }

    void env_stop() {
        std::lock_guard lock(env_mutex_);
        if (env_ != nullptr) env_->stop();
    }

    void fail(std::string what) {
        if (done_) return;
        done_ = true;
        board_.fail(fmt::format("{}: {}", name(), what));
        board_.mark_finished();
        env_stop();
    }

    void finish_work() {
        end_ = SteadyClock::now();
        cpu_s_ = thread_cpu_s() - cpu_start_s_;
        count_.store(progress_, std::memory_order_relaxed);
        done_ = true;
        board_.mark_finished();
        if (role_ != Role::responder) connection_->close();
        env_stop();
    }

    void set_up() {
        client::Connection& connection = *connection_;
        if (role_ == Role::subscriber || role_ == Role::responder) {
            auto handler = [this](const client::Message& message) {
                on_message(message);
            };
            auto subscription =
                role_ == Role::subscriber
                    ? connection.subscribe(options_.subject, handler)
                    : connection.queue_subscribe(options_.subject, responder_queue, handler);
            if (!subscription) {
                fail(fmt::format("subscribe failed: {}", subscription.error().message()));
                return;
            }
        }
        connection.flush(options_.global.timeout, [this](Status status) {
            if (!status) {
                fail(fmt::format("flush failed: {}", status.error().message()));
                return;
            }
            cpu_start_s_ =
                thread_cpu_s();  // Subscribers count from here; publishers from the start.
            board_.mark_ready();
        });
    }

    void on_message(const client::Message& message) {
        if (done_) return;
        if (role_ == Role::responder) {
            if (const Status status = connection_->publish(message.reply, payload_); !status) {
                fail(fmt::format("reply failed: {}", status.error().message()));
            }
            return;
        }
        ++progress_;
        if ((progress_ & 1023) == 0) count_.store(progress_, std::memory_order_relaxed);
        if (progress_ == quota_) finish_work();
    }

    void publish_turn() {
        if (done_) return;
        const std::size_t frame_size = payload_.size() + frame_overhead;
        const std::uint64_t turn_max = std::max<std::size_t>(1, publish_turn_bytes / frame_size);
        const std::uint64_t window_max = std::max<std::size_t>(1, window_bytes / frame_size);
        for (std::uint64_t sent = 0; sent < turn_max && progress_ < quota_; ++sent) {
            const Status status = connection_->publish(options_.subject, payload_);
            if (!status && status.error() == client::Errc::outbound_full) break;
            if (!status) {
                fail(fmt::format("publish failed: {}", status.error().message()));
                return;
            }
            ++progress_;
            if (++window_sent_ == window_max && progress_ < quota_) {
                window_sent_ = 0;
                ++windows_in_flight_;
                connection_->flush(bench_flush_timeout, [this](Status flushed) {
                    if (!flushed) {
                        fail(fmt::format("flush failed: {}", flushed.error().message()));
                        return;
                    }
                    // A full pipeline resumes when the server confirms the oldest window.
                    if (windows_in_flight_-- == windows_in_flight_max) publish_turn();
                });
                if (windows_in_flight_ == windows_in_flight_max) break;
            }
        }
        count_.store(progress_, std::memory_order_relaxed);
        if (progress_ < quota_) {
            if (windows_in_flight_ < windows_in_flight_max)
                env_loop_->loop.post([this] { publish_turn(); });
            return;
        }
        connection_->flush(bench_flush_timeout, [this](Status status) {
            if (!status) {
                fail(fmt::format("final flush failed: {}", status.error().message()));
                return;
            }
            finish_work();
        });
    }

    // Warm-up requests first (untimed), then quota_ timed ones, one at a time.
    void request_next() {
        if (done_) return;
        const auto sent_at = SteadyClock::now();
        connection_->request(
            options_.subject,
            payload_,
            options_.global.timeout,
            [this, sent_at](Result<client::Message> reply) {
                if (!reply) {
                    fail(fmt::format("request failed: {}", reply.error().message()));
                    return;
                }
                if (warmed_up_ < options_.warmup) {
                    ++warmed_up_;
                } else {
                    const std::chrono::duration<double, std::micro> rtt =
                        SteadyClock::now() - sent_at;
                    latencies_us_.push_back(rtt.count());
                    ++progress_;
                    count_.store(progress_, std::memory_order_relaxed);
                    if (progress_ == quota_) {
                        finish_work();
                        return;
                    }
                }
                request_next();
            });
    }

    const BenchOptions& options_;
    Board& board_;
    const Role role_;
    const std::size_t index_;
    const std::uint64_t quota_;
    const std::string payload_;
    std::thread thread_;
    std::mutex env_mutex_;
    io::AsioEnv* env_ = nullptr;  // guarded by env_mutex_; set while the loop runs
    bool stop_requested_ = false;
    // Touched only on the worker's thread (until join()).
    io::Env* env_loop_ = nullptr;
    std::unique_ptr<client::Connection> connection_;
    std::uint64_t progress_ = 0;
    std::uint64_t warmed_up_ = 0;
    std::uint64_t window_sent_ = 0;
    std::size_t windows_in_flight_ = 0;
    bool done_ = false;
    SteadyClock::time_point end_;
    double cpu_start_s_ = 0;
    double cpu_s_ = 0;
    std::vector<double> latencies_us_;
    std::atomic<std::uint64_t> count_{0};
};

std::string thousands(double value) {
    std::string digits = fmt::format("{:.0f}", value);
    std::string out;
    const std::size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (i - first) % 3 == 0 && i >= first) out += ',';
        out += digits[i];
    }
    return out;
}

// Nearest-rank percentile of a sorted sample, as herald-load computes it.
double percentile(const std::vector<double>& sorted, double fraction) {
    if (sorted.empty()) return 0;
    const double rank = std::ceil(fraction * static_cast<double>(sorted.size()));
    const std::size_t index = static_cast<std::size_t>(std::max(rank, 1.0)) - 1;
    return sorted[std::min(index, sorted.size() - 1)];
}

double seconds_between(SteadyClock::time_point from, SteadyClock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

double rate(double count, double seconds) {
    return seconds > 0 ? count / seconds : 0;
}

std::string mode_of(const BenchOptions& options) {
    if (options.request) return "reqrep";
    return options.subs == 0 ? "pub" : "pubsub";
}

void draw_progress(const BenchOptions& options, std::uint64_t done, std::uint64_t total) {
    constexpr int width = 40;
    const double fraction =
        total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    std::printf("\r%s [%s] %3.0f%% %s/%s",
                options.request ? "requests" : "messages",
                bar.c_str(),
                fraction * 100,
                thousands(static_cast<double>(done)).c_str(),
                thousands(static_cast<double>(total)).c_str());
    std::fflush(stdout);
}

struct ClientFigure {
    std::uint64_t msgs = 0;
    double elapsed_s = 0;
    double cpu_s = 0;
};

nlohmann::json client_figures_json(const std::vector<ClientFigure>& figures, double size) {
    nlohmann::json list = nlohmann::json::array();
    for (const ClientFigure& figure : figures) {
        const double msgs_per_s = rate(static_cast<double>(figure.msgs), figure.elapsed_s);
        list.push_back({{"msgs", figure.msgs},
                        {"elapsed_s", figure.elapsed_s},
                        {"msgs_per_s", msgs_per_s},
                        {"mb_per_s", msgs_per_s * size / megabyte},
                        {"cpu_s", figure.cpu_s},
                        {"msgs_per_cpu_s", rate(static_cast<double>(figure.msgs), figure.cpu_s)}});
    }
    return list;
}

void print_client_lines(const std::vector<ClientFigure>& figures, double size) {
    for (std::size_t i = 0; i < figures.size(); ++i) {
        const double msgs_per_s = rate(static_cast<double>(figures[i].msgs), figures[i].elapsed_s);
        // The client's CPU share tells whether the tool or the server was the bottleneck.
        std::printf("  [%zu] %s msgs/s ~ %.2f MB/s (%s msgs; client CPU %.0f%%)\n",
                    i + 1,
                    thousands(msgs_per_s).c_str(),
                    msgs_per_s * size / megabyte,
                    thousands(static_cast<double>(figures[i].msgs)).c_str(),
                    figures[i].elapsed_s > 0 ? 100 * figures[i].cpu_s / figures[i].elapsed_s : 0.0);
    }
}

void report_throughput(const BenchOptions& options,
                       const std::vector<std::unique_ptr<Worker>>& workers,
                       SteadyClock::time_point start) {
    std::vector<ClientFigure> pub_figures;
    std::vector<ClientFigure> sub_figures;
    SteadyClock::time_point pub_end = start;
    SteadyClock::time_point sub_end = start;
    std::uint64_t published = 0;
    std::uint64_t received = 0;
    for (const auto& worker : workers) {
        const ClientFigure figure{
            worker->count(), seconds_between(start, worker->end()), worker->cpu_s()};
        if (worker->role() == Role::publisher) {
            pub_figures.push_back(figure);
            published += figure.msgs;
            pub_end = std::max(pub_end, worker->end());
        } else {
            sub_figures.push_back(figure);
            received += figure.msgs;
            sub_end = std::max(sub_end, worker->end());
        }
    }
    const double size = static_cast<double>(options.size);
    const double publish_elapsed_s = seconds_between(start, pub_end);
    const double receive_elapsed_s = seconds_between(start, sub_end);
    const double pub_rate = rate(static_cast<double>(published), publish_elapsed_s);
    const double recv_rate = rate(static_cast<double>(received), receive_elapsed_s);
    if (options.json) {
        nlohmann::json out = {{"tool", "herald bench"},
                              {"mode", mode_of(options)},
                              {"url", servers_text(options.global)},
                              {"subject", options.subject},
                              {"pubs", options.pubs},
                              {"subs", options.subs},
                              {"msgs", options.msgs},
                              {"size", options.size},
                              {"ok", true},
                              {"published", published},
                              {"publish_elapsed_s", publish_elapsed_s},
                              {"pub_msgs_per_s", pub_rate},
                              {"pub_mb_per_s", pub_rate * size / megabyte},
                              {"pub_clients", client_figures_json(pub_figures, size)}};
        if (options.subs > 0) {
            out["received"] = received;
            out["receive_elapsed_s"] = receive_elapsed_s;
            out["recv_msgs_per_s"] = recv_rate;
            out["recv_mb_per_s"] = recv_rate * size / megabyte;
            out["sub_clients"] = client_figures_json(sub_figures, size);
        }
        std::printf("%s\n", out.dump().c_str());
        return;
    }
    std::printf("Pub stats: %s msgs/s ~ %.2f MB/s (%s msgs in %.3f s)\n",
                thousands(pub_rate).c_str(),
                pub_rate * size / megabyte,
                thousands(static_cast<double>(published)).c_str(),
                publish_elapsed_s);
    print_client_lines(pub_figures, size);
    if (options.subs > 0) {
        std::printf("Sub stats: %s msgs/s ~ %.2f MB/s (%s msgs received in %.3f s)\n",
                    thousands(recv_rate).c_str(),
                    recv_rate * size / megabyte,
                    thousands(static_cast<double>(received)).c_str(),
                    receive_elapsed_s);
        print_client_lines(sub_figures, size);
    }
}

void report_latency(const BenchOptions& options,
                    const std::vector<std::unique_ptr<Worker>>& workers,
                    SteadyClock::time_point start) {
    std::vector<double> latencies;
    SteadyClock::time_point end = start;
    for (const auto& worker : workers) {
        if (worker->role() != Role::requester) continue;
        latencies.insert(
            latencies.end(), worker->latencies_us().begin(), worker->latencies_us().end());
        end = std::max(end, worker->end());
    }
    std::sort(latencies.begin(), latencies.end());
    const double elapsed_s = seconds_between(start, end);
    const double requests_per_s = rate(static_cast<double>(latencies.size()), elapsed_s);
    const double p50 = percentile(latencies, 0.50);
    const double p90 = percentile(latencies, 0.90);
    const double p99 = percentile(latencies, 0.99);
    const double max = latencies.empty() ? 0 : latencies.back();
    if (options.json) {
        const nlohmann::json out = {
            {"tool", "herald bench"},
            {"mode", "reqrep"},
            {"url", servers_text(options.global)},
            {"subject", options.subject},
            {"pubs", options.pubs},
            {"subs", options.subs},
            {"msgs", options.msgs},
            {"size", options.size},
            {"ok", true},
            {"requests", latencies.size()},
            {"elapsed_s", elapsed_s},
            {"requests_per_s", requests_per_s},
            {"latency_us", {{"p50", p50}, {"p90", p90}, {"p99", p99}, {"max", max}}}};
        std::printf("%s\n", out.dump().c_str());
        return;
    }
    std::printf("Req stats: %s requests in %.3f s ~ %s req/s\n",
                thousands(static_cast<double>(latencies.size())).c_str(),
                elapsed_s,
                thousands(requests_per_s).c_str());
    std::printf("Latency us: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", p50, p90, p99, max);
}

void report_failure(const BenchOptions& options, const std::string& error, std::uint64_t received) {
    if (options.json) {
        const nlohmann::json out = {{"tool", "herald bench"},
                                    {"mode", mode_of(options)},
                                    {"ok", false},
                                    {"error", error},
                                    {"received", received}};
        std::printf("%s\n", out.dump().c_str());
        std::fflush(stdout);
    }
    print_error(fmt::format("bench failed: {}", error));
}

std::vector<std::unique_ptr<Worker>> make_workers(const BenchOptions& options, Board& board) {
    std::vector<std::unique_ptr<Worker>> workers;
    const Role pub_role = options.request ? Role::requester : Role::publisher;
    const Role sub_role = options.request ? Role::responder : Role::subscriber;
    for (std::uint64_t i = 0; i < options.subs; ++i) {
        // A subscriber expects every message; a responder runs until stopped.
        workers.push_back(std::make_unique<Worker>(
            options, board, sub_role, i, options.request ? 0 : options.msgs));
    }
    for (std::uint64_t i = 0; i < options.pubs; ++i) {
        // The total is split evenly; the first publishers take the remainder.
        const std::uint64_t quota =
            options.msgs / options.pubs + (i < options.msgs % options.pubs ? 1 : 0);
        workers.push_back(std::make_unique<Worker>(options, board, pub_role, i, quota));
    }
    return workers;
}

// Runs the workers; returns the first error, empty on success. Subscribers and responders are
// connected and subscribed before any publisher starts.
std::string run_workers(const BenchOptions& options,
                        Board& board,
                        std::vector<std::unique_ptr<Worker>>& workers) {
    auto counters_total = [&] {
        std::uint64_t total = 0;
        for (const auto& worker : workers)
            total += worker->count();
        return total;
    };
    std::uint64_t goal = 0;
    std::size_t finishing_workers = 0;
    for (const auto& worker : workers) {
        if (worker->role() == Role::responder) continue;
        goal += worker->quota();
        ++finishing_workers;
    }
    for (auto& worker : workers)
        worker->launch();
    std::unique_lock lock(board.mutex);
    // Connection set-up is bounded by the connect timeout per connection, plus slack.
    const auto ready_deadline =
        SteadyClock::now() + std::chrono::nanoseconds(options.global.timeout.ns * 2);
    board.changed.wait_until(lock, ready_deadline, [&] {
        return board.ready == workers.size() || !board.first_error.empty();
    });
    if (board.first_error.empty() && board.ready < workers.size())
        board.first_error = "timeout while connecting";
    if (!board.first_error.empty()) return board.first_error;
    board.start = SteadyClock::now();
    lock.unlock();
    for (auto& worker : workers) {
        if (worker->role() == Role::publisher || worker->role() == Role::requester)
            worker->start_work();
    }
    // Wait for the workers, drawing progress; a run that stops progressing for --timeout fails.
    const auto stall_limit = std::chrono::nanoseconds(options.global.timeout.ns);
    std::uint64_t last_total = 0;
    auto last_progress = SteadyClock::now();
    lock.lock();
    while (board.finished < finishing_workers && board.first_error.empty()) {
        board.changed.wait_for(lock, progress_interval);
        lock.unlock();
        const std::uint64_t total = counters_total();
        if (options.progress) draw_progress(options, total, goal);
        const auto now = SteadyClock::now();
        if (total != last_total) {
            last_total = total;
            last_progress = now;
        }
        lock.lock();
        if (now - last_progress > stall_limit && board.first_error.empty()) {
            board.first_error = fmt::format("no progress for {} ({} of {} done)",
                                            format_duration(options.global.timeout),
                                            total,
                                            goal);
        }
    }
    const std::string error = board.first_error;
    lock.unlock();
    if (options.progress) {
        draw_progress(options, counters_total(), goal);
        std::printf("\n");
    }
    return error;
}

}  // namespace

int run_bench(const GlobalOptions& global, const ParsedArgs& args) {
    if (args.has("js")) return run_js_bench(global, args);
    for (const std::string_view flag :
         {"syncpub", "pubbatch", "pull", "pullbatch", "stream", "storage", "replicas", "purge"}) {
        if (args.has(flag)) return usage_error("bench", fmt::format("--{} needs --js", flag));
    }
    std::string error;
    BenchOptions options;
    options.global = global;
    options.subject = args.positionals()[0];
    options.request = args.has("request");
    const auto pubs = count_flag(args, "pub", 1, error);
    const auto subs = count_flag(args, "sub", options.request ? 1 : 0, error);
    const auto msgs = count_flag(args, "msgs", options.msgs, error);
    const auto warmup = count_flag(args, "warmup", options.warmup, error);
    std::optional<std::uint64_t> size = options.size;
    if (const auto text = args.value("size")) {
        size = parse_size(*text);
        if (!size)
            error = fmt::format("bad value for --size: '{}' (bytes, e.g. 16, 128, 1KB)", *text);
    }
    if (!pubs || !subs || !msgs || !warmup || !size) return usage_error("bench", error);
    if (*pubs == 0) return usage_error("bench", "bad value for --pub: must be at least 1");
    if (options.request && *subs == 0)
        return usage_error("bench", "--request needs --sub of at least 1");
    if (*msgs < *pubs) return usage_error("bench", "--msgs must be at least --pub");
    constexpr std::uint64_t connections_max = 1024;
    if (*pubs + *subs > connections_max) {
        return usage_error("bench", fmt::format("at most {} connections", connections_max));
    }
    options.pubs = *pubs;
    options.subs = *subs;
    options.msgs = *msgs;
    options.size = *size;
    options.warmup = *warmup;
    options.json = args.has("json");
    options.progress = !options.json && !args.has("no-progress") && isatty(STDOUT_FILENO) == 1;

    if (!options.json) {
        std::printf("herald bench: %s, %llu %s, %llu %s, %s msgs x %llu B on \"%s\" at %s\n",
                    mode_of(options).c_str(),
                    static_cast<unsigned long long>(options.pubs),
                    options.request ? "requesters" : "pubs",
                    static_cast<unsigned long long>(options.subs),
                    options.request ? "responders" : "subs",
                    thousands(static_cast<double>(options.msgs)).c_str(),
                    static_cast<unsigned long long>(options.size),
                    options.subject.c_str(),
                    servers_text(global).c_str());
        std::fflush(stdout);
    }
    Board board;
    std::vector<std::unique_ptr<Worker>> workers = make_workers(options, board);
    error = run_workers(options, board, workers);
    for (auto& worker : workers)
        worker->stop();
    for (auto& worker : workers)
        worker->join();
    if (!error.empty()) {
        std::uint64_t received = 0;
        for (const auto& worker : workers) {
            if (worker->role() == Role::subscriber) received += worker->count();
        }
        report_failure(options, error, received);
        return exit_failure;
    }
    if (options.request) {
        report_latency(options, workers, board.start);
    } else {
        report_throughput(options, workers, board.start);
    }
    return exit_ok;
}

}  // namespace herald::cli
