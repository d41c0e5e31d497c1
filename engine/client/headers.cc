#include "engine/client/headers.h"

#include <algorithm>

#include "engine/base/assert.h"
#include "engine/client/errc.h"

namespace herald::client {
namespace {

constexpr std::string_view version_line = "NATS/1.0";
constexpr std::size_t status_size = 3;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The next line of `block` from `position`, without its "\r\n" (or bare "\n"); nullopt if no
// line end is left.
std::optional<std::string_view> next_line(std::string_view block, std::size_t& position) {
    const std::size_t newline = block.find('\n', position);
    if (newline == std::string_view::npos) return std::nullopt;
    std::string_view line = block.substr(position, newline - position);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    position = newline + 1;
    return line;
}

}  // namespace

void Headers::add(std::string key, std::string value) {
    fields_.emplace_back(std::move(key), std::move(value));
}

void Headers::set(std::string key, std::string value) {
    erase(key);
    add(std::move(key), std::move(value));
}

std::size_t Headers::erase(std::string_view key) {
    const auto before = fields_.size();
    std::erase_if(fields_, [&](const Field& field) { return field.first == key; });
    return before - fields_.size();
}

std::optional<std::string_view> Headers::get(std::string_view key) const {
    for (const auto& field : fields_) {
        if (field.first == key) return std::string_view(field.second);
    }
    return std::nullopt;
}

std::vector<std::string_view> Headers::values(std::string_view key) const {
    std::vector<std::string_view> result;
    for (const auto& field : fields_) {
        if (field.first == key) result.emplace_back(field.second);
    }
    return result;
}

void Headers::clear() {
    status_.clear();
    description_.clear();
    fields_.clear();
}

void Headers::set_status(std::string status, std::string description) {
    ASSERT(status.size() == status_size || status.empty());
    status_ = std::move(status);
    description_ = std::move(description);
}

std::size_t Headers::encoded_size() const {
    std::size_t size = version_line.size() + 2;
    if (!status_.empty()) size += 1 + status_.size();
    if (!description_.empty()) size += 1 + description_.size();
    for (const auto& [key, value] : fields_) size += key.size() + 2 + value.size() + 2;
    return size + 2;
}

void Headers::encode(std::string& out) const {
    const std::size_t before = out.size();
    out += version_line;
    if (!status_.empty()) {
        out += ' ';
        out += status_;
        if (!description_.empty()) {
            out += ' ';
            out += description_;
        }
    }
    out += "\r\n";
    for (const auto& [key, value] : fields_) {
        out += key;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
    ASSERT(out.size() - before == encoded_size());
}

Result<Headers> Headers::decode(std::string_view block) {
    Headers headers;
    std::size_t position = 0;
    const auto first = next_line(block, position);
    if (!first || first->substr(0, version_line.size()) != version_line) {
        return Errc::protocol_error;
    }
    std::string_view status_line = trim(first->substr(version_line.size()));
    if (!status_line.empty()) {
        const std::size_t space = status_line.find(' ');
        const std::string_view code = status_line.substr(0, space);
        if (code.size() != status_size) return Errc::protocol_error;
        headers.status_.assign(code);
        if (space != std::string_view::npos) {
            headers.description_.assign(trim(status_line.substr(space + 1)));
        }
    }
    while (true) {
        const auto line = next_line(block, position);
        if (!line || line->empty()) break;
        const std::size_t colon = line->find(':');
        if (colon == std::string_view::npos || colon == 0) return Errc::protocol_error;
        headers.fields_.emplace_back(std::string(line->substr(0, colon)),
                                     std::string(trim(line->substr(colon + 1))));
    }
    return headers;
}

Status Headers::validate() const {
    if (!status_.empty() && status_.size() != status_size) return Errc::invalid_argument;
    if (description_.find_first_of("\r\n") != std::string::npos) return Errc::invalid_argument;
    for (const auto& [key, value] : fields_) {
        if (key.empty()) return Errc::invalid_argument;
        for (const char c : key) {
            if (c == ':' || c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                return Errc::invalid_argument;
            }
        }
        if (value.find_first_of("\r\n") != std::string::npos) return Errc::invalid_argument;
    }
    return ok();
}

}  // namespace herald::client
