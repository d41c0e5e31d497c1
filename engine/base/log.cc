#include "engine/base/log.h"

#include <ctime>

namespace herald::base {

std::string_view log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::error: return "ERR";
        case LogLevel::warn: return "WRN";
        case LogLevel::info: return "INF";
        case LogLevel::debug: return "DBG";
        case LogLevel::trace: return "TRC";
    }
    return "???";
}

Logger Logger::child(std::string_view more) const {
    if (prefix_.empty()) return Logger(backend_, std::string(more));
    return Logger(backend_, fmt::format("{} {}", prefix_, more));
}

void Logger::write(LogLevel level, std::string_view message) const {
    if (!enabled(level)) return;
    std::string line;
    if (backend_->timestamps && backend_->now_ns) {
        const std::int64_t now = backend_->now_ns();
        const std::time_t seconds = now / 1'000'000'000;
        const auto micros = static_cast<long>((now % 1'000'000'000) / 1000);
        std::tm parts{};
        gmtime_r(&seconds, &parts);
        line = fmt::format("[{:04}/{:02}/{:02} {:02}:{:02}:{:02}.{:06}] ", parts.tm_year + 1900,
                           parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min,
                           parts.tm_sec, micros);
    }
    fmt::format_to(std::back_inserter(line), "[{}] ", log_level_name(level));
    if (!prefix_.empty()) fmt::format_to(std::back_inserter(line), "[{}] ", prefix_);
    line += message;
    backend_->sink(level, line);
}

}  // namespace herald::base
