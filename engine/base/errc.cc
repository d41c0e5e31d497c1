#include "engine/base/errc.h"

#include <string>

namespace herald::base {
namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "herald.base"; }
    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::ok: return "ok";
            case Errc::io_error: return "i/o error";
            case Errc::closed: return "closed";
            case Errc::timed_out: return "timed out";
            case Errc::would_block: return "would block";
            case Errc::not_found: return "not found";
            case Errc::already_exists: return "already exists";
            case Errc::invalid_argument: return "invalid argument";
            case Errc::no_space: return "no space left on device";
            case Errc::connection_refused: return "connection refused";
            case Errc::connection_reset: return "connection reset";
            case Errc::address_in_use: return "address in use";
            case Errc::parse_error: return "parse error";
            case Errc::limit_exceeded: return "limit exceeded";
            case Errc::cancelled: return "cancelled";
        }
        return "unknown";
    }
};

}  // namespace

const std::error_category& errc_category() {
    static const Category category;
    return category;
}

}  // namespace herald::base
