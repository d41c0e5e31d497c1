// Consumers: the $JS.API.CONSUMER.* handlers (nats-server jetstream_api.go jsConsumer*Request)
// and the owner of every Consumer, keyed by (account, stream). It hooks each stream it serves:
// new messages wake its consumers, interest retention asks them, and a destroyed stream takes
// its consumers with it.
#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "engine/base/assert.h"
#include "engine/jetstream/consumer.h"
#include "engine/jetstream/jetstream.h"
#include "engine/protocol/subject.h"
#include "engine/store/consumer_store.h"

namespace herald::jetstream {

namespace {

constexpr std::string_view type_prefix = "io.nats.jetstream.api.v1.";

Json response_of(std::string_view type) {
    Json response = Json::object();
    response["type"] = fmt::format("{}{}", type_prefix, type);
    return response;
}

bool is_empty_request(std::string_view body) {
    if (body.empty() || body == "{}") return true;
    const Json json = Json::parse(body, nullptr, false);
    return !json.is_discarded() && json.is_object() && json.empty();
}

std::vector<std::string_view> tokens_of(std::string_view subject) {
    std::vector<std::string_view> tokens;
    while (true) {
        const std::size_t dot = subject.find('.');
        tokens.push_back(subject.substr(0, dot));
        if (dot == std::string_view::npos) break;
        subject.remove_prefix(dot + 1);
    }
    return tokens;
}

constexpr std::string_view meta_file_name = "meta.inf";
constexpr std::string_view state_file_name = "o.dat";
constexpr std::uint64_t meta_size_max = 1 << 20;

std::span<const std::byte> as_bytes(const std::string& text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

void read_small_file(io::Env& env,
                     const std::string& path,
                     std::function<void(Result<std::string>)> on_read) {
    auto file = env.file_system.open(path, false);
    if (!file) {
        env.loop.post([on_read, error = file.error()] { on_read(error); });
        return;
    }
    std::shared_ptr<io::File> shared = std::move(*file);
    const std::uint64_t size = std::min<std::uint64_t>(shared->size(), meta_size_max);
    auto buffer = std::make_shared<std::vector<std::byte>>(static_cast<std::size_t>(size));
    shared->read_at(0, *buffer, [shared, buffer, on_read](Result<std::size_t> read) {
        if (!read) return on_read(read.error());
        on_read(std::string(reinterpret_cast<const char*>(buffer->data()), *read));
    });
}

// A temp file, fsync, rename, fsync of the directory: never half written.
void write_file_durably(io::Env& env,
                        const std::string& directory,
                        const std::string& path,
                        std::string contents,
                        std::function<void(Status)> on_written) {
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
        shared->write_at(
            0,
            as_bytes(*text),
            [&env, shared, text, temp, path, directory, on_written](Status written) {
                if (!written) return on_written(written);
                shared->sync([&env, shared, temp, path, directory, on_written](Status synced) {
                    if (!synced) return on_written(synced);
                    if (Status renamed = env.file_system.rename(temp, path); !renamed)
                        return on_written(renamed);
                    env.file_system.sync_directory(directory, on_written);
                });
            });
    });
}

}  // namespace

Consumers::Consumers(io::Env& env, core::Broker& broker, JetStream& jetstream, base::Logger log)
    : env_(env), broker_(broker), jetstream_(jetstream), log_(std::move(log)) {}

Consumers::~Consumers() {
    shutdown();
}

void Consumers::shutdown(std::function<void()> on_done) {
    auto pending = std::make_shared<std::size_t>(1);
    auto finish = std::make_shared<std::function<void()>>(std::move(on_done));
    auto one_done = [pending, finish] {
        if (--*pending == 0 && *finish) (*finish)();
    };
    std::weak_ptr<int> life = life_;
    for (auto& [key, entry] : streams_) {
        for (auto& [name, consumer] : entry->consumers) {
            consumer->stop(false);
            // The consumer and its state store live until the save is written (a store
            // destroyed with a write queued dropped the last acks of a clean shutdown).
            Consumer* raw = consumer.get();
            flushing_.push_back(std::move(consumer));
            *pending += 1;
            raw->flush([this, life, raw, one_done] {
                // Later, not inside the store's own callback.
                env_.loop.post([this, life, raw, one_done] {
                    if (!life.expired())
                        std::erase_if(flushing_, [&](const auto& held) { return held.get() == raw; });
                    one_done();
                });
            });
        }
        entry->consumers.clear();
    }
    streams_.clear();
    one_done();
}

