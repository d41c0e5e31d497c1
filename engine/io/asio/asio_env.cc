#include "engine/io/asio/asio_env.h"

#include <cerrno>
#include <chrono>
#include <random>

#include "engine/base/assert.h"
#include "engine/base/errc.h"
#include "engine/io/asio/asio_internal.h"

namespace herald::io::asio_env {

using base::Errc;

// Threads that run blocking file calls. Two keep a sync from stalling reads of another file.
constexpr int file_threads_count = 2;

std::error_code errno_to_error(int errno_value) {
    switch (errno_value) {
        case 0: return {};
        case ENOENT:
        case ENOTDIR: return Errc::not_found;
        case EEXIST:
        case ENOTEMPTY: return Errc::already_exists;
        case ENOSPC:
        case EDQUOT: return Errc::no_space;
        case EINVAL:
        case EISDIR:
        case ENAMETOOLONG: return Errc::invalid_argument;
        case ECONNREFUSED: return Errc::connection_refused;
        case ECONNRESET:
        case EPIPE:
        case ECONNABORTED: return Errc::connection_reset;
        case EADDRINUSE:
        case EADDRNOTAVAIL: return Errc::address_in_use;
        case ETIMEDOUT: return Errc::timed_out;
        case EAGAIN: return Errc::would_block;
        case ECANCELED: return Errc::cancelled;
        default: return Errc::io_error;
    }
}

std::error_code asio_to_error(const boost::system::error_code& error) {
    if (!error) return {};
    if (error == net::error::operation_aborted) return Errc::closed;
    if (error == net::error::eof) return Errc::closed;
    if (error == net::error::host_not_found || error == net::error::host_not_found_try_again) {
        return Errc::not_found;
    }
    if (error.category() == boost::system::system_category() ||
        error.category() == boost::system::generic_category()) {
        return errno_to_error(error.value());
    }
    return Errc::io_error;
}

std::optional<HostPort> split_host_port(const std::string& address) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon + 1 == address.size()) return std::nullopt;
    std::string host = address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    std::uint32_t port = 0;
    for (std::size_t i = colon + 1; i < address.size(); ++i) {
        const char c = address[i];
        if (c < '0' || c > '9') return std::nullopt;
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
        if (port > 65535) return std::nullopt;
    }
    if (host.empty()) host = "0.0.0.0";
    return HostPort{host, static_cast<std::uint16_t>(port)};
}

Instant AsioClock::monotonic() const {
    const auto since = std::chrono::steady_clock::now().time_since_epoch();
    return Instant{static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since).count())};
}

std::int64_t AsioClock::realtime_ns() const {
    const auto since = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(since).count();
}

AsioLoop::~AsioLoop() {
    for (auto& [id, timer] : timers_) timer->timer.cancel();
}

void AsioLoop::post(std::function<void()> task) {
    ASSERT(task);
    net::post(io_, std::move(task));
}

TimerId AsioLoop::schedule(Duration after, std::function<void()> task) {
    ASSERT(task);
    const TimerId id = next_id_++;
    auto timer = std::make_unique<Timer>(io_);
    timer->task = std::move(task);
    timer->timer.expires_after(std::chrono::nanoseconds(static_cast<std::int64_t>(after.ns)));
    // The handler looks the id up again: a cancelled timer is gone from the map, and the map
    // (with this loop) outlives every handler that the io_context will still invoke.
    timer->timer.async_wait(
        [this, id](const boost::system::error_code& error) { fire(id, error); });
    timers_.emplace(id, std::move(timer));
    return id;
}

void AsioLoop::fire(TimerId id, const boost::system::error_code& error) {
    auto found = timers_.find(id);
    if (found == timers_.end()) return;  // Cancelled.
    MAYBE(error);  // A cancelled timer was erased above, so an abort here is the loop shutting down.
    if (error) return;
    auto task = std::move(found->second->task);
    timers_.erase(found);
    task();
}

void AsioLoop::cancel(TimerId timer) {
    auto found = timers_.find(timer);
    if (found == timers_.end()) return;
    found->second->timer.cancel();
    timers_.erase(found);
}

