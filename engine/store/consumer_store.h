// ConsumerStore: the durable delivery state of one JetStream consumer (delivered, ack floor,
// pending acks, redelivery counts), nats-server's ConsumerState. A consumer saves its whole state
// after a change; a save completes once it would survive a crash. MemConsumerStore keeps it in
// memory; FileConsumerStore appends checksummed snapshots to one file and recovers the newest
// whole one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/log.h"
#include "engine/base/result.h"
#include "engine/io/io.h"
#include "engine/store/stream_store.h"

namespace herald::store {

struct SequencePair {
    Seq consumer_seq = 0;
    Seq stream_seq = 0;
    friend bool operator==(SequencePair, SequencePair) = default;
};

struct PendingAck {
    Seq consumer_seq = 0;
    std::int64_t timestamp_ns = 0;  // When it was delivered (for ack_wait after a restart).
    friend bool operator==(PendingAck, PendingAck) = default;
};

struct ConsumerState {
    SequencePair delivered;  // The last delivered.
    SequencePair ack_floor;  // Everything at or below is acknowledged.
    std::map<Seq, PendingAck> pending;         // By stream seq: delivered, not yet acked.
    std::map<Seq, std::uint64_t> redelivered;  // By stream seq: deliveries beyond the first.
    friend bool operator==(const ConsumerState&, const ConsumerState&) = default;
};

// One consumer's state on one loop. save() calls complete in order; saves made while one is
// being written are coalesced into the next write (only the newest state matters).
class ConsumerStore {
public:
    using StatusCallback = std::function<void(Status)>;
    virtual ~ConsumerStore() = default;
    virtual void save(const ConsumerState& state, StatusCallback on_saved) = 0;
    // As save(), with the state made by `snapshot` only when it is about to be written: saves
    // that arrive while a write is in flight then cost nothing (a consumer changes its state on
    // every delivery and ack, and copying its pending map each time was 7% of a pull consumer's
    // server CPU). The newest state at write time is a superset of what the caller asked to
    // save. `snapshot` must stay callable as long as the store lives (or until save() replaces
    // it); a later save() or save_from() replaces an unused one.
    using Snapshot = std::function<ConsumerState()>;
    virtual void save_from(Snapshot snapshot, StatusCallback on_saved) = 0;
    // The newest saved or being written (a pending save_from()'s state is made at write time).
    virtual const ConsumerState& state() const = 0;
    // Deletes the state (consumer deleted); later saves fail with closed.
    virtual void remove(StatusCallback on_removed) = 0;
};

class MemConsumerStore final : public ConsumerStore {
public:
    explicit MemConsumerStore(io::Env& env) : env_(env) {}
    void save(const ConsumerState& state, StatusCallback on_saved) override;
    void save_from(Snapshot snapshot, StatusCallback on_saved) override;
    const ConsumerState& state() const override { return state_; }
    void remove(StatusCallback on_removed) override;

private:
    io::Env& env_;
    ConsumerState state_;
    bool removed_ = false;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

// Limits of the consumer state file.
inline constexpr std::size_t consumer_pending_max = 1024 * 1024;   // Entries per snapshot.
inline constexpr std::uint64_t consumer_file_size_max = 1024 * 1024;  // Then rewrite it.

class FileConsumerStore final : public ConsumerStore {
public:
    using OpenCallback = std::function<void(Result<std::unique_ptr<FileConsumerStore>>)>;
    // Opens or creates `path`; recovers the newest whole snapshot (a torn last one is ignored).
    static void open(io::Env& env, std::string path, base::Logger log, OpenCallback on_opened);
    ~FileConsumerStore() override;

    void save(const ConsumerState& state, StatusCallback on_saved) override;
    void save_from(Snapshot snapshot, StatusCallback on_saved) override;
    const ConsumerState& state() const override { return state_; }
    void remove(StatusCallback on_removed) override;

    // Encoding of one snapshot (exposed for tests).
    static std::vector<std::byte> encode(const ConsumerState& state, std::uint64_t generation);

private:
    FileConsumerStore(io::Env& env, std::string path, base::Logger log);
    void write_next();
    void rewrite_file(std::vector<std::byte> bytes, std::vector<StatusCallback> done);
    void finish(std::vector<StatusCallback> done, Status status);

    io::Env& env_;
    std::string path_;
    base::Logger log_;
    std::shared_ptr<io::File> file_;
    ConsumerState state_;
    Snapshot snapshot_;  // Set: state_ is stale, the next write takes snapshot_() instead.
    std::uint64_t generation_ = 0;
    std::uint64_t size_ = 0;
    bool writing_ = false;
    bool dirty_ = false;  // state_ changed since the write in flight began.
    std::vector<StatusCallback> waiting_;
    std::error_code failed_;
    bool removed_ = false;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace herald::store