Consumer* Consumers::find(std::string_view account,
                          std::string_view stream,
                          std::string_view name) {
    const auto it = streams_.find(Key{std::string(account), std::string(stream)});
    if (it == streams_.end()) return nullptr;
    const auto consumer = it->second->consumers.find(name);
    return consumer == it->second->consumers.end() ? nullptr : consumer->second.get();
}

void Consumers::on_api(std::string_view account,
                       const protocol::MessageArgs& message,
                       std::string_view body) {
    // $JS.API.CONSUMER.<op>...
    const std::vector<std::string_view> all = tokens_of(message.subject);
    if (all.size() < 4) return;
    const std::vector<std::string_view> t(all.begin() + 3, all.end());  // From <op>.
    const std::string reply(message.reply);
    const std::string body_copy(body);
    if (t[0] == "CREATE" && t.size() >= 2) {
        const std::string stream(t[1]);
        const std::string name = t.size() >= 3 ? std::string(t[2]) : std::string();
        std::string filter;
        for (std::size_t i = 3; i < t.size(); ++i) {
            if (!filter.empty()) filter += '.';
            filter += t[i];
        }
        return create(account, stream, name, filter, false, t.size() >= 3, reply, body_copy);
    }
    if (t[0] == "DURABLE" && t.size() >= 2 && t[1] == "CREATE") {
        // nats-server subscribes $JS.API.CONSUMER.DURABLE.CREATE.*.*: other forms get no answer.
        if (t.size() != 4) return;
        return create(
            account, std::string(t[2]), std::string(t[3]), "", true, true, reply, body_copy);
    }
    if (t[0] == "INFO" && t.size() == 3)
        return info(account, std::string(t[1]), std::string(t[2]), reply);
    if (t[0] == "DELETE" && t.size() == 3) {
        if (!is_empty_request(body)) {
            return respond_error(account,
                                 reply,
                                 "consumer_delete_response",
                                 api_failure(ApiError::not_empty_request));
        }
        return remove(account, std::string(t[1]), std::string(t[2]), reply);
    }
    if (t[0] == "NAMES" && t.size() == 2)
        return names(account, std::string(t[1]), reply, body_copy, false);
    if (t[0] == "LIST" && t.size() == 2)
        return names(account, std::string(t[1]), reply, body_copy, true);
    if (t[0] == "MSG" && t.size() == 4 && t[1] == "NEXT") {
        return next(account, std::string(t[2]), std::string(t[3]), reply, body_copy);
    }
}

void Consumers::respond_error(std::string_view account,
                              const std::string& reply,
                              std::string_view type,
                              const ApiFailure& failure) {
    Json response = response_of(type);
    response["error"] = api_error_json(failure);
    jetstream_.respond(account, reply, response);
}

std::string Consumers::generate_name() {
    // nats-server createConsumerName: 8 characters.
    static constexpr std::string_view alphabet =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string name;
    std::uint64_t bits = env_.random.next_u64();
    for (std::size_t i = 0; i < 8; ++i) {
        name += alphabet[bits % alphabet.size()];
        bits /= alphabet.size();
    }
    return name;
}

Consumers::StreamConsumers* Consumers::attach(std::string_view account, Stream& stream) {
    const Key key{std::string(account), stream.name()};
    auto it = streams_.find(key);
    if (it != streams_.end() && it->second->stream == &stream) return it->second.get();
    if (it != streams_.end()) detach(key);  // A stale entry of a deleted stream of that name.
    auto entry = std::make_unique<StreamConsumers>();
    entry->account = key.first;
    entry->stream_name = key.second;
    entry->stream = &stream;
    StreamConsumers* raw = entry.get();
    streams_.emplace(key, std::move(entry));
    std::weak_ptr<int> life = life_;
    // Each hook checks that the entry is still this stream's: a deleted stream may be destroyed
    // (its store closed) after a new stream of the same name took its place.
    Stream* const owner = &stream;
    stream.set_stored_hook([this, life, key, owner](store::Seq seq, std::string_view) {
        if (life.expired()) return;
        const auto found = streams_.find(key);
        if (found == streams_.end() || found->second->stream != owner) return;
        for (auto& [name, consumer] : found->second->consumers)
            consumer->on_stored(seq);
    });
    stream.set_interest_check([this, life, key, owner](std::string_view subject) {
        if (life.expired()) return false;
        const auto found = streams_.find(key);
        if (found == streams_.end() || found->second->stream != owner) return false;
        for (const auto& [name, consumer] : found->second->consumers) {
            if (consumer->wants(subject)) return true;
        }
        return false;
    });
    stream.set_destroyed_hook([this, life, key, owner] {
        if (life.expired()) return;
        const auto found = streams_.find(key);
        if (found != streams_.end() && found->second->stream == owner) detach(key);
    });
    return raw;
}

