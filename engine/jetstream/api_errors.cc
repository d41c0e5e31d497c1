#include "engine/jetstream/api_errors.h"

#include <array>

#include "engine/base/assert.h"

namespace herald::jetstream {

namespace {

constexpr std::array api_errors = {
#define JS_API_ERROR(name, code, err_code, description) ApiErrorInfo{code, err_code, description},
#include "engine/jetstream/api_errors.def"
#undef JS_API_ERROR
};

}  // namespace

ApiErrorInfo api_error_info(ApiError error) {
    const auto index = static_cast<std::size_t>(error);
    ASSERT(index < api_errors.size());
    return api_errors[index];
}

ApiFailure api_failure(ApiError error, std::string_view detail) {
    const ApiErrorInfo info = api_error_info(error);
    std::string description(info.description);
    const auto open = description.find('{');
    const auto close = open == std::string::npos ? open : description.find('}', open);
    if (close != std::string::npos) description.replace(open, close - open + 1, detail);
    return ApiFailure{error, std::move(description)};
}

Json api_error_json(const ApiFailure& failure) {
    const ApiErrorInfo info = api_error_info(failure.error);
    Json error = Json::object();
    error["code"] = info.code;
    error["err_code"] = info.err_code;
    error["description"] = failure.description;
    return error;
}

}  // namespace herald::jetstream
