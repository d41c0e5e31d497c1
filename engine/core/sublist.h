// The Sublist is the subject-interest trie of one account: it stores subscriptions and, for each
// published subject, finds the plain subscriptions and the queue groups to deliver to. Every
// publish calls match(), so results are cached. Modelled on nats-server server/sublist.go.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/base/result.h"
#include "engine/core/subscription.h"
#include "engine/protocol/subject.h"

namespace herald::core {

// The members of one queue group that match a subject; the caller picks one of them.
struct QueueGroup {
    std::vector<Subscription*> members;  // never empty

    std::string_view name() const { return members.front()->queue; }
};

// What a subject matches: every plain subscription, and the queue groups by name. Immutable once
// returned and shared between the cache and callers, so a caller may keep it while the sublist
// changes; the Subscription pointers stay valid only as long as their owners keep them alive.
//
// Order is deterministic: it is the trie walk order (nats-server matchLevel: at each level the
// `>` node, then the `*` branch, then the literal token) and within a node the order that
// insertions and swap-removals left. It depends only on the sequence of inserts and removes,
// never on addresses, hash seeds or on whether the result came from the cache.
struct SublistResult {
    std::vector<Subscription*> plain;
    std::vector<QueueGroup> queue_groups;  // distinct names, ordered by first appearance

    bool empty() const { return plain.empty() && queue_groups.empty(); }
};

using SublistResultPtr = std::shared_ptr<const SublistResult>;

// Sublist of one account. It runs on the node's loop and is not thread-safe. It does not own the
// subscriptions: the client connection does, and must remove a subscription before freeing it.
// Destroying a Sublist touches none of the subscriptions it still holds (they may be gone), so
// their sublist_index stays set; reset it before inserting one into another sublist.
// A subscription is in at most one sublist at a time; the sublist keeps its slot in
// Subscription::sublist_index so that removal is O(tokens), not O(subscribers of the subject).
//
// Invariants (check_invariants): every trie node holds a subscription or leads to one; every
// held subscription's sublist_index is its position; count() equals a walk of the trie; every
// cache entry equals a fresh match of its subject.
class Sublist {
public:
    // nats-server SublistStats.
    struct Stats {
        std::uint64_t matches = 0;
        std::uint64_t cache_hits = 0;
        std::uint64_t inserts = 0;
        std::uint64_t removes = 0;
        std::uint64_t count = 0;          // subscriptions held now
        std::uint64_t cache_entries = 0;  // results cached now
    };

    // A sublist without cache suits interest that changes far more often than it is matched
    // (nats-server NewSublistNoCache).
    explicit Sublist(bool cache_enabled = true);
    ~Sublist();
    Sublist(const Sublist&) = delete;
    Sublist& operator=(const Sublist&) = delete;
    Sublist(Sublist&& other) noexcept;  // the moved-from sublist may only be destroyed or assigned
    Sublist& operator=(Sublist&& other) noexcept;

    // Adds `sub` under sub.subject, in queue group sub.queue if that is not empty.
    // Errc::invalid_argument if the subject is not valid (nats-server Insert: ErrInvalidSubject).
    // Precondition: `sub` is in no sublist. Invalidates the cached results `sub` matches.
    Status insert(Subscription& sub);

    // Removes `sub`. Errc::not_found if this sublist does not hold it (nats-server ErrNotFound).
    // O(tokens of the subject) plus, for a wildcard subject, a pass over the bounded cache.
    Status remove(Subscription& sub);

    // Removes many subscriptions, such as those of a closing connection, then clears the cache
    // once instead of updating it per subscription (nats-server RemoveBatch). Errc::not_found if
    // any of them was not held; the others are still removed.
    Status remove_batch(std::span<Subscription* const> subs);

