// The outside world as the config loader sees it: environment variables (for `$name` references
// that no enclosing block defines) and files (the config file and its includes). The loader runs
// before the node's event loop starts, so reading here is synchronous. Tests pass a
// MemoryEnvironment; herald-server passes process_environment().
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/base/result.h"

namespace herald::config {

// Largest config or include file read; a bigger one is an error, not a slow start.
inline constexpr std::size_t config_file_size_max = 16 * 1024 * 1024;

class Environment {
public:
    virtual ~Environment() = default;
    virtual std::optional<std::string> variable(const std::string& name) const = 0;
    // The whole file, or an error (file_error) with a reason in `error_message`.
    virtual Result<std::string> read_file(const std::string& path,
                                          std::string& error_message) const = 0;
};

// The process environment and the real file system. engine/config/environment.cc is the only
// place in engine/ allowed to call getenv or open files directly (tidy allow-list).
const Environment& process_environment();

// The one getenv call of the engine.
std::optional<std::string> read_environment_variable(const std::string& name);

// Reads a whole text file of at most config_file_size_max bytes.
Result<std::string> read_text_file(const std::string& path, std::string& error_message);

// An environment held in memory, for tests and embedders.
class MemoryEnvironment final : public Environment {
public:
    std::map<std::string, std::string> variables;
    std::map<std::string, std::string> files;  // path as the loader asks for it -> contents

    std::optional<std::string> variable(const std::string& name) const override;
    Result<std::string> read_file(const std::string& path,
                                  std::string& error_message) const override;
};

}  // namespace herald::config
