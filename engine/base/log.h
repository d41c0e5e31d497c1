// A small logging facade over fmt. A Logger is a prefix ("[n1 cid=7]") bound to a shared LogBackend
// that holds the level, the time source and the sink; the engine never writes to files or the
// terminal itself, so simulated runs with one seed produce byte-identical logs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace herald::base {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

std::string_view log_level_name(LogLevel level);

// Shared by every Logger of one node. `now_ns` gives wall time for the timestamp (from io::Clock);
// `sink` receives whole lines without the trailing newline.
struct LogBackend {
    LogLevel level = LogLevel::info;
    bool timestamps = true;
    std::function<std::int64_t()> now_ns;
    std::function<void(LogLevel, std::string_view)> sink;
};

class Logger {
public:
    Logger() = default;  // Discards everything.
    Logger(std::shared_ptr<LogBackend> backend, std::string prefix)
        : backend_(std::move(backend)), prefix_(std::move(prefix)) {}

    bool enabled(LogLevel level) const {
        return backend_ && backend_->sink && level <= backend_->level;
    }
    // A logger that shares the backend and adds to the prefix: child("cid=7").
    Logger child(std::string_view more) const;
    void write(LogLevel level, std::string_view message) const;
    const std::shared_ptr<LogBackend>& backend() const { return backend_; }

private:
    std::shared_ptr<LogBackend> backend_;
    std::string prefix_;
};

}  // namespace herald::base

#define HERALD_LOG(logger, level, ...)                                    \
    do {                                                                  \
        if ((logger).enabled(level)) {                                    \
            (logger).write((level), ::fmt::format(__VA_ARGS__));          \
        }                                                                 \
    } while (false)

#define LOG_ERROR(logger, ...) HERALD_LOG(logger, ::herald::base::LogLevel::error, __VA_ARGS__)
#define LOG_WARN(logger, ...) HERALD_LOG(logger, ::herald::base::LogLevel::warn, __VA_ARGS__)
#define LOG_INFO(logger, ...) HERALD_LOG(logger, ::herald::base::LogLevel::info, __VA_ARGS__)
#define LOG_DEBUG(logger, ...) HERALD_LOG(logger, ::herald::base::LogLevel::debug, __VA_ARGS__)
#define LOG_TRACE(logger, ...) HERALD_LOG(logger, ::herald::base::LogLevel::trace, __VA_ARGS__)
