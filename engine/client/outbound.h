// Outbound: the bytes a Connection has yet to write, as a list of chunks that frames are encoded
// into directly (no copy through a temporary), written with one vectored write at a time. The
// chunks of the write in flight are never appended to; written chunks are recycled.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "engine/base/assert.h"

namespace herald::client {

class Outbound {
public:
    static constexpr std::size_t free_chunks_max = 64;

    explicit Outbound(std::size_t chunk_size);

    // `size` writable bytes at the end of the buffer; write them, then commit(size).
    char* reserve(std::size_t size) {
        if (static_cast<std::size_t>(tail_end_ - tail_) >= size) [[likely]] return tail_;
        return reserve_slow(size);
    }
    void commit(std::size_t size) {
        ASSERT(static_cast<std::size_t>(tail_end_ - tail_) >= size);
        tail_ += size;
        pending_bytes_ += size;
    }
    void append(std::string_view bytes) {
        char* target = reserve(bytes.size());
        if (!bytes.empty()) std::memcpy(target, bytes.data(), bytes.size());
        commit(bytes.size());
    }

    // Bytes not yet handed to a write.
    std::size_t pending_bytes() const { return pending_bytes_; }
    bool writing() const { return in_flight_chunks_ > 0; }
    std::size_t in_flight_bytes() const { return in_flight_bytes_; }

    // Hands up to `iovecs_max` chunks of pending bytes to `iovecs` (appended), marking them in
    // flight. Returns the bytes handed out.
    std::size_t begin_write(std::vector<std::span<const std::byte>>& iovecs, std::size_t iovecs_max);
    // The write in flight completed: recycle its chunks.
    void end_write();
    // Drops everything, in flight included (the stream that had it is gone). Returns the bytes
    // dropped that were not in flight.
    std::size_t clear();

private:
    struct Chunk {
        std::unique_ptr<char[]> data;
        std::size_t capacity = 0;
        std::size_t size = 0;
    };

    char* reserve_slow(std::size_t size);
    void sync_tail();
    void recycle(Chunk chunk);

    std::size_t chunk_size_;
    std::vector<Chunk> chunks_;       // in flight first, then pending; the last may be the tail
    std::vector<Chunk> free_;         // recycled chunks of chunk_size_ (at most free_chunks_max)
    std::size_t in_flight_chunks_ = 0;
    std::size_t in_flight_bytes_ = 0;
    std::size_t pending_bytes_ = 0;
    char* tail_ = nullptr;            // next free byte of the last chunk, if it is writable
    char* tail_end_ = nullptr;
};

}  // namespace herald::client
