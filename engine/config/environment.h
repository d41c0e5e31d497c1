// The outside world as the config loader sees it: environment variables (for `$name` references
// that no enclosing block defines) and files (the config file and its includes). The loader runs
// before the node's event loop starts, so reading here is synchronous. Tests pass a
// MemoryEnvironment; herald-server passes a SystemEnvironment whose variables come from
// io::read_process_variable (engine/io/asio/).
#pragma once

#include <functional>
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

// Real files, and variables from an injected lookup (the process environment in herald-server).
class SystemEnvironment final : public Environment {
public:
    using VariableLookup = std::function<std::optional<std::string>(const std::string&)>;
    explicit SystemEnvironment(VariableLookup lookup) : lookup_(std::move(lookup)) {}

    std::optional<std::string> variable(const std::string& name) const override {
        return lookup_ ? lookup_(name) : std::nullopt;
    }
    Result<std::string> read_file(const std::string& path,
                                  std::string& error_message) const override;

private:
    VariableLookup lookup_;
};

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
