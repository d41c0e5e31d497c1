#include "tests/support/raw_client.h"

namespace herald::testing {

RawClient::RawClient(io::Env& env, std::string address) : env_(env) {
    std::weak_ptr<bool> alive = alive_;
    env_.network.connect(address, [this, alive](Result<std::unique_ptr<io::Stream>> stream) {
        if (alive.expired()) return;
        if (!stream) {
            connect_failed_ = true;
            return;
        }
        stream_ = std::move(*stream);
        read_more();
        write_more();
    });
}

RawClient::~RawClient() { close(); }

void RawClient::close() {
    alive_ = std::make_shared<bool>(true);
    if (stream_) stream_->close();
    stream_.reset();
}

void RawClient::send(std::string_view bytes) {
    pending_.append(bytes);
    write_more();
}

void RawClient::write_more() {
    if (!stream_ || writing_ || pending_.empty()) return;
    writing_ = true;
    in_flight_.swap(pending_);
    pending_.clear();
    iovec_ = std::span<const std::byte>(reinterpret_cast<const std::byte*>(in_flight_.data()),
                                        in_flight_.size());
    std::weak_ptr<bool> alive = alive_;
    stream_->write_all(std::span<const std::span<const std::byte>>(&iovec_, 1),
                       [this, alive](Status) {
                           if (alive.expired()) return;
                           writing_ = false;
                           in_flight_.clear();
                           write_more();
                       });
}

void RawClient::read_more() {
    if (!stream_) return;
    std::weak_ptr<bool> alive = alive_;
    stream_->read_some(read_buffer_, [this, alive](Result<std::size_t> result) {
        if (alive.expired()) return;
        if (!result || *result == 0) {
            eof_ = true;
            return;
        }
        parser_.feed(std::span<const char>(reinterpret_cast<const char*>(read_buffer_.data()),
                                           *result),
                     *this);
        read_more();
    });
}

void RawClient::on_msg(const protocol::MessageArgs& args, std::string_view payload) {
    ReceivedMessage message;
    message.subject.assign(args.subject);
    message.sid.assign(args.sid);
    message.reply.assign(args.reply);
    message.headers.assign(payload.substr(0, args.header_size));
    message.payload.assign(payload.substr(args.header_size));
    messages_.push_back(std::move(message));
}

void RawClient::on_ping() {
    ++pings_;
    if (auto_pong_) send("PONG\r\n");
}

}  // namespace herald::testing
