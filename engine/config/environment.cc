// The config loader's view of files: it reads them synchronously, before any event loop exists.
// Environment variables come in through SystemEnvironment's lookup (io::read_process_variable).
#include "engine/config/environment.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "engine/config/errc.h"

namespace herald::config {

Result<std::string> SystemEnvironment::read_file(const std::string& path,
                                                 std::string& error_message) const {
    return read_text_file(path, error_message);
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
