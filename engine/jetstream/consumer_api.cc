// Consumers: the $JS.API.CONSUMER.* handlers (nats-server jetstream_api.go jsConsumer*Request)
// and the owner of every Consumer, keyed by (account, stream). It hooks each stream it serves:
// new messages wake its consumers, interest retention asks them, and a destroyed stream takes
// its consumers with it.
#include <algorithm>

#include <fmt/format.h>

#include "engine/base/assert.h"
#include "engine/jetstream/consumer.h"
#include "engine/jetstream/jetstream.h"
#include "engine/protocol/subject.h"

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

}  // namespace

Consumers::Consumers(io::Env& env, core::Broker& broker, JetStream& jetstream, base::Logger log)
    : env_(env), broker_(broker), jetstream_(jetstream), log_(std::move(log)) {}

Consumers::~Consumers() { shutdown(); }

void Consumers::shutdown() {
    for (auto& [key, entry] : streams_) {
        for (auto& [name, consumer] : entry->consumers) consumer->stop(false);
        entry->consumers.clear();
    }
    streams_.clear();
}

Consumer* Consumers::find(std::string_view account, std::string_view stream, std::string_view name) {
    const auto it = streams_.find(Key{std::string(account), std::string(stream)});
    if (it == streams_.end()) return nullptr;
    const auto consumer = it->second->consumers.find(name);
    return consumer == it->second->consumers.end() ? nullptr : consumer->second.get();
}

void Consumers::on_api(std::string_view account, const protocol::MessageArgs& message, std::string_view body) {
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
        if (t.size() != 4) {
            return respond_error(account, reply, "consumer_create_response",
                                 api_failure(ApiError::consumer_durable_name_not_in_subject));
        }
        return create(account, std::string(t[2]), std::string(t[3]), "", true, true, reply, body_copy);
    }
    if (t[0] == "INFO" && t.size() == 3) return info(account, std::string(t[1]), std::string(t[2]), reply);
    if (t[0] == "DELETE" && t.size() == 3) {
        if (!is_empty_request(body)) {
            return respond_error(account, reply, "consumer_delete_response", api_failure(ApiError::not_empty_request));
        }
        return remove(account, std::string(t[1]), std::string(t[2]), reply);
    }
    if (t[0] == "NAMES" && t.size() == 2) return names(account, std::string(t[1]), reply, body_copy, false);
    if (t[0] == "LIST" && t.size() == 2) return names(account, std::string(t[1]), reply, body_copy, true);
    if (t[0] == "MSG" && t.size() == 4 && t[1] == "NEXT") {
        return next(account, std::string(t[2]), std::string(t[3]), reply, body_copy);
    }
}

void Consumers::respond_error(std::string_view account, const std::string& reply, std::string_view type,
                              const ApiFailure& failure) {
    Json response = response_of(type);
    response["error"] = api_error_json(failure);
    jetstream_.respond(account, reply, response);
}

std::string Consumers::generate_name() {
    // nats-server createConsumerName: 8 characters.
    static constexpr std::string_view alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
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
    stream.set_stored_hook([this, life, key](store::Seq seq, std::string_view) {
        if (life.expired()) return;
        const auto found = streams_.find(key);
        if (found == streams_.end()) return;
        for (auto& [name, consumer] : found->second->consumers) consumer->on_stored(seq);
    });
    stream.set_interest_check([this, life, key](std::string_view subject) {
        if (life.expired()) return false;
        const auto found = streams_.find(key);
        if (found == streams_.end()) return false;
        for (const auto& [name, consumer] : found->second->consumers) {
            if (consumer->wants(subject)) return true;
        }
        return false;
    });
    stream.set_destroyed_hook([this, life, key] {
        if (!life.expired()) detach(key);
    });
    return raw;
}

void Consumers::detach(const Key& key) {
    const auto it = streams_.find(key);
    if (it == streams_.end()) return;
    std::unique_ptr<StreamConsumers> entry = std::move(it->second);
    streams_.erase(it);
    for (auto& [name, consumer] : entry->consumers) consumer->stop(true);
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
    // The consumer object may be running one of its own callbacks: destroy it later.
    env_.loop.post([owned = std::shared_ptr<Consumer>(std::move(consumer))] {});
}

