#include "engine/client/server_pool.h"

#include <charconv>
#include <utility>

#include "engine/base/assert.h"
#include "engine/client/errc.h"

namespace herald::client {

std::string ServerUrl::address() const {
    const bool v6 = host.find(':') != std::string::npos;
    std::string out = v6 ? "[" + host + "]" : host;
    out += ':';
    out += std::to_string(port);
    return out;
}

Result<ServerUrl> parse_server_url(std::string_view url) {
    ServerUrl result;
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    const std::size_t scheme_end = url.find("://");
    if (scheme_end != std::string_view::npos) {
        const std::string_view scheme = url.substr(0, scheme_end);
        if (scheme != "nats") return Errc::invalid_argument;
        url.remove_prefix(scheme_end + 3);
    }
    while (!url.empty() && url.back() == '/') url.remove_suffix(1);
    const std::size_t at = url.rfind('@');
    if (at != std::string_view::npos) {
        const std::string_view credentials = url.substr(0, at);
        url.remove_prefix(at + 1);
        const std::size_t colon = credentials.find(':');
        if (colon == std::string_view::npos) {
            result.token.assign(credentials);
        } else {
            result.user.assign(credentials.substr(0, colon));
            result.password.assign(credentials.substr(colon + 1));
        }
    }
    std::string_view host = url;
    std::string_view port;
    if (!url.empty() && url.front() == '[') {
        const std::size_t close = url.find(']');
        if (close == std::string_view::npos) return Errc::invalid_argument;
        host = url.substr(1, close - 1);
        const std::string_view rest = url.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return Errc::invalid_argument;
            port = rest.substr(1);
        }
    } else if (const std::size_t colon = url.rfind(':'); colon != std::string_view::npos) {
        host = url.substr(0, colon);
        port = url.substr(colon + 1);
    }
    if (host.empty()) return Errc::invalid_argument;
    for (const char c : host) {
        if (c == ' ' || c == '/' || c == '@' || c == ',') return Errc::invalid_argument;
    }
    result.host.assign(host);
    if (!port.empty()) {
        std::uint16_t value = 0;
        const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (error != std::errc() || end != port.data() + port.size() || value == 0) {
            return Errc::invalid_argument;
        }
        result.port = value;
    }
    return result;
}

Status ServerPool::add_configured(const std::vector<std::string>& urls) {
    for (const auto& list : urls) {
        std::string_view rest = list;
        while (true) {
            const std::size_t comma = rest.find(',');
            const std::string_view one = rest.substr(0, comma);
            auto parsed = parse_server_url(one);
            if (!parsed) return parsed.error();
            if (!contains(parsed->address())) {
                ServerEntry entry;
                entry.url = std::move(*parsed);
                entries_.push_back(std::move(entry));
            }
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return ok();
}

bool ServerPool::add_discovered(std::string_view host_port) {
    auto parsed = parse_server_url(host_port);
    if (!parsed || contains(parsed->address())) return false;
    ServerEntry entry;
    entry.url = std::move(*parsed);
    entry.discovered = true;
    entries_.push_back(std::move(entry));
    return true;
}

void ServerPool::shuffle(io::Random& random) {
    for (std::size_t i = entries_.size(); i > 1; --i) {
        const auto j = static_cast<std::size_t>(random.uniform(i));
        std::swap(entries_[i - 1], entries_[j]);
    }
}

ServerEntry& ServerPool::current() {
    ASSERT(!entries_.empty());
    return entries_.front();
}

bool ServerPool::rotate(std::int32_t attempts_max) {
    if (entries_.empty()) return false;
    ServerEntry entry = std::move(entries_.front());
    entries_.erase(entries_.begin());
    const bool exhausted =
        attempts_max >= 0 && entry.failures >= static_cast<std::uint32_t>(attempts_max);
    if (!exhausted) entries_.push_back(std::move(entry));
    return !entries_.empty();
}

bool ServerPool::contains(const std::string& address) const {
    for (const auto& entry : entries_) {
        if (entry.url.address() == address) return true;
    }
    return false;
}

}  // namespace herald::client
