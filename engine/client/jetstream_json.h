// Internal to engine/client: the JSON side of jetstream.h (nlohmann), shared by jetstream.cc,
// kv.cc and object_store.cc. Not for other folders: it pulls in nlohmann/json.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/client/jetstream.h"

namespace herald::client::detail {

// Reads that never throw: a missing key or a wrong type gives `otherwise` / empty.
std::int64_t get_i64(const nlohmann::json& object, const char* key, std::int64_t otherwise = 0);
std::uint64_t get_u64(const nlohmann::json& object, const char* key);
std::string get_str(const nlohmann::json& object, const char* key);
bool get_bool(const nlohmann::json& object, const char* key);
const nlohmann::json& get_obj(const nlohmann::json& object, const char* key);
std::vector<std::string> get_strings(const nlohmann::json& object, const char* key);

// {"code","err_code","description"} → JsError with the matching JsErrc.
JsError api_error_of(const nlohmann::json& error);

std::string encode_stream_config(const StreamConfig& config);
StreamConfig stream_config_of(const nlohmann::json& object);
StreamInfo stream_info_of(const nlohmann::json& object, std::string text);
std::string encode_consumer_config(const ConsumerConfig& config);
ConsumerConfig consumer_config_of(const nlohmann::json& object);
ConsumerInfo consumer_info_of(const nlohmann::json& object, std::string text);

// Standard or URL-safe base64, padding optional.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace herald::client::detail
