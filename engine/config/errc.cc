#include "engine/config/errc.h"

#include <string>

namespace herald::config {
namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "herald.config"; }
    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::ok: return "ok";
            case Errc::syntax_error: return "config syntax error";
            case Errc::unknown_field: return "unknown config field";
            case Errc::unsupported: return "unsupported option";
            case Errc::invalid_value: return "invalid config value";
            case Errc::file_error: return "config file cannot be read";
            case Errc::invalid_flag: return "invalid command-line flag";
        }
        return "unknown";
    }
};

}  // namespace

const std::error_category& errc_category() {
    static const Category category;
    return category;
}

}  // namespace herald::config
