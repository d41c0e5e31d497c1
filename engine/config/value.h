// The parsed form of a nats-server style config file: a tree of maps, arrays and scalars where
// every value remembers the file and line it came from, so that errors found while turning the
// tree into Options can name `file:line`. Built by parser.h, read by loader.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::config {

enum class ValueKind { string, integer, floating, boolean, datetime, array, map };

std::string_view value_kind_name(ValueKind kind);

struct MapEntry;

// One node of the tree. Only the fields of its kind are meaningful. Maps keep the order of their
// keys as written; a key written twice keeps its first position and its last value (as the Go map
// in conf/parse.go does).
struct Value {
    ValueKind kind = ValueKind::map;
    std::string text;                  // string and datetime ("2006-01-02T15:04:05Z")
    std::int64_t integer = 0;
    double floating = 0.0;
    bool boolean = false;
    std::vector<Value> items;          // array
    std::vector<MapEntry> entries;     // map
    std::string file;                  // where the value was written (the including file for
    int line = 0;                      // values that came from an environment variable)

    bool is_map() const { return kind == ValueKind::map; }
    bool is_array() const { return kind == ValueKind::array; }
    bool is_string() const { return kind == ValueKind::string; }
    bool is_integer() const { return kind == ValueKind::integer; }

    // The entry with this key compared case-sensitively (variables), or null.
    const MapEntry* find(std::string_view key) const;
    MapEntry* find(std::string_view key);
    // "file:line" for messages.
    std::string where() const;
};

struct MapEntry {
    std::string key;                   // as written
    Value value;
    int key_line = 0;
    bool used_as_variable = false;     // referenced as $key: not an unknown option then
};

}  // namespace herald::config