void Consumers::detach(const Key& key) {
    const auto it = streams_.find(key);
    if (it == streams_.end()) return;
    std::unique_ptr<StreamConsumers> entry = std::move(it->second);
    streams_.erase(it);
    // The stream is gone: deleted (its consumers' files go too) or shut down (they stay).
    const bool deleted = jetstream_.ready();
    for (auto& [name, consumer] : entry->consumers) {
        consumer->stop(true);
        if (deleted && persisted(*entry->stream, consumer->config()))
            remove_files(*entry->stream, name);
    }
}

void Consumers::delete_consumer(const Key& key, const std::string& name) {
    const auto it = streams_.find(key);
    if (it == streams_.end()) return;
    const auto found = it->second->consumers.find(name);
    if (found == it->second->consumers.end()) return;
    std::unique_ptr<Consumer> consumer = std::move(found->second);
    it->second->consumers.erase(found);
    consumer->stop(true);
    it->second->stream->store().remove_consumer();
    if (persisted(*it->second->stream, consumer->config())) remove_files(*it->second->stream, name);
    if (it->second->stream->config().retention == Retention::interest) {
        remove_unwanted(key,
                        std::max(consumer->ack_floor().stream_seq + 1,
                                 it->second->stream->store().state().first_seq));
    }
    // The consumer object may be running one of its own callbacks: destroy it later.
    env_.loop.post([owned = std::shared_ptr<Consumer>(std::move(consumer))] {});
}

bool Consumers::wanted(const StreamConsumers& entry,
                       store::Seq seq,
                       std::string_view subject) const {
    for (const auto& [name, consumer] : entry.consumers) {
        if (consumer->wants(subject) && !consumer->acknowledged(seq)) return true;
    }
    return false;
}

void Consumers::remove_unwanted(const Key& key, store::Seq seq) {
    const auto it = streams_.find(key);
    if (it == streams_.end()) return;
    std::weak_ptr<int> life = life_;
    it->second->stream->store().load_next(
        "", seq, [this, life, key](Result<store::StoredMessage> loaded) {
            if (life.expired() || !loaded) return;
            const auto found = streams_.find(key);
            if (found == streams_.end()) return;
            if (!wanted(*found->second, loaded->seq, loaded->subject)) {
                COVER("jetstream: a deleted consumer's interest-retained message is removed");
                found->second->stream->store().remove(loaded->seq, [](Status) {});
            }
            remove_unwanted(key, loaded->seq + 1);
        });
}

void Consumers::on_acked(const Key& key, store::Seq seq, const std::string& subject) {
    const auto it = streams_.find(key);
    if (it == streams_.end()) return;
    Stream& stream = *it->second->stream;
    const Retention retention = stream.config().retention;
    if (retention == Retention::limits) return;
    if (subject.empty()) {
        // Pending from before a restart: the subject comes from the store.
        std::weak_ptr<int> life = life_;
        stream.store().load(seq, [this, life, key, seq](Result<store::StoredMessage> loaded) {
            if (life.expired() || !loaded || loaded->subject.empty()) return;
            on_acked(key, seq, loaded->subject);
        });
        return;
    }
    if (retention == Retention::interest) {
        // Removed once every consumer that wants the subject has acknowledged it.
        if (wanted(*it->second, seq, subject)) return;
        COVER("jetstream: interest retention removes a message every consumer acked");
    } else {
        COVER("jetstream: a workqueue message is removed on ack");
    }
    stream.store().remove(seq, [](Status) {});
}

