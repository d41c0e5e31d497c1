#include "engine/protocol/encoder.h"

#include <array>
#include <charconv>

#include "engine/base/assert.h"

namespace herald::protocol {

void append_decimal(std::string& out, std::uint64_t value) {
    std::array<char, 24> digits{};
    const auto [end, error] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    ASSERT(error == std::errc());
    out.append(digits.data(), end);
}

namespace {

void append_subject_sid_reply(std::string& out,
                              std::string_view subject,
                              std::string_view sid,
                              std::string_view reply) {
    out += subject;
    out += ' ';
    out += sid;
    out += ' ';
    if (!reply.empty()) {
        out += reply;
        out += ' ';
    }
}

}  // namespace

void append_msg_line(std::string& out,
                     std::string_view subject,
                     std::string_view sid,
                     std::string_view reply,
                     std::size_t total_size) {
    out += "MSG ";
    append_subject_sid_reply(out, subject, sid, reply);
    append_decimal(out, total_size);
    out += crlf;
}

void append_hmsg_line(std::string& out,
                      std::string_view subject,
                      std::string_view sid,
                      std::string_view reply,
                      std::size_t header_size,
                      std::size_t total_size) {
    ASSERT(header_size <= total_size);
    out += "HMSG ";
    append_subject_sid_reply(out, subject, sid, reply);
    append_decimal(out, header_size);
    out += ' ';
    append_decimal(out, total_size);
    out += crlf;
}

void append_pub(std::string& out,
                std::string_view subject,
                std::string_view reply,
                std::string_view payload) {
    out += "PUB ";
    out += subject;
    out += ' ';
    if (!reply.empty()) {
        out += reply;
        out += ' ';
    }
    append_decimal(out, payload.size());
    out += crlf;
    out += payload;
    out += crlf;
}

void append_hpub(std::string& out,
                 std::string_view subject,
                 std::string_view reply,
                 std::string_view headers,
                 std::string_view payload) {
    out += "HPUB ";
    out += subject;
    out += ' ';
    if (!reply.empty()) {
        out += reply;
        out += ' ';
    }
    append_decimal(out, headers.size());
    out += ' ';
    append_decimal(out, headers.size() + payload.size());
    out += crlf;
    out += headers;
    out += payload;
    out += crlf;
}

void append_sub(std::string& out,
                std::string_view subject,
                std::string_view queue,
                std::string_view sid) {
    out += "SUB ";
    out += subject;
    out += ' ';
    if (!queue.empty()) {
        out += queue;
        out += ' ';
    }
    out += sid;
    out += crlf;
}

void append_unsub(std::string& out, std::string_view sid, std::uint64_t max_msgs) {
    out += "UNSUB ";
    out += sid;
    if (max_msgs != 0) {
        out += ' ';
        append_decimal(out, max_msgs);
    }
    out += crlf;
}

void append_err(std::string& out, std::string_view text) {
    out += "-ERR '";
    out += text;
    out += "'";
    out += crlf;
}

}  // namespace herald::protocol
