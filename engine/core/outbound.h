// Outbound: the bytes waiting to be written to one connection, as a queue of reusable chunks that
// are handed to the stream as one vectored write. Appending never waits; a write in flight owns
// the chunks it was given until it completes. Runs on the node's loop.
#pragma once

#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/limits.h"

namespace herald::core {

class Outbound {
public:
    // Appends bytes after everything queued so far.
    void append(std::string_view bytes);
    // A chunk to append into directly (avoids a copy through a temporary string): at least
    // `hint` bytes of spare capacity are not guaranteed, the chunk just grows.
    std::string& tail_chunk(std::size_t hint);
    void commit_tail(std::size_t added) { bytes_pending_ += added; }

    bool write_in_flight() const { return in_flight_chunks_ != 0; }
    bool empty() const { return bytes_pending_ == 0; }
    std::size_t bytes_pending() const { return bytes_pending_; }  // queued + in flight

    // Marks up to limits::write_iovecs_max chunks as in flight and returns them as buffers for
    // one vectored write. Precondition: !write_in_flight() and !empty().
    std::span<const std::span<const std::byte>> start_write();
    // The write started by start_write() finished: its chunks are recycled.
    void finish_write();

private:
    static constexpr std::size_t free_chunks_max = 4;

    std::deque<std::string> chunks_;
    std::vector<std::string> free_chunks_;
    std::vector<std::span<const std::byte>> iovecs_;
    std::size_t in_flight_chunks_ = 0;
    std::size_t in_flight_bytes_ = 0;
    std::size_t bytes_pending_ = 0;
};

}  // namespace herald::core
