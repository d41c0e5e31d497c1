// What one herald-load run shares between its modes: the parsed flags, the first failure, and
// the numbers a mode hands to the report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "bench/load/nats_client.h"

namespace herald::load {

struct Options {
    std::string url = "nats://127.0.0.1:4222";
    std::string mode = "pub";
    std::string subject = "herald.load";
    std::size_t pubs = 1;
    std::size_t subs = 0;        // 0: the mode's default (pubsub 1, fanout 4, queue 4).
    std::size_t msgs = 1000000;  // Total over all publishers (reqrep: requests; js*: messages).
    std::size_t size = 16;
    std::size_t warmup = 100;         // reqrep only: untimed requests first.
    std::size_t outstanding = 1000;   // jspub-async: publishes in flight without a PubAck.
    std::size_t batch = 500;          // jspull: messages per MSG.NEXT request.
    std::string storage = "file";     // js*: the stream's storage.
    double timeout_s = 60;
    bool json = false;
};

// The first failure wins; it also stops every other thread.
class FailureLog {
public:
    explicit FailureLog(RunControl& control) : control_(control) {}
    void record(const std::string& who, const std::string& message) {
        std::lock_guard lock(mutex_);
        if (first_.empty()) first_ = who + ": " + message;
        control_.aborted.store(true);
    }
    std::string first() const {
        std::lock_guard lock(mutex_);
        return first_;
    }

private:
    RunControl& control_;
    mutable std::mutex mutex_;
    std::string first_;
};

struct Results {
    double publish_elapsed_s = 0;
    std::uint64_t published = 0;
    double receive_elapsed_s = 0;
    std::uint64_t received = 0;
    std::uint64_t expected = 0;
    std::vector<double> latencies_us;  // Sorted.
    std::string stream;                // js*: the stream created (and deleted) for the run.
    std::uint64_t stream_messages = 0; // js*: the stream's message count checked after the run.
};

// JetStream modes (js_modes.cc): jspub-sync, jspub-async, jspull. Each creates its own stream
// through $JS.API, checks every PubAck / delivery, and deletes the stream at the end.
bool run_jetstream(const Options& options, const ServerAddress& address, RunControl& control,
                   FailureLog& failures, Results& results);

}  // namespace herald::load
