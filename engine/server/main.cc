// herald-server: the process around one Server on the real (asio) Env. It parses nats-server's
// flags and config file, sets up logging, the pid and ports files, and turns SIGINT/SIGTERM into
// a graceful shutdown that flushes pending output first.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>

#include <fmt/format.h>

#include "engine/config/command_line.h"
#include "engine/io/asio/asio_env.h"
#include "engine/server/server.h"

namespace {

using herald::base::LogLevel;

// Writes `content` to `path` through a temporary file and a rename, so readers never see half.
bool write_file_atomically(const std::string& path, const std::string& content) {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        if (!out) return false;
        out << content;
        if (!out.flush()) return false;
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    return !error;
}

std::shared_ptr<herald::base::LogBackend> make_log_backend(const herald::config::Options& options,
                                                           herald::io::Env& env,
                                                           std::FILE* sink) {
    auto backend = std::make_shared<herald::base::LogBackend>();
    backend->level = options.trace   ? LogLevel::trace
                     : options.debug ? LogLevel::debug
                                     : LogLevel::info;
    backend->timestamps = options.logtime;
    backend->now_ns = [&env] {
        return env.clock.realtime_ns();
    };
    backend->sink = [sink](LogLevel, std::string_view line) {
        std::fwrite(line.data(), 1, line.size(), sink);
        std::fputc('\n', sink);
        std::fflush(sink);
    };
    return backend;
}

std::string ports_file_path(const std::string& directory, const char* argv0) {
    const std::string executable = std::filesystem::path(argv0).filename().string();
    return (std::filesystem::path(directory) / fmt::format("{}_{}.ports", executable, getpid()))
        .string();
}

}  // namespace

int main(int argc, char** argv) {
    std::string error_message;
    const herald::config::SystemEnvironment environment(herald::io::read_process_variable);
    auto command_line = herald::config::parse_command_line(
        std::span<const char* const>(const_cast<const char* const*>(argv) + 1,
                                     static_cast<std::size_t>(argc - 1)),
        error_message, environment);
    if (!command_line) {
        std::fprintf(stderr, "herald-server: %s\n", error_message.c_str());
        std::fprintf(stderr, "Run 'herald-server --help' for the list of flags.\n");
        return 1;
    }
    if (command_line->show_help) {
        std::fputs(herald::config::help_text().c_str(), stdout);
        return 0;
    }
    if (command_line->show_version) {
        std::printf("herald-server: v%s (nats-server %s compatible)\n",
                    std::string(herald::server::herald_version).c_str(),
                    std::string(herald::core::advertised_version).c_str());
        return 0;
    }
    const herald::config::Options& options = command_line->options;
    if (command_line->test_config) {
        std::printf("herald-server: configuration file %s test is successful\n",
                    options.config_file.c_str());
        return 0;
    }

    std::FILE* log_sink = stderr;
    if (!options.log_file.empty()) {
        log_sink = std::fopen(options.log_file.c_str(), "a");
        if (log_sink == nullptr) {
            std::fprintf(
                stderr, "herald-server: cannot open log file %s\n", options.log_file.c_str());
            return 1;
        }
    }

    herald::io::AsioEnv asio_env;
    asio_env.set_busy_poll(options.busy_poll);
    herald::io::Env& env = asio_env.env();
    herald::base::Logger log(make_log_backend(options, env, log_sink), "");
    for (const std::string& warning : options.config_warnings)
        LOG_WARN(log, "{}", warning);
    herald::server::Server server(env, options, log);
    if (!server.start()) return 1;

    if (!options.pid_file.empty()
        && !write_file_atomically(options.pid_file, fmt::format("{}", getpid()))) {
        LOG_ERROR(log, "could not write pid file {}", options.pid_file);
        return 1;
    }
    std::string ports_file;
    if (!options.ports_file_dir.empty()) {
        ports_file = ports_file_path(options.ports_file_dir, argv[0]);
        if (!write_file_atomically(ports_file, server.ports_json())) {
            LOG_ERROR(log, "could not write ports file {}", ports_file);
            return 1;
        }
    }

    // SIGINT ends with status 0, SIGTERM with 1, as nats-server; both flush pending output.
    int exit_status = 0;
    bool stopping = false;
    asio_env.handle_signals({SIGINT, SIGTERM}, [&](int signal_number) {
        if (stopping) return;
        stopping = true;
        exit_status = signal_number == SIGTERM ? 1 : 0;
        LOG_INFO(
            log, "Trapped \"{}\" signal", signal_number == SIGTERM ? "terminated" : "interrupt");
        server.shutdown([&asio_env] { asio_env.stop(); });
    });
    ::signal(SIGPIPE, SIG_IGN);
    asio_env.run();

    if (!ports_file.empty()) std::filesystem::remove(ports_file);
    if (!options.pid_file.empty()) std::filesystem::remove(options.pid_file);
    if (log_sink != stderr) std::fclose(log_sink);
    return exit_status;
}
