#include "engine/store/errc.h"

#include <string>

namespace herald::store {
namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "herald.store"; }
    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::ok: return "ok";
            case Errc::closed: return "store is closed";
            case Errc::message_not_found: return "no message found";
            case Errc::end_of_stream: return "stream store EOF";
            case Errc::max_messages_exceeded: return "maximum messages exceeded";
            case Errc::max_bytes_exceeded: return "maximum bytes exceeded";
            case Errc::max_messages_per_subject_exceeded:
                return "maximum messages per subject exceeded";
            case Errc::message_too_large: return "message to large";  // [sic] nats-server.
            case Errc::sequence_mismatch: return "expected sequence does not match store";
            case Errc::purge_argument_mismatch: return "sequence > 1 && keep > 0 not allowed";
            case Errc::write_queue_full: return "store write queue full";
            case Errc::corrupt: return "stored record failed its checksum";
            case Errc::failed: return "store failed after an i/o error";
        }
        return "unknown";
    }
};

}  // namespace

const std::error_category& errc_category() {
    static const Category category;
    return category;
}

}  // namespace herald::store
