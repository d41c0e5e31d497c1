#include "engine/config/value.h"

namespace herald::config {

std::string_view value_kind_name(ValueKind kind) {
    switch (kind) {
        case ValueKind::string: return "string";
        case ValueKind::integer: return "integer";
        case ValueKind::floating: return "float";
        case ValueKind::boolean: return "boolean";
        case ValueKind::datetime: return "datetime";
        case ValueKind::array: return "array";
        case ValueKind::map: return "map";
    }
    return "unknown";
}

const MapEntry* Value::find(std::string_view key) const {
    for (const MapEntry& entry : entries) {
        if (entry.key == key) return &entry;
    }
    return nullptr;
}

MapEntry* Value::find(std::string_view key) {
    for (MapEntry& entry : entries) {
        if (entry.key == key) return &entry;
    }
    return nullptr;
}

std::string Value::where() const { return file + ":" + std::to_string(line); }

}  // namespace herald::config