void Consumers::create(std::string_view account,
                       std::string_view stream_name,
                       std::string_view subject_name,
                       std::string_view filter,
                       bool durable_subject,
                       bool named_subject,
                       const std::string& reply,
                       std::string_view body) {
    static constexpr std::string_view type = "consumer_create_response";
    const Json request = Json::parse(body, nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
        return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
    }
    ConsumerConfig config;
    std::string request_stream;
    if (const auto it = request.find("stream_name"); it != request.end() && !it->is_null()) {
        if (!it->is_string())
            return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
        request_stream = it->get<std::string>();
    }
    if (const auto it = request.find("config"); it != request.end() && !it->is_null()) {
        if (auto failure = consumer_config_from_json(*it, config))
            return respond_error(account, reply, type, *failure);
    }
    if (stream_name != request_stream)
        return respond_error(account, reply, type, api_failure(ApiError::stream_mismatch));
    if (subject_name.find_first_of("/\\") != std::string_view::npos) {
        return respond_error(
            account, reply, type, api_failure(ApiError::consumer_name_contains_path_separators));
    }
    if (durable_subject) {
        if (config.durable_name.empty()) {
            return respond_error(
                account, reply, type, api_failure(ApiError::consumer_durable_name_not_set));
        }
        if (subject_name != config.durable_name) {
            return respond_error(account,
                                 reply,
                                 type,
                                 api_failure(ApiError::consumer_durable_name_not_match_subject));
        }
    } else if (named_subject) {
        if (!config.durable_name.empty() && subject_name != config.durable_name) {
            return respond_error(account,
                                 reply,
                                 type,
                                 api_failure(ApiError::consumer_durable_name_not_match_subject));
        }
        config.name = std::string(subject_name);
    } else if (!config.durable_name.empty()) {
        return respond_error(
            account, reply, type, api_failure(ApiError::consumer_ephemeral_with_durable_name));
    }
    if (!filter.empty() && config.filter_subject != filter) {
        return respond_error(
            account, reply, type, api_failure(ApiError::consumer_create_filter_subject_mismatch));
    }
    if (config.num_replicas > 1)
        return respond_error(
            account, reply, type, api_failure(ApiError::stream_replicas_not_supported));
    Stream* stream = jetstream_.find_stream(account, stream_name);
    if (stream == nullptr)
        return respond_error(account, reply, type, api_failure(ApiError::stream_not_found));

    set_consumer_defaults(config);
    if (auto failure = check_consumer_config(config, stream->config()))
        return respond_error(account, reply, type, *failure);
    std::string name = config.durable() ? config.durable_name : config.name;
    for (const char c : name) {
        if (c == '.' || c == '*' || c == '>') {
            return respond_error(
                account, reply, type, api_failure(ApiError::consumer_bad_durable_name));
        }
    }
    StreamConsumers* entry = attach(account, *stream);
    if (!name.empty()) {
        if (const auto it = entry->consumers.find(name); it != entry->consumers.end()) {
            // An existing name is an update (nats-server updateConfig).
            if (auto failure = check_consumer_update(it->second->config(), config)) {
                return respond_error(account, reply, type, *failure);
            }
            it->second->update(config);
            if (persisted(*stream, config)) {
                write_meta(
                    *stream, name, it->second->config(), it->second->created_ns(), [](Status) {});
            }
            Json response = response_of(type);
            response.update(it->second->info_json());
            return jetstream_.respond(account, reply, response);
        }
    }
    const std::int64_t max_consumers = stream->config().max_consumers;
    if (max_consumers > 0 && static_cast<std::int64_t>(entry->consumers.size()) >= max_consumers) {
        return respond_error(account, reply, type, api_failure(ApiError::maximum_consumers_limit));
    }
    if (entry->consumers.size() >= consumers_per_stream_max) {
        return respond_error(account, reply, type, api_failure(ApiError::maximum_consumers_limit));
    }
    if (stream->config().retention == Retention::workqueue && !config.direct) {
        if (config.ack_policy != AckPolicy::explicit_ack) {
            return respond_error(
                account, reply, type, api_failure(ApiError::consumer_wq_requires_explicit_ack));
        }
        if (!entry->consumers.empty()) {
            if (config.filter_subject.empty()) {
                return respond_error(
                    account, reply, type, api_failure(ApiError::consumer_wq_multiple_unfiltered));
            }
            for (const auto& [other_name, other] : entry->consumers) {
                const std::string& other_filter = other->config().filter_subject;
                if (other_filter.empty() || subjects_collide(other_filter, config.filter_subject)) {
                    return respond_error(account,
                                         reply,
                                         type,
                                         api_failure(ApiError::consumer_wq_consumer_not_unique));
                }
            }
        }
        if (config.deliver_policy != DeliverPolicy::all) {
            return respond_error(
                account, reply, type, api_failure(ApiError::consumer_wq_consumer_not_deliver_all));
        }
    }
    if (name.empty()) {
        do {
            name = generate_name();
        } while (entry->consumers.contains(name));
        COVER("jetstream: an ephemeral consumer gets a generated name");
    }
    if (!persisted(*stream, config)) {
        Consumer* installed = nullptr;
        if (auto failure = install(*stream,
                                   name,
                                   config,
                                   env_.clock.realtime_ns(),
                                   std::make_unique<store::MemConsumerStore>(env_),
                                   &installed)) {
            return respond_error(account, reply, type, *failure);
        }
        Json response = response_of(type);
        response.update(installed->info_json());
        return jetstream_.respond(account, reply, response);
    }
    // A durable of a file stream: its config, then its state file, then it starts.
    const std::int64_t created_ns = env_.clock.realtime_ns();
    const std::string directory = consumer_directory(*stream, name);
    std::weak_ptr<int> life = life_;
    const std::string account_name(account);
    const std::string stream_key = stream->name();
    write_meta(
        *stream,
        name,
        config,
        created_ns,
        [this, life, account_name, stream_key, name, config, created_ns, directory, reply](
            Status written) {
            if (life.expired()) return;
            if (!written) {
                return respond_error(
                    account_name,
                    reply,
                    type,
                    api_failure(ApiError::consumer_store_failed, written.error().message()));
            }
            store::FileConsumerStore::open(
                env_,
                directory + "/" + std::string(state_file_name),
                log_,
                [this, life, account_name, stream_key, name, config, created_ns, reply](
                    Result<std::unique_ptr<store::FileConsumerStore>> opened) {
                    if (life.expired()) return;
                    if (!opened) {
                        return respond_error(
                            account_name,
                            reply,
                            type,
                            api_failure(ApiError::consumer_store_failed, opened.error().message()));
                    }
                    Stream* again = jetstream_.find_stream(account_name, stream_key);
                    if (again == nullptr)
                        return respond_error(
                            account_name, reply, type, api_failure(ApiError::stream_not_found));
                    Consumer* installed = find(account_name, stream_key, name);
                    if (installed == nullptr) {
                        if (auto failure = install(
                                *again, name, config, created_ns, std::move(*opened), &installed)) {
                            return respond_error(account_name, reply, type, *failure);
                        }
                    }
                    Json response = response_of(type);
                    response.update(installed->info_json());
                    jetstream_.respond(account_name, reply, response);
                });
        });
}

