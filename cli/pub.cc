// `herald pub`: publishes one message or --count of them, with templated bodies and headers.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/body_template.h"
#include "cli/commands.h"

namespace herald::cli {
namespace {

// Messages published per loop turn before yielding, so writes and PINGs get their turn.
constexpr std::uint64_t publish_batch_max = 1024;

struct HeaderTemplate {
    std::string key;
    BodyTemplate value;
};

// The state of one `pub` run. Lives on run_pub's stack; every callback runs inside Session::run.
struct Publisher {
    Session& session;
    std::string subject;
    std::string reply;
    BodyTemplate body;
    std::vector<HeaderTemplate> headers;
    std::uint64_t count = 1;
    Duration sleep;
    std::uint64_t sent = 0;
    std::uint64_t bytes = 0;
    std::string payload;  // reused between messages
    client::Headers rendered_headers;

    void publish_next() {
        client::Connection& connection = session.connection();
        io::Env& env = session.env();
        for (std::uint64_t batch = 0; sent < count; ++batch) {
            if (batch == publish_batch_max) {
                env.loop.post([this] { publish_next(); });
                return;
            }
            const TemplateContext context{sent + 1, env.clock.realtime_ns(), {}, &env.random};
            payload.clear();
            body.render(context, payload);
            Status status;
            if (headers.empty()) {
                status = connection.publish(subject, reply, payload);
            } else {
                rendered_headers.clear();
                for (const HeaderTemplate& header : headers) {
                    rendered_headers.add(header.key, header.value.render(context));
                }
                status = connection.publish(subject, reply, rendered_headers, payload);
            }
            if (!status && status.error() == client::Errc::outbound_full) {
                env.loop.post([this] { publish_next(); });  // Let the loop write first.
                return;
            }
            if (!status) {
                print_error(
                    fmt::format("publish to \"{}\" failed: {}", subject, status.error().message()));
                session.finish(exit_failure);
                return;
            }
            ++sent;
            bytes += payload.size();
            if (sleep.ns > 0 && sent < count) {
                env.loop.schedule(sleep, [this] { publish_next(); });
                return;
            }
        }
        session.connection().flush(session.options().timeout, [this](Status status) {
            if (!status) {
                print_error(
                    fmt::format("flush after publishing failed: {}", status.error().message()));
                session.finish(exit_failure);
                return;
            }
            if (count == 1) {
                std::fprintf(stderr,
                             "Published %llu bytes to \"%s\"\n",
                             static_cast<unsigned long long>(bytes),
                             subject.c_str());
            } else {
                std::fprintf(stderr,
                             "Published %llu messages (%llu bytes) to \"%s\"\n",
                             static_cast<unsigned long long>(sent),
                             static_cast<unsigned long long>(bytes),
                             subject.c_str());
            }
            session.finish(exit_ok);
        });
    }
};

}  // namespace

int run_pub(const GlobalOptions& global, const ParsedArgs& args) {
    std::string error;
    const auto count = count_flag(args, "count", 1, error);
    const auto sleep = duration_flag(args, "sleep", Duration{}, error);
    const auto headers = header_flags(args, error);
    if (!count || !sleep || !headers) return usage_error("pub", error);
    if (*count == 0) return usage_error("pub", "bad value for --count: must be at least 1");

    std::string body_text;
    if (args.positionals().size() > 1) {
        body_text = args.positionals()[1];
    } else {
        body_text.assign(std::istreambuf_iterator<char>(std::cin),
                         std::istreambuf_iterator<char>());
    }
    auto body = BodyTemplate::parse(body_text, error);
    if (!body) return usage_error("pub", error);
    std::vector<HeaderTemplate> header_templates;
    for (const auto& [key, value] : headers->fields()) {
        auto value_template = BodyTemplate::parse(value, error);
        if (!value_template) return usage_error("pub", error);
        header_templates.push_back({key, std::move(*value_template)});
    }

    Session session(global, client_options(global));
    Publisher publisher{session,
                        args.positionals()[0],
                        args.value("reply").value_or(""),
                        std::move(*body),
                        std::move(header_templates),
                        *count,
                        *sleep,
                        0,
                        0,
                        {},
                        {}};
    return session.run([&publisher] { publisher.publish_next(); });
}

}  // namespace herald::cli
