#include "engine/auth/errc.h"

#include <string>

namespace herald::auth {
namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "herald.auth"; }
    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::ok: return "ok";
            case Errc::authorization_violation: return "Authorization Violation";
            case Errc::invalid_config: return "invalid authorization config";
        }
        return "unknown";
    }
};

}  // namespace

const std::error_category& errc_category() {
    static const Category category;
    return category;
}

}  // namespace herald::auth
