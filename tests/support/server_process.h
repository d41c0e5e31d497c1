// A NATS-compatible server (nats-server or herald-server) run as a real child process on a free
// loopback port, for interop tests. The interop suites (tests/interop/) use it to prove the same
// client behaviour against the reference server and against Herald.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace herald::test {

// How to start a server. Everything is optional.
struct ServerOptions {
    // Written to <temp dir>/server.conf and passed as `-c <path>` when non-empty
    // (nats-server config syntax).
    std::string config = {};
    // Extra command-line arguments, appended after the harness's own.
    std::vector<std::string> args = {};
};

// One server child process and its private temp dir.
//
// Lifecycle: the constructor creates a fresh temp dir, starts the binary named by the environment
// variable HERALD_TEST_SERVER (default: nats-server in /usr/bin or /usr/sbin) with
// `-a 127.0.0.1 -p -1 --ports_file_dir <temp dir> [-c <temp dir>/server.conf] <args...>`
// and waits (bounded) for `<temp dir>/<basename of the binary>_<child pid>.ports`. Because the pid
// is in the file name, the listener we talk to is certainly the process we started. stderr and
// stdout go to <temp dir>/server.log. The destructor stops the process (SIGTERM, bounded wait,
// SIGKILL) and removes the temp dir.
//
// Failures to start throw std::runtime_error whose message includes the server log, so a Catch2
// test that constructs a ServerProcess reports why. Not thread-safe: use one ServerProcess from
// one thread (client library threads never touch it).
class ServerProcess {
public:
    explicit ServerProcess(ServerOptions options = {});
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // The client URL from the ports file, e.g. "nats://127.0.0.1:43335".
    const std::string& url() const { return url_; }
    int port() const { return port_; }
    // The HTTP monitoring port when the server was started with -m (e.g. args {"-m", "-1"}), else 0.
    int monitoring_port() const { return monitoring_port_; }
    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }
    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path log_path() const { return dir_ / "server.log"; }
    // The server's log so far (all runs, restarts included).
    std::string log() const;

    // SIGTERM to our child only, wait up to stop_timeout, then SIGKILL. Idempotent.
    void stop();
    // stop(), then start again on the same port (`-p <port>` instead of `-p -1`), for
    // reconnect tests. Throws like the constructor if the new process does not come up.
    void restart();

    // Prints the log of every live ServerProcess whose log was not printed yet. Test binaries
    // call it from their failure hook (tests/interop registers a Catch2 listener).
    static void print_logs_of_live_servers(std::ostream& out);

    // The server binary this process runs: $HERALD_TEST_SERVER, else the first of
    // /usr/bin/nats-server and /usr/sbin/nats-server that exists.
    static std::string server_binary();

    static constexpr std::chrono::milliseconds start_timeout{10'000};
    static constexpr std::chrono::milliseconds stop_timeout{5'000};
    static constexpr std::chrono::milliseconds poll_interval{10};

private:
    void start(int port);
    [[noreturn]] void fail_start(const std::string& why);

    ServerOptions options_;
    std::string binary_;
    std::filesystem::path dir_;
    std::string url_;
    int port_ = 0;
    int monitoring_port_ = 0;
    pid_t pid_ = -1;
    bool log_printed_ = false;
};

}  // namespace herald::test
