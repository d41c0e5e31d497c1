// The subject-interest trie. See sublist.h.
#include "engine/core/sublist.h"

#include <algorithm>
#include <functional>

#include "engine/base/assert.h"
#include "engine/base/errc.h"
#include "engine/base/limits.h"

namespace herald::core {

namespace {

using protocol::TokenReader;

// One empty result shared by every sublist, so a miss without interest allocates no result.
const SublistResultPtr& empty_result() {
    static const SublistResultPtr empty = std::make_shared<const SublistResult>();
    return empty;
}

// nats-server Sublist.match returns the empty result for a subject with an empty token.
bool has_empty_token(std::string_view subject) {
    if (subject.empty()) return true;
    if (subject.front() == protocol::subject_separator) return true;
    if (subject.back() == protocol::subject_separator) return true;
    return subject.find("..") != std::string_view::npos;
}

// Swap-remove: O(1), and the order left behind depends only on the sequence of operations.
void swap_remove(std::vector<Subscription*>& subs, Subscription& sub) {
    ASSERT(sub.sublist_index < subs.size());
    ASSERT(subs[sub.sublist_index] == &sub);
    const std::size_t index = sub.sublist_index;
    if (index + 1 != subs.size()) {
        subs[index] = subs.back();
        subs[index]->sublist_index = index;
    }
    subs.pop_back();
    sub.sublist_index = sublist_index_none;
}

bool holds(const std::vector<Subscription*>& subs, const Subscription& sub) {
    return sub.sublist_index < subs.size() && subs[sub.sublist_index] == &sub;
}

bool same_result(const SublistResult& a, const SublistResult& b) {
    if (a.plain != b.plain) return false;
    if (a.queue_groups.size() != b.queue_groups.size()) return false;
    for (std::size_t i = 0; i < a.queue_groups.size(); i++) {
        if (a.queue_groups[i].members != b.queue_groups[i].members) return false;
    }
    return true;
}

}  // namespace

Sublist::Sublist(bool cache_enabled) : cache_enabled_(cache_enabled), root_(std::make_unique<Level>()) {
    if (cache_enabled_) admission_.assign(admission_bits / 64, 0);
}

Sublist::~Sublist() = default;
Sublist::Sublist(Sublist&&) noexcept = default;
Sublist& Sublist::operator=(Sublist&&) noexcept = default;

Status Sublist::insert(Subscription& sub) {
    ASSERT(sub.sublist_index == sublist_index_none);
    if (!protocol::is_valid_subject(sub.subject)) return base::Errc::invalid_argument;

    Level* level = root_.get();
    Node* node = nullptr;
    TokenReader tokens(sub.subject);
    while (!tokens.done()) {
        if (level == nullptr) {
            ASSERT(node != nullptr);  // The root level always exists.
            node->next = std::make_unique<Level>();
            level = node->next.get();
        }
        const std::string_view token = tokens.next();
        if (protocol::is_partial_wildcard(token)) {
            if (!level->partial_wildcard) level->partial_wildcard = std::make_unique<Node>();
            node = level->partial_wildcard.get();
        } else if (protocol::is_full_wildcard(token)) {
            ASSERT(tokens.done());  // is_valid_subject: '>' is last.
            if (!level->full_wildcard) level->full_wildcard = std::make_unique<Node>();
            node = level->full_wildcard.get();
        } else {
            auto found = level->nodes.find(token);
            if (found == level->nodes.end()) found = level->nodes.try_emplace(std::string(token)).first;
            node = &found->second;
        }
        level = node->next.get();
    }
    ASSERT(node != nullptr);

    if (sub.queue.empty()) {
        sub.sublist_index = node->plain.size();
        node->plain.push_back(&sub);
    } else {
        auto group = std::find_if(node->queues.begin(), node->queues.end(),
                                  [&](const QueueSubs& queue) { return queue.name == sub.queue; });
        if (group == node->queues.end()) {
            node->queues.push_back(QueueSubs{sub.queue, {}});
            group = node->queues.end() - 1;
        }
        sub.sublist_index = group->members.size();
        group->members.push_back(&sub);
    }
    count_++;
    stats_.inserts++;
    ++generation_;
    // Unlike nats-server addToCache we drop affected entries rather than append to them: an
    // appended entry would order its subscriptions differently from a fresh match, and the
    // copy nats-server makes costs the same O(fanout) as the next match rebuilding it.
    invalidate_cache(sub);
    ASSERT(sub.sublist_index != sublist_index_none);
    return ok();
}

Status Sublist::remove(Subscription& sub) {
    Status status = remove_without_cache(sub);
    if (status) invalidate_cache(sub);
    return status;
}

Status Sublist::remove_batch(std::span<Subscription* const> subs) {
    Status status = ok();
    for (Subscription* sub : subs) {
        ASSERT(sub != nullptr);
        Status removed = remove_without_cache(*sub);
        if (!removed) status = removed;
    }
    if (!subs.empty()) cache_.clear();
    return status;
}

Status Sublist::remove_without_cache(Subscription& sub) {
    if (sub.sublist_index == sublist_index_none) return base::Errc::not_found;
    if (!protocol::is_valid_subject(sub.subject)) return base::Errc::not_found;
    Status status = remove_from_level(*root_, TokenReader(sub.subject), sub);
    if (!status) return status;
    ASSERT(count_ > 0);
    ASSERT(sub.sublist_index == sublist_index_none);
    count_--;
    stats_.removes++;
    ++generation_;
    return ok();
}

// Descends along the subject's tokens, removes `sub` from the last node, and prunes the nodes and
// levels that it leaves empty on the way back up (nats-server remove + pruneNode).
Status Sublist::remove_from_level(Level& level, TokenReader tokens, Subscription& sub) {
    ASSERT(!tokens.done());
    const std::string_view token = tokens.next();
    Node* node = nullptr;
    auto found = level.nodes.end();
    if (protocol::is_partial_wildcard(token)) {
        node = level.partial_wildcard.get();
    } else if (protocol::is_full_wildcard(token)) {
        node = level.full_wildcard.get();
    } else {
        found = level.nodes.find(token);
        if (found != level.nodes.end()) node = &found->second;
    }
    if (node == nullptr) return base::Errc::not_found;

    Status status = ok();
    if (tokens.done()) {
        status = remove_from_node(*node, sub);
    } else if (node->next) {
        status = remove_from_level(*node->next, tokens, sub);
        if (status && level_is_empty(*node->next)) node->next.reset();
    } else {
        status = base::Errc::not_found;
    }
    if (status && node_is_empty(*node)) {
        if (node == level.partial_wildcard.get()) {
            level.partial_wildcard.reset();
        } else if (node == level.full_wildcard.get()) {
            level.full_wildcard.reset();
        } else {
            ASSERT(found != level.nodes.end());
            level.nodes.erase(found);
        }
    }
    return status;
}

Status Sublist::remove_from_node(Node& node, Subscription& sub) {
    if (sub.queue.empty()) {
        if (!holds(node.plain, sub)) return base::Errc::not_found;
        swap_remove(node.plain, sub);
        return ok();
    }
    auto group = std::find_if(node.queues.begin(), node.queues.end(),
                              [&](const QueueSubs& queue) { return queue.name == sub.queue; });
    if (group == node.queues.end() || !holds(group->members, sub)) return base::Errc::not_found;
    swap_remove(group->members, sub);
    // Erase rather than swap so the remaining groups keep their creation order.
    if (group->members.empty()) node.queues.erase(group);
    return ok();
}

void Sublist::invalidate_cache(const Subscription& sub) {
    if (cache_.empty()) return;
    // A literal subject can only be in the result for itself (nats-server removeFromCache).
    if (!protocol::subject_has_wildcard(sub.subject)) {
        auto found = cache_.find(std::string_view(sub.subject));
        if (found != cache_.end()) cache_.erase(found);
        return;
    }
    // The set erased does not depend on iteration order.
    std::erase_if(cache_, [&](const auto& entry) { return protocol::subject_matches(sub.subject, entry.first); });
}

SublistResultPtr Sublist::match(std::string_view subject) {
    stats_.matches++;
    if (cache_enabled_) {
        auto found = cache_.find(subject);
        if (found != cache_.end()) {
            stats_.cache_hits++;
            found->second.last_used = ++cache_clock_;
            return found->second.result;
        }
    }
    if (has_empty_token(subject)) return empty_result();

    // Collect into reused scratch vectors, then copy once at the exact size: a miss allocates the
    // result, its vectors and the cache key, not every growth step.
    scratch_.plain.clear();
    scratch_.queue_groups.clear();
    match_level(root_.get(), TokenReader(subject), scratch_);
    if (!cache_enabled_ || !seen_before(std::hash<std::string_view>{}(subject))) {
        return scratch_.empty() ? empty_result() : uncached_result();
    }
    SublistResultPtr result = scratch_.empty() ? empty_result() : std::make_shared<const SublistResult>(scratch_);
    cache_.try_emplace(std::string(subject), CacheEntry{result, ++cache_clock_});
    if (cache_.size() > limits::sublist_cache_entries_max) sweep_cache();
    return result;
}

bool Sublist::seen_before(std::size_t hash) {
    ASSERT(admission_.size() * 64 == admission_bits);
    if (admission_misses_ == admission_window) {
        std::fill(admission_.begin(), admission_.end(), 0);
        admission_misses_ = 0;
    }
    admission_misses_++;
    // Two bit positions from the one hash (the low and the high half, mixed).
    const std::uint64_t h = static_cast<std::uint64_t>(hash);
    const std::uint64_t a = h % admission_bits;
    const std::uint64_t b = ((h >> 32) ^ (h * 0x9E3779B97F4A7C15ULL >> 40)) % admission_bits;
    const std::uint64_t mask_a = std::uint64_t{1} << (a % 64);
    const std::uint64_t mask_b = std::uint64_t{1} << (b % 64);
    const bool seen = (admission_[a / 64] & mask_a) != 0 && (admission_[b / 64] & mask_b) != 0;
    admission_[a / 64] |= mask_a;
    admission_[b / 64] |= mask_b;
    return seen;
}

// Copies scratch_ into a spare result that no caller holds (the Client keeps its last match, so
// two spares let consecutive one-off subjects alternate), or into a new one.
SublistResultPtr Sublist::uncached_result() {
    for (std::shared_ptr<SublistResult>& spare : spare_) {
        if (spare && spare.use_count() == 1) {
            spare->plain = scratch_.plain;
            spare->queue_groups = scratch_.queue_groups;
            return spare;
        }
    }
    std::shared_ptr<SublistResult>& slot = spare_[0] && spare_[0].use_count() > 1 ? spare_[1] : spare_[0];
    slot = std::make_shared<SublistResult>(scratch_);
    return slot;
}

// nats-server matchLevel: at each level take the `>` node, recurse into the `*` branch with the
// remaining tokens, then follow the literal token. Subject tokens are literal: "*" in a subject
// finds no literal node because wildcard nodes live on their own links.
void Sublist::match_level(const Level* level, TokenReader tokens, SublistResult& result) {
    const Node* node = nullptr;
    const Node* partial = nullptr;
    while (!tokens.done()) {
        if (level == nullptr) return;
        const std::string_view token = tokens.next();
        if (level->full_wildcard) add_node_to_result(*level->full_wildcard, result);
        partial = level->partial_wildcard.get();
        if (partial != nullptr) match_level(partial->next.get(), tokens, result);
        const auto found = level->nodes.find(token);
        node = found == level->nodes.end() ? nullptr : &found->second;
        level = node == nullptr ? nullptr : node->next.get();
    }
    if (node != nullptr) add_node_to_result(*node, result);
    if (partial != nullptr) add_node_to_result(*partial, result);
}

void Sublist::add_node_to_result(const Node& node, SublistResult& result) {
    result.plain.insert(result.plain.end(), node.plain.begin(), node.plain.end());
    for (const QueueSubs& queue : node.queues) {
        ASSERT(!queue.members.empty());
        auto group = std::find_if(result.queue_groups.begin(), result.queue_groups.end(),
                                  [&](const QueueGroup& g) { return g.name() == queue.name; });
        if (group == result.queue_groups.end()) {
            result.queue_groups.push_back(QueueGroup{queue.members});
        } else {
            group->members.insert(group->members.end(), queue.members.begin(), queue.members.end());
        }
    }
}

// Keeps the sublist_cache_sweep_to most recently used entries. nats-server drops entries in Go's
// random map order; least recently used is deterministic and keeps the hot subjects.
void Sublist::sweep_cache() {
    ASSERT(cache_.size() > limits::sublist_cache_sweep_to);
    sweep_scratch_.clear();
    for (const auto& entry : cache_) sweep_scratch_.push_back(entry.second.last_used);
    const auto keep_end = sweep_scratch_.begin() + static_cast<std::ptrdiff_t>(limits::sublist_cache_sweep_to);
    std::nth_element(sweep_scratch_.begin(), keep_end - 1, sweep_scratch_.end(), std::greater<>());
    const std::uint64_t oldest_kept = *(keep_end - 1);
    std::erase_if(cache_, [&](const auto& entry) { return entry.second.last_used < oldest_kept; });
    ASSERT(cache_.size() == limits::sublist_cache_sweep_to);
}

Sublist::Stats Sublist::stats() const {
    Stats stats = stats_;
    stats.count = count_;
    stats.cache_entries = cache_.size();
    return stats;
}

bool Sublist::level_is_empty(const Level& level) {
    return level.nodes.empty() && !level.partial_wildcard && !level.full_wildcard;
}

bool Sublist::node_is_empty(const Node& node) {
    return node.plain.empty() && node.queues.empty() && (!node.next || level_is_empty(*node.next));
}

void Sublist::check_invariants() const {
    std::string path;
    const std::size_t walked = check_level(*root_, path);
    ASSERT(walked == count_);
    ASSERT(cache_enabled_ || cache_.empty());
    ASSERT(cache_.size() <= limits::sublist_cache_entries_max);
    for (const auto& [subject, entry] : cache_) {
        ASSERT(entry.result != nullptr);
        ASSERT(entry.last_used <= cache_clock_);
        SublistResult fresh;
        if (!has_empty_token(subject)) match_level(root_.get(), TokenReader(subject), fresh);
        ASSERT(same_result(fresh, *entry.result));
    }
}

std::size_t Sublist::check_level(const Level& level, std::string& path) {
    std::size_t count = 0;
    const std::size_t path_size = path.size();
    const auto visit = [&](const Node& node, std::string_view token) {
        if (path_size > 0) path += protocol::subject_separator;
        path += token;
        ASSERT(!node_is_empty(node));
        if (node.next) ASSERT(!level_is_empty(*node.next));
        count += check_node(node, path);
        if (node.next) count += check_level(*node.next, path);
        path.resize(path_size);
    };
    for (const auto& [token, node] : level.nodes) {
        ASSERT(!token.empty());
        ASSERT(!protocol::is_wildcard_token(token));
        visit(node, token);
    }
    if (level.partial_wildcard) visit(*level.partial_wildcard, protocol::partial_wildcard);
    if (level.full_wildcard) {
        ASSERT(!level.full_wildcard->next);  // '>' is always the last token.
        visit(*level.full_wildcard, protocol::full_wildcard);
    }
    return count;
}

std::size_t Sublist::check_node(const Node& node, const std::string& path) {
    std::size_t count = node.plain.size();
    for (std::size_t i = 0; i < node.plain.size(); i++) {
        ASSERT(node.plain[i]->sublist_index == i);
        ASSERT(node.plain[i]->queue.empty());
        ASSERT(node.plain[i]->subject == path);
    }
    for (std::size_t g = 0; g < node.queues.size(); g++) {
        const QueueSubs& queue = node.queues[g];
        ASSERT(!queue.name.empty());
        ASSERT(!queue.members.empty());
        for (std::size_t h = 0; h < g; h++) ASSERT(node.queues[h].name != queue.name);
        for (std::size_t i = 0; i < queue.members.size(); i++) {
            ASSERT(queue.members[i]->sublist_index == i);
            ASSERT(queue.members[i]->queue == queue.name);
            ASSERT(queue.members[i]->subject == path);
        }
        count += queue.members.size();
    }
    return count;
}

}  // namespace herald::core