    // Everything interested in a published subject. Subject tokens are literal: a publish to
    // "foo.*" reaches "foo.*", "foo.>" and ">" but not "foo.bar". A subject with an empty token
    // matches nothing. Does not allocate when the subject is cached.
    //
    // Cache admission: a subject enters the cache on its second miss within the admission window
    // (a Bloom filter of recent misses, cleared every admission_window misses), not its first.
    // One-off subjects such as $JS.ACK.<...>.<seq>... acks or unique reply inboxes then neither
    // pay for a cache insert nor sweep out the hot entries. An uncached result reuses one of two
    // spare results when no caller holds it any more, so such a miss allocates nothing.
    SublistResultPtr match(std::string_view subject);

    // Misses after which the admission filter forgets what it saw.
    static constexpr std::size_t admission_window = 4096;

    std::size_t count() const { return count_; }
    // Changes with every insert and remove: a result matched at one generation is still the
    // answer while the generation stays the same (Client keeps its last match on this basis).
    std::uint64_t generation() const { return generation_; }
    std::size_t cache_count() const { return cache_.size(); }
    Stats stats() const;

    // Walks the whole trie and cache and ASSERTs the invariants above. O(subscriptions + cache
    // entries × match); for tests and EXPENSIVE_ASSERT builds.
    void check_invariants() const;

private:
    struct Level;
    struct QueueSubs {
        std::string name;
        std::vector<Subscription*> members;
    };
    struct Node {
        std::unique_ptr<Level> next;           // null when no subject continues past this token
        std::vector<Subscription*> plain;      // swap-remove, slots in Subscription::sublist_index
        std::vector<QueueSubs> queues;         // by creation of the group; few per node
    };
    struct TokenHash {
        using is_transparent = void;  // NOLINT(readability-identifier-naming): std spelling
        std::size_t operator()(std::string_view token) const {
            return std::hash<std::string_view>{}(token);
        }
    };
    struct Level {
        // Literal tokens only; `*` and `>` have their own links. Lookups by string_view.
        std::unordered_map<std::string, Node, TokenHash, std::equal_to<>> nodes;
        std::unique_ptr<Node> partial_wildcard;  // `*`
        std::unique_ptr<Node> full_wildcard;     // `>`
    };
    struct CacheEntry {
        SublistResultPtr result;
        std::uint64_t last_used = 0;  // sweep keeps the most recently used entries
    };

    static bool node_is_empty(const Node& node);
    static bool level_is_empty(const Level& level);
    static void add_node_to_result(const Node& node, SublistResult& result);
    static void match_level(const Level* level, protocol::TokenReader tokens, SublistResult& result);
    static std::size_t check_level(const Level& level, std::string& path);
    static std::size_t check_node(const Node& node, const std::string& path);

    static Status remove_from_level(Level& level, protocol::TokenReader tokens, Subscription& sub);
    static Status remove_from_node(Node& node, Subscription& sub);
    Status remove_without_cache(Subscription& sub);
    void invalidate_cache(const Subscription& sub);
    void sweep_cache();
    // Records a miss of the subject with this hash; true if it was already recorded.
    bool seen_before(std::size_t hash);
    SublistResultPtr uncached_result();

    bool cache_enabled_;
    std::unique_ptr<Level> root_;
    std::size_t count_ = 0;
    std::uint64_t generation_ = 0;
    Stats stats_;
    std::unordered_map<std::string, CacheEntry, TokenHash, std::equal_to<>> cache_;
    std::uint64_t cache_clock_ = 0;
    std::vector<std::uint64_t> sweep_scratch_;  // reused by sweep_cache()
    SublistResult scratch_;                     // reused by match() on a miss
    // Admission filter: admission_bits bits, two per subject; cleared after admission_window misses.
    static constexpr std::size_t admission_bits = 16 * admission_window;
    std::vector<std::uint64_t> admission_;
    std::size_t admission_misses_ = 0;
    // Results handed out for subjects not (yet) cached; rewritten only while no one else holds them.
    std::shared_ptr<SublistResult> spare_[2];
};

}  // namespace herald::core
