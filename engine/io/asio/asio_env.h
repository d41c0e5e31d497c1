// AsioEnv: the real io::Env of one node, on boost.asio (TCP, timers) and POSIX files. This header
// keeps asio out (pimpl), so the server's composition root can include it cheaply. Engine code
// sees only io::Env.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/io/io.h"

namespace herald::io::asio_env {
struct Impl;
}  // namespace herald::io::asio_env

namespace herald::io {

// The value of process environment variable `name`, or nullopt if unset; for the config loader's
// `$NAME` references (herald-server injects it into config::SystemEnvironment). The only getenv
// in engine/. Call before starting threads.
std::optional<std::string> read_process_variable(const std::string& name);

// Owns one io_context, the clock, loop, network, file system and random of a node, and a small
// thread pool that runs blocking file calls (one strand per file). Lifecycle: construct, hand
// env() to the node, call run() on the node's thread; stop() from anywhere ends run(). Every
// callback of env() runs on the thread inside run()/run_until(), never inline in the call that
// started the operation. Destroy it on the thread that ran it, after run() returned.
class AsioEnv {
public:
    AsioEnv();
    ~AsioEnv();
    AsioEnv(const AsioEnv&) = delete;
    AsioEnv& operator=(const AsioEnv&) = delete;

    Env& env();

    // Runs the loop on the calling thread until stop(). Idle time does not end it.
    void run();
    // Busy polling for run() (herald-server `busy_poll`): after the last ready handler the loop
    // polls for up to `window` before it sleeps, while that keeps catching events. 0 = off (the
    // default here; herald-server's default is config::busy_poll_default). Call before run().
    void set_busy_poll(Duration window);
    // Runs ready handlers one at a time until `done()` holds, `handler_count_max` handlers ran, or
    // nothing is left to wait for. Returns whether `done()` holds. For tests and tools.
    bool run_until(const std::function<bool()>& done, std::size_t handler_count_max);
    // Thread-safe: makes run() return soon. Pending work stays queued.
    void stop();
    // Thread-safe: runs `task` on the loop (for signal handling threads and other outsiders).
    void post_external(std::function<void()> task);
    // Runs `on_signal(signal_number)` on the loop when one of `signal_numbers` arrives, each
    // time. Call before run(), from the loop's thread.
    void handle_signals(const std::vector<int>& signal_numbers,
                        std::function<void(int)> on_signal);

private:
    static constexpr int busy_poll_credits_max = 4;
    std::unique_ptr<asio_env::Impl> impl_;
    Duration busy_poll_{};
};

}  // namespace herald::io
