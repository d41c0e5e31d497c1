// Headers: the NATS/1.0 header block of an HPUB/HMSG (ADR-4, core-protocol.md §5): an optional
// inline status ("503") and description, then ordered, repeatable, case-sensitive fields. Used by
// Connection to publish with headers and to decode received ones.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/result.h"

namespace herald::client {

// An ordered multimap of header fields plus the status line. Keys keep the case they were given
// (nats.go does not canonicalize when reading), and lookups are case-sensitive.
class Headers {
public:
    using Field = std::pair<std::string, std::string>;

    Headers() = default;
    Headers(std::initializer_list<Field> fields) : fields_(fields) {}

    // Appends a field (keys may repeat).
    void add(std::string key, std::string value);
    // Replaces every field named `key` with one.
    void set(std::string key, std::string value);
    // Removes every field named `key`; returns how many.
    std::size_t erase(std::string_view key);
    // The first value of `key`.
    std::optional<std::string_view> get(std::string_view key) const;
    std::vector<std::string_view> values(std::string_view key) const;

    const std::vector<Field>& fields() const { return fields_; }
    bool empty() const { return fields_.empty() && status_.empty(); }
    void clear();

    // The 3-digit inline status ("503", "100"), empty if none, and its description.
    const std::string& status() const { return status_; }
    const std::string& description() const { return description_; }
    void set_status(std::string status, std::string description = {});

    // Bytes of encode(): "NATS/1.0[ status[ description]]\r\n" + "Key: value\r\n"... + "\r\n".
    std::size_t encoded_size() const;
    void encode(std::string& out) const;
    // Parses a block as sent in HMSG. Tolerates a bare "\n" line end and spaces after the colon.
    static Result<Headers> decode(std::string_view block);
    // Checks keys and values: a key has no ':', whitespace or control bytes; a value no CR/LF.
    Status validate() const;

    friend bool operator==(const Headers&, const Headers&) = default;

private:
    std::string status_;
    std::string description_;
    std::vector<Field> fields_;
};

}  // namespace herald::client
