// The $JS.API request handlers of JetStream (jetstream-api.md §2-§6, §13), after nats-server
// 2.9.10 jetstream_api.go: the same checks in the same order, the same errors.
#include <fmt/format.h>

#include "engine/base/assert.h"
#include "engine/jetstream/api_json.h"
#include "engine/jetstream/jetstream.h"
#include "engine/jetstream/stream_source.h"
#include "engine/protocol/subject.h"
#include "engine/store/errc.h"

namespace herald::jetstream {

namespace {

constexpr std::string_view type_prefix = "io.nats.jetstream.api.v1.";

Json response_of(std::string_view type) {
    Json response = Json::object();
    response["type"] = fmt::format("{}{}", type_prefix, type);
    return response;
}

// Matches nats-server isEmptyRequest: nothing, or a JSON object without fields.
bool is_empty_request(std::string_view body) {
    if (body.empty() || body == "{}") return true;
    const Json json = Json::parse(body, nullptr, false);
    return !json.is_discarded() && json.is_object() && json.empty();
}

// The optional fields of small request bodies, read as Go's json.Unmarshal would.
struct RequestFields {
    Json json;
    bool valid = true;
    std::uint64_t uint_field(const char* key) {
        const auto it = json.find(key);
        if (it == json.end() || it->is_null()) return 0;
        if (!it->is_number_unsigned()) {
            valid = false;
            return 0;
        }
        return it->get<std::uint64_t>();
    }
    std::int64_t int_field(const char* key) {
        const auto it = json.find(key);
        if (it == json.end() || it->is_null()) return 0;
        if (!it->is_number_integer()) {
            valid = false;
            return 0;
        }
        return it->get<std::int64_t>();
    }
    std::string string_field(const char* key) {
        const auto it = json.find(key);
        if (it == json.end() || it->is_null()) return {};
        if (!it->is_string()) {
            valid = false;
            return {};
        }
        return it->get<std::string>();
    }
    bool bool_field(const char* key) {
        const auto it = json.find(key);
        if (it == json.end() || it->is_null()) return false;
        if (!it->is_boolean()) {
            valid = false;
            return false;
        }
        return it->get<bool>();
    }
};

// Parses a non-empty body as a JSON object; nullopt = invalid JSON.
std::optional<RequestFields> parse_request(std::string_view body) {
    RequestFields fields;
    if (body.empty()) {
        fields.json = Json::object();
        return fields;
    }
    fields.json = Json::parse(body, nullptr, false);
    if (fields.json.is_discarded()) return std::nullopt;
    if (fields.json.is_null()) fields.json = Json::object();
    if (!fields.json.is_object()) return std::nullopt;
    return fields;
}

// The page of `items` that starts at `offset` (clamped) and holds at most `limit`.
std::size_t clamp_offset(std::int64_t offset, std::size_t count) {
    if (offset <= 0) return 0;
    return std::min(static_cast<std::size_t>(offset), count);
}

// The response type of an API subject, for errors sent before any handler runs; empty for
// subjects nats-server does not answer that way (pull requests, direct gets, unknown ones).
std::string_view response_type_of(const std::vector<std::string_view>& tokens) {
    struct Route {
        std::string_view first;
        std::string_view second;
        std::string_view type;
    };
    static constexpr Route routes[] = {
        {"STREAM", "CREATE", "stream_create_response"},
        {"STREAM", "UPDATE", "stream_update_response"},
        {"STREAM", "INFO", "stream_info_response"},
        {"STREAM", "DELETE", "stream_delete_response"},
        {"STREAM", "PURGE", "stream_purge_response"},
        {"STREAM", "NAMES", "stream_names_response"},
        {"STREAM", "LIST", "stream_list_response"},
        {"CONSUMER", "CREATE", "consumer_create_response"},
        {"CONSUMER", "DURABLE", "consumer_create_response"},
        {"CONSUMER", "INFO", "consumer_info_response"},
        {"CONSUMER", "DELETE", "consumer_delete_response"},
        {"CONSUMER", "NAMES", "consumer_names_response"},
        {"CONSUMER", "LIST", "consumer_list_response"},
    };
    if (tokens.size() == 1 && tokens[0] == "INFO") return "account_info_response";
    if (tokens.size() >= 3 && tokens[0] == "STREAM" && tokens[1] == "MSG") {
        if (tokens[2] == "GET") return "stream_msg_get_response";
        if (tokens[2] == "DELETE") return "stream_msg_delete_response";
        return {};
    }
    if (tokens.size() < 2) return {};
    for (const Route& route : routes) {
        if (tokens[0] == route.first && tokens[1] == route.second) return route.type;
    }
    return {};
}

// Go marshals the fields of a response struct that have no omitempty even beside an error:
// JSApiStreamPurgeResponse's "purged", the ApiPaged fields of the info/names/list responses and
// their "streams" (a nil slice for names, an empty one for list).
void add_error_zero_fields(std::string_view type, Json& response) {
    if (type == "stream_purge_response") {
        response["purged"] = 0;
        return;
    }
    const bool names = type == "stream_names_response";
    const bool list = type == "stream_list_response";
    if (type != "stream_info_response" && !names && !list) return;
    response["total"] = 0;
    response["offset"] = 0;
    response["limit"] = 0;
    if (names) response["streams"] = nullptr;
    if (list) response["streams"] = Json::array();
}

std::vector<std::string_view> api_tokens(std::string_view subject) {
    std::vector<std::string_view> tokens;
    if (!subject.starts_with(api_prefix)) return tokens;
    subject.remove_prefix(api_prefix.size());
    protocol::TokenReader reader(subject);
    while (!reader.done())
        tokens.push_back(reader.next());
    return tokens;
}

}  // namespace

void JetStream::on_disabled_api(const std::string& account, const protocol::MessageArgs& message) {
    // Matches nats-server: every API handler answers 503/10039 in an account without JetStream.
    const std::string_view type = response_type_of(api_tokens(message.subject));
    if (type.empty() || message.reply.empty()) return;
    Json response = response_of(type);
    response["error"] = api_error_json(api_failure(ApiError::not_enabled_for_account));
    add_error_zero_fields(type, response);
    const std::string reply(message.reply);
    const Status status = broker_.publish_internal(account, reply, "", "", response.dump());
    MAYBE(status.has_value());
}

void JetStream::respond(std::string_view account_name,
                        std::string_view reply,
                        const Json& response,
                        bool error_counts) {
    Account* account = find_account(account_name);
    if (account != nullptr) {
        account->api.total += 1;
        if (error_counts && response.contains("error")) account->api.errors += 1;
    }
    if (reply.empty()) return;
    const Status status = broker_.publish_internal(account_name, reply, "", "", response.dump());
    MAYBE(status.has_value());
}

void JetStream::respond_error(Account& account,
                              std::string_view reply,
                              std::string_view type,
                              const ApiFailure& failure,
                              bool error_counts) {
    Json response = response_of(type);
    response["error"] = api_error_json(failure);
    add_error_zero_fields(type, response);
    respond(account.name, reply, response, error_counts);
}

void JetStream::on_api(Account& account,
                       const protocol::MessageArgs& message,
                       std::string_view payload) {
    const std::string_view body = payload.substr(message.headers ? message.header_size : 0);
    if (!ready_) {
        if (shutting_down_ || message.reply.empty()) return;
        if (pending_requests_.size() >= pending_requests_max) {
            COVER("jetstream: an API request dropped while streams recover");
            return;
        }
        pending_requests_.push_back(PendingRequest{
            &account, std::string(message.subject), std::string(message.reply), std::string(body)});
        return;
    }
    // Copies: a handler may publish (nested routing) and the views die with this call.
    const std::string reply(message.reply);
    const std::vector<std::string_view> tokens = api_tokens(message.subject);
    const auto is = [&](std::initializer_list<std::string_view> prefix, std::size_t count) {
        if (tokens.size() != count) return false;
        std::size_t i = 0;
        for (const std::string_view token : prefix) {
            if (tokens[i++] != token) return false;
        }
        return true;
    };
    if (is({"INFO"}, 1)) return account_info(account, reply);
    if (tokens.empty()) return;
    // Matches nats-server jsStreamLeaderStepDownRequest, jsConsumerLeaderStepDownRequest and
    // jsStreamRemovePeerRequest: without clustering they fail before looking at the names.
    if (is({"STREAM", "LEADER", "STEPDOWN"}, 4))
        return respond_error(account, reply, "stream_leader_stepdown_response",
                             api_failure(ApiError::cluster_required));
    if (is({"CONSUMER", "LEADER", "STEPDOWN"}, 5))
        return respond_error(account, reply, "consumer_leader_stepdown_response",
                             api_failure(ApiError::cluster_required));
    if (is({"STREAM", "PEER", "REMOVE"}, 4))
        return respond_error(account, reply, "stream_remove_peer_response",
                             api_failure(ApiError::cluster_required));
    if (tokens[0] == "CONSUMER") {
        if (!consumer_api_) return;
        // In order with the stream operations before it (a create after a delete must see the
        // new stream), as nats-server answers API requests one by one.
        serialize([this, name = account.name, subject = std::string(message.subject), reply,
                   text = std::string(body)](Done done) {
            protocol::MessageArgs copy;
            copy.subject = subject;
            copy.reply = reply;
            consumer_api_(name, copy, text);
            done();
        });
        return;
    }
    if (is({"STREAM", "CREATE"}, 3)) return stream_create(account, tokens[2], reply, body);
    if (is({"STREAM", "UPDATE"}, 3)) return stream_update(account, tokens[2], reply, body);
    if (is({"STREAM", "INFO"}, 3)) return stream_info(account, tokens[2], reply, body);
    if (is({"STREAM", "DELETE"}, 3)) return stream_delete(account, tokens[2], reply, body);
    if (is({"STREAM", "PURGE"}, 3)) return stream_purge(account, tokens[2], reply, body);
    if (is({"STREAM", "NAMES"}, 2)) return stream_names(account, reply, body, false);
    if (is({"STREAM", "LIST"}, 2)) return stream_names(account, reply, body, true);
    if (is({"STREAM", "MSG", "GET"}, 4)) return stream_msg_get(account, tokens[3], reply, body);
    if (is({"STREAM", "MSG", "DELETE"}, 4))
        return stream_msg_delete(account, tokens[3], reply, body);
    // DIRECT.GET is served by the streams' own subscriptions; other subjects are not ours (yet).
}

void JetStream::account_info(Account& account, std::string_view reply) {
    std::uint64_t memory = 0;
    std::uint64_t storage = 0;
    std::uint64_t consumers = 0;
    for (const auto& [name, stream] : account.streams) {
        const store::StreamState state = stream->store().state();
        (stream->config().storage == Storage::memory ? memory : storage) += state.bytes;
        consumers += state.consumer_count;
    }
    Json response = response_of("account_info_response");
    response["memory"] = memory;
    response["storage"] = storage;
    response["streams"] = account.streams.size();
    response["consumers"] = consumers;
    response["limits"] = Json{{"max_memory", -1},
                              {"max_storage", -1},
                              {"max_streams", -1},
                              {"max_consumers", -1},
                              {"max_ack_pending", -1},
                              {"memory_max_stream_bytes", -1},
                              {"storage_max_stream_bytes", -1},
                              {"max_bytes_required", false}};
    if (!config_.domain.empty()) response["domain"] = config_.domain;
    response["api"] = Json{{"total", account.api.total}, {"errors", account.api.errors}};
    respond(account.name, reply, response);
}

std::optional<ApiFailure> JetStream::check_subject_overlap(const Account& account,
                                                           const StreamConfig& config) const {
    // Matches nats-server jsAccount.subjectsOverlap: no subject may collide with another stream's.
    for (const auto& [name, stream] : account.streams) {
        if (name == config.name) continue;
        for (const std::string& mine : config.subjects) {
            for (const std::string& theirs : stream->config().subjects) {
                if (subjects_collide(mine, theirs))
                    return api_failure(ApiError::stream_subject_overlap);
            }
        }
    }
    return std::nullopt;
}

std::function<const StreamConfig*(std::string_view)> JetStream::config_lookup(const Account& account) const {
    return [&account](std::string_view name) -> const StreamConfig* {
        const auto it = account.streams.find(name);
        return it == account.streams.end() ? nullptr : &it->second->config();
    };
}

void JetStream::stream_create(Account& account,
                              std::string_view name,
                              std::string_view reply_view,
                              std::string_view body) {
    static constexpr std::string_view type = "stream_create_response";
    StreamConfig config;
    if (auto failure = parse_stream_config(body.empty() ? std::string_view("!") : body, config)) {
        return respond_error(account, reply_view, type, *failure);
    }
    if (name != config.name)
        return respond_error(account, reply_view, type, api_failure(ApiError::stream_mismatch));
    if (name.find_first_of("/\\") != std::string_view::npos) {
        return respond_error(
            account, reply_view, type, api_failure(ApiError::stream_name_contains_path_separators));
    }
    if (config.sealed) {
        return respond_error(account,
                             reply_view,
                             type,
                             api_failure(ApiError::stream_invalid_config,
                                         "stream configuration for create can not be sealed"));
    }
    if (config.mirror_direct && config.mirror.is_null()) {
        return respond_error(account,
                             reply_view,
                             type,
                             api_failure(ApiError::stream_invalid_config,
                                         "stream has no mirror but does have mirror direct"));
    }
    serialize([this, &account, config = std::move(config), reply = std::string(reply_view)](
                  Done done) mutable {
        static constexpr std::string_view type_name = "stream_create_response";
        auto answer = [this, &account, reply](const Stream& stream) {
            Json response = response_of(type_name);
            response.update(stream.info_json());
            response["did_create"] =
                true;  // nats-server 2.9.10 sets it on every successful create.
            respond(account.name, reply, response);
        };
        // Matches nats-server addStreamWithAssignment.
        if (auto failure = check_stream_config(config)) {
            respond_error(account, reply, type_name, *failure);
            return done();
        }
        if (auto failure = check_sources_against(config, config_lookup(account))) {
            respond_error(account, reply, type_name, *failure);
            return done();
        }
        if (config.num_replicas > 1) {
            respond_error(
                account, reply, type_name, api_failure(ApiError::stream_replicas_not_supported));
            return done();
        }
        if (const auto it = account.streams.find(config.name); it != account.streams.end()) {
            if (it->second->config() == config) {
                answer(*it->second);
            } else {
                respond_error(account, reply, type_name, api_failure(ApiError::stream_name_in_use));
            }
            return done();
        }
        if (auto failure = check_subject_overlap(account, config)) {
            respond_error(account, reply, type_name, *failure);
            return done();
        }
        const std::int64_t created_ns = env_.clock.realtime_ns();
        auto open = [this, &account, config, created_ns, reply, answer, done]() {
            open_stream(
                account,
                config,
                created_ns,
                false,
                [this, &account, reply, answer, done](Result<Stream*> stream) {
                    if (!stream) {
                        respond_error(
                            account,
                            reply,
                            type_name,
                            api_failure(ApiError::stream_create, stream.error().message()));
                    } else {
                        LOG_INFO(log_, "stream '{} > {}' created", account.name, (*stream)->name());
                        answer(**stream);
                    }
                    done();
                });
        };
        persist_then(account, config, created_ns, reply, type_name, ApiError::stream_create, open,
                     done);
    });
}

void JetStream::persist_then(Account& account, const StreamConfig& config,
                             std::int64_t created_ns, const std::string& reply,
                             std::string_view type_name, ApiError failure,
                             std::function<void()> next, Done done) {
    if (config.storage == Storage::memory) return next();
    write_meta(account, config, created_ns,
               [this, &account, reply, type_name, failure, next = std::move(next),
                done = std::move(done)](Status written) {
                   if (!written) {
                       respond_error(account, reply, type_name,
                                     api_failure(failure, written.error().message()));
                       return done();
                   }
                   next();
               });
}

void JetStream::stream_update(Account& account,
                              std::string_view name,
                              std::string_view reply_view,
                              std::string_view body) {
    static constexpr std::string_view type = "stream_update_response";
    StreamConfig config;
    if (auto failure = parse_stream_config(body.empty() ? std::string_view("!") : body, config)) {
        return respond_error(account, reply_view, type, *failure);
    }
    if (auto failure = check_stream_config(config))
        return respond_error(account, reply_view, type, *failure);
    if (name != config.name)
        return respond_error(account, reply_view, type, api_failure(ApiError::stream_mismatch));
    serialize([this, &account, config = std::move(config), reply = std::string(reply_view)](
                  Done done) mutable {
        static constexpr std::string_view type_name = "stream_update_response";
        const auto it = account.streams.find(config.name);
        if (it == account.streams.end()) {
            respond_error(account, reply, type_name, api_failure(ApiError::stream_not_found));
            return done();
        }
        Stream& stream = *it->second;
        if (auto failure = check_sources_against(config, config_lookup(account))) {
            respond_error(account, reply, type_name, *failure);
            return done();
        }
        if (auto failure = check_stream_update(stream.config(), config)) {
            respond_error(account, reply, type_name, *failure);
            return done();
        }
        if (config.num_replicas > 1) {
            respond_error(
                account, reply, type_name, api_failure(ApiError::stream_replicas_not_supported));
            return done();
        }
        if (auto failure = check_subject_overlap(account, config)) {
            respond_error(account, reply, type_name, *failure);
            return done();
        }
        auto apply = [this, &account, name = config.name, config, reply, done]() {
            const auto found = account.streams.find(name);
            if (found == account.streams.end()) {
                respond_error(account, reply, type_name, api_failure(ApiError::stream_not_found));
                return done();
            }
            if (Status updated = found->second->update(config); !updated) {
                respond_error(account,
                              reply,
                              type_name,
                              api_failure(ApiError::stream_update, updated.error().message()));
                return done();
            }
            feeds_->on_updated(account.name, *found->second);
            Json response = response_of(type_name);
            response.update(found->second->info_json());
            if (!config_.domain.empty()) response["domain"] = config_.domain;
            feeds_->add_info(account.name, *found->second, response);
            respond(account.name, reply, response);
            done();
        };
        persist_then(account, config, stream.created_ns(), reply, type_name, ApiError::stream_update,
                     apply, done);
    });
}

void JetStream::stream_info(Account& account,
                            std::string_view name,
                            std::string_view reply,
                            std::string_view body) {
    static constexpr std::string_view type = "stream_info_response";
    std::string subjects_filter;
    std::int64_t offset = 0;
    bool deleted_details = false;
    if (!is_empty_request(body)) {
        auto request = parse_request(body);
        if (request) {
            deleted_details = request->bool_field("deleted_details");
            subjects_filter = request->string_field("subjects_filter");
            offset = request->int_field("offset");
        }
        if (!request || !request->valid)
            return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
    }
    const auto it = account.streams.find(name);
    if (it == account.streams.end())
        return respond_error(account, reply, type, api_failure(ApiError::stream_not_found));
    Stream& stream = *it->second;
    Json response = response_of(type);
    response["total"] = 0;
    response["offset"] = 0;
    response["limit"] = 0;
    Json info = stream.info_json();
    info["durability"] = stream.durability_json();
    if (!subjects_filter.empty()) {
        // Matches nats-server jsStreamInfoRequest: subject details are paged by 100000.
        const std::vector<store::SubjectState> subjects =
            stream.store().subjects_state(subjects_filter);
        const std::size_t start = clamp_offset(offset, subjects.size());
        const std::size_t end = std::min(subjects.size(), start + api_subject_details_max);
        Json details = Json::object();
        for (std::size_t i = start; i < end; ++i)
            details[subjects[i].subject] = subjects[i].messages;
        if (!details.empty()) {
            // Keep nats-server's field order: subjects before consumer_count.
            Json& state = info["state"];
            const Json consumer_count = state["consumer_count"];
            state.erase("consumer_count");
            state["subjects"] = std::move(details);
            state["consumer_count"] = consumer_count;
        }
        response["total"] = subjects.size();
        response["offset"] = start;
        response["limit"] = api_subject_details_max;
    }
    response.update(info);
    if (!config_.domain.empty()) response["domain"] = config_.domain;
    feeds_->add_info(account.name, stream, response);
    const store::StreamState state = stream.store().state();
    const std::uint64_t span = state.messages == 0 ? 0 : state.last_seq - state.first_seq + 1;
    if (!deleted_details || state.num_deleted == 0 || span > deleted_scan_max) {
        return respond(account.name, reply, response);
    }
    // state.deleted: the interior sequences that no longer load. The store keeps no list, so ask
    // it for each sequence of the span (bounded by deleted_scan_max); loads complete in order.
    struct Scan {
        Json response;
        std::vector<store::Seq> deleted;
        std::uint64_t pending = 0;
    };
    auto scan = std::make_shared<Scan>();
    scan->response = std::move(response);
    scan->pending = span;
    std::weak_ptr<int> life = life_;
    for (store::Seq seq = state.first_seq; seq <= state.last_seq; ++seq) {
        stream.store().load(seq, [this, life, scan, seq, &account, reply = std::string(reply)](
                                     Result<store::StoredMessage> loaded) {
            if (life.expired()) return;
            if (!loaded) scan->deleted.push_back(seq);
            if (--scan->pending != 0) return;
            // Keep nats-server's field order: deleted after num_deleted.
            Json& state_json = scan->response["state"];
            const Json consumer_count = state_json["consumer_count"];
            state_json.erase("consumer_count");
            state_json["deleted"] = scan->deleted;
            state_json["consumer_count"] = consumer_count;
            respond(account.name, reply, scan->response);
        });
    }
}

void JetStream::stream_delete(Account& account,
                              std::string_view name,
                              std::string_view reply_view,
                              std::string_view body) {
    static constexpr std::string_view type = "stream_delete_response";
    if (!is_empty_request(body))
        return respond_error(account, reply_view, type, api_failure(ApiError::not_empty_request));
    serialize(
        [this, &account, name = std::string(name), reply = std::string(reply_view)](Done done) {
            static constexpr std::string_view type_name = "stream_delete_response";
            const auto it = account.streams.find(name);
            if (it == account.streams.end()) {
                respond_error(account, reply, type_name, api_failure(ApiError::stream_not_found));
                return done();
            }
            // The stream waits in closing_ (owned by JetStream, so a crash mid-delete frees it)
            // until its store has closed; it is destroyed on a later turn, not inside the store's
            // own callback.
            const std::uint64_t closing_id = ++closing_ids_;
            Stream& stream = *it->second;
            feeds_->on_removed(account.name, stream);  // Its feeds stop; feeds reading it fail.
            closing_.emplace(closing_id, std::move(it->second));
            account.streams.erase(it);
            const bool on_disk = stream.config().storage == Storage::file;
            std::weak_ptr<int> life = life_;
            stream.close([this, life, closing_id, &account, name, reply, on_disk, done]() {
                if (life.expired()) return;
                env_.loop.post([this, life, closing_id] {
                    if (!life.expired()) closing_.erase(closing_id);
                });
                if (on_disk) remove_stream_files(account.name, name);
                LOG_INFO(log_, "stream '{} > {}' deleted", account.name, name);
                Json response = response_of(type_name);
                response["success"] = true;
                respond(account.name, reply, response);
                done();
            });
        });
}

void JetStream::stream_purge(Account& account,
                             std::string_view name,
                             std::string_view reply_view,
                             std::string_view body) {
    static constexpr std::string_view type = "stream_purge_response";
    store::PurgeRequest purge;
    if (!is_empty_request(body)) {
        auto request = parse_request(body);
        if (request) {
            purge.filter = request->string_field("filter");
            purge.seq = request->uint_field("seq");
            purge.keep = request->uint_field("keep");
        }
        if (!request || !request->valid) {
            return respond_error(account, reply_view, type, api_failure(ApiError::invalid_json));
        }
        if (purge.seq > 0 && purge.keep > 0) {
            return respond_error(account, reply_view, type, api_failure(ApiError::bad_request));
        }
    }
    const auto it = account.streams.find(name);
    if (it == account.streams.end())
        return respond_error(account, reply_view, type, api_failure(ApiError::stream_not_found));
    Stream& stream = *it->second;
    if (stream.config().sealed)
        return respond_error(account, reply_view, type, api_failure(ApiError::stream_sealed));
    if (stream.config().deny_purge) {
        return respond_error(
            account,
            reply_view,
            type,
            api_failure(ApiError::stream_purge_failed, "stream purge not permitted"));
    }
    std::weak_ptr<int> life = life_;
    stream.store().purge(
        purge,
        [this, life, &account, reply = std::string(reply_view)](Result<std::uint64_t> purged) {
            if (life.expired()) return;
            if (!purged) {
                // nats-server sends this one with sendAPIResponse: not counted as an API error.
                return respond_error(
                    account,
                    reply,
                    "stream_purge_response",
                    api_failure(ApiError::stream_general_error, purged.error().message()),
                    false);
            }
            Json response = response_of("stream_purge_response");
            response["success"] = true;
            response["purged"] = *purged;
            respond(account.name, reply, response);
        });
}

void JetStream::stream_names(Account& account,
                             std::string_view reply,
                             std::string_view body,
                             bool list) {
    const std::string_view type = list ? "stream_list_response" : "stream_names_response";
    std::int64_t offset = 0;
    std::string filter;
    if (!is_empty_request(body)) {
        auto request = parse_request(body);
        if (request) {
            offset = request->int_field("offset");
            filter = request->string_field("subject");
        }
        if (!request || !request->valid)
            return respond_error(account, reply, type, api_failure(ApiError::invalid_json));
    }
    // Sorted by name (the map's order), as nats-server sorts before paging.
    std::vector<const Stream*> matching;
    for (const auto& [name, stream] : account.streams) {
        bool match = filter.empty();
        for (const std::string& subject : stream->config().subjects) {
            if (!match && subjects_collide(filter, subject)) match = true;
        }
        if (match) matching.push_back(stream.get());
    }
    const std::size_t limit = list ? api_list_limit : api_names_limit;
    const std::size_t start = clamp_offset(offset, matching.size());
    Json streams = Json::array();
    for (std::size_t i = start; i < matching.size() && streams.size() < limit; ++i) {
        if (list) {
            Json info = matching[i]->info_json();
            if (!config_.domain.empty()) info["domain"] = config_.domain;
            feeds_->add_info(account.name, *matching[i], info);
            streams.push_back(std::move(info));
        } else {
            streams.push_back(matching[i]->name());
        }
    }
    Json response = response_of(type);
    response["total"] = matching.size();
    response["offset"] = start;
    response["limit"] = limit;
    // Go marshals an empty slice it never appended to as null.
    response["streams"] = streams.empty() ? Json(nullptr) : std::move(streams);
    respond(account.name, reply, response);
}

void JetStream::stream_msg_get(Account& account,
                               std::string_view name,
                               std::string_view reply_view,
                               std::string_view body) {
    static constexpr std::string_view type = "stream_msg_get_response";
    if (body.empty())
        return respond_error(account, reply_view, type, api_failure(ApiError::bad_request));
    auto request = parse_request(body);
    std::uint64_t seq = 0;
    std::string last_for;
    std::string next_for;
    if (request) {
        seq = request->uint_field("seq");
        last_for = request->string_field("last_by_subj");
        next_for = request->string_field("next_by_subj");
    }
    if (!request || !request->valid)
        return respond_error(account, reply_view, type, api_failure(ApiError::invalid_json));
    if ((seq > 0 && !last_for.empty()) || (seq == 0 && last_for.empty() && next_for.empty())
        || (!last_for.empty() && !next_for.empty())) {
        return respond_error(account, reply_view, type, api_failure(ApiError::bad_request));
    }
    const auto it = account.streams.find(name);
    if (it == account.streams.end())
        return respond_error(account, reply_view, type, api_failure(ApiError::stream_not_found));
    std::weak_ptr<int> life = life_;
    auto on_loaded = [this, life, &account, reply = std::string(reply_view)](
                         Result<store::StoredMessage> loaded) {
        if (life.expired()) return;
        if (!loaded)
            return respond_error(account,
                                 reply,
                                 "stream_msg_get_response",
                                 api_failure(ApiError::message_not_found));
        Json message = Json::object();
        message["subject"] = loaded->subject;
        message["seq"] = loaded->seq;
        if (!loaded->headers.empty()) message["hdrs"] = base64_encode(loaded->headers);
        if (!loaded->payload.empty()) message["data"] = base64_encode(loaded->payload);
        message["time"] = rfc3339_nano(loaded->timestamp_ns);
        Json response = response_of("stream_msg_get_response");
        response["message"] = std::move(message);
        respond(account.name, reply, response);
    };
    store::StreamStore& store = it->second->store();
    if (!next_for.empty()) return store.load_next(next_for, seq, on_loaded);
    if (!last_for.empty()) return store.load_last(last_for, on_loaded);
    store.load(seq, on_loaded);
}

void JetStream::stream_msg_delete(Account& account,
                                  std::string_view name,
                                  std::string_view reply_view,
                                  std::string_view body) {
    static constexpr std::string_view type = "stream_msg_delete_response";
    if (body.empty())
        return respond_error(account, reply_view, type, api_failure(ApiError::bad_request));
    auto request = parse_request(body);
    std::uint64_t seq = 0;
    if (request) {
        seq = request->uint_field("seq");
        static_cast<void>(request->bool_field("no_erase"));  // Herald never rewrites in place.
    }
    if (!request || !request->valid)
        return respond_error(account, reply_view, type, api_failure(ApiError::invalid_json));
    const auto it = account.streams.find(name);
    if (it == account.streams.end())
        return respond_error(account, reply_view, type, api_failure(ApiError::stream_not_found));
    Stream& stream = *it->second;
    if (stream.config().sealed)
        return respond_error(account, reply_view, type, api_failure(ApiError::stream_sealed));
    if (stream.config().deny_delete) {
        return respond_error(
            account,
            reply_view,
            type,
            api_failure(ApiError::stream_msg_delete_failed, "message delete not permitted"));
    }
    if (seq > stream.store().state().last_seq) {
        // Matches nats-server fileStore.removeMsg: past the last sequence is ErrStoreEOF.
        return respond_error(
            account,
            reply_view,
            type,
            api_failure(ApiError::stream_msg_delete_failed,
                        store::make_error_code(store::Errc::end_of_stream).message()),
            false);
    }
    std::weak_ptr<int> life = life_;
    stream.store().remove(
        seq, [this, life, &account, reply = std::string(reply_view)](Status removed) {
            if (life.expired()) return;
            static constexpr std::string_view type_name = "stream_msg_delete_response";
            if (!removed) {
                // Matches nats-server 2.9.10: the store's error comes back as 500/10057 ("no
                // message found", "stream store EOF"); 10043 is only for a remove that reports
                // nothing removed.
                MAYBE(removed.error() == store::Errc::message_not_found);
                // Sent with sendAPIResponse by nats-server: not counted as an API error.
                return respond_error(
                    account,
                    reply,
                    type_name,
                    api_failure(ApiError::stream_msg_delete_failed, removed.error().message()),
                    false);
            }
            Json response = response_of(type_name);
            response["success"] = true;
            respond(account.name, reply, response);
        });
}

}  // namespace herald::jetstream
