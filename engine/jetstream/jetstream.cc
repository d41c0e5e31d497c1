#include "engine/jetstream/jetstream.h"

#include <fmt/format.h>

#include "engine/base/assert.h"
#include "engine/base/errc.h"
#include "engine/jetstream/consumer.h"
#include "engine/jetstream/stream_source.h"
#include "engine/store/file_store.h"
#include "engine/store/mem_store.h"

namespace herald::jetstream {

namespace {

constexpr std::string_view meta_file_name = "meta.inf";  // As nats-server names it.
constexpr std::string_view messages_directory_name = "msgs";
constexpr std::uint64_t meta_size_max = 1024 * 1024;

std::span<const std::byte> as_bytes(const std::string& text) {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

// Reads a whole small file; completes on the loop.
void read_small_file(io::Env& env, const std::string& path,
                     std::function<void(Result<std::string>)> on_read) {
    auto file = env.file_system.open(path, false);
    if (!file) {
        env.loop.post([on_read, error = file.error()] { on_read(error); });
        return;
    }
    std::shared_ptr<io::File> shared = std::move(*file);
    const std::uint64_t size = shared->size();
    if (size > meta_size_max) {
        env.loop.post([on_read] { on_read(base::Errc::invalid_argument); });
        return;
    }
    auto buffer = std::make_shared<std::vector<std::byte>>(size);
    shared->read_at(0, *buffer, [shared, buffer, on_read](Result<std::size_t> read) {
        if (!read) return on_read(read.error());
        std::string text(reinterpret_cast<const char*>(buffer->data()), *read);
        on_read(std::move(text));
    });
}

// Writes `contents` to `path` so that it is durable and never half written: a temp file,
// fsync, rename over the old one, fsync of the directory.
void write_file_durably(io::Env& env, const std::string& directory, const std::string& path,
                        std::string contents, std::function<void(Status)> on_written) {
    const std::string temp = path + ".tmp";
    auto file = env.file_system.open(temp, true);
    if (!file) {
        env.loop.post([on_written, error = file.error()] { on_written(error); });
        return;
    }
    std::shared_ptr<io::File> shared = std::move(*file);
    auto text = std::make_shared<std::string>(std::move(contents));
    shared->truncate(0, [&env, shared, text, temp, path, directory, on_written](Status truncated) {
        if (!truncated) return on_written(truncated);
        shared->write_at(0, as_bytes(*text), [&env, shared, text, temp, path, directory, on_written](Status written) {
            if (!written) return on_written(written);
            shared->sync([&env, shared, temp, path, directory, on_written](Status synced) {
                if (!synced) return on_written(synced);
                if (Status renamed = env.file_system.rename(temp, path); !renamed) return on_written(renamed);
                env.file_system.sync_directory(directory, on_written);
            });
        });
    });
}

}  // namespace

JetStream::JetStream(io::Env& env, core::Broker& broker, JetStreamConfig config, base::Logger log)
    : env_(env), broker_(broker), config_(std::move(config)), log_(std::move(log)) {
    for (const std::string& name : config_.accounts) {
        auto account = std::make_unique<Account>();
        account->name = name;
        accounts_.push_back(std::move(account));
    }
    consumers_ = std::make_unique<Consumers>(env_, broker_, *this, log_);
    consumers_->set_store_dir(config_.store_dir);
    feeds_ = std::make_unique<StreamFeeds>(
        env_,
        [this](std::string_view account, std::string_view name) { return find_stream(account, name); },
        log_.child("feeds"));
    set_consumer_api([this](std::string_view account, const protocol::MessageArgs& message, std::string_view body) {
        consumers_->on_api(account, message, body);
    });
}

JetStream::~JetStream() {
    feeds_->shutdown();
    for (const auto& account : accounts_) {
        if (account->api_subscription != 0) broker_.unsubscribe_internal(account->api_subscription);
    }
    for (const std::uint64_t id : disabled_subscriptions_) broker_.unsubscribe_internal(id);
}

JetStream::Account* JetStream::find_account(std::string_view name) {
    for (const auto& account : accounts_) {
        if (account->name == name) return account.get();
    }
    return nullptr;
}

Stream* JetStream::find_stream(std::string_view account_name, std::string_view name) {
    Account* account = find_account(account_name);
    if (account == nullptr) return nullptr;
    const auto it = account->streams.find(name);
    return it == account->streams.end() ? nullptr : it->second.get();
}

std::size_t JetStream::stream_count() const {
    std::size_t count = 0;
    for (const auto& account : accounts_) count += account->streams.size();
    return count;
}

const ApiStats& JetStream::api_stats(std::string_view account_name) const {
    static const ApiStats none;
    for (const auto& account : accounts_) {
        if (account->name == account_name) return account->api;
    }
    return none;
}

std::string JetStream::stream_directory(std::string_view account, std::string_view name) const {
    return fmt::format("{}/{}/streams/{}", config_.store_dir, account, name);
}

void JetStream::start(std::function<void(Status)> on_ready) {
    ASSERT(!ready_);
    LOG_INFO(log_, "Starting JetStream, store directory {}", config_.store_dir);
    // The API listens at once (clients may connect while file streams are recovered) and holds
    // requests until recovery is done, as nats-server answers only once JetStream is up.
    if (Status subscribed = subscribe_api(); !subscribed) return on_ready(subscribed);
    recover_account(0, std::move(on_ready));
}

Status JetStream::subscribe_api() {
    for (const auto& account : accounts_) {
        Account* raw = account.get();
        auto id = broker_.subscribe_internal(
            raw->name, "$JS.API.>", "",
            [this, raw](const protocol::MessageArgs& message, std::string_view payload) {
                on_api(*raw, message, payload);
            });
        if (!id) {
            LOG_ERROR(log_, "JetStream could not subscribe to the API in account {}: {}", raw->name,
                      id.error().message());
            return id.error();
        }
        raw->api_subscription = *id;
    }
    for (const std::string& name : config_.disabled_accounts) {
        auto id = broker_.subscribe_internal(
            name, "$JS.API.>", "",
            [this, name](const protocol::MessageArgs& message, std::string_view) {
                on_disabled_api(name, message);
            });
        if (id) disabled_subscriptions_.push_back(*id);
    }
    if (config_.domain.empty()) return ok();
    // Matches nats-server's domain mappings (generateJSMappingTable): $JS.<domain>.API.<X> is
    // $JS.API.<X> for the API subjects, and $JS.<domain>.API.$KV.> / .$OBJ.> are $KV.> / $OBJ.>
    // (nats.js KV with a domain puts under its API prefix).
    const std::string domain_prefix = fmt::format("$JS.{}.API.", config_.domain);
    struct Mapping {
        std::string_view suffix;
        std::string_view target_prefix;
    };
    static constexpr Mapping mapped[] = {
        {"INFO", api_prefix},       {"STREAM.>", api_prefix}, {"CONSUMER.>", api_prefix},
        {"DIRECT.>", api_prefix},   {"META.>", api_prefix},   {"SERVER.>", api_prefix},
        {"ACCOUNT.>", api_prefix},  {"$KV.>", ""},            {"$OBJ.>", ""},
    };
    for (const auto& account : accounts_) {
        const std::string name = account->name;
        for (const Mapping& mapping : mapped) {
            auto id = broker_.subscribe_internal(
                name, domain_prefix + std::string(mapping.suffix), "",
                [this, name, domain_prefix, target_prefix = mapping.target_prefix](
                    const protocol::MessageArgs& message, std::string_view payload) {
                    const std::size_t header_size = message.headers ? message.header_size : 0;
                    const std::string subject =
                        std::string(target_prefix) + std::string(message.subject.substr(domain_prefix.size()));
                    const std::string reply(message.reply);
                    const std::string headers(payload.substr(0, header_size));
                    const std::string body(payload.substr(header_size));
                    const Status status = broker_.publish_internal(name, subject, reply, headers, body);
                    MAYBE(status.has_value());
                });
            if (id) disabled_subscriptions_.push_back(*id);
        }
    }
    return ok();
}

void JetStream::recover_account(std::size_t index, std::function<void(Status)> on_ready) {
    if (index == accounts_.size()) {
        ready_ = true;
        LOG_INFO(log_, "JetStream is ready: {} stream(s) recovered", stream_count());
        // Requests that came while the streams were recovered, in arrival order.
        std::deque<PendingRequest> pending = std::move(pending_requests_);
        pending_requests_.clear();
        for (const PendingRequest& request : pending) {
            protocol::MessageArgs message;
            message.subject = request.subject;
            message.reply = request.reply;
            message.total_size = request.body.size();
            on_api(*request.account, message, request.body);
        }
        return on_ready(ok());
    }
    Account& account = *accounts_[index];
    auto names = env_.file_system.list(fmt::format("{}/{}/streams", config_.store_dir, account.name));
    std::vector<std::string> found = names ? std::move(*names) : std::vector<std::string>{};
    std::weak_ptr<int> life = life_;
    recover_stream(account, std::move(found), 0, [this, life, index, on_ready = std::move(on_ready)]() mutable {
        if (life.expired()) return;
        recover_account(index + 1, std::move(on_ready));
    });
}

void JetStream::recover_stream(Account& account, std::vector<std::string> names, std::size_t index,
                               std::function<void()> on_done) {
    if (index == names.size()) return on_done();
    const std::string directory = stream_directory(account.name, names[index]);
    std::weak_ptr<int> life = life_;
    auto next = [this, life, &account, names, index, on_done]() {
        if (life.expired()) return;
        recover_stream(account, names, index + 1, on_done);
    };
    read_small_file(env_, directory + "/" + std::string(meta_file_name),
                    [this, life, &account, directory, next](Result<std::string> text) {
        if (life.expired()) return;
        if (!text) {
            // A directory without its config (a delete that was cut short) is not a stream.
            LOG_DEBUG(log_, "no stream config in {}: {}", directory, text.error().message());
            return next();
        }
        const Json meta = Json::parse(*text, nullptr, false);
        StreamConfig config;
        std::optional<ApiFailure> failure;
        if (meta.is_discarded() || !meta.is_object() || !meta.contains("config")) {
            failure = api_failure(ApiError::invalid_json);
        } else {
            failure = stream_config_from_json(meta["config"], config);
            if (!failure) failure = check_stream_config(config);
        }
        if (failure) {
            // Never delete what we cannot read: leave it for an operator.
            LOG_ERROR(log_, "stream config {}/meta.inf is damaged ({}); the stream is not loaded",
                      directory, failure->description);
            return next();
        }
        const std::int64_t created_ns = meta.value("created", std::int64_t{0});
        open_stream(account, std::move(config), created_ns, true, [this, life, directory, next](Result<Stream*> stream) {
            if (life.expired()) return;
            if (!stream) {
                LOG_ERROR(log_, "could not recover the stream in {}: {}", directory, stream.error().message());
            } else {
                const store::RecoveryReport& report = (*stream)->store().recovery_report();
                const store::StreamState state = (*stream)->store().state();
                LOG_INFO(log_, "Restored {} messages for stream '{} > {}'", state.messages,
                         (*stream)->account(), (*stream)->name());
                if (!report.clean()) {
                    LOG_WARN(log_, "stream '{} > {}' recovered from damage: {} message(s) lost, {} byte(s) cut",
                             (*stream)->account(), (*stream)->name(), report.lost_messages, report.lost_bytes);
                }
                return consumers_->recover(**stream, next);  // Its durable consumers, then the next.
            }
            next();
        });
    });
}

void JetStream::open_stream(Account& account, StreamConfig config, std::int64_t created_ns, bool recovered,
                            std::function<void(Result<Stream*>)> on_opened) {
    const std::string name = config.name;
    std::weak_ptr<int> life = life_;
    auto install = [this, life, &account, name, recovered](
                       StreamConfig stream_config, std::int64_t created,
                       std::unique_ptr<store::StreamStore> store,
                       std::function<void(Result<Stream*>)> done) {
        auto owned = std::make_unique<Stream>(env_, broker_, account.name, config_.domain,
                                              std::move(stream_config), created, std::move(store),
                                              log_.child(fmt::format("stream={}", name)));
        Stream* raw = owned.get();
        account.streams[name] = std::move(owned);
        auto start = [this, life, &account, name, raw, done] {
            if (life.expired()) return;
            if (Status started = raw->start(); !started) {
                account.streams.erase(name);
                return done(started.error());
            }
            feeds_->on_started(account.name, *raw);  // Its mirror or sources, and feeds reading it.
            done(raw);
        };
        // Matches nats-server (addStream rebuilds the dedup window of any stream with messages):
        // a stream created over files a failed recovery left behind has messages too.
        if (!recovered || !broker_.options().canaries.forget_dedup) return raw->rebuild_dedup(start);  // canary: test-only
        env_.loop.post(start);
    };
    if (config.storage == Storage::memory) {
        auto store = std::make_unique<store::MemStore>(env_, config.store_limits());
        install(std::move(config), created_ns, std::move(store), std::move(on_opened));
        return;
    }
    store::FileStoreConfig store_config;
    store_config.directory = stream_directory(account.name, name) + "/" + std::string(messages_directory_name);
    store_config.limits = config.store_limits();
    store_config.log = log_.child(fmt::format("store={}", name));
    if (config_.sync_interval.ns != 0) {
        store_config.sync_mode = store::SyncMode::interval;
        store_config.sync_interval = config_.sync_interval;
    }
    store_config.canaries = {broker_.options().canaries.ack_before_fsync, broker_.options().canaries.stop_at_damage,
                             broker_.options().canaries.ack_failed_writes};  // canary: test-only
    store::FileStore::open(
        env_, std::move(store_config),
        [life, install, config = std::move(config), created_ns,
         on_opened = std::move(on_opened)](Result<std::unique_ptr<store::FileStore>> store) mutable {
            if (life.expired()) return;
            if (!store) return on_opened(store.error());
            install(std::move(config), created_ns, std::move(*store), std::move(on_opened));
        });
}

void JetStream::write_meta(const Account& account, const StreamConfig& config, std::int64_t created_ns,
                           std::function<void(Status)> on_written) {
    const std::string directory = stream_directory(account.name, config.name);
    if (Status made = env_.file_system.make_directories(directory); !made) {
        env_.loop.post([on_written, made] { on_written(made); });
        return;
    }
    Json meta = Json::object();
    meta["config"] = stream_config_json(config);
    meta["created"] = created_ns;
    std::weak_ptr<int> life = life_;
    write_file_durably(env_, directory, directory + "/" + std::string(meta_file_name), meta.dump(),
                       [life, on_written](Status status) {
                           if (life.expired()) return;
                           on_written(status);
                       });
}

void JetStream::remove_stream_files(const std::string& account, const std::string& name) {
    // The config goes first: a delete cut short leaves no half stream to recover.
    const std::string directory = stream_directory(account, name);
    const Status removed = env_.file_system.remove(directory + "/" + std::string(meta_file_name));
    MAYBE(removed.has_value());
    const std::string messages = directory + "/" + std::string(messages_directory_name);
    if (auto names = env_.file_system.list(messages)) {
        for (const std::string& file : *names) {
            const Status status = env_.file_system.remove(messages + "/" + file);
            MAYBE(status.has_value());
        }
    }
    env_.file_system.sync_directory(directory, [](Status) {});
}

void JetStream::serialize(std::function<void(Done)> operation) {
    operations_.push_back(std::move(operation));
    if (!operation_running_) run_next_operation();
}

void JetStream::run_next_operation() {
    if (operations_.empty() || shutting_down_) {
        operation_running_ = false;
        return;
    }
    operation_running_ = true;
    auto operation = std::move(operations_.front());
    operations_.pop_front();
    std::weak_ptr<int> life = life_;
    operation([this, life] {
        if (life.expired()) return;
        run_next_operation();
    });
}

void JetStream::shutdown(std::function<void()> on_done) {
    shutting_down_ = true;
    ready_ = false;
    auto pending = std::make_shared<std::size_t>(1);
    auto finish = std::make_shared<std::function<void()>>(std::move(on_done));
    auto one_done = [pending, finish] {
        if (--*pending == 0 && *finish) (*finish)();
    };
    feeds_->shutdown();
    *pending += 1;
    consumers_->shutdown(one_done);  // Their last state written before the node stops.
    for (const auto& account : accounts_) {
        if (account->api_subscription != 0) broker_.unsubscribe_internal(account->api_subscription);
        account->api_subscription = 0;
    }
    for (const std::uint64_t id : disabled_subscriptions_) broker_.unsubscribe_internal(id);
    disabled_subscriptions_.clear();
    for (const auto& account : accounts_) {
        for (auto& [name, stream] : account->streams) {
            *pending += 1;
            stream->close(one_done);
        }
    }
    one_done();
}

}  // namespace herald::jetstream
