// `herald req`: one request, its reply printed; no responders and timeouts are failures (exit 1).
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "cli/body_template.h"
#include "cli/commands.h"

namespace herald::cli {

int run_req(const GlobalOptions& global, const ParsedArgs& args) {
    std::string error;
    const auto headers = header_flags(args, error);
    if (!headers) return usage_error("req", error);
    const std::string subject = args.positionals()[0];
    auto body =
        BodyTemplate::parse(args.positionals().size() > 1 ? args.positionals()[1] : "", error);
    if (!body) return usage_error("req", error);
    const bool raw = args.has("raw");

    Session session(global, client_options(global));
    Instant sent_at;
    auto on_reply = [&](Result<client::Message> reply) {
        if (!reply) {
            const std::error_code why = reply.error();
            if (why == client::Errc::no_responders) {
                print_error("nats: no responders available for request");
            } else if (why == client::Errc::timeout) {
                print_error(fmt::format("nats: timeout: no reply on \"{}\" within {}",
                                        subject,
                                        format_duration(global.timeout)));
            } else {
                print_error(fmt::format("nats: request failed: {}", why.message()));
            }
            session.finish(exit_failure);
            return;
        }
        const Duration rtt = session.env().clock.monotonic().since(sent_at);
        std::fprintf(stderr, "Received with rtt %s\n", format_duration(rtt).c_str());
        std::string out;
        if (!raw && reply->has_headers) {
            if (!reply->headers.status().empty()) {
                out += fmt::format(
                    "NATS/1.0 {} {}\n", reply->headers.status(), reply->headers.description());
            }
            for (const auto& [key, value] : reply->headers.fields()) {
                out += fmt::format("{}: {}\n", key, value);
            }
            out += '\n';
        }
        out += reply->payload;
        out += '\n';
        std::fwrite(out.data(), 1, out.size(), stdout);
        std::fflush(stdout);
        session.finish(exit_ok);
    };
    return session.run([&] {
        io::Env& env = session.env();
        const std::string payload = body->render({1, env.clock.realtime_ns(), {}, &env.random});
        std::fprintf(stderr, "Sending request on \"%s\"\n", subject.c_str());
        sent_at = env.clock.monotonic();
        if (headers->empty()) {
            session.connection().request(subject, payload, global.timeout, on_reply);
        } else {
            session.connection().request(subject, *headers, payload, global.timeout, on_reply);
        }
    });
}

}  // namespace herald::cli
