// JetStream: the node's JetStream engine, an internal client of the Broker (DESIGN.md
// "JetStream"). For each account with JetStream it answers $JS.API requests (jetstream-api.md
// §2) with JSON on the reply subject, and owns that account's streams, their stores (MemStore or
// FileStore under store_dir/<account>/streams/<stream>/) and their config files, which it
// recovers on start. Built by server::Server when options.jetstream is set.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/log.h"
#include "engine/base/result.h"
#include "engine/core/broker.h"
#include "engine/io/io.h"
#include "engine/jetstream/api_errors.h"
#include "engine/jetstream/stream.h"
#include "engine/jetstream/stream_config.h"

namespace herald::jetstream {

class Consumers;  // consumer.h: the CONSUMER.* handlers and every consumer.
class StreamFeeds;  // stream_source.h: every mirror and source feed.

inline constexpr std::size_t api_names_limit = 1024;            // nats-server JSApiNamesLimit.
inline constexpr std::size_t api_list_limit = 256;              // JSApiListLimit.
inline constexpr std::size_t api_subject_details_max = 100'000; // JSMaxSubjectDetails.
inline constexpr std::string_view api_prefix = "$JS.API.";
inline constexpr std::size_t pending_requests_max = 10'000;  // Held while streams recover.
inline constexpr std::uint64_t deleted_scan_max = 100'000;  // Span scanned for deleted_details.

struct JetStreamConfig {
    std::string store_dir;              // Streams live in <store_dir>/<account>/streams/<name>/.
    std::vector<std::string> accounts;  // Accounts with JetStream (they must exist in the Broker).
    std::string domain;                 // Named in PubAcks and account info when set.
    // Accounts without JetStream: their $JS.API requests get 503/10039 (nats-server answers
    // them through its service imports), not no-responders.
    std::vector<std::string> disabled_accounts;
    // File streams: zero (the default) acks after fsync with group commit; otherwise lazy: ack
    // once written to the OS, fsync every sync_interval (nats-server 2.10 `sync_interval`).
    Duration sync_interval{};
};

struct ApiStats {
    std::uint64_t total = 0;
    std::uint64_t errors = 0;
};

// Lifecycle: start() recovers the file streams of every account, then subscribes $JS.API.> and
// reports ready; shutdown() unsubscribes and closes every store; then destroy. Runs on the node's
// loop. Stream create/update/delete run one at a time (they wait for files and stores); other
// requests are answered at once. Consumers are not served yet: CONSUMER.* requests are left
// unanswered until a handler is installed with set_consumer_api().
class JetStream {
public:
    using ApiHandler = std::function<void(std::string_view account, const protocol::MessageArgs&,
                                          std::string_view body)>;

    JetStream(io::Env& env, core::Broker& broker, JetStreamConfig config, base::Logger log);
    ~JetStream();
    JetStream(const JetStream&) = delete;
    JetStream& operator=(const JetStream&) = delete;

    void start(std::function<void(Status)> on_ready);
    void shutdown(std::function<void()> on_done);
    bool ready() const { return ready_; }

    Stream* find_stream(std::string_view account, std::string_view name);
    std::size_t stream_count() const;
    const ApiStats& api_stats(std::string_view account) const;
    // The seam for consumers: $JS.API.CONSUMER.* requests go here once set.
    void set_consumer_api(ApiHandler handler) { consumer_api_ = std::move(handler); }
    // Sends an API response on behalf of a handler; counts it in api total, and in api errors
    // when it has an error and `error_counts` (nats-server sendAPIErrResponse vs sendAPIResponse).
    void respond(std::string_view account, std::string_view reply, const Json& response,
                 bool error_counts = true);

private:
    struct Account {
        std::string name;
        std::map<std::string, std::unique_ptr<Stream>, std::less<>> streams;
        std::uint64_t api_subscription = 0;
        ApiStats api;
    };
    using Done = std::function<void()>;

    // Lifecycle and files (jetstream.cc).
    Status subscribe_api();
    void recover_account(std::size_t index, std::function<void(Status)> on_ready);
    void recover_stream(Account& account, std::vector<std::string> names, std::size_t index,
                        std::function<void()> on_done);
    // Opens the store and installs the stream; `recovered` streams rebuild their dedup window
    // before they subscribe.
    void open_stream(Account& account, StreamConfig config, std::int64_t created_ns, bool recovered,
                     std::function<void(Result<Stream*>)> on_opened);
    void write_meta(const Account& account, const StreamConfig& config, std::int64_t created_ns,
                    std::function<void(Status)> on_written);
    // For create and update: a memory stream goes straight to `next`; a file stream writes its
    // meta.inf first, and a failed write answers `failure` (with the reason) and ends the operation.
    void persist_then(Account& account, const StreamConfig& config, std::int64_t created_ns,
                      const std::string& reply, std::string_view type_name, ApiError failure,
                      std::function<void()> next, Done done);
    void remove_stream_files(const std::string& account, const std::string& name);
    std::string stream_directory(std::string_view account, std::string_view name) const;
    void serialize(std::function<void(Done)> operation);
    void run_next_operation();
    Account* find_account(std::string_view name);

    // The $JS.API handlers (api.cc).
    void on_api(Account& account, const protocol::MessageArgs& message, std::string_view payload);
    void on_disabled_api(const std::string& account, const protocol::MessageArgs& message);
    void account_info(Account& account, std::string_view reply);
    void stream_create(Account& account, std::string_view name, std::string_view reply, std::string_view body);
    void stream_update(Account& account, std::string_view name, std::string_view reply, std::string_view body);
    void stream_info(Account& account, std::string_view name, std::string_view reply, std::string_view body);
    void stream_delete(Account& account, std::string_view name, std::string_view reply, std::string_view body);
    void stream_purge(Account& account, std::string_view name, std::string_view reply, std::string_view body);
    void stream_names(Account& account, std::string_view reply, std::string_view body, bool list);
    void stream_msg_get(Account& account, std::string_view name, std::string_view reply, std::string_view body);
    void stream_msg_delete(Account& account, std::string_view name, std::string_view reply, std::string_view body);
    void respond_error(Account& account, std::string_view reply, std::string_view type, const ApiFailure& failure,
                       bool error_counts = true);
    std::optional<ApiFailure> check_subject_overlap(const Account& account, const StreamConfig& config) const;
    // The account's stream configs by name, for the mirror and source checks.
    std::function<const StreamConfig*(std::string_view)> config_lookup(const Account& account) const;

    io::Env& env_;
    core::Broker& broker_;
    JetStreamConfig config_;
    base::Logger log_;
    std::vector<std::unique_ptr<Account>> accounts_;
    std::vector<std::uint64_t> disabled_subscriptions_;  // And the domain mapping's.
    std::map<std::uint64_t, std::unique_ptr<Stream>> closing_;  // Deleted, store closing; by id.
    struct PendingRequest {
        Account* account = nullptr;
        std::string subject;
        std::string reply;
        std::string body;
    };
    std::deque<PendingRequest> pending_requests_;  // Arrived during recovery; bounded.
    std::uint64_t closing_ids_ = 0;
    std::deque<std::function<void(Done)>> operations_;
    bool operation_running_ = false;
    bool ready_ = false;
    bool shutting_down_ = false;
    ApiHandler consumer_api_;
    std::unique_ptr<Consumers> consumers_;  // Installed as consumer_api_ by the constructor.
    std::unique_ptr<StreamFeeds> feeds_;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace herald::jetstream
