#include "engine/core/client.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "engine/auth/authenticator.h"
#include "engine/auth/client_permissions.h"
#include "engine/base/assert.h"
#include "engine/core/account.h"
#include "engine/core/broker.h"
#include "engine/protocol/encoder.h"
#include "engine/protocol/subject.h"

namespace herald::core {

namespace {

// nats-server sends its first PING about 2 s after the connection starts (core-protocol.md
// §4.4), then every ping_interval.
constexpr Duration first_ping_delay = Duration::seconds(2);

}  // namespace

std::string_view close_reason_text(CloseReason reason) {
    switch (reason) {
        case CloseReason::client_closed:
            return "Client Closed";
        case CloseReason::authentication_timeout:
            return "Authentication Timeout";
        case CloseReason::authentication_failure:
            return "Authentication Failure";
        case CloseReason::slow_consumer_pending_bytes:
            return "Slow Consumer (Pending Bytes)";
        case CloseReason::slow_consumer_write_deadline:
            return "Slow Consumer (Write Deadline)";
        case CloseReason::write_error:
            return "Write Error";
        case CloseReason::read_error:
            return "Read Error";
        case CloseReason::parse_error:
            return "Parse Error";
        case CloseReason::stale_connection:
            return "Stale Connection";
        case CloseReason::protocol_violation:
            return "Protocol Violation";
        case CloseReason::bad_client_protocol_version:
            return "Bad Client Protocol Version";
        case CloseReason::max_connections_exceeded:
            return "Maximum Connections Exceeded";
        case CloseReason::max_payload_exceeded:
            return "Maximum Message Payload Exceeded";
        case CloseReason::max_control_line_exceeded:
            return "Maximum Control Line Exceeded";
        case CloseReason::server_shutdown:
            return "Server Shutdown";
    }
    return "Unknown";
}

Client::Client(Broker& broker,
               io::Env& env,
               std::uint64_t cid,
               std::unique_ptr<io::Stream> stream,
               base::Logger log)
    : broker_(broker),
      env_(env),
      cid_(cid),
      stream_(std::move(stream)),
      log_(std::move(log)),
      peer_address_(stream_->peer_address()),
      parser_(protocol::Role::server,
              protocol::ParserLimits{static_cast<std::size_t>(broker.options().max_control_line),
                                     static_cast<std::size_t>(std::max<std::int64_t>(
                                         broker.options().max_payload, 0))}) {
    read_buffer_.resize(limits::read_buffer_size_min);
}

Client::~Client() {
    // Every timer captures `this`: none may outlive the client.
    ASSERT(closed_);
    ASSERT(ping_timer_ == 0);
    ASSERT(auth_timer_ == 0);
    ASSERT(close_timer_ == 0);
    ASSERT(write_deadline_timer_ == 0);
    ASSERT(stall_timer_ == 0);
}

void Client::start(std::string_view info_line) {
    last_read_ = env_.clock.monotonic();
    queue(info_line);
    flush();
    if (broker_.authenticator().auth_required()) {
        auth_timer_ =
            env_.loop.schedule(broker_.options().auth_timeout, [this] { auth_timer_callback(); });
    }
    // Up to 20% later, as nats-server, so many clients do not ping in step.
    const std::uint64_t jitter = env_.random.uniform(first_ping_delay.ns / 5 + 1);
    arm_ping_timer(Duration{first_ping_delay.ns + jitter});
    read_more();
}

void Client::arm_ping_timer(Duration after) {
    ping_timer_ = env_.loop.schedule(after, [this] { ping_timer_callback(); });
}

void Client::read_more() {
    if (closed_ || closing_) return;
    stream_->read_some(read_buffer_, [this](Result<std::size_t> result) { read_callback(result); });
}

void Client::read_callback(Result<std::size_t> result) {
    if (closed_) return;
    retired_.clear();
    if (!result) {
        close(CloseReason::read_error);
        return;
    }
    if (*result == 0) {
        close(CloseReason::client_closed);
        return;
    }
    const std::size_t count = *result;
    last_read_ = env_.clock.monotonic();
    parser_.feed(std::span<const char>(reinterpret_cast<const char*>(read_buffer_.data()), count),
                 *this);
    broker_.flush_all();
    // A full read suggests more is waiting: read bigger next time (nats-server does the same).
    if (count == read_buffer_.size() && read_buffer_.size() < limits::read_buffer_size_max) {
        read_buffer_.resize(read_buffer_.size() * 2);
    }
    if (!stall_on_consumers()) read_more();
}

Duration stall_duration(std::size_t pending, std::size_t max_pending) {
    // Matches nats-server stallDuration: 100 ms, growing by 100 ms per tenth of the upper half
    // of max_pending, and 1 s once the consumer is at max_pending.
    if (pending >= max_pending) return stall_duration_max;
    const std::size_t half = max_pending / 2;
    if (pending <= half || half < 10) return stall_duration_min;
    const std::size_t step = half / 10;
    return Duration{stall_duration_min.ns * (1 + (pending - half) / step)};
}

bool Client::over_stall_threshold() const {
    return outbound_.bytes_pending() > static_cast<std::size_t>(broker_.options().max_pending) / 2;
}

bool Client::stall_on_consumers() {
    // Matches nats-server's fast-producer stall: a publisher whose messages pushed a consumer
    // past half its max_pending stops being read until that consumer drains below it, bounded
    // by stall_duration(), so a consumer that is merely slower is not cut off.
    std::vector<Client*> consumers = broker_.take_stalled_consumers();
    if (closed_ || closing_) return true;  // closed while parsing: no reads, no stall timer
    Duration longest;
    for (Client* consumer : consumers) {
        if (consumer == this || consumer->closed() || !consumer->over_stall_threshold()) continue;
        consumer->stalled_producers_.push_back(cid_);
        longest = std::max(longest, stall_duration(consumer->bytes_pending(),
                                                   static_cast<std::size_t>(broker_.options().max_pending)));
    }
    if (longest == Duration{}) return false;
    COVER("core: a fast producer is stalled on a slow consumer");
    stalled_ = true;
    stall_timer_ = env_.loop.schedule(longest, [this] {
        stall_timer_ = 0;
        LOG_DEBUG(log_, "Timed out of fast producer stall");
        resume_reading();
    });
    return true;
}

void Client::resume_reading() {
    if (!stalled_ || closed_) return;
    stalled_ = false;
    env_.loop.cancel(stall_timer_);
    stall_timer_ = 0;
    read_more();
}

void Client::release_stalled_producers() {
    for (const std::uint64_t cid : stalled_producers_) broker_.resume_reading(cid);
    stalled_producers_.clear();
}

void Client::queue(std::string_view bytes) {
    if (closed_) return;
    outbound_.append(bytes);
    queue_flush();
}

void Client::queue_flush() {
    if (!flush_queued_) {
        flush_queued_ = true;
        broker_.queue_flush(*this);
    }
}

void Client::flush() {
    flush_queued_ = false;
    if (closed_ || outbound_.write_in_flight() || outbound_.empty()) return;
    const auto buffers = outbound_.start_write();
    ++write_generation_;
    write_started_ = env_.clock.monotonic();
    if (write_deadline_timer_ == 0) {
        const std::uint64_t generation = write_generation_;
        write_deadline_timer_ =
            env_.loop.schedule(broker_.options().write_deadline,
                               [this, generation] { write_deadline_callback(generation); });
    }
    stream_->write_all(buffers, [this](Status status) { write_callback(status); });
}

void Client::write_callback(Status status) {
    if (closed_) return;
    outbound_.finish_write();
    if (!status) {
        close(CloseReason::write_error);
        return;
    }
    if (!stalled_producers_.empty() && !over_stall_threshold()) release_stalled_producers();
    if (!outbound_.empty()) {
        flush();
    } else if (closing_) {
        close(closing_reason_);
    }
}

void Client::write_deadline_callback(std::uint64_t write_generation) {
    // One timer per client at a time: it checks the write that was in flight when armed.
    write_deadline_timer_ = 0;
    if (closed_) return;
    if (outbound_.write_in_flight() && write_generation_ == write_generation) {
        // Matches nats-server: a write stuck longer than write_deadline is a slow consumer.
        LOG_INFO(log_,
                 "Slow Consumer Detected: WriteDeadline of {}ms exceeded",
                 broker_.options().write_deadline.ns / 1'000'000);
        broker_.count_slow_consumer();
        close(CloseReason::slow_consumer_write_deadline);
        return;
    }
    if (outbound_.write_in_flight()) {
        const Duration elapsed = env_.clock.monotonic().since(write_started_);
        const Duration deadline = broker_.options().write_deadline;
        const Duration remaining{deadline.ns > elapsed.ns ? deadline.ns - elapsed.ns : 0};
        const std::uint64_t generation = write_generation_;
        write_deadline_timer_ = env_.loop.schedule(
            remaining, [this, generation] { write_deadline_callback(generation); });
    }
}

bool Client::check_slow_consumer() {
    const auto max_pending = static_cast<std::size_t>(broker_.options().max_pending);
    if (outbound_.bytes_pending() <= max_pending) return false;
    // Matches nats-server 2.9: a client over max_pending is closed without an -ERR.
    LOG_INFO(log_, "Slow Consumer Detected: MaxPending of {} Exceeded", max_pending);
    broker_.count_slow_consumer();
    close(CloseReason::slow_consumer_pending_bytes);
    return true;
}

bool Client::deliver(Subscription& sub,
                     const protocol::MessageArgs& message,
                     std::string_view payload) {
    if (closed_) return false;
    ASSERT(sub.client == this);
    // An auto-unsubscribe limit reached earlier in this same routing pass.
    if (sub.max_msgs != 0 && sub.delivered >= sub.max_msgs) return false;
    if (canary_drop_at_.ns != 0 && env_.clock.monotonic() >= canary_drop_at_) {  // canary: test-only
        canary_drop_at_ = Instant{};
        COVER("canary: drop a message after a reconnect");
        return true;
    }
    const bool with_headers = message.headers && options_.headers;
    // A client that did not ask for headers gets the payload only (nats-server does the same).
    const std::string_view body =
        (message.headers && !options_.headers) ? payload.substr(message.header_size) : payload;
    std::string& chunk = outbound_.tail_chunk(body.size() + message.subject.size()
                                              + message.reply.size() + sub.sid.size() + 32);
    const std::size_t before = chunk.size();
    if (with_headers) {
        protocol::append_hmsg_line(
            chunk, message.subject, sub.sid, message.reply, message.header_size, body.size());
    } else {
        protocol::append_msg_line(chunk, message.subject, sub.sid, message.reply, body.size());
    }
    chunk += body;
    chunk += protocol::crlf;
    const std::size_t added = chunk.size() - before;
    outbound_.commit_tail(added);
    ++stats_.out_msgs;
    stats_.out_bytes += body.size();
    ++sub.delivered;
    queue_flush();
    if (check_slow_consumer()) return false;
    if (!stall_noted_ && over_stall_threshold()) {
        stall_noted_ = true;
        broker_.note_stalled_consumer(*this);
    }
    if (sub.max_msgs != 0 && sub.delivered >= sub.max_msgs) {
        auto it = subscriptions_.find(sub.sid);
        if (it != subscriptions_.end() && it->second.get() == &sub) remove_subscription(it);
    }
    return true;
}

void Client::send_error(protocol::ServerError error) {
    const auto info = protocol::server_error_info(error);
    send_error_text(info.text);
    if (info.fatal) {
        CloseReason reason = CloseReason::protocol_violation;
        switch (error) {
            case protocol::ServerError::authorization_violation:
                reason = CloseReason::authentication_failure;
                break;
            case protocol::ServerError::authentication_timeout:
                reason = CloseReason::authentication_timeout;
                break;
            case protocol::ServerError::max_payload_violation:
                reason = CloseReason::max_payload_exceeded;
                break;
            case protocol::ServerError::max_control_line_exceeded:
                reason = CloseReason::max_control_line_exceeded;
                break;
            case protocol::ServerError::stale_connection:
                reason = CloseReason::stale_connection;
                break;
            case protocol::ServerError::max_connections_exceeded:
                reason = CloseReason::max_connections_exceeded;
                break;
            case protocol::ServerError::invalid_client_protocol:
                reason = CloseReason::bad_client_protocol_version;
                break;
            default:
                break;
        }
        close_after_flush(reason);
    }
}

void Client::send_error_text(std::string_view text) {
    std::string line;
    protocol::append_err(line, text);
    LOG_DEBUG(log_, "-ERR '{}'", text);
    queue(line);
}

void Client::close_after_flush(CloseReason reason) {
    if (closed_ || closing_) return;
    if (outbound_.empty() && !outbound_.write_in_flight()) {
        close(reason);
        return;
    }
    closing_ = true;
    closing_reason_ = reason;
    flush();
    // Bounded: a peer that does not read gets at most the write deadline.
    close_timer_ = env_.loop.schedule(broker_.options().write_deadline, [this, reason] {
        close_timer_ = 0;
        close(reason);
    });
}

void Client::close(CloseReason reason) {
    if (closed_) return;
    closed_ = true;
    closing_ = false;
    env_.loop.cancel(ping_timer_);
    env_.loop.cancel(auth_timer_);
    env_.loop.cancel(close_timer_);
    env_.loop.cancel(write_deadline_timer_);
    env_.loop.cancel(stall_timer_);
    ping_timer_ = auth_timer_ = close_timer_ = write_deadline_timer_ = stall_timer_ = 0;
    stalled_ = false;
    release_stalled_producers();
    if (account_ != nullptr) {
        for (auto& [sid, sub] : subscriptions_) {
            const Status removed = account_->sublist().remove(*sub);
            ASSERT(removed);
        }
    }
    // The Subscription objects stay alive until the Client is destroyed: a routing pass in
    // progress may still hold pointers to them.
    stream_->close();
    LOG_DEBUG(log_, "client connection closed: {}", close_reason_text(reason));
    broker_.client_closed(*this, reason);
}

void Client::remove_subscription(
    std::map<std::string, std::unique_ptr<Subscription>, std::less<>>::iterator it) {
    ASSERT(account_ != nullptr);
    const Status removed = account_->sublist().remove(*it->second);
    ASSERT(removed);
    retired_.push_back(std::move(it->second));
    subscriptions_.erase(it);
}

void Client::ping_timer_callback() {
    ping_timer_ = 0;
    if (closed_) return;
    const Duration interval = broker_.options().ping_interval;
    // Skip the ping while the client is demonstrably alive (nats-server does likewise).
    if (first_ping_sent_ && pings_outstanding_ == 0
        && env_.clock.monotonic().since(last_read_) < interval) {
        arm_ping_timer(interval);
        return;
    }
    if (pings_outstanding_ + 1 > static_cast<std::uint64_t>(broker_.options().ping_max)) {
        if (broker_.options().canaries.keep_stale) {  // canary: test-only, never closes as stale
            COVER("canary: keep a stale client");
            arm_ping_timer(interval);
            return;
        }
        LOG_DEBUG(log_, "Stale Client Connection - Closing");
        send_error(protocol::ServerError::stale_connection);
        return;
    }
    ++pings_outstanding_;
    first_ping_sent_ = true;
    queue(protocol::ping_frame);
    broker_.flush_all();
    arm_ping_timer(interval);
}

void Client::auth_timer_callback() {
    auth_timer_ = 0;
    if (closed_ || connected_) return;
    send_error(protocol::ServerError::authentication_timeout);
    broker_.flush_all();
}

void Client::on_ping() {
    queue(protocol::pong_frame);
}

void Client::on_pong() {
    pings_outstanding_ = 0;
}

void Client::on_parse_error(protocol::ParseError error) {
    switch (error) {
        case protocol::ParseError::unknown_operation:
            send_error(protocol::ServerError::unknown_protocol_operation);
            break;
        case protocol::ParseError::max_control_line:
            send_error(protocol::ServerError::max_control_line_exceeded);
            break;
        case protocol::ParseError::max_payload:
            send_error(protocol::ServerError::max_payload_violation);
            break;
        case protocol::ParseError::bad_arguments:
            // Matches nats-server: a malformed PUB/SUB closes the connection without an -ERR.
            close_after_flush(CloseReason::parse_error);
            break;
    }
}

}  // namespace herald::core

