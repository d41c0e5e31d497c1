// `herald server ping` (round trips through the client) and `herald server info` (the INFO line a
// new connection receives, read over io::Network so every field the server sends is shown).
#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/base/errc.h"

namespace herald::cli {
namespace {

constexpr std::size_t info_size_max = 64 * 1024;  // INFO lines are a few hundred bytes

// "nats://user:pass@host:port" → "host:port" (port 4222 if absent); nullopt if malformed.
std::optional<std::string> host_port_of(std::string_view url) {
    if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
        url.remove_prefix(scheme + 3);
    }
    if (const auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
    while (!url.empty() && url.back() == '/')
        url.remove_suffix(1);
    if (url.empty()) return std::nullopt;
    const bool bracketed = url.front() == '[';
    const auto close = bracketed ? url.find(']') : std::string_view::npos;
    if (bracketed && close == std::string_view::npos) return std::nullopt;
    const auto colon = url.rfind(':');
    const bool has_port = bracketed ? colon != std::string_view::npos && colon > close
                                    : colon != std::string_view::npos;
    if (!has_port) return fmt::format("{}:4222", url);
    if (!parse_count(url.substr(colon + 1))) return std::nullopt;
    return std::string(url);
}

// Reads the first line a server sends to each URL in turn, until one gives an INFO.
class InfoReader {
public:
    InfoReader(Session& session, std::vector<std::string> urls)
        : session_(session), urls_(std::move(urls)) {}

    void start() { try_next(); }

private:
    void try_next() {
        if (index_ == urls_.size()) {
            print_error(fmt::format(
                "nats: {}: {}", last_error_.message(), servers_text(session_.options())));
            session_.finish(exit_failure);
            return;
        }
        const auto address = host_port_of(urls_[index_]);
        if (!address) {
            last_error_ = base::Errc::invalid_argument;
            ++index_;
            try_next();
            return;
        }
        io::Env& env = session_.env();
        const std::uint64_t attempt = ++attempt_;
        timer_ = env.loop.schedule(session_.options().timeout, [this, attempt] {
            if (attempt != attempt_) return;
            fail(base::Errc::timed_out);
        });
        env.network.connect(*address, [this, attempt](Result<std::unique_ptr<io::Stream>> stream) {
            if (attempt != attempt_) return;
            if (!stream) {
                fail(stream.error());
                return;
            }
            stream_ = std::move(*stream);
            line_.clear();
            read_more();
        });
    }

    void fail(std::error_code error) {
        session_.env().loop.cancel(timer_);
        ++attempt_;  // Late callbacks of this attempt are ignored.
        last_error_ =
            error == base::Errc::timed_out ? std::error_code(client::Errc::timeout) : error;
        if (stream_) stream_->close();
        ++index_;
        try_next();
    }

    void read_more() {
        const std::uint64_t attempt = attempt_;
        stream_->read_some(buffer_, [this, attempt](Result<std::size_t> read) {
            if (attempt != attempt_) return;
            if (!read || *read == 0) {
                fail(read ? std::error_code(base::Errc::closed) : read.error());
                return;
            }
            line_.append(reinterpret_cast<const char*>(buffer_.data()), *read);
            const auto end = line_.find('\n');
            if (end == std::string::npos) {
                if (line_.size() > info_size_max) {
                    fail(client::Errc::protocol_error);
                    return;
                }
                read_more();
                return;
            }
            show(line_.substr(0, end));
        });
    }

    void show(std::string line) {
        session_.env().loop.cancel(timer_);
        ++attempt_;
        stream_->close();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto json_start = line.find('{');
        if (!line.starts_with("INFO") || json_start == std::string::npos) {
            print_error(fmt::format("nats: expected INFO from {}, got: {}", urls_[index_], line));
            session_.finish(exit_failure);
            return;
        }
        const auto info = nlohmann::json::parse(line.substr(json_start), nullptr, false);
        if (info.is_discarded()) {
            print_error(fmt::format("nats: malformed INFO JSON from {}", urls_[index_]));
            session_.finish(exit_failure);
            return;
        }
        std::printf("%s\n", info.dump(2).c_str());
        std::fflush(stdout);
        session_.finish(exit_ok);
    }

    Session& session_;
    std::vector<std::string> urls_;
    std::size_t index_ = 0;
    std::uint64_t attempt_ = 0;
    io::TimerId timer_ = 0;
    std::unique_ptr<io::Stream> stream_;
    std::array<std::byte, 4096> buffer_{};
    std::string line_;
    std::error_code last_error_ = base::Errc::connection_refused;
};

// Sequential PING/PONG round trips over a connected client.
struct Pinger {
    Session& session;
    std::uint64_t count;
    std::vector<Duration> rtts;
    Instant sent_at;

    void ping() {
        sent_at = session.env().clock.monotonic();
        session.connection().flush(session.options().timeout, [this](Status status) {
            if (!status) {
                print_error(fmt::format("nats: ping failed: {}", status.error().message()));
                session.finish(exit_failure);
                return;
            }
            const Duration rtt = session.env().clock.monotonic().since(sent_at);
            rtts.push_back(rtt);
            std::printf("pong %zu from %s: time=%s\n",
                        rtts.size(),
                        session.connection().connected_address().c_str(),
                        format_duration(rtt).c_str());
            std::fflush(stdout);
            if (rtts.size() < count) {
                ping();
                return;
            }
            summarize();
            session.finish(exit_ok);
        });
    }

    void summarize() const {
        std::uint64_t total = 0;
        for (const Duration rtt : rtts)
            total += rtt.ns;
        const auto [low, high] = std::minmax_element(rtts.begin(), rtts.end());
        std::printf("--- %zu pings: min/avg/max = %s/%s/%s\n",
                    rtts.size(),
                    format_duration(*low).c_str(),
                    format_duration({total / rtts.size()}).c_str(),
                    format_duration(*high).c_str());
    }
};

}  // namespace

int run_server_ping(const GlobalOptions& global, const ParsedArgs& args) {
    std::string error;
    const auto count = count_flag(args, "count", 5, error);
    if (!count) return usage_error("server ping", error);
    if (*count == 0) return usage_error("server ping", "bad value for --count: must be at least 1");
    Session session(global, client_options(global));
    Pinger pinger{session, *count, {}, {}};
    return session.run([&] {
        const client::ServerInfo& info = session.connection().server_info();
        std::printf("PING %s (server %s%s%s, version %s)\n",
                    session.connection().connected_address().c_str(),
                    info.server_id.c_str(),
                    info.server_name.empty() || info.server_name == info.server_id ? "" : " ",
                    info.server_name == info.server_id ? "" : info.server_name.c_str(),
                    info.version.c_str());
        pinger.ping();
    });
}

int run_server_info(const GlobalOptions& global, const ParsedArgs&) {
    Session session(global, client_options(global));
    InfoReader reader(session, global.servers);
    // No client connection is made: the reader asks each URL for its INFO line directly.
    return session.run_without_connecting([&] { reader.start(); });
}

}  // namespace herald::cli
