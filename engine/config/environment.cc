// The only file in engine/ that reads environment variables and opens files without io::Env
// (allow-listed in the tidy test): the config loader runs before any event loop exists.
#include "engine/config/environment.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "engine/config/errc.h"

namespace herald::config {
namespace {

class ProcessEnvironment final : public Environment {
public:
    std::optional<std::string> variable(const std::string& name) const override {
        return read_environment_variable(name);
    }
    Result<std::string> read_file(const std::string& path,
                                  std::string& error_message) const override {
        return read_text_file(path, error_message);
    }
};

}  // namespace

const Environment& process_environment() {
    static const ProcessEnvironment environment;
    return environment;
}

std::optional<std::string> read_environment_variable(const std::string& name) {
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): before threads.
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

Result<std::string> read_text_file(const std::string& path, std::string& error_message) {
    std::ifstream file(path, std::ios::in | std::ios::binary);
    if (!file) {
        error_message = "error opening config file \"" + path + "\": " + std::strerror(errno);
        return Errc::file_error;
    }
    std::string contents;
    char buffer[64 * 1024];
    while (file) {
        file.read(buffer, sizeof(buffer));
        const std::streamsize got = file.gcount();
        if (got <= 0) break;
        if (contents.size() + static_cast<std::size_t>(got) > config_file_size_max) {
            error_message = "config file \"" + path + "\" is larger than " +
                            std::to_string(config_file_size_max) + " bytes";
            return Errc::file_error;
        }
        contents.append(buffer, static_cast<std::size_t>(got));
    }
    if (file.bad()) {
        error_message = "error reading config file \"" + path + "\"";
        return Errc::file_error;
    }
    return contents;
}

std::optional<std::string> MemoryEnvironment::variable(const std::string& name) const {
    auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
}

Result<std::string> MemoryEnvironment::read_file(const std::string& path,
                                                 std::string& error_message) const {
    auto found = files.find(path);
    if (found == files.end()) {
        error_message = "error opening config file \"" + path + "\": No such file or directory";
        return Errc::file_error;
    }
    return found->second;
}

}  // namespace herald::config
