// The Env seam: everything a node touches outside its own memory (time, timers, sockets, files,
// randomness) goes through these interfaces. engine/io/asio/ implements them for real; sim/
// implements them in simulated time. Engine code must never reach the outside world any other way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/base/time.h"

namespace herald::io {

using herald::Duration;
using herald::Instant;

class Clock {  // The simulator drives it; wall time may jump or skew.
public:
    virtual ~Clock() = default;
    virtual Instant monotonic() const = 0;
    virtual std::int64_t realtime_ns() const = 0;
};

using TimerId = std::uint64_t;

class Loop {  // The node's single thread: everything runs from here.
public:
    virtual ~Loop() = default;
    virtual void post(std::function<void()> task) = 0;
    virtual TimerId schedule(Duration after, std::function<void()> task) = 0;
    virtual void cancel(TimerId timer) = 0;  // No-op if fired or unknown.
};

// A byte stream: TCP, TLS over TCP, or a simulated pipe. At most one read and one write in
// flight. Callbacks run on the owning loop, never inline from inside the call. After close() no
// callback runs any more.
class Stream {
public:
    virtual ~Stream() = default;
    // Completes with the number of bytes read; 0 means end of stream.
    virtual void read_some(std::span<std::byte> target,
                           std::function<void(Result<std::size_t>)> on_read) = 0;
    // Writes every byte of every buffer, in order (a vectored write). The spans must stay valid
    // until the callback runs.
    virtual void write_all(std::span<const std::span<const std::byte>> sources,
                           std::function<void(Status)> on_written) = 0;
    virtual void close() = 0;
    virtual std::string peer_address() const = 0;  // "ip:port"
};

// A listening socket; destroying it stops accepting.
class Listener {
public:
    virtual ~Listener() = default;
    virtual std::string local_address() const = 0;  // "ip:port", with the real port if 0 was asked.
    virtual std::uint16_t local_port() const = 0;
};

class Network {
public:
    virtual ~Network() = default;
    // Listens on "host:port" (port 0 = any free port). on_accept runs for each new connection.
    virtual Result<std::unique_ptr<Listener>> listen(
        const std::string& address,
        std::function<void(Result<std::unique_ptr<Stream>>)> on_accept) = 0;
    virtual void connect(const std::string& address,
                         std::function<void(Result<std::unique_ptr<Stream>>)> on_connect) = 0;
};

class File {  // Nothing written is durable until sync() completes OK.
public:
    virtual ~File() = default;
    virtual void read_at(std::uint64_t offset, std::span<std::byte> target,
                         std::function<void(Result<std::size_t>)> on_read) = 0;
    virtual void write_at(std::uint64_t offset, std::span<const std::byte> source,
                          std::function<void(Status)> on_written) = 0;
    virtual void sync(std::function<void(Status)> on_synced) = 0;  // fdatasync
    virtual void truncate(std::uint64_t size, std::function<void(Status)> on_truncated) = 0;
    virtual std::uint64_t size() const = 0;
};

class FileSystem {
public:
    virtual ~FileSystem() = default;
    virtual Result<std::unique_ptr<File>> open(const std::string& path, bool create) = 0;
    virtual Status remove(const std::string& path) = 0;
    virtual Status rename(const std::string& from, const std::string& to) = 0;
    virtual Status make_directories(const std::string& path) = 0;
    virtual Result<std::vector<std::string>> list(const std::string& directory) = 0;  // sorted
    virtual void sync_directory(const std::string& path, std::function<void(Status)> on_synced) = 0;
};

class Random {  // Seeded. The only randomness in engine/.
public:
    virtual ~Random() = default;
    virtual std::uint64_t next_u64() = 0;
    // Uniform in [0, bound), bound > 0.
    std::uint64_t uniform(std::uint64_t bound);
};

struct Env {
    Clock& clock;
    Loop& loop;
    Network& network;
    FileSystem& file_system;
    Random& random;
};

// splitmix64: the deterministic generator behind both the real and the simulated Random.
class SplitMix64 final : public Random {
public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next_u64() override;

private:
    std::uint64_t state_;
};

}  // namespace herald::io
