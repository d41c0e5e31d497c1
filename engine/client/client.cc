#include "engine/client/client.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "engine/base/assert.h"
#include "engine/base/limits.h"
#include "engine/client/nuid.h"
#include "engine/client/outbound.h"
#include "engine/client/server_pool.h"
#include "engine/protocol/encoder.h"
#include "engine/protocol/parser.h"
#include "engine/protocol/subject.h"

namespace herald::client {

inline constexpr std::string_view client_version = "0.1.0";
inline constexpr std::size_t read_buffer_size = 64 * 1024;
// INFO lines carry connect_urls and grow with the cluster; MSG lines are short.
inline constexpr std::size_t client_control_line_max = 64 * 1024;
inline constexpr std::uint32_t backoff_doublings_max = 16;
static_assert(read_buffer_size <= limits::read_buffer_size_max);

namespace detail {

struct SubscriptionState {
    std::uint64_t sid = 0;
    std::string subject;
    std::string queue;
    MessageHandler handler;
    std::uint64_t max = 0;  // 0: no auto-unsubscribe
    std::uint64_t delivered = 0;
};

struct PendingRequest {
    RequestCallback callback;
    io::TimerId timer = 0;
};

struct PongWaiter {
    std::uint64_t id = 0;
    StatusCallback callback;  // empty for the ping timer's PINGs
    io::TimerId timer = 0;
};

// Where the current stream is in its handshake.
enum class Phase { none, tcp_connecting, awaiting_info, awaiting_pong, ready };

// Decimal digits of `value` written backwards from `end`; returns the start.
inline char* write_decimal_backwards(char* end, std::size_t value) {
    do {
        *--end = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    return end;
}

inline std::size_t decimal_size(std::size_t value) {
    std::size_t size = 1;
    while (value >= 10) {
        value /= 10;
        ++size;
    }
    return size;
}

inline char* copy(char* target, std::string_view source) {
    std::memcpy(target, source.data(), source.size());
    return target + source.size();
}

// A publish subject must be non-empty and free of whitespace and control bytes (which would
// break the frame); nats.go checks only emptiness, the server checks the rest.
inline bool publish_subject_ok(std::string_view subject) {
    if (subject.empty()) return false;
    for (const char c : subject) {
        if (static_cast<unsigned char>(c) <= ' ') return false;
    }
    return true;
}

std::optional<std::uint64_t> parse_u64(std::string_view digits) {
    if (digits.empty() || digits.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

// The state behind a Connection. Shared so that posted tasks, timers and Subscription handles
// hold it weakly: once the Connection is destroyed they do nothing.
struct Core : std::enable_shared_from_this<Core> {
    Core(io::Env& env_in, Options options_in)
        : env(env_in),
          options(std::move(options_in)),
          nuid(env_in.random),
          parser(protocol::Role::client, protocol::ParserLimits{client_control_line_max, 0}),
          read_buffer(read_buffer_size),
          outbound(limits::outbound_chunk_size) {
        iovecs.reserve(limits::write_iovecs_max + 1);
    }

    // --- parser handler ---
    void on_info(std::string_view json);
    void on_msg(const protocol::MessageArgs& args, std::string_view payload);
    void on_ok() {}
    void on_err(std::string_view text);
    void on_ping();
    void on_pong();
    void on_parse_error(protocol::ParseError) { stop(Errc::protocol_error); }
    bool parse_stopped() const { return pending_loss.has_value() || state == State::closed; }

    // --- lifecycle ---
    void connect(StatusCallback callback);
    void start_attempt();
    void attempt_failed(std::error_code error);
    void schedule_next_attempt();
    Duration backoff(const ServerEntry& entry);
    void handshake_done();
    void connection_lost(std::error_code error);
    void stop(std::error_code error) {
        if (!pending_loss) pending_loss = error;
    }
    void close_with(std::error_code error);
    void finish_drain(Status status);
    void shutdown_now();
    void drop_stream();
    void reset_stream_state();

    // --- I/O ---
    void read_more();
    void write_more();
    void schedule_flush() {
        if (flush_posted || writing || phase != Phase::ready) return;
        flush_posted = true;
        env.loop.post([weak = weak_from_this()] {
            if (auto self = weak.lock()) {
                self->flush_posted = false;
                self->write_more();
            }
        });
    }
    void schedule_ping();
    void post_user(std::function<void()> task);
    void post_cleanup();

    // --- operations ---
    Status check_publish(std::string_view subject, std::size_t size, std::size_t payload_size);
    Status publish(std::string_view subject, std::string_view reply, std::string_view payload);
    Status publish_with_headers(std::string_view subject, std::string_view reply,
                                const Headers& headers, std::string_view payload);
    Result<Subscription> subscribe(std::string_view subject, std::string_view queue,
                                   MessageHandler handler);
    Status unsubscribe(std::uint64_t sid, std::uint64_t max);
    SubscriptionState* find(std::uint64_t sid);
    void remove_subscription(std::uint64_t sid);
    void write_sub(std::string& out, const SubscriptionState& sub);
    void write_control(std::string_view frame);
    void request(std::string_view subject, const Headers* headers, std::string_view payload,
                 Duration timeout, RequestCallback callback);
    void handle_response(const protocol::MessageArgs& args, std::string_view payload);
    void flush(Duration timeout, StatusCallback callback);
    void drain(StatusCallback callback);
    void close();
    std::string connect_json(const ServerUrl& url) const;
    void check_invariants() const;

    io::Env& env;
    Options options;
    Nuid nuid;
    ServerPool pool;
    ServerInfo info;
    Stats stats;
    std::error_code last_error;
    State state = State::idle;
    Phase phase = Phase::none;

    // The stream of the current attempt or connection; `generation` changes with each, so
    // callbacks of an older one do nothing.
    std::unique_ptr<io::Stream> stream;
    std::vector<std::unique_ptr<io::Stream>> dead_streams;  // destroyed in a posted cleanup
    std::uint64_t generation = 0;
    protocol::Parser parser;
    std::vector<std::byte> read_buffer;
    bool reading = false;
    std::optional<std::error_code> pending_loss;  // set inside the parser, handled after it

    Outbound outbound;
    std::string front;          // handshake and resubscribe frames, written before `outbound`
    std::string front_writing;  // the part of `front` in the write in flight
    std::vector<std::span<const std::byte>> iovecs;
    std::string scratch;        // control frames and header blocks are encoded here first
    bool writing = false;
    bool flush_posted = false;
    bool close_after_write = false;

    io::TimerId connect_timer = 0;
    io::TimerId ping_timer = 0;
    io::TimerId reconnect_timer = 0;
    io::TimerId drain_timer = 0;
    std::uint32_t pings_out = 0;
    std::size_t initial_attempts_left = 0;
    StatusCallback connect_callback;
    StatusCallback drain_callback;
    bool cleanup_posted = false;

    // Subscriptions sorted by sid (sids only grow, so they are appended).
    std::vector<std::unique_ptr<SubscriptionState>> subscriptions;
    std::vector<std::unique_ptr<SubscriptionState>> retired;  // freed in a posted cleanup
    std::uint64_t next_sid = 1;
    Message scratch_message;

    // Requests: one muxed inbox subscription <prefix>.<nuid>.* and a token per request.
    std::string response_prefix;  // "<inbox_prefix>.<nuid>."
    std::uint64_t response_sid = 0;
    std::map<std::uint64_t, PendingRequest> requests;
    std::uint64_t next_request = 1;

    std::deque<PongWaiter> pong_waiters;
    std::uint64_t next_waiter = 1;
};

void Core::check_invariants() const {
    if (state == State::closed) {
        ASSERT(subscriptions.empty());
        ASSERT(requests.empty());
        ASSERT(pong_waiters.empty());
    }
    if (state == State::connected || state == State::draining) ASSERT(phase == Phase::ready);
    if (state == State::reconnecting) ASSERT(reconnect_timer != 0 || phase != Phase::none);
    if (phase != Phase::ready) ASSERT(!outbound.writing());
    if (phase != Phase::none && state != State::closed) ASSERT(pool.size() > 0);
    ASSERT(pings_out <= options.max_pings_out);
    EXPENSIVE_ASSERT(std::is_sorted(subscriptions.begin(), subscriptions.end(),
                                    [](const auto& a, const auto& b) { return a->sid < b->sid; }));
}

void Core::post_user(std::function<void()> task) {
    env.loop.post([weak = weak_from_this(), task = std::move(task)] {
        if (auto self = weak.lock()) task();
    });
}

void Core::post_cleanup() {
    if (cleanup_posted) return;
    cleanup_posted = true;
    env.loop.post([weak = weak_from_this()] {
        if (auto self = weak.lock()) {
            self->cleanup_posted = false;
            self->retired.clear();
            self->dead_streams.clear();
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Connecting and reconnecting.

void Core::connect(StatusCallback callback) {
    ASSERT(callback);
    if (state != State::idle) {
        post_user([callback] { callback(Errc::invalid_argument); });
        return;
    }
    if (const Status status = pool.add_configured(options.servers); !status) {
        post_user([callback, status] { callback(status); });
        return;
    }
    if (pool.empty()) {
        post_user([callback] { callback(Errc::no_servers); });
        return;
    }
    if (options.randomize) pool.shuffle(env.random);
    state = State::connecting;
    connect_callback = std::move(callback);
    initial_attempts_left = pool.size();
    start_attempt();
}

void Core::start_attempt() {
    ASSERT(state == State::connecting || state == State::reconnecting);
    ASSERT(stream == nullptr);
    ServerEntry& entry = pool.current();
    entry.last_attempt = env.clock.monotonic();
    phase = Phase::tcp_connecting;
    const std::uint64_t attempt = ++generation;
    connect_timer = env.loop.schedule(options.connect_timeout, [weak = weak_from_this(), attempt] {
        auto self = weak.lock();
        if (!self || self->generation != attempt || self->phase == Phase::ready) return;
        self->connect_timer = 0;
        self->attempt_failed(Errc::timeout);
    });
    env.network.connect(entry.url.address(), [weak = weak_from_this(), attempt](
                                                 Result<std::unique_ptr<io::Stream>> result) {
        auto self = weak.lock();
        if (!self) return;
        if (self->generation != attempt || self->state == State::closed) {
            if (result) (*result)->close();
            return;
        }
        if (!result) {
            self->attempt_failed(result.error());
            return;
        }
        self->stream = std::move(*result);
        self->phase = Phase::awaiting_info;
        self->read_more();
    });
}

Duration Core::backoff(const ServerEntry& entry) {
    const std::uint32_t doublings = std::min(entry.failures, backoff_doublings_max);
    std::uint64_t wait_ns = options.reconnect_wait.ns;
    for (std::uint32_t i = 0; i < doublings && wait_ns < options.reconnect_wait_max.ns; ++i) {
        wait_ns *= 2;
    }
    wait_ns = std::min(wait_ns, std::max(options.reconnect_wait_max.ns, options.reconnect_wait.ns));
    const std::uint64_t jitter_ns =
        options.reconnect_jitter.ns > 0 ? env.random.uniform(options.reconnect_jitter.ns + 1) : 0;
    return Duration{wait_ns + jitter_ns};
}

void Core::reset_stream_state() {
    if (connect_timer != 0) env.loop.cancel(connect_timer);
    if (ping_timer != 0) env.loop.cancel(ping_timer);
    connect_timer = 0;
    ping_timer = 0;
    drop_stream();
    ++generation;
    // Before the handshake completes nothing of `outbound` was written: it holds only the
    // publishes buffered meanwhile, which wait for the next attempt. After it, `outbound` mixes
    // frames of the lost stream (SUB, PING...) that resubscribing replaces: drop them.
    if (phase == Phase::ready) stats.dropped_bytes += outbound.clear();
    phase = Phase::none;
    reading = false;
    writing = false;
    pending_loss.reset();
    pings_out = 0;
    front.clear();
    front_writing.clear();
    parser = protocol::Parser(protocol::Role::client,
                              protocol::ParserLimits{client_control_line_max, 0});
    // PINGs of the lost stream will never be answered.
    auto waiters = std::move(pong_waiters);
    pong_waiters.clear();
    for (auto& waiter : waiters) {
        if (waiter.timer != 0) env.loop.cancel(waiter.timer);
        if (waiter.callback) post_user([callback = std::move(waiter.callback)] { callback(Errc::disconnected); });
    }
}

void Core::attempt_failed(std::error_code error) {
    ASSERT(error);
    ASSERT(phase != Phase::ready);
    last_error = error;
    reset_stream_state();
    pool.current().failures++;
    if (state == State::connecting && !options.retry_on_failed_connect) {
        ASSERT(initial_attempts_left > 0);
        if (--initial_attempts_left == 0) {
            close_with(error);
            return;
        }
    }
    schedule_next_attempt();
}

void Core::schedule_next_attempt() {
    ASSERT(state == State::connecting || state == State::reconnecting);
    ASSERT(reconnect_timer == 0);
    if (!pool.rotate(options.max_reconnect_attempts)) {
        close_with(Errc::no_servers);
        return;
    }
    const ServerEntry& entry = pool.current();
    Duration delay{};
    if (entry.last_attempt) {
        const Duration target = backoff(entry);
        const Duration elapsed = env.clock.monotonic().since(*entry.last_attempt);
        if (target > elapsed) delay = Duration{target.ns - elapsed.ns};
    }
    reconnect_timer = env.loop.schedule(delay, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        self->reconnect_timer = 0;
        if (self->state == State::connecting || self->state == State::reconnecting) {
            self->start_attempt();
        }
    });
}

std::string Core::connect_json(const ServerUrl& url) const {
    nlohmann::json json = {
        {"verbose", options.verbose},
        {"pedantic", options.pedantic},
        {"tls_required", false},
        {"name", options.name},
        {"lang", "herald-cpp"},
        {"version", std::string(client_version)},
        {"protocol", 1},
        {"echo", options.echo},
        {"headers", options.headers},
        {"no_responders", options.headers && options.no_responders},
    };
    // Credentials in the URL win over the options, as in nats.go.
    const std::string& user = url.user.empty() ? options.user : url.user;
    const std::string& password = url.user.empty() ? options.password : url.password;
    const std::string& token = url.token.empty() ? options.token : url.token;
    if (!user.empty()) {
        json["user"] = user;
        json["pass"] = password;
    }
    if (!token.empty()) json["auth_token"] = token;
    return json.dump();
}

void Core::on_info(std::string_view text) {
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        stop(Errc::protocol_error);
        return;
    }
    info.server_id = json.value("server_id", std::string());
    info.server_name = json.value("server_name", std::string());
    info.version = json.value("version", std::string());
    info.client_id = json.value("client_id", std::uint64_t{0});
    info.max_payload = json.value("max_payload", std::size_t{limits::payload_size_default});
    info.headers = json.value("headers", false);
    info.auth_required = json.value("auth_required", false);
    info.lame_duck = json.value("ldm", false);
    info.connect_urls.clear();
    bool discovered = false;
    if (auto urls = json.find("connect_urls"); urls != json.end() && urls->is_array()) {
        for (const auto& url : *urls) {
            if (!url.is_string()) continue;
            info.connect_urls.push_back(url.get<std::string>());
            discovered = pool.add_discovered(info.connect_urls.back()) || discovered;
        }
    }
    if (discovered && options.on_servers_discovered) post_user(options.on_servers_discovered);
    if (phase != Phase::awaiting_info) return;
    if (json.value("tls_required", false)) {
        stop(Errc::tls_required);
        return;
    }
    front += "CONNECT ";
    front += connect_json(pool.current().url);
    front += protocol::crlf;
    front += protocol::ping_frame;
    phase = Phase::awaiting_pong;
    write_more();
}

void Core::handshake_done() {
    ASSERT(phase == Phase::awaiting_pong);
    ASSERT(stream != nullptr);
    phase = Phase::ready;
    if (connect_timer != 0) env.loop.cancel(connect_timer);
    connect_timer = 0;
    pool.current().failures = 0;
    // Resubscribe everything (subscriptions made before the connect or while reconnecting
    // included) before the publishes buffered meanwhile.
    for (const auto& sub : subscriptions) write_sub(front, *sub);
    schedule_ping();
    if (state == State::connecting) {
        state = State::connected;
        if (connect_callback) {
            post_user([callback = std::move(connect_callback)] { callback(ok()); });
            connect_callback = nullptr;
        }
    } else {
        ASSERT(state == State::reconnecting);
        state = State::connected;
        stats.reconnects++;
        if (options.on_reconnected) post_user(options.on_reconnected);
    }
    write_more();
}

void Core::connection_lost(std::error_code error) {
    ASSERT(error);
    if (state == State::closed) return;
    if (phase != Phase::ready) {
        attempt_failed(error);
        return;
    }
    last_error = error;
    reset_stream_state();
    if (state == State::draining) {
        close_with(error);
        return;
    }
    ASSERT(state == State::connected);
    if (!options.allow_reconnect) {
        close_with(error);
        return;
    }
    state = State::reconnecting;
    if (options.on_disconnected) {
        post_user([callback = options.on_disconnected, error] { callback(error); });
    }
    // The server we lost waits its backoff; the next one in the pool may be tried at once.
    pool.current().last_attempt = env.clock.monotonic();
    schedule_next_attempt();
    check_invariants();
}

void Core::schedule_ping() {
    if (options.ping_interval.ns == 0) return;
    ping_timer = env.loop.schedule(options.ping_interval, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self || self->phase != Phase::ready) return;
        self->ping_timer = 0;
        if (self->pings_out >= self->options.max_pings_out) {
            self->connection_lost(Errc::stale_connection);
            return;
        }
        self->pings_out++;
        self->pong_waiters.push_back(PongWaiter{self->next_waiter++, nullptr, 0});
        self->write_control(protocol::ping_frame);
        self->schedule_ping();
    });
}

// ---------------------------------------------------------------------------------------------
// Closing.

void Core::drop_stream() {
    if (!stream) return;
    stream->close();
    // The stream's own callback may be running right now: destroy it later.
    dead_streams.push_back(std::move(stream));
    post_cleanup();
}

void Core::close_with(std::error_code error) {
    if (state == State::closed) return;
    if (error) last_error = error;
    const State before = state;
    state = State::closed;
    for (io::TimerId* timer : {&connect_timer, &ping_timer, &reconnect_timer, &drain_timer}) {
        if (*timer != 0) env.loop.cancel(*timer);
        *timer = 0;
    }
    if (connect_callback) {
        const std::error_code why = error ? error : std::error_code(Errc::connection_closed);
        post_user([callback = std::move(connect_callback), why] { callback(why); });
        connect_callback = nullptr;
    }
    auto pending = std::move(requests);
    requests.clear();
    for (auto& [id, request] : pending) {
        env.loop.cancel(request.timer);
        post_user([callback = std::move(request.callback)] { callback(Errc::connection_closed); });
    }
    auto waiters = std::move(pong_waiters);
    pong_waiters.clear();
    for (auto& waiter : waiters) {
        if (waiter.timer != 0) env.loop.cancel(waiter.timer);
        if (waiter.callback) {
            post_user([callback = std::move(waiter.callback)] { callback(Errc::connection_closed); });
        }
    }
    for (auto& sub : subscriptions) retired.push_back(std::move(sub));
    subscriptions.clear();
    post_cleanup();
    // What is already buffered still goes out before the stream closes.
    if (phase == Phase::ready && stream && (writing || outbound.pending_bytes() > 0 || !front.empty())) {
        close_after_write = true;
        write_more();
    } else {
        drop_stream();
    }
    if (before != State::idle && options.on_closed) post_user(options.on_closed);
    check_invariants();
}

void Core::close() { close_with({}); }

void Core::shutdown_now() {
    for (io::TimerId* timer : {&connect_timer, &ping_timer, &reconnect_timer, &drain_timer}) {
        if (*timer != 0) env.loop.cancel(*timer);
        *timer = 0;
    }
    for (auto& [id, request] : requests) env.loop.cancel(request.timer);
    for (auto& waiter : pong_waiters) {
        if (waiter.timer != 0) env.loop.cancel(waiter.timer);
    }
    state = State::closed;
    if (stream) stream->close();
    stream.reset();
    dead_streams.clear();
}

// ---------------------------------------------------------------------------------------------
// Reading and writing.

void Core::read_more() {
    if (!stream || reading || state == State::closed) return;
    reading = true;
    const std::uint64_t attempt = generation;
    stream->read_some(read_buffer, [weak = weak_from_this(), attempt](Result<std::size_t> result) {
        auto self = weak.lock();
        if (!self || self->generation != attempt) return;
        self->reading = false;
        if (self->state == State::closed) return;
        if (!result) {
            self->connection_lost(result.error());
            return;
        }
        if (*result == 0) {
            self->connection_lost(Errc::disconnected);
            return;
        }
        const std::span<const char> bytes(reinterpret_cast<const char*>(self->read_buffer.data()),
                                          *result);
        self->parser.feed(bytes, *self);
        if (self->generation != attempt) return;
        if (self->pending_loss) {
            const std::error_code error = *self->pending_loss;
            self->pending_loss.reset();
            self->connection_lost(error);
            self->check_invariants();
            return;
        }
        self->read_more();
        self->check_invariants();
    });
}

void Core::write_more() {
    if (writing || !stream) return;
    if (phase != Phase::ready && phase != Phase::awaiting_pong) return;
    iovecs.clear();
    if (!front.empty()) {
        front_writing.swap(front);
        front.clear();
        iovecs.emplace_back(reinterpret_cast<const std::byte*>(front_writing.data()),
                            front_writing.size());
    }
    if (phase == Phase::ready) outbound.begin_write(iovecs, limits::write_iovecs_max);
    if (iovecs.empty()) {
        if (close_after_write) drop_stream();
        return;
    }
    writing = true;
    const std::uint64_t attempt = generation;
    stream->write_all(iovecs, [weak = weak_from_this(), attempt](Status status) {
        auto self = weak.lock();
        if (!self || self->generation != attempt) return;
        self->writing = false;
        self->front_writing.clear();
        if (self->outbound.writing()) self->outbound.end_write();
        if (!status) {
            if (self->state == State::closed) {
                self->drop_stream();
            } else {
                self->connection_lost(status.error());
            }
            self->check_invariants();
            return;
        }
        self->write_more();
        self->check_invariants();
    });
}

// ---------------------------------------------------------------------------------------------
// Protocol events.

void Core::on_err(std::string_view text) {
    const ServerErrorKind kind = classify_server_error(text);
    const std::error_code error = errc_of(kind);
    if (options.on_error) {
        post_user([callback = options.on_error, error, message = std::string(text)] {
            callback(error, message);
        });
    }
    if (phase != Phase::ready) {
        stop(error);  // the attempt fails; the server closes after most handshake errors
        return;
    }
    switch (kind) {
        case ServerErrorKind::permission:
            return;
        case ServerErrorKind::stale:
        case ServerErrorKind::max_connections:
        case ServerErrorKind::authorization:
            stop(error);
            return;
        case ServerErrorKind::fatal:
            close_with(error);
            return;
    }
}

void Core::on_ping() {
    if (phase == Phase::ready) {
        write_control(protocol::pong_frame);
    } else {
        front += protocol::pong_frame;
        write_more();
    }
}

void Core::on_pong() {
    pings_out = 0;
    if (phase == Phase::awaiting_pong) {
        handshake_done();
        return;
    }
    if (pong_waiters.empty()) return;
    PongWaiter waiter = std::move(pong_waiters.front());
    pong_waiters.pop_front();
    if (waiter.timer != 0) env.loop.cancel(waiter.timer);
    if (waiter.callback) waiter.callback(ok());
}

void Core::on_msg(const protocol::MessageArgs& args, std::string_view payload) {
    stats.in_msgs++;
    stats.in_bytes += payload.size();
    const auto sid = parse_u64(args.sid);
    if (!sid) return;
    if (*sid == response_sid && response_sid != 0) {
        handle_response(args, payload);
        return;
    }
    SubscriptionState* sub = find(*sid);
    if (sub == nullptr) return;  // unsubscribed while the message was in flight
    sub->delivered++;
    Message& message = scratch_message;
    message.subject.assign(args.subject);
    message.reply.assign(args.reply);
    message.sid = *sid;
    message.has_headers = args.headers;
    if (args.headers) {
        auto headers = Headers::decode(payload.substr(0, args.header_size));
        if (headers) {
            message.headers = std::move(*headers);
        } else {
            message.headers.clear();
        }
    } else if (!message.headers.empty()) {
        message.headers.clear();
    }
    message.payload.assign(payload.substr(args.header_size));
    // The server removes the subscription after `max` messages; so do we (the handler stays
    // alive in `retired` while it runs).
    if (sub->max != 0 && sub->delivered >= sub->max) remove_subscription(*sid);
    sub->handler(message);
}

void Core::handle_response(const protocol::MessageArgs& args, std::string_view payload) {
    std::string_view subject = args.subject;
    if (subject.substr(0, response_prefix.size()) != response_prefix) return;
    subject.remove_prefix(response_prefix.size());
    const auto id = parse_u64(subject);
    if (!id) return;
    const auto it = requests.find(*id);
    if (it == requests.end()) return;  // timed out already
    PendingRequest request = std::move(it->second);
    requests.erase(it);
    env.loop.cancel(request.timer);
    Message message;
    message.subject.assign(args.subject);
    message.reply.assign(args.reply);
    message.sid = response_sid;
    message.has_headers = args.headers;
    if (args.headers) {
        auto headers = Headers::decode(payload.substr(0, args.header_size));
        if (headers) message.headers = std::move(*headers);
    }
    message.payload.assign(payload.substr(args.header_size));
    // core-protocol.md §5.1: a status 503 with no payload means nobody was listening.
    if (message.has_headers && message.headers.status() == "503" && message.payload.empty()) {
        request.callback(Errc::no_responders);
        return;
    }
    request.callback(std::move(message));
}

// ---------------------------------------------------------------------------------------------
// Operations.

Status Core::check_publish(std::string_view subject, std::size_t size, std::size_t payload_size) {
    if (state == State::closed || state == State::idle) [[unlikely]] {
        return Errc::connection_closed;
    }
    if (!publish_subject_ok(subject)) [[unlikely]] return Errc::invalid_subject;
    if (payload_size > info.max_payload) [[unlikely]] return Errc::max_payload;
    if (phase == Phase::ready) [[likely]] {
        if (outbound.pending_bytes() + size > options.outbound_size_max) [[unlikely]] {
            return Errc::outbound_full;
        }
    } else if (outbound.pending_bytes() + size > options.reconnect_buffer_size) {
        return Errc::reconnect_buffer_full;
    }
    return ok();
}

Status Core::publish(std::string_view subject, std::string_view reply, std::string_view payload) {
    constexpr std::string_view verb = "PUB ";
    const std::size_t payload_digits = decimal_size(payload.size());
    const std::size_t size = verb.size() + subject.size() + 1 + (reply.empty() ? 0 : reply.size() + 1) +
                             payload_digits + 2 + payload.size() + 2;
    if (const Status status = check_publish(subject, size, payload.size()); !status) [[unlikely]] {
        return status;
    }
    if (!reply.empty() && !publish_subject_ok(reply)) [[unlikely]] return Errc::invalid_subject;
    char* target = outbound.reserve(size);
    char* cursor = copy(target, verb);
    cursor = copy(cursor, subject);
    *cursor++ = ' ';
    if (!reply.empty()) {
        cursor = copy(cursor, reply);
        *cursor++ = ' ';
    }
    cursor += payload_digits;
    write_decimal_backwards(cursor, payload.size());
    *cursor++ = '\r';
    *cursor++ = '\n';
    cursor = copy(cursor, payload);
    *cursor++ = '\r';
    *cursor++ = '\n';
    ASSERT(static_cast<std::size_t>(cursor - target) == size);
    outbound.commit(size);
    stats.out_msgs++;
    stats.out_bytes += payload.size();
    schedule_flush();
    return ok();
}

Status Core::publish_with_headers(std::string_view subject, std::string_view reply,
                                  const Headers& headers, std::string_view payload) {
    // As nats.go's PublishMsg: no header fields and no status means a plain PUB (an empty
    // NATS/1.0 block would cost 12 bytes on the wire and in every stream that stores it).
    if (headers.empty()) return publish(subject, reply, payload);
    if (!options.headers || (phase == Phase::ready && !info.headers)) {
        return Errc::headers_not_supported;
    }
    if (const Status status = headers.validate(); !status) return status;
    if (!reply.empty() && !publish_subject_ok(reply)) return Errc::invalid_subject;
    scratch.clear();
    headers.encode(scratch);
    const std::size_t header_size = scratch.size();
    const std::size_t total_size = header_size + payload.size();
    scratch += payload;
    scratch += protocol::crlf;
    // The frame is built as a whole so that the checks below see its real size.
    std::string line = "HPUB ";
    line += subject;
    line += ' ';
    if (!reply.empty()) {
        line += reply;
        line += ' ';
    }
    protocol::append_decimal(line, header_size);
    line += ' ';
    protocol::append_decimal(line, total_size);
    line += protocol::crlf;
    const std::size_t size = line.size() + scratch.size();
    if (const Status status = check_publish(subject, size, total_size); !status) return status;
    outbound.append(line);
    outbound.append(scratch);
    stats.out_msgs++;
    stats.out_bytes += total_size;
    schedule_flush();
    return ok();
}

void Core::write_control(std::string_view frame) {
    ASSERT(phase == Phase::ready);
    outbound.append(frame);
    schedule_flush();
}

void Core::write_sub(std::string& out, const SubscriptionState& sub) {
    std::array<char, 24> digits{};
    char* end = digits.data() + digits.size();
    const char* start = write_decimal_backwards(end, sub.sid);
    const std::string_view sid(start, static_cast<std::size_t>(end - start));
    protocol::append_sub(out, sub.subject, sub.queue, sid);
    if (sub.max != 0) {
        ASSERT(sub.max > sub.delivered);
        protocol::append_unsub(out, sid, sub.max - sub.delivered);
    }
}

Result<Subscription> Core::subscribe(std::string_view subject, std::string_view queue,
                                     MessageHandler handler) {
    if (state == State::closed || state == State::idle) return Errc::connection_closed;
    if (state == State::draining) return Errc::draining;
    if (!protocol::is_valid_subject(subject)) return Errc::invalid_subject;
    if (!queue.empty() && !protocol::is_valid_queue_name(queue)) return Errc::invalid_argument;
    if (!handler) return Errc::invalid_argument;
    auto sub = std::make_unique<SubscriptionState>();
    sub->sid = next_sid++;
    sub->subject.assign(subject);
    sub->queue.assign(queue);
    sub->handler = std::move(handler);
    const std::uint64_t sid = sub->sid;
    ASSERT(subscriptions.empty() || subscriptions.back()->sid < sid);
    subscriptions.push_back(std::move(sub));
    if (phase == Phase::ready) {
        scratch.clear();
        write_sub(scratch, *subscriptions.back());
        write_control(scratch);
    }
    return Subscription(weak_from_this(), sid);
}

SubscriptionState* Core::find(std::uint64_t sid) {
    const auto it = std::lower_bound(subscriptions.begin(), subscriptions.end(), sid,
                                     [](const auto& sub, std::uint64_t key) { return sub->sid < key; });
    if (it == subscriptions.end() || (*it)->sid != sid) return nullptr;
    return it->get();
}

void Core::remove_subscription(std::uint64_t sid) {
    const auto it = std::lower_bound(subscriptions.begin(), subscriptions.end(), sid,
                                     [](const auto& sub, std::uint64_t key) { return sub->sid < key; });
    ASSERT(it != subscriptions.end() && (*it)->sid == sid);
    retired.push_back(std::move(*it));
    subscriptions.erase(it);
    post_cleanup();
}

Status Core::unsubscribe(std::uint64_t sid, std::uint64_t max) {
    if (state == State::closed) return Errc::connection_closed;
    SubscriptionState* sub = find(sid);
    if (sub == nullptr) return Errc::bad_subscription;
    const bool now = max == 0 || max <= sub->delivered;
    if (now) {
        remove_subscription(sid);
    } else {
        sub->max = max;
    }
    if (phase == Phase::ready) {
        scratch.clear();
        std::array<char, 24> digits{};
        char* end = digits.data() + digits.size();
        const char* start = write_decimal_backwards(end, sid);
        protocol::append_unsub(scratch, std::string_view(start, static_cast<std::size_t>(end - start)),
                               now ? 0 : max);
        write_control(scratch);
    }
    return ok();
}

void Core::request(std::string_view subject, const Headers* headers, std::string_view payload,
                   Duration timeout, RequestCallback callback) {
    ASSERT(callback);
    if (state == State::closed || state == State::idle) {
        post_user([callback] { callback(Errc::connection_closed); });
        return;
    }
    if (response_sid == 0) {
        response_prefix = options.inbox_prefix + "." + nuid.next() + ".";
        auto sub = subscribe(response_prefix + "*", {}, [](const Message&) {});
        if (!sub) {
            post_user([callback, error = sub.error()] { callback(error); });
            return;
        }
        response_sid = sub->sid();
    }
    const std::uint64_t id = next_request++;
    std::string reply = response_prefix;
    protocol::append_decimal(reply, id);
    const Status status = headers != nullptr ? publish_with_headers(subject, reply, *headers, payload)
                                             : publish(subject, reply, payload);
    if (!status) {
        post_user([callback, error = status.error()] { callback(error); });
        return;
    }
    const io::TimerId timer = env.loop.schedule(timeout, [weak = weak_from_this(), id] {
        auto self = weak.lock();
        if (!self) return;
        const auto it = self->requests.find(id);
        if (it == self->requests.end()) return;
        RequestCallback expired = std::move(it->second.callback);
        self->requests.erase(it);
        expired(Errc::timeout);
    });
    requests.emplace(id, PendingRequest{std::move(callback), timer});
}

void Core::flush(Duration timeout, StatusCallback callback) {
    ASSERT(callback);
    if (state == State::closed || state == State::idle) {
        post_user([callback] { callback(Errc::connection_closed); });
        return;
    }
    if (phase != Phase::ready) {
        post_user([callback] { callback(Errc::not_connected); });
        return;
    }
    const std::uint64_t id = next_waiter++;
    const io::TimerId timer = env.loop.schedule(timeout, [weak = weak_from_this(), id] {
        auto self = weak.lock();
        if (!self) return;
        for (auto& waiter : self->pong_waiters) {
            if (waiter.id != id) continue;
            waiter.timer = 0;
            StatusCallback expired = std::move(waiter.callback);
            waiter.callback = nullptr;  // the PONG still comes and is matched to this slot
            if (expired) expired(Errc::timeout);
            return;
        }
    });
    pong_waiters.push_back(PongWaiter{id, std::move(callback), timer});
    write_control(protocol::ping_frame);
}

// Matches nats.go Drain: unsubscribe everything, let what is in flight arrive (a PING/PONG),
// send what is buffered, then close.
void Core::drain(StatusCallback callback) {
    ASSERT(callback);
    if (state == State::closed || state == State::idle) {
        post_user([callback] { callback(Errc::connection_closed); });
        return;
    }
    if (state == State::draining) {
        post_user([callback] { callback(Errc::draining); });
        return;
    }
    if (phase != Phase::ready) {
        post_user([callback] { callback(Errc::not_connected); });
        return;
    }
    state = State::draining;
    drain_callback = std::move(callback);
    for (const auto& sub : subscriptions) {
        scratch.clear();
        std::array<char, 24> digits{};
        char* end = digits.data() + digits.size();
        const char* start = write_decimal_backwards(end, sub->sid);
        protocol::append_unsub(scratch, std::string_view(start, static_cast<std::size_t>(end - start)), 0);
        outbound.append(scratch);
    }
    drain_timer = env.loop.schedule(options.drain_timeout, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        self->drain_timer = 0;
        self->finish_drain(Errc::timeout);
    });
    flush(options.drain_timeout, [weak = weak_from_this()](Status status) {
        auto self = weak.lock();
        if (!self) return;
        self->finish_drain(status);
    });
}

void Core::finish_drain(Status status) {
    if (!drain_callback) return;
    StatusCallback callback = std::move(drain_callback);
    drain_callback = nullptr;
    if (state != State::closed) close_with(status ? std::error_code() : status.error());
    post_user([callback, status] { callback(status); });
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Public wrappers.

Connection::Connection(io::Env& env, Options options)
    : core_(std::make_shared<detail::Core>(env, std::move(options))) {}

Connection::~Connection() { core_->shutdown_now(); }

void Connection::connect(StatusCallback callback) { core_->connect(std::move(callback)); }

Status Connection::publish(std::string_view subject, std::string_view payload) {
    return core_->publish(subject, {}, payload);
}

Status Connection::publish(std::string_view subject, std::string_view reply, std::string_view payload) {
    return core_->publish(subject, reply, payload);
}

Status Connection::publish(std::string_view subject, std::string_view reply, const Headers& headers,
                           std::string_view payload) {
    return core_->publish_with_headers(subject, reply, headers, payload);
}

Result<Subscription> Connection::subscribe(std::string_view subject, MessageHandler handler) {
    return core_->subscribe(subject, {}, std::move(handler));
}

Result<Subscription> Connection::queue_subscribe(std::string_view subject, std::string_view queue,
                                                 MessageHandler handler) {
    if (queue.empty()) return Errc::invalid_argument;
    return core_->subscribe(subject, queue, std::move(handler));
}

void Connection::request(std::string_view subject, std::string_view payload, Duration timeout,
                         RequestCallback callback) {
    core_->request(subject, nullptr, payload, timeout, std::move(callback));
}

void Connection::request(std::string_view subject, const Headers& headers, std::string_view payload,
                         Duration timeout, RequestCallback callback) {
    core_->request(subject, &headers, payload, timeout, std::move(callback));
}

void Connection::flush(StatusCallback callback) {
    core_->flush(core_->options.flush_timeout, std::move(callback));
}

void Connection::flush(Duration timeout, StatusCallback callback) {
    core_->flush(timeout, std::move(callback));
}

void Connection::drain(StatusCallback callback) { core_->drain(std::move(callback)); }

void Connection::close() { core_->close(); }

std::string Connection::new_inbox() { return core_->options.inbox_prefix + "." + core_->nuid.next(); }

State Connection::state() const { return core_->state; }

const ServerInfo& Connection::server_info() const { return core_->info; }

std::string Connection::connected_address() const {
    if (core_->phase != detail::Phase::ready || core_->pool.empty()) return {};
    return core_->pool.entries().front().url.address();
}

std::vector<std::string> Connection::servers() const {
    std::vector<std::string> result;
    for (const auto& entry : core_->pool.entries()) result.push_back(entry.url.address());
    return result;
}

const Stats& Connection::stats() const { return core_->stats; }

std::error_code Connection::last_error() const { return core_->last_error; }

std::size_t Connection::buffered_bytes() const {
    return core_->outbound.pending_bytes() + core_->outbound.in_flight_bytes();
}

std::size_t Connection::subscription_count() const {
    const bool inbox = core_->response_sid != 0 && core_->find(core_->response_sid) != nullptr;
    return core_->subscriptions.size() - (inbox ? 1 : 0);
}

Status Subscription::unsubscribe() {
    auto core = core_.lock();
    if (!core) return Errc::bad_subscription;
    return core->unsubscribe(sid_, 0);
}

Status Subscription::auto_unsubscribe(std::uint64_t max) {
    auto core = core_.lock();
    if (!core) return Errc::bad_subscription;
    if (max == 0) return Errc::invalid_argument;
    return core->unsubscribe(sid_, max);
}

bool Subscription::valid() const {
    auto core = core_.lock();
    return core && core->find(sid_) != nullptr;
}

std::uint64_t Subscription::delivered() const {
    auto core = core_.lock();
    if (!core) return 0;
    const detail::SubscriptionState* sub = core->find(sid_);
    return sub != nullptr ? sub->delivered : 0;
}

}  // namespace herald::client