void Consumers::on_acked(const Key& key, store::Seq seq, const std::string& subject) {
    const auto it = streams_.find(key);
    if (it == streams_.end()) return;
    Stream& stream = *it->second->stream;
    const Retention retention = stream.config().retention;
    if (retention == Retention::limits) return;
    if (retention == Retention::interest) {
        // Removed once every consumer that wants the subject has acknowledged it.
        for (const auto& [name, consumer] : it->second->consumers) {
            if (consumer->wants(subject) && !consumer->acknowledged(seq)) return;
        }
        COVER("jetstream: interest retention removes a message every consumer acked");
    } else {
        COVER("jetstream: a workqueue message is removed on ack");
    }
    stream.store().remove(seq, [](Status) {});
}

void Consumers::create(std::string_view account, std::string_view stream_name, std::string_view subject_name,
                       std::string_view filter, bool durable_subject, bool named_subject, const std::string& reply,
                       std::string_view body) {
    static constexpr std::string_view type = "consumer_create_response";
    const Json request = Json::parse(body, nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
        return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
    }
    ConsumerConfig config;
    std::string request_stream;
    if (const auto it = request.find("stream_name"); it != request.end() && !it->is_null()) {
        if (!it->is_string()) return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
        request_stream = it->get<std::string>();
    }
    if (const auto it = request.find("config"); it != request.end() && !it->is_null()) {
        if (auto failure = consumer_config_from_json(*it, config)) return respond_error(account, reply, type, *failure);
    }
    if (stream_name != request_stream) return respond_error(account, reply, type, api_failure(ApiError::stream_mismatch));
    if (subject_name.find_first_of("/\\") != std::string_view::npos) {
        return respond_error(account, reply, type, api_failure(ApiError::consumer_name_contains_path_separators));
    }
    if (durable_subject) {
        if (config.durable_name.empty()) {
            return respond_error(account, reply, type, api_failure(ApiError::consumer_durable_name_not_set));
        }
        if (subject_name != config.durable_name) {
            return respond_error(account, reply, type, api_failure(ApiError::consumer_durable_name_not_match_subject));
        }
    } else if (named_subject) {
        if (!config.durable_name.empty() && subject_name != config.durable_name) {
            return respond_error(account, reply, type, api_failure(ApiError::consumer_durable_name_not_match_subject));
        }
        config.name = std::string(subject_name);
    } else if (!config.durable_name.empty()) {
        return respond_error(account, reply, type, api_failure(ApiError::consumer_ephemeral_with_durable_name));
    }
    if (!filter.empty() && config.filter_subject != filter) {
        return respond_error(account, reply, type, api_failure(ApiError::consumer_create_filter_subject_mismatch));
    }
    if (config.num_replicas > 1) return respond_error(account, reply, type, api_failure(ApiError::stream_replicas_not_supported));
    Stream* stream = jetstream_.find_stream(account, stream_name);
    if (stream == nullptr) return respond_error(account, reply, type, api_failure(ApiError::stream_not_found));

    set_consumer_defaults(config);
    if (auto failure = check_consumer_config(config, stream->config())) return respond_error(account, reply, type, *failure);
    std::string name = config.durable() ? config.durable_name : config.name;
    for (const char c : name) {
        if (c == '.' || c == '*' || c == '>') {
            return respond_error(account, reply, type, api_failure(ApiError::consumer_bad_durable_name));
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
            return respond_error(account, reply, type, api_failure(ApiError::consumer_wq_requires_explicit_ack));
        }
        if (!entry->consumers.empty()) {
            if (config.filter_subject.empty()) {
                return respond_error(account, reply, type, api_failure(ApiError::consumer_wq_multiple_unfiltered));
            }
            for (const auto& [other_name, other] : entry->consumers) {
                const std::string& other_filter = other->config().filter_subject;
                if (other_filter.empty() || subjects_collide(other_filter, config.filter_subject)) {
                    return respond_error(account, reply, type, api_failure(ApiError::consumer_wq_consumer_not_unique));
                }
            }
        }
        if (config.deliver_policy != DeliverPolicy::all) {
            return respond_error(account, reply, type, api_failure(ApiError::consumer_wq_consumer_not_deliver_all));
        }
    }
    if (name.empty()) {
        do {
            name = generate_name();
        } while (entry->consumers.contains(name));
        COVER("jetstream: an ephemeral consumer gets a generated name");
    }
    const Key key{std::string(account), stream->name()};
    std::weak_ptr<int> life = life_;
    ConsumerEvents events;
    events.acked = [this, life, key](store::Seq seq, std::string_view subject) {
        if (!life.expired()) on_acked(key, seq, std::string(subject));
    };
    events.inactive = [this, life, key, name] {
        if (!life.expired()) delete_consumer(key, name);
    };
    auto consumer = std::make_unique<Consumer>(env_, broker_, *stream, name, config, env_.clock.realtime_ns(),
                                               std::make_unique<store::MemConsumerStore>(env_), std::move(events), log_);
    if (const Status started = consumer->start(); !started) {
        return respond_error(account, reply, type, api_failure(ApiError::consumer_create, started.error().message()));
    }
    stream->store().add_consumer();
    Consumer& created = *consumer;
    entry->consumers.emplace(name, std::move(consumer));
    Json response = response_of(type);
    response.update(created.info_json());
    jetstream_.respond(account, reply, response);
}

