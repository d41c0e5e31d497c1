// `herald sub` and `herald reply`: long-lived subscribers. Both print "Subscribing on ..." or
// "Listening on ..." on stderr once the server has the subscription (after a flush), which is
// the moment a script or test may start publishing. SIGINT drains and exits 0.
#include <cstdio>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cli/body_template.h"
#include "cli/commands.h"

namespace herald::cli {
namespace {

constexpr std::string_view reply_default_queue = "NATS-RPLY-22";  // as the nats CLI

// Options for a subscriber: it reconnects and says so on stderr; a final close ends the run.
client::Options long_lived_options(const GlobalOptions& global, Session** session) {
    client::Options options = client_options(global);
    options.allow_reconnect = true;
    options.on_disconnected = [](std::error_code why) {
        std::fprintf(stderr, "herald: disconnected: %s\n", why.message().c_str());
    };
    options.on_reconnected = [session] {
        std::fprintf(stderr,
                     "herald: reconnected to %s\n",
                     (*session)->connection().connected_address().c_str());
    };
    options.on_closed = [session] {
        if ((*session)->finishing()) return;
        const std::error_code why = (*session)->connection().last_error();
        print_error(fmt::format("connection closed: {}", why ? why.message() : "by the server"));
        (*session)->finish(exit_failure);
    };
    options.on_error = [](std::error_code error, std::string_view text) {
        print_error(fmt::format("{}: {}", error.message(), text));
    };
    return options;
}

// Subscribes (plain or queue), then flushes so the subscription is known to the server, then
// prints `ready_line` on stderr. Any failure ends the session with exit_failure.
void subscribe_then_announce(Session& session,
                             const std::string& subject,
                             const std::string& queue,
                             client::MessageHandler handler,
                             std::uint64_t count,
                             std::string ready_line) {
    client::Connection& connection = session.connection();
    auto subscription = queue.empty()
                            ? connection.subscribe(subject, std::move(handler))
                            : connection.queue_subscribe(subject, queue, std::move(handler));
    if (!subscription) {
        print_error(
            fmt::format("subscribe to \"{}\" failed: {}", subject, subscription.error().message()));
        session.finish(exit_failure);
        return;
    }
    // The server then stops delivering after `count`, as `nats sub --count` does.
    if (count > 0 && !subscription->auto_unsubscribe(count)) {
        print_error("auto-unsubscribe failed");
        session.finish(exit_failure);
        return;
    }
    connection.flush(session.options().timeout, [&session, ready_line](Status status) {
        if (!status) {
            print_error(fmt::format("subscribe failed: {}", status.error().message()));
            session.finish(exit_failure);
            return;
        }
        std::fprintf(stderr, "%s\n", ready_line.c_str());
    });
}

}  // namespace

int run_sub(const GlobalOptions& global, const ParsedArgs& args) {
    std::string error;
    const auto count = count_flag(args, "count", 0, error);
    if (!count) return usage_error("sub", error);
    const std::string subject = args.positionals()[0];
    const std::string queue = args.value("queue").value_or("");
    const bool raw = args.has("raw");

    Session* session_pointer = nullptr;
    Session session(global, long_lived_options(global, &session_pointer));
    session_pointer = &session;
    std::uint64_t received = 0;
    auto handler = [&](const client::Message& message) {
        if (session.finishing() || (*count > 0 && received >= *count)) return;
        ++received;
        print_message(message, received, raw);
        if (*count > 0 && received == *count) session.drain_and_finish(exit_ok);
    };
    const std::string ready =
        queue.empty() ? fmt::format("Subscribing on \"{}\"", subject)
                      : fmt::format("Subscribing on \"{}\" in group \"{}\"", subject, queue);
    return session.run(
        [&] { subscribe_then_announce(session, subject, queue, handler, *count, ready); }, true);
}

int run_reply(const GlobalOptions& global, const ParsedArgs& args) {
    std::string error;
    const auto count = count_flag(args, "count", 0, error);
    const auto extra_headers = header_flags(args, error);
    if (!count || !extra_headers) return usage_error("reply", error);
    const bool echo = args.has("echo");
    if (echo == (args.positionals().size() > 1)) {
        return usage_error("reply",
                           echo ? "give either a BODY or --echo, not both"
                                : "give a BODY to answer with, or --echo");
    }
    std::optional<BodyTemplate> body;
    if (!echo) {
        body = BodyTemplate::parse(args.positionals()[1], error);
        if (!body) return usage_error("reply", error);
    }
    const std::string subject = args.positionals()[0];
    const std::string queue = args.value("queue").value_or(std::string(reply_default_queue));
    const bool raw = args.has("raw");

    Session* session_pointer = nullptr;
    Session session(global, long_lived_options(global, &session_pointer));
    session_pointer = &session;
    std::uint64_t answered = 0;
    std::string payload;
    auto handler = [&](const client::Message& request) {
        if (session.finishing() || (*count > 0 && answered >= *count)) return;
        ++answered;
        print_message(request, answered, raw);
        if (request.reply.empty()) return;  // Published without a reply subject: nothing to answer.
        client::Headers headers = echo && request.has_headers ? request.headers : client::Headers{};
        for (const auto& [key, value] : extra_headers->fields())
            headers.add(key, value);
        if (echo) {
            payload = request.payload;
        } else {
            payload.clear();
            body->render({answered,
                          session.env().clock.realtime_ns(),
                          request.payload,
                          &session.env().random},
                         payload);
        }
        const Status status =
            headers.empty() ? session.connection().publish(request.reply, payload)
                            : session.connection().publish(request.reply, "", headers, payload);
        if (!status) {
            print_error(
                fmt::format("reply to \"{}\" failed: {}", request.reply, status.error().message()));
        }
        if (*count > 0 && answered == *count) session.drain_and_finish(exit_ok);
    };
    const std::string ready = fmt::format("Listening on \"{}\" in group \"{}\"", subject, queue);
    return session.run(
        [&] { subscribe_then_announce(session, subject, queue, handler, *count, ready); }, true);
}

}  // namespace herald::cli
