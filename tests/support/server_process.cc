// Starts and stops a NATS-compatible server child process; see server_process.h.
#include "tests/support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace herald::test {

namespace {

using Clock = std::chrono::steady_clock;

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::filesystem::path make_temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "herald-interop-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
    }
    return pattern;
}

// The client URL and port from a ports file, e.g. {"nats":["nats://127.0.0.1:43335"],...}.
// Returns false while the file is missing or not yet completely written.
bool parse_ports_file(const std::filesystem::path& path, std::string& url, int& port) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) return false;
    const auto json = nlohmann::json::parse(read_file(path), nullptr, false);
    if (json.is_discarded() || !json.is_object()) return false;
    const auto nats = json.find("nats");
    if (nats == json.end() || !nats->is_array()) return false;
    for (const auto& entry : *nats) {
        if (!entry.is_string()) continue;
        const auto candidate = entry.get<std::string>();
        const auto colon = candidate.rfind(':');
        if (candidate.rfind("nats://", 0) != 0 || colon == std::string::npos) continue;
        const int parsed = std::atoi(candidate.c_str() + colon + 1);
        if (parsed <= 0 || parsed > 65535) continue;
        url = candidate;
        port = parsed;
        return true;
    }
    return false;
}

// The monitoring port from a ports file ({"monitoring":["http://127.0.0.1:8222"]}), or 0.
int parse_monitoring_port(const std::filesystem::path& path) {
    const auto json = nlohmann::json::parse(read_file(path), nullptr, false);
    if (json.is_discarded() || !json.is_object()) return 0;
    const auto monitoring = json.find("monitoring");
    if (monitoring == json.end() || !monitoring->is_array()) return 0;
    for (const auto& entry : *monitoring) {
        if (!entry.is_string()) continue;
        const auto candidate = entry.get<std::string>();
        const auto colon = candidate.rfind(':');
        if (candidate.rfind("http://", 0) != 0 || colon == std::string::npos) continue;
        const int parsed = std::atoi(candidate.c_str() + colon + 1);
        if (parsed > 0 && parsed <= 65535) return parsed;
    }
    return 0;
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "stopped (status " + std::to_string(status) + ")";
}

// Every ServerProcess alive right now, so that a test binary's failure hook can print their logs
// while the processes still exist. Only touched from the thread that runs the tests.
std::vector<ServerProcess*>& live_servers() {
    static std::vector<ServerProcess*> servers;
    return servers;
}

// A binary that never wrote its ports file would otherwise cost every remaining test the full
// start timeout. Once that happened and no start ever succeeded, later starts fail at once.
bool any_start_succeeded = false;
bool start_timed_out = false;

}  // namespace

void ServerProcess::print_logs_of_live_servers(std::ostream& out) {
    for (ServerProcess* server : live_servers()) {
        if (server->log_printed_) continue;
        server->log_printed_ = true;
        out << "--- " << server->log_path().string() << " (" << server->binary_ << ", "
            << server->url_ << ") ---\n"
            << server->log() << "--- end of server log ---\n";
    }
}

std::string ServerProcess::server_binary() {
    const char* from_env = std::getenv("HERALD_TEST_SERVER");
    if (from_env != nullptr && from_env[0] != '\0') return from_env;
    // Debian's nats-server package installs to /usr/sbin; other installs use /usr/bin.
    for (const char* candidate : {"/usr/bin/nats-server", "/usr/sbin/nats-server"}) {
        if (access(candidate, X_OK) == 0) return candidate;
    }
    return "/usr/bin/nats-server";
}

ServerProcess::ServerProcess(ServerOptions options)
    : options_(std::move(options)), binary_(server_binary()), dir_(make_temp_dir()) {
    if (!options_.config.empty()) {
        std::ofstream config(dir_ / "server.conf", std::ios::binary);
        config << options_.config;
        if (!config) fail_start("cannot write " + (dir_ / "server.conf").string());
    }
    try {
        start(-1);
    } catch (...) {
        std::error_code ignored;
        if (std::getenv("HERALD_TEST_KEEP_DIRS") == nullptr) std::filesystem::remove_all(dir_, ignored);
        throw;
    }
    live_servers().push_back(this);
}