std::optional<ApiFailure> Consumers::install(Stream& stream,
                                             std::string name,
                                             ConsumerConfig config,
                                             std::int64_t created_ns,
                                             std::unique_ptr<store::ConsumerStore> state_store,
                                             Consumer** installed,
                                             bool recovered) {
    StreamConsumers* entry = attach(stream.account(), stream);
    const Key key{stream.account(), stream.name()};
    std::weak_ptr<int> life = life_;
    ConsumerEvents events;
    events.acked = [this, life, key](store::Seq seq, std::string_view subject) {
        if (!life.expired()) on_acked(key, seq, std::string(subject));
    };
    events.inactive = [this, life, key, name] {
        if (!life.expired()) delete_consumer(key, name);
    };
    auto consumer = std::make_unique<Consumer>(env_,
                                               broker_,
                                               stream,
                                               name,
                                               std::move(config),
                                               created_ns,
                                               std::move(state_store),
                                               std::move(events),
                                               log_);
    if (const Status started = consumer->start(recovered); !started) {
        return api_failure(ApiError::consumer_create, started.error().message());
    }
    stream.store().add_consumer();
    *installed = consumer.get();
    entry->consumers.emplace(std::move(name), std::move(consumer));
    return std::nullopt;
}

std::string Consumers::consumer_directory(const Stream& stream, std::string_view name) const {
    return fmt::format(
        "{}/{}/streams/{}/obs/{}", store_dir_, stream.account(), stream.name(), name);
}

