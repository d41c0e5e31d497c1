#include "engine/core/outbound.h"

#include <algorithm>

#include "engine/base/assert.h"

namespace herald::core {

std::string& Outbound::tail_chunk(std::size_t hint) {
    const bool need_new = chunks_.size() == in_flight_chunks_
                          || chunks_.back().size() + hint > limits::outbound_chunk_size;
    if (need_new) {
        if (free_chunks_.empty()) {
            chunks_.emplace_back();
            chunks_.back().reserve(std::max(hint, limits::outbound_chunk_size));
        } else {
            chunks_.push_back(std::move(free_chunks_.back()));
            free_chunks_.pop_back();
            ASSERT(chunks_.back().empty());
        }
    }
    return chunks_.back();
}

void Outbound::append(std::string_view bytes) {
    tail_chunk(bytes.size()).append(bytes);
    bytes_pending_ += bytes.size();
}

std::span<const std::span<const std::byte>> Outbound::start_write() {
    ASSERT(!write_in_flight());
    ASSERT(!empty());
    iovecs_.clear();
    in_flight_bytes_ = 0;
    for (const std::string& chunk : chunks_) {
        if (iovecs_.size() == limits::write_iovecs_max) break;
        if (chunk.empty()) continue;
        iovecs_.emplace_back(reinterpret_cast<const std::byte*>(chunk.data()), chunk.size());
        in_flight_bytes_ += chunk.size();
    }
    in_flight_chunks_ = std::min(chunks_.size(), limits::write_iovecs_max);
    ASSERT(in_flight_bytes_ > 0);
    return iovecs_;
}

void Outbound::finish_write() {
    ASSERT(write_in_flight());
    ASSERT(bytes_pending_ >= in_flight_bytes_);
    bytes_pending_ -= in_flight_bytes_;
    for (std::size_t i = 0; i < in_flight_chunks_; ++i) {
        std::string chunk = std::move(chunks_.front());
        chunks_.pop_front();
        // Keep a few ordinary chunks for reuse; let oversized ones go.
        if (free_chunks_.size() < free_chunks_max
            && chunk.capacity() <= 2 * limits::outbound_chunk_size) {
            chunk.clear();
            free_chunks_.push_back(std::move(chunk));
        }
    }
    in_flight_chunks_ = 0;
    in_flight_bytes_ = 0;
    if (chunks_.empty()) ASSERT(bytes_pending_ == 0);
}

}  // namespace herald::core