ServerProcess::~ServerProcess() {
    // A test that throws past a live server (not through a Catch2 assertion) still shows its log.
    if (std::uncaught_exceptions() > 0) print_logs_of_live_servers(std::cerr);
    std::erase(live_servers(), this);
    stop();
    if (std::getenv("HERALD_TEST_KEEP_DIRS") == nullptr) {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
}

std::string ServerProcess::log() const { return read_file(log_path()); }

void ServerProcess::start(int port) {
    if (start_timed_out && !any_start_succeeded) {
        fail_start("an earlier start of " + binary_ + " wrote no ports file within " +
                   std::to_string(start_timeout.count()) +
                   " ms (see its log above); not waiting again. The server must accept "
                   "`-a 127.0.0.1 -p -1 --ports_file_dir <dir>` and write "
                   "<dir>/<executable name>_<pid>.ports");
    }
    if (access(binary_.c_str(), X_OK) != 0) {
        fail_start("server binary " + binary_ + " is not executable (set HERALD_TEST_SERVER)");
    }
    std::vector<std::string> args = {binary_, "-a", "127.0.0.1", "-p", std::to_string(port),
                                     "--ports_file_dir", dir_.string()};
    if (!options_.config.empty()) {
        args.push_back("-c");
        args.push_back((dir_ / "server.conf").string());
    }
    args.insert(args.end(), options_.args.begin(), options_.args.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    // Everything the child needs is prepared before fork: between fork and exec only
    // async-signal-safe calls are allowed (the client library runs threads in this process).
    const int log_fd = open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) fail_start("cannot open log file or /dev/null");
    const pid_t parent = getpid();
    const pid_t child = fork();
    if (child == 0) {
        // Die with the test binary, so a crashed test never leaves a server behind.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        struct sigaction default_action {};
        default_action.sa_handler = SIG_DFL;
        sigaction(SIGPIPE, &default_action, nullptr);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        dup2(null_fd, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        close_range(3, ~0U, 0);
        execv(argv[0], argv.data());
        static constexpr char message[] = "server_process: execv failed\n";
        [[maybe_unused]] const auto written = write(2, message, sizeof message - 1);
        _exit(127);
    }
    close(log_fd);
    close(null_fd);
    if (child < 0) fail_start("fork failed: " + std::string(std::strerror(errno)));
    pid_ = child;

    const auto ports_file = dir_ / (std::filesystem::path(binary_).filename().string() + "_" +
                                    std::to_string(pid_) + ".ports");
    const auto deadline = Clock::now() + start_timeout;
    for (;;) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            fail_start(binary_ + " " + describe_wait_status(status) + " before writing " +
                       ports_file.string());
        }
        std::string url;
        int parsed_port = 0;
        if (parse_ports_file(ports_file, url, parsed_port)) {
            if (port > 0 && parsed_port != port) {
                stop();
                fail_start("restarted on port " + std::to_string(parsed_port) + ", wanted " +
                           std::to_string(port));
            }
            url_ = url;
            port_ = parsed_port;
            monitoring_port_ = parse_monitoring_port(ports_file);
            any_start_succeeded = true;
            return;
        }
        if (Clock::now() > deadline) {
            start_timed_out = true;
            stop();
            fail_start("no usable " + ports_file.string() + " within " +
                       std::to_string(start_timeout.count()) + " ms");
        }
        std::this_thread::sleep_for(poll_interval);
    }
}

void ServerProcess::stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + stop_timeout;
    int status = 0;
    for (;;) {
        const pid_t reaped = waitpid(pid_, &status, WNOHANG);
        if (reaped == pid_ || (reaped < 0 && errno != EINTR)) break;
        if (Clock::now() > deadline) {
            std::cerr << "server_process: pid " << pid_ << " ignored SIGTERM for "
                      << stop_timeout.count() << " ms, sending SIGKILL\n";
            kill(pid_, SIGKILL);
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        std::this_thread::sleep_for(poll_interval);
    }
    pid_ = -1;
}

void ServerProcess::restart() {
    const int port = port_;
    stop();
    start(port);
}

void ServerProcess::fail_start(const std::string& why) {
    std::string message = "server_process: " + why + "\n--- " + log_path().string() + " ---\n" +
                          log() + "--- end of server log ---";
    std::cerr << message << '\n';
    throw std::runtime_error(message);
}

}  // namespace herald::test