bool Consumers::persisted(const Stream& stream, const ConsumerConfig& config) const {
    return !store_dir_.empty() && config.durable() && stream.config().storage == Storage::file;
}

void Consumers::write_meta(const Stream& stream,
                           const std::string& name,
                           const ConsumerConfig& config,
                           std::int64_t created_ns,
                           std::function<void(Status)> on_written) {
    const std::string directory = consumer_directory(stream, name);
    if (Status made = env_.file_system.make_directories(directory); !made) {
        env_.loop.post([on_written, made] { on_written(made); });
        return;
    }
    Json meta = Json::object();
    meta["config"] = consumer_config_json(config);
    meta["created"] = created_ns;
    write_file_durably(env_,
                       directory,
                       directory + "/" + std::string(meta_file_name),
                       meta.dump(),
                       std::move(on_written));
}

void Consumers::remove_files(const Stream& stream, const std::string& name) {
    const std::string directory = consumer_directory(stream, name);
    const Status meta = env_.file_system.remove(directory + "/" + std::string(meta_file_name));
    MAYBE(meta.has_value());
    const Status state = env_.file_system.remove(directory + "/" + std::string(state_file_name));
    MAYBE(state.has_value());
    env_.file_system.sync_directory(directory, [](Status) {});
}

void Consumers::recover(Stream& stream, std::function<void()> on_done) {
    if (store_dir_.empty() || stream.config().storage != Storage::file) return on_done();
    const std::string obs =
        fmt::format("{}/{}/streams/{}/obs", store_dir_, stream.account(), stream.name());
    auto names = env_.file_system.list(obs);
    if (!names || names->empty()) return on_done();
    recover_next(stream,
                 std::make_shared<std::vector<std::string>>(std::move(*names)),
                 0,
                 std::move(on_done));
}

void Consumers::recover_next(Stream& stream,
                             std::shared_ptr<std::vector<std::string>> names,
                             std::size_t index,
                             std::function<void()> on_done) {
    if (index >= names->size() || index >= consumers_per_stream_max) return on_done();
    const std::string name = (*names)[index];
    const std::string directory = consumer_directory(stream, name);
    std::weak_ptr<int> life = life_;
    const std::string account = stream.account();
    const std::string stream_name = stream.name();
    auto next = [this, life, account, stream_name, names, index, on_done] {
        if (life.expired()) return;
        Stream* again = jetstream_.find_stream(account, stream_name);
        if (again == nullptr) return on_done();
        recover_next(*again, names, index + 1, on_done);
    };
    read_small_file(
        env_,
        directory + "/" + std::string(meta_file_name),
        [this, life, account, stream_name, name, directory, next](Result<std::string> text) {
            if (life.expired()) return;
            const Json meta = text ? Json::parse(*text, nullptr, false) : Json();
            ConsumerConfig config;
            if (!text || meta.is_discarded() || !meta.is_object() || !meta.contains("config")
                || consumer_config_from_json(meta["config"], config)) {
                // Never delete what we cannot read: leave it for an operator.
                LOG_ERROR(
                    log_,
                    "consumer config {}/meta.inf is missing or damaged; the consumer is not loaded",
                    directory);
                return next();
            }
            const std::int64_t created_ns = meta.value("created", std::int64_t{0});
            store::FileConsumerStore::open(
                env_,
                directory + "/" + std::string(state_file_name),
                log_,
                [this, life, account, stream_name, name, config, created_ns, next](
                    Result<std::unique_ptr<store::FileConsumerStore>> opened) {
                    if (life.expired()) return;
                    Stream* current = jetstream_.find_stream(account, stream_name);
                    if (!opened || current == nullptr) {
                        LOG_ERROR(log_,
                                  "could not recover consumer '{} > {} > {}'",
                                  account,
                                  stream_name,
                                  name);
                        return next();
                    }
                    Consumer* installed = nullptr;
                    if (auto failure = install(*current,
                                               name,
                                               config,
                                               created_ns,
                                               std::move(*opened),
                                               &installed,
                                               true)) {
                        LOG_ERROR(log_,
                                  "could not start consumer '{} > {} > {}': {}",
                                  account,
                                  stream_name,
                                  name,
                                  failure->description);
                    } else {
                        LOG_INFO(
                            log_, "Recovered consumer '{} > {} > {}'", account, stream_name, name);
                    }
                    next();
                });
        });
}

