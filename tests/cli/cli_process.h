// CliProcess: the real `herald` binary as a child process with piped stdin, stdout and stderr, for
// the CLI end-to-end tests. Every wait is bounded by a deadline and reads the pipes with poll();
// nothing sleeps. Only the child it started is ever signalled.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace herald::test {

class CliProcess {
public:
    static constexpr std::chrono::milliseconds wait_default{20'000};

    // Starts `herald <args...>` ($HERALD_CLI, else build/bin/herald next to the test binary).
    // `stdin_text`, if given, is written to the child's stdin, which is then closed; otherwise
    // stdin is /dev/null.
    explicit CliProcess(std::vector<std::string> args,
                        std::optional<std::string> stdin_text = std::nullopt);
    ~CliProcess();
    CliProcess(const CliProcess&) = delete;
    CliProcess& operator=(const CliProcess&) = delete;

    // Reads output until `done(stdout, stderr)` holds, the child has exited and its pipes are
    // drained, or `timeout` passes. Returns whether `done` holds.
    bool wait_for(const std::function<bool(const std::string& out, const std::string& err)>& done,
                  std::chrono::milliseconds timeout = wait_default);
    bool wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout = wait_default);
    bool wait_for_stdout(const std::string& text, std::chrono::milliseconds timeout = wait_default);

    // Waits for the exit, reading all output; nullopt if it did not exit in time. The status is
    // the exit code, or 128 + signal number if a signal ended it.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout = wait_default);

    void send_signal(int signal_number);

    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }
    // "herald pub ...: exit 1; stdout: ...; stderr: ..." for failure messages.
    std::string describe() const;

    static std::string binary();

private:
    // One poll() round of at most `slice`; false when both pipes are at EOF.
    bool read_some(std::chrono::milliseconds slice);
    void reap(bool block);

    std::vector<std::string> args_;
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_;
    std::string err_;
    std::optional<int> status_;
};

}  // namespace herald::test
