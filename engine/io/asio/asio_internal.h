// The pieces of AsioEnv, shared by the .cc files of this folder only: clock, loop, network and
// file system on one io_context, and the mapping of errno and asio errors to base::Errc.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "engine/io/asio/asio.h"
#include "engine/io/io.h"

namespace herald::io::asio_env {

namespace net = boost::asio;

// errno → base::Errc (ENOENT → not_found, ENOSPC → no_space, ...; unknown → io_error).
std::error_code errno_to_error(int errno_value);
// asio/system error → base::Errc. operation_aborted maps to closed.
std::error_code asio_to_error(const boost::system::error_code& error);

class AsioClock final : public Clock {
public:
    Instant monotonic() const override;
    std::int64_t realtime_ns() const override;
};

// post() and steady timers on the io_context. Timers live in a map by id; a handler whose id is
// gone (cancelled) does nothing, so cancel of a fired or unknown id is a no-op.
class AsioLoop final : public Loop {
public:
    explicit AsioLoop(net::io_context& io) : io_(io) {}
    ~AsioLoop() override;
    void post(std::function<void()> task) override;
    TimerId schedule(Duration after, std::function<void()> task) override;
    void cancel(TimerId timer) override;

private:
    struct Timer {
        explicit Timer(net::io_context& io) : timer(io) {}
        net::steady_timer timer;
        std::function<void()> task;
    };
    void fire(TimerId id, const boost::system::error_code& error);

    net::io_context& io_;
    TimerId next_id_ = 1;
    std::map<TimerId, std::unique_ptr<Timer>> timers_;
};

class AsioNetwork final : public Network {
public:
    explicit AsioNetwork(net::io_context& io) : io_(io) {}
    Result<std::unique_ptr<Listener>> listen(
        const std::string& address,
        std::function<void(Result<std::unique_ptr<Stream>>)> on_accept) override;
    void connect(const std::string& address,
                 std::function<void(Result<std::unique_ptr<Stream>>)> on_connect) override;

private:
    net::io_context& io_;
};

// Blocking POSIX calls on `pool`, one strand per open file; completions are posted to `io`.
class AsioFileSystem final : public FileSystem {
public:
    AsioFileSystem(net::io_context& io, net::thread_pool& pool) : io_(io), pool_(pool) {}
    Result<std::unique_ptr<File>> open(const std::string& path, bool create) override;
    Status remove(const std::string& path) override;
    Status rename(const std::string& from, const std::string& to) override;
    Status make_directories(const std::string& path) override;
    Result<std::vector<std::string>> list(const std::string& directory) override;
    void sync_directory(const std::string& path, std::function<void(Status)> on_synced) override;
    // Operations handed to the file threads whose completion has not run yet (loop thread only):
    // while there are any, a completion is sure to come, so the busy-polling loop keeps polling.
    std::size_t in_flight() const { return in_flight_; }

private:
    net::io_context& io_;
    net::thread_pool& pool_;
    std::size_t in_flight_ = 0;
};

// Splits "host:port" (or "[v6]:port"). nullopt if malformed.
struct HostPort {
    std::string host;
    std::uint16_t port = 0;
};
std::optional<HostPort> split_host_port(const std::string& address);

}  // namespace herald::io::asio_env