void Consumers::info(std::string_view account, std::string_view stream_name, std::string_view name,
                     const std::string& reply) {
    static constexpr std::string_view type = "consumer_info_response";
    Stream* stream = jetstream_.find_stream(account, stream_name);
    if (stream == nullptr) return respond_error(account, reply, type, api_failure(ApiError::stream_not_found));
    Consumer* consumer = find(account, stream_name, name);
    if (consumer == nullptr) return respond_error(account, reply, type, api_failure(ApiError::consumer_not_found));
    Json response = response_of(type);
    response.update(consumer->info_json());
    jetstream_.respond(account, reply, response);
}

void Consumers::remove(std::string_view account, std::string_view stream_name, std::string_view name,
                       const std::string& reply) {
    static constexpr std::string_view type = "consumer_delete_response";
    Stream* stream = jetstream_.find_stream(account, stream_name);
    if (stream == nullptr) return respond_error(account, reply, type, api_failure(ApiError::stream_not_found));
    if (find(account, stream_name, name) == nullptr) {
        return respond_error(account, reply, type, api_failure(ApiError::consumer_not_found));
    }
    delete_consumer(Key{std::string(account), std::string(stream_name)}, std::string(name));
    Json response = response_of(type);
    response["success"] = true;
    jetstream_.respond(account, reply, response);
}

void Consumers::names(std::string_view account, std::string_view stream_name, const std::string& reply,
                      std::string_view body, bool list) {
    const std::string_view type = list ? "consumer_list_response" : "consumer_names_response";
    std::int64_t offset = 0;
    if (!is_empty_request(body)) {
        const Json request = Json::parse(body, nullptr, false);
        if (request.is_discarded() || !request.is_object()) {
            return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
        }
        if (const auto it = request.find("offset"); it != request.end() && !it->is_null()) {
            if (!it->is_number_integer()) return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
            offset = it->get<std::int64_t>();
        }
    }
    Stream* stream = jetstream_.find_stream(account, stream_name);
    if (stream == nullptr) return respond_error(account, reply, type, api_failure(ApiError::stream_not_found));
    std::vector<const Consumer*> all;
    const auto it = streams_.find(Key{std::string(account), std::string(stream_name)});
    if (it != streams_.end() && it->second->stream == stream) {
        for (const auto& [name, consumer] : it->second->consumers) all.push_back(consumer.get());
    }
    const std::size_t limit = list ? api_list_limit : api_names_limit;
    const std::size_t start = offset <= 0 ? 0 : std::min(static_cast<std::size_t>(offset), all.size());
    Json consumers = Json::array();
    for (std::size_t i = start; i < all.size() && consumers.size() < limit; ++i) {
        if (list) consumers.push_back(all[i]->info_json());
        else consumers.push_back(all[i]->name());
    }
    Json response = response_of(type);
    response["total"] = all.size();
    response["offset"] = start;
    response["limit"] = limit;
    response["consumers"] = std::move(consumers);
    jetstream_.respond(account, reply, response);
}

void Consumers::next(std::string_view account, std::string_view stream_name, std::string_view name,
                     const std::string& reply, std::string_view body) {
    // nats-server answers a pull for an unknown stream or consumer with nothing.
    Consumer* consumer = find(account, stream_name, name);
    if (consumer == nullptr || jetstream_.find_stream(account, stream_name) == nullptr) return;
    consumer->on_pull_request(reply, body);
}

}  // namespace herald::jetstream
