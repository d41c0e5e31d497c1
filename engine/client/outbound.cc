#include "engine/client/outbound.h"

#include <algorithm>

namespace herald::client {

Outbound::Outbound(std::size_t chunk_size) : chunk_size_(chunk_size) { ASSERT(chunk_size_ > 0); }

void Outbound::sync_tail() {
    if (tail_ == nullptr) return;
    Chunk& last = chunks_.back();
    last.size = static_cast<std::size_t>(tail_ - last.data.get());
    ASSERT(last.size <= last.capacity);
}

char* Outbound::reserve_slow(std::size_t size) {
    sync_tail();
    Chunk chunk;
    if (size <= chunk_size_ && !free_.empty()) {
        chunk = std::move(free_.back());
        free_.pop_back();
        chunk.size = 0;
    } else {
        chunk.capacity = std::max(size, chunk_size_);
        chunk.data = std::make_unique_for_overwrite<char[]>(chunk.capacity);
    }
    chunks_.push_back(std::move(chunk));
    Chunk& last = chunks_.back();
    tail_ = last.data.get();
    tail_end_ = tail_ + last.capacity;
    return tail_;
}

std::size_t Outbound::begin_write(std::vector<std::span<const std::byte>>& iovecs,
                                  std::size_t iovecs_max) {
    ASSERT(!writing());
    sync_tail();
    std::size_t bytes = 0;
    std::size_t index = 0;
    while (index < chunks_.size() && iovecs.size() < iovecs_max) {
        const Chunk& chunk = chunks_[index];
        if (chunk.size > 0) {
            iovecs.emplace_back(reinterpret_cast<const std::byte*>(chunk.data.get()), chunk.size);
            bytes += chunk.size;
        }
        ++index;
    }
    in_flight_chunks_ = index;
    in_flight_bytes_ = bytes;
    // The tail chunk, if handed out, takes no more bytes.
    if (index == chunks_.size()) {
        tail_ = nullptr;
        tail_end_ = nullptr;
    }
    ASSERT(bytes <= pending_bytes_);
    pending_bytes_ -= bytes;
    return bytes;
}

void Outbound::end_write() {
    ASSERT(in_flight_chunks_ <= chunks_.size());
    for (std::size_t i = 0; i < in_flight_chunks_; ++i) recycle(std::move(chunks_[i]));
    chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(in_flight_chunks_));
    in_flight_chunks_ = 0;
    in_flight_bytes_ = 0;
    if (chunks_.empty()) ASSERT(tail_ == nullptr);
}

void Outbound::recycle(Chunk chunk) {
    if (chunk.capacity == chunk_size_ && free_.size() < free_chunks_max) {
        chunk.size = 0;
        free_.push_back(std::move(chunk));
    }
}

std::size_t Outbound::clear() {
    const std::size_t dropped = pending_bytes_;
    sync_tail();
    for (auto& chunk : chunks_) recycle(std::move(chunk));
    chunks_.clear();
    in_flight_chunks_ = 0;
    in_flight_bytes_ = 0;
    pending_bytes_ = 0;
    tail_ = nullptr;
    tail_end_ = nullptr;
    return dropped;
}

}  // namespace herald::client