namespace herald::core {

namespace {

// Reads a CONNECT field of the expected type; absent or mistyped fields keep the default, as
// Go's json.Unmarshal leaves them.
template <class T>
void read_field(const nlohmann::json& json, const char* key, T& target) {
    const auto it = json.find(key);
    if (it == json.end()) return;
    if constexpr (std::is_same_v<T, bool>) {
        if (it->is_boolean()) target = it->template get<bool>();
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (it->is_string()) target = it->template get<std::string>();
    } else {
        if (it->is_number_integer()) target = it->template get<T>();
    }
}

}  // namespace

void Client::on_connect(std::string_view json_text) {
    auto json = nlohmann::json::parse(json_text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        // Matches nats-server: invalid CONNECT JSON closes the connection without an -ERR.
        close(CloseReason::parse_error);
        return;
    }
    read_field(json, "verbose", options_.verbose);
    read_field(json, "pedantic", options_.pedantic);
    read_field(json, "echo", options_.echo);
    read_field(json, "headers", options_.headers);
    read_field(json, "no_responders", options_.no_responders);
    read_field(json, "protocol", options_.protocol);
    read_field(json, "name", options_.name);
    read_field(json, "lang", options_.lang);
    read_field(json, "version", options_.version);
    read_field(json, "user", options_.user);
    read_field(json, "pass", options_.pass);
    read_field(json, "auth_token", options_.auth_token);
    if (broker_.options().no_header_support) options_.headers = false;

    if (options_.protocol < 0 || options_.protocol > 1) {
        send_error(protocol::ServerError::invalid_client_protocol);
        return;
    }
    if (options_.no_responders && !options_.headers) {
        send_error(protocol::ServerError::no_responders_requires_headers);
        return;
    }
    if (connected_) {
        // A second CONNECT may change options but not the identity.
        if (options_.verbose) queue(protocol::ok_frame);
        return;
    }
    if (!authorize()) return;
    connected_ = true;
    env_.loop.cancel(auth_timer_);
    auth_timer_ = 0;
    if (!options_.name.empty()) log_ = log_.child(options_.name);
    // canary: test-only. A client whose name connected before loses one message a second later.
    if (broker_.options().canaries.drop_after_reconnect && broker_.canary_name_seen(options_.name))
        canary_drop_at_ = env_.clock.monotonic() + Duration::seconds(1);
    if (options_.verbose) queue(protocol::ok_frame);
}

bool Client::authorize() {
    auto identity = broker_.authenticator().authenticate(
        auth::Credentials{options_.user, options_.pass, options_.auth_token});
    return bind_identity(std::move(identity));
}

bool Client::bind_identity(Result<auth::Identity> identity) {
    if (!identity) {
        LOG_INFO(log_, "authentication error: {}", identity.error().message());
        send_error(protocol::ServerError::authorization_violation);
        return false;
    }
    account_ = broker_.find_account(identity->account);
    ASSERT(account_ != nullptr);
    ++account_->client_count;
    if (identity->permissions) {
        permissions_ = std::make_unique<auth::ClientPermissions>(*identity->permissions);
    }
    return true;
}

// Before a CONNECT: with auth required only CONNECT is allowed (nats-server parser.go, unless
// no_auth_user applies); without auth the client is bound to its default identity on first use.
bool Client::ensure_identity() {
    if (connected_ || account_ != nullptr) return true;
    // Without credentials: accepted only when auth is off or no_auth_user names a user.
    return bind_identity(broker_.authenticator().authenticate(auth::Credentials{}));
}

void Client::on_pub(const protocol::MessageArgs& args, std::string_view payload) {
    if (!ensure_identity()) return;
    ++stats_.in_msgs;
    stats_.in_bytes += payload.size();
    if (options_.pedantic && !protocol::is_valid_literal_subject(args.subject)) {
        send_error(protocol::ServerError::invalid_publish_subject);
    }
    if (permissions_ && !permissions_->can_publish(args.subject, env_.clock.monotonic())) {
        LOG_DEBUG(log_, "Publish Violation - Subject {}", args.subject);
        send_error_text(protocol::publish_violation_text(args.subject));
        return;
    }
    if (options_.verbose) queue(protocol::ok_frame);
    broker_.route(*this, args, payload);
}

void Client::on_sub(std::string_view subject, std::string_view queue_name, std::string_view sid) {
    if (!ensure_identity()) return;
    if (!protocol::is_valid_subject(subject)
        || (!queue_name.empty() && !protocol::is_valid_queue_name(queue_name))) {
        send_error(protocol::ServerError::invalid_subject);
        return;
    }
    if (permissions_ && !permissions_->can_subscribe(subject, queue_name)) {
        LOG_DEBUG(log_, "Subscription Violation - Subject {}", subject);
        send_error_text(protocol::subscribe_violation_text(subject, queue_name));
        return;
    }
    // Matches nats-server: a SUB reusing an existing sid is ignored.
    if (subscriptions_.find(sid) != subscriptions_.end()) {
        if (options_.verbose) queue(protocol::ok_frame);
        return;
    }
    const auto max_subs = broker_.options().max_subscriptions;
    if (max_subs > 0 && subscriptions_.size() >= static_cast<std::size_t>(max_subs)) {
        send_error(protocol::ServerError::max_subscriptions_exceeded);
        return;
    }
    auto sub = std::make_unique<Subscription>();
    sub->id = broker_.next_subscription_id();
    sub->subject.assign(subject);
    sub->queue.assign(queue_name);
    sub->sid.assign(sid);
    sub->client = this;
    const Status inserted = account_->sublist().insert(*sub);
    if (!inserted) {
        send_error(protocol::ServerError::invalid_subject);
        return;
    }
    subscriptions_.emplace(sub->sid, std::move(sub));
    if (options_.verbose) queue(protocol::ok_frame);
}

void Client::on_unsub(std::string_view sid, std::optional<std::uint64_t> max) {
    if (!ensure_identity()) return;
    auto it = subscriptions_.find(sid);
    // Matches nats-server: UNSUB of an unknown sid is ignored.
    if (it != subscriptions_.end()) {
        Subscription& sub = *it->second;
        if (max && *max > sub.delivered) {
            sub.max_msgs = *max;
        } else {
            remove_subscription(it);
        }
    }
    if (options_.verbose) queue(protocol::ok_frame);
}

const SublistResult& Client::match(std::string_view subject) {
    ASSERT(account_ != nullptr);
    Sublist& sublist = account_->sublist();
    if (last_result_ == nullptr || last_generation_ != sublist.generation()
        || last_subject_ != subject) {
        last_result_ = sublist.match(subject);
        last_generation_ = sublist.generation();
        last_subject_.assign(subject);
    }
    return *last_result_;
}

bool Client::delivery_allowed(std::string_view subject) {
    return !permissions_ || !permissions_->checker().has_delivery_filter()
           || !permissions_->delivery_denied(subject);
}

void Client::allow_response(std::string_view reply) {
    if (permissions_) permissions_->allow_response(reply, env_.clock.monotonic());
}

}  // namespace herald::core