void Consumers::info(std::string_view account,
                     std::string_view stream_name,
                     std::string_view name,
                     const std::string& reply) {
    static constexpr std::string_view type = "consumer_info_response";
    Stream* stream = jetstream_.find_stream(account, stream_name);
    if (stream == nullptr)
        return respond_error(account, reply, type, api_failure(ApiError::stream_not_found));
    Consumer* consumer = find(account, stream_name, name);
    if (consumer == nullptr)
        return respond_error(account, reply, type, api_failure(ApiError::consumer_not_found));
    Json response = response_of(type);
    response.update(consumer->info_json());
    jetstream_.respond(account, reply, response);
}

void Consumers::remove(std::string_view account,
                       std::string_view stream_name,
                       std::string_view name,
                       const std::string& reply) {
    static constexpr std::string_view type = "consumer_delete_response";
    Stream* stream = jetstream_.find_stream(account, stream_name);
    if (stream == nullptr)
        return respond_error(account, reply, type, api_failure(ApiError::stream_not_found));
    if (find(account, stream_name, name) == nullptr) {
        return respond_error(account, reply, type, api_failure(ApiError::consumer_not_found));
    }
    delete_consumer(Key{std::string(account), std::string(stream_name)}, std::string(name));
    Json response = response_of(type);
    response["success"] = true;
    jetstream_.respond(account, reply, response);
}

void Consumers::names(std::string_view account,
                      std::string_view stream_name,
                      const std::string& reply,
                      std::string_view body,
                      bool list) {
    const std::string_view type = list ? "consumer_list_response" : "consumer_names_response";
    std::int64_t offset = 0;
    if (!is_empty_request(body)) {
        const Json request = Json::parse(body, nullptr, false);
        if (request.is_discarded() || !request.is_object()) {
            return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
        }
        if (const auto it = request.find("offset"); it != request.end() && !it->is_null()) {
            if (!it->is_number_integer())
                return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
            offset = it->get<std::int64_t>();
        }
    }
    Stream* stream = jetstream_.find_stream(account, stream_name);
    if (stream == nullptr) {
        // nats-server sends the paged fields with the error (an empty page).
        Json response = response_of(type);
        response["error"] = api_error_json(api_failure(ApiError::stream_not_found));
        response["total"] = 0;
        response["offset"] = 0;
        response["limit"] = 0;
        response["consumers"] = Json::array();
        return jetstream_.respond(account, reply, response);
    }
    std::vector<const Consumer*> all;
    const auto it = streams_.find(Key{std::string(account), std::string(stream_name)});
    if (it != streams_.end() && it->second->stream == stream) {
        for (const auto& [name, consumer] : it->second->consumers)
            all.push_back(consumer.get());
    }
    const std::size_t limit = list ? api_list_limit : api_names_limit;
    const std::size_t start =
        offset <= 0 ? 0 : std::min(static_cast<std::size_t>(offset), all.size());
    Json consumers = Json::array();
    for (std::size_t i = start; i < all.size() && consumers.size() < limit; ++i) {
        if (list)
            consumers.push_back(all[i]->info_json());
        else
            consumers.push_back(all[i]->name());
    }
    Json response = response_of(type);
    response["total"] = all.size();
    response["offset"] = start;
    response["limit"] = limit;
    response["consumers"] = std::move(consumers);
    jetstream_.respond(account, reply, response);
}

void Consumers::next(std::string_view account,
                     std::string_view stream_name,
                     std::string_view name,
                     const std::string& reply,
                     std::string_view body) {
    // nats-server answers a pull for an unknown stream or consumer with nothing.
    Consumer* consumer = find(account, stream_name, name);
    if (consumer == nullptr || jetstream_.find_stream(account, stream_name) == nullptr) return;
    consumer->on_pull_request(reply, body);
}

}  // namespace herald::jetstream