// Member order is destruction order in reverse: the pool joins before the io_context goes, and
// every component using the io_context goes before it.
struct Impl {
    Impl()
        : pool(file_threads_count),
          loop(io),
          network(io),
          file_system(io, pool),
          random(std::random_device{}() * 0x9e3779b97f4a7c15ULL ^ std::random_device{}()),
          env{clock, loop, network, file_system, random} {}
    ~Impl() { pool.join(); }

    net::io_context io;
    net::thread_pool pool;
    AsioClock clock;
    AsioLoop loop;
    AsioNetwork network;
    AsioFileSystem file_system;
    SplitMix64 random;
    Env env;
    std::unique_ptr<net::signal_set> signals;
    std::function<void(int)> on_signal;
};

namespace {
void wait_signal(Impl& impl) {
    impl.signals->async_wait([&impl](const boost::system::error_code& error, int number) {
        if (error) return;
        impl.on_signal(number);
        wait_signal(impl);
    });
}
}  // namespace

}  // namespace herald::io::asio_env

namespace herald::io {

AsioEnv::AsioEnv() : impl_(std::make_unique<asio_env::Impl>()) {}

AsioEnv::~AsioEnv() {
    // Join the file threads first: they post completions into the io_context.
    impl_->pool.join();
    if (impl_->signals) impl_->signals->cancel();
}

Env& AsioEnv::env() { return impl_->env; }

void AsioEnv::set_busy_poll(Duration window) { busy_poll_ = window; }

// With busy polling, the loop that ran out of ready handlers keeps polling (non-blocking
// epoll_wait plus the posted queue) for up to the window before it blocks: an event that arrives
// meanwhile is handled without the wake-up of a sleeping thread (about 18 us each way in a VM,
// measured: request/reply p50 80 -> 43 us). It only spins while it pays: every fruitless window
// costs a credit; with none left the loop blocks at once until a blocking wait again ends within
// the window (traffic is dense again). An idle server therefore spins at most
// busy_poll_credits_max windows after its last event.
void AsioEnv::run() {
    auto guard = boost::asio::make_work_guard(impl_->io);
    impl_->io.restart();
    if (busy_poll_.ns == 0) {
        impl_->io.run();
        return;
    }
    using SteadyClock = std::chrono::steady_clock;
    const auto window = std::chrono::nanoseconds(busy_poll_.ns);
    constexpr auto file_wait_max = std::chrono::milliseconds(1);
    int credits = busy_poll_credits_max;
    while (!impl_->io.stopped()) {
        if (impl_->io.poll() > 0) continue;
        if (credits > 0 || impl_->file_system.in_flight() > 0) {
            const auto start = SteadyClock::now();
            bool handled = false;
            // A file operation in flight (an fsync) will post its completion: keep polling for
            // it, up to file_wait_max.
            auto keep_polling = [&] {
                const auto spent = SteadyClock::now() - start;
                return spent < window || (impl_->file_system.in_flight() > 0 && spent < file_wait_max);
            };
            while (!impl_->io.stopped() && keep_polling()) {
                if (impl_->io.poll() > 0) {
                    handled = true;
                    break;
                }
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            }
            if (handled) {
                credits = busy_poll_credits_max;
                continue;
            }
            credits -= 1;
        }
        const auto start = SteadyClock::now();
        if (impl_->io.run_one() == 0) break;
        if (SteadyClock::now() - start < window) credits = busy_poll_credits_max;
    }
}

bool AsioEnv::run_until(const std::function<bool()>& done, std::size_t handler_count_max) {
    impl_->io.restart();
    for (std::size_t count = 0; count < handler_count_max; ++count) {
        if (done()) return true;
        if (impl_->io.run_one() == 0) break;
    }
    return done();
}

void AsioEnv::stop() { impl_->io.stop(); }

void AsioEnv::post_external(std::function<void()> task) {
    ASSERT(task);
    boost::asio::post(impl_->io, std::move(task));
}

void AsioEnv::handle_signals(const std::vector<int>& signal_numbers,
                             std::function<void(int)> on_signal) {
    ASSERT(on_signal);
    ASSERT(!impl_->signals);
    impl_->signals = std::make_unique<boost::asio::signal_set>(impl_->io);
    for (const int number : signal_numbers) {
        boost::system::error_code error;
        impl_->signals->add(number, error);
        ASSERT(!error);
    }
    impl_->on_signal = std::move(on_signal);
    asio_env::wait_signal(*impl_);
}

}  // namespace herald::io
