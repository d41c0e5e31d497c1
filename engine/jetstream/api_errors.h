// The JetStream API error table (api_errors.def, a copy of nats-server's errors.json) and the
// {"code","err_code","description"} object every API response and PubAck carries on failure.
// Clients match on code and err_code (jetstream-api.md §1, §14), so they come only from the table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace herald::jetstream {

// Responses keep nats-server's field order (Go struct order); clients do not depend on it.
using Json = nlohmann::ordered_json;

enum class ApiError : std::uint16_t {
#define JS_API_ERROR(name, code, err_code, description) name,
#include "engine/jetstream/api_errors.def"
#undef JS_API_ERROR
};

struct ApiErrorInfo {
    int code = 0;                  // HTTP-like status.
    std::uint16_t err_code = 0;    // JetStream error code, 10000 and up.
    std::string_view description;  // May hold a "{placeholder}".
};

ApiErrorInfo api_error_info(ApiError error);

// One failure as sent: the table row with its placeholders filled in.
struct ApiFailure {
    ApiError error = ApiError::bad_request;
    std::string description;
};

// The failure with the table's description, its "{...}" placeholder (if any) replaced by
// `detail` (nats-server NewJS...Error(...) with one argument).
ApiFailure api_failure(ApiError error, std::string_view detail = {});

// {"code":..,"err_code":..,"description":".."}.
Json api_error_json(const ApiFailure& failure);

}  // namespace herald::jetstream
