// Operating errors of the stream stores. The texts of the limit errors are nats-server's store.go
// errors verbatim, because the JetStream API returns them to clients (PubAck error 503/10077).
#pragma once

#include <system_error>

namespace herald::store {

enum class Errc {
    ok = 0,
    closed,                             // ErrStoreClosed: the store was closed or has failed.
    message_not_found,                  // ErrStoreMsgNotFound: deleted or never stored.
    end_of_stream,                      // ErrStoreEOF: beyond the last sequence.
    max_messages_exceeded,              // ErrMaxMsgs (discard new).
    max_bytes_exceeded,                 // ErrMaxBytes (discard new).
    max_messages_per_subject_exceeded,  // ErrMaxMsgsPerSubject (discard new per subject).
    message_too_large,                  // ErrMsgTooLarge: larger than a block.
    sequence_mismatch,                  // ErrSequenceMismatch: an explicit seq not last_seq + 1.
    purge_argument_mismatch,            // ErrPurgeArgMismatch: seq > 1 together with keep > 0.
    write_queue_full,                   // More than FileStoreConfig::pending_bytes_max waiting.
    corrupt,                            // A record failed its checksum on read.
    failed,                             // An fsync or write failed earlier; restart to recover.
};

const std::error_category& errc_category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), errc_category()}; }

}  // namespace herald::store

template <>
struct std::is_error_code_enum<herald::store::Errc> : std::true_type {};
