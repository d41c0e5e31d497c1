#include "engine/io/asio/asio_env.h"

#include <cstdlib>

namespace herald::io {

std::optional<std::string> read_process_variable(const std::string& name) {
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): before threads.
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

}  // namespace herald::io
