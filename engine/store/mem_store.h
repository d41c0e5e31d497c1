// MemStore: a StreamStore in memory (stream storage "memory"). Nothing survives a restart. It is
// also the reference the FileStore is tested against (tests/store/store_property_test.cc).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "engine/io/io.h"
#include "engine/store/message_index.h"
#include "engine/store/stream_store.h"

namespace herald::store {

// Runs on env.loop; every callback is posted there. Owns the messages' bytes; the index decides.
// The max_age timer runs while there are messages and max_age > 0.
class MemStore final : public StreamStore {
public:
    MemStore(io::Env& env, StoreLimits limits);
    ~MemStore() override;
    MemStore(const MemStore&) = delete;
    MemStore& operator=(const MemStore&) = delete;

    void store(const StoreRequest& request, StoreCallback on_stored) override;
    void load(Seq seq, LoadCallback on_loaded) override;
    void load_last(std::string_view filter, LoadCallback on_loaded) override;
    void load_next(std::string_view filter, Seq start, LoadCallback on_loaded) override;
    std::optional<Result<StoredMessage>> load_next_now(std::string_view filter, Seq start) override;
    void remove(Seq seq, StatusCallback on_removed) override;
    void purge(const PurgeRequest& request, CountCallback on_purged) override;
    void compact(Seq seq, CountCallback on_compacted) override;
    void skip(Seq first, Seq last, std::int64_t timestamp_ns, StatusCallback on_skipped) override;
    void update_limits(const StoreLimits& limits) override;
    void close(StatusCallback on_closed) override;

    StreamState state() const override;
    std::vector<SubjectState> subjects_state(std::string_view filter) const override;
    std::uint64_t count_matching(std::string_view filter, Seq first, Seq last) const override {
        return index_.count_matching(filter, first, last);
    }
    std::uint64_t removals() const override { return index_.removals(); }
    bool removed_below(std::uint64_t since, Seq bound) const override {
        return index_.removed_below(since, bound);
    }
    Durability durability() const override { return {SyncMode::memory, false, Duration{}}; }
    const RecoveryReport& recovery_report() const override { return report_; }
    void add_consumer() override { consumer_count_ += 1; }
    void remove_consumer() override;

private:
    struct Body {
        std::string headers;
        std::string payload;
    };
    void drop(const std::vector<RemovedMessage>& removed);
    void load_seq(Seq seq, LoadCallback on_loaded);
    Result<StoredMessage> message_at(Seq seq) const;
    void arm_age_timer();
    void on_age_timer();
    template <class T>
    void reply(std::function<void(T)> callback, T value);

    io::Env& env_;
    StoreLimits limits_;
    MessageIndex index_{StoreKind::memory};
    std::map<Seq, Body> bodies_;
    RecoveryReport report_;
    std::uint64_t consumer_count_ = 0;
    bool closed_ = false;
    bool age_timer_armed_ = false;
    io::TimerId age_timer_ = 0;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);  // Callbacks check it is alive.
};

}  // namespace herald::store
