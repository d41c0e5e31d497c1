#include "tests/cli/cli_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

extern char** environ;

namespace herald::test {
namespace {

using Clock = std::chrono::steady_clock;

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

std::string executable_dir() {
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::string(".") : self.parent_path().string();
}

}  // namespace

std::string CliProcess::binary() {
    if (const char* path = std::getenv("HERALD_CLI"); path != nullptr && *path != 0) return path;
    return executable_dir() + "/herald";
}

CliProcess::CliProcess(std::vector<std::string> args, std::optional<std::string> stdin_text)
    : args_(std::move(args)) {
    int out_pipe[2];
    int err_pipe[2];
    int in_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0
        || pipe2(in_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdin_text) {
        posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
    } else {
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    const std::string path = binary();
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (std::string& arg : args_)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    ::close(in_pipe[0]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    if (spawned != 0) {
        pid_ = -1;
        ::close(in_pipe[1]);
        throw std::runtime_error("posix_spawn " + path + ": " + std::strerror(spawned));
    }
    if (stdin_text) {
        // Small inputs only: the pipe buffer (64 KiB) holds them without a reader.
        const ssize_t written = ::write(in_pipe[1], stdin_text->data(), stdin_text->size());
        if (written != static_cast<ssize_t>(stdin_text->size())) {
            ::close(in_pipe[1]);
            throw std::runtime_error("writing the child's stdin failed");
        }
    }
    ::close(in_pipe[1]);
}

CliProcess::~CliProcess() {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);  // Our own child only.
        reap(true);
    }
    close_fd(out_fd_);
    close_fd(err_fd_);
}

void CliProcess::reap(bool block) {
    if (pid_ <= 0 || status_) return;
    int raw = 0;
    const pid_t reaped = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
    if (reaped != pid_) return;
    status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
}

bool CliProcess::read_some(std::chrono::milliseconds slice) {
    std::array<pollfd, 2> fds{{{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}}};
    if (out_fd_ < 0 && err_fd_ < 0) return false;
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(slice.count()));
    if (ready <= 0) return true;
    std::array<char, 65536> buffer;
    for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        const ssize_t got = ::read(fds[i].fd, buffer.data(), buffer.size());
        if (got > 0) {
            (i == 0 ? out_ : err_).append(buffer.data(), static_cast<std::size_t>(got));
        } else if (got == 0 || errno != EINTR) {
            close_fd(i == 0 ? out_fd_ : err_fd_);
        }
    }
    return out_fd_ >= 0 || err_fd_ >= 0;
}

bool CliProcess::wait_for(
    const std::function<bool(const std::string& out, const std::string& err)>& done,
    std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done(out_, err_)) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        if (!read_some(std::min(left, std::chrono::milliseconds(100)))) {
            return done(out_, err_);  // Both pipes closed: nothing more will come.
        }
    }
    return true;
}

bool CliProcess::wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout) {
    return wait_for([&](const std::string&,
                        const std::string& err) { return err.find(text) != std::string::npos; },
                    timeout);
}

bool CliProcess::wait_for_stdout(const std::string& text, std::chrono::milliseconds timeout) {
    return wait_for([&](const std::string& out,
                        const std::string&) { return out.find(text) != std::string::npos; },
                    timeout);
}

std::optional<int> CliProcess::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    // Read until both pipes close (the child is exiting), then wait for the exit itself.
    wait_for([this](const std::string&, const std::string&) { return out_fd_ < 0 && err_fd_ < 0; },
             timeout);
    reap(false);
    if (!status_) {
        // A pidfd becomes readable when the child exits: a bounded wait without polling.
        const int pid_fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        if (pid_fd >= 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            pollfd fd{pid_fd, POLLIN, 0};
            ::poll(&fd, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
            ::close(pid_fd);
        }
        reap(false);
    }
    return status_;
}

void CliProcess::send_signal(int signal_number) {
    if (pid_ > 0 && !status_) ::kill(pid_, signal_number);
}

std::string CliProcess::describe() const {
    std::string text = "herald";
    for (const std::string& arg : args_)
        text += " " + arg;
    text += status_ ? "; exit " + std::to_string(*status_) : "; still running";
    text += "\n--- stdout:\n" + out_ + "\n--- stderr:\n" + err_;
    return text;
}

}  // namespace herald::test
