// TCP streams and listeners on asio. Every asynchronous handler holds the connection's shared
// state and checks `open` first: asio completes cancelled operations with operation_aborted, and
// after close() no callback of the caller may run.
#include <vector>

#include "engine/base/assert.h"
#include "engine/base/errc.h"
#include "engine/io/asio/asio_internal.h"

namespace herald::io::asio_env {
namespace {

using base::Errc;
using tcp = net::ip::tcp;

std::string endpoint_text(const tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    std::string host = address.to_string();
    if (address.is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(endpoint.port());
}

struct StreamState {
    explicit StreamState(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    bool open = true;
    bool reading = false;
    bool writing = false;
    std::string peer;
};

class AsioStream final : public Stream {
public:
    explicit AsioStream(tcp::socket socket)
        : state_(std::make_shared<StreamState>(std::move(socket))) {
        boost::system::error_code error;
        state_->socket.set_option(tcp::no_delay(true), error);
        MAYBE(error);
        const auto endpoint = state_->socket.remote_endpoint(error);
        state_->peer = error ? std::string("unknown:0") : endpoint_text(endpoint);
    }
    ~AsioStream() override { close(); }
    AsioStream(const AsioStream&) = delete;
    AsioStream& operator=(const AsioStream&) = delete;

    void read_some(std::span<std::byte> target,
                   std::function<void(Result<std::size_t>)> on_read) override {
        ASSERT(on_read);
        if (!state_->open) return;  // Closed by us: no callback may run any more.
        ASSERT(!state_->reading);
        MAYBE(target.empty());
        state_->reading = true;
        state_->socket.async_read_some(
            net::buffer(target.data(), target.size()),
            [state = state_, on_read = std::move(on_read)](const boost::system::error_code& error,
                                                           std::size_t count) {
                state->reading = false;
                if (!state->open) return;
                if (error == net::error::eof) {
                    on_read(std::size_t{0});
                } else if (error) {
                    on_read(asio_to_error(error));
                } else {
                    on_read(count);
                }
            });
    }

    void write_all(std::span<const std::span<const std::byte>> sources,
                   std::function<void(Status)> on_written) override {
        ASSERT(on_written);
        if (!state_->open) return;
        ASSERT(!state_->writing);
        std::vector<net::const_buffer> buffers;
        buffers.reserve(sources.size());
        for (const auto& source : sources) {
            if (!source.empty()) buffers.emplace_back(source.data(), source.size());
        }
        state_->writing = true;
        // async_write keeps its own copy of the buffer sequence (not of the bytes).
        net::async_write(
            state_->socket, buffers,
            [state = state_, on_written = std::move(on_written)](
                const boost::system::error_code& error, std::size_t /*count*/) {
                state->writing = false;
                if (!state->open) return;
                if (error) {
                    on_written(asio_to_error(error));
                } else {
                    on_written(ok());
                }
            });
    }

    void close() override {
        if (!state_->open) return;
        state_->open = false;
        boost::system::error_code error;
        state_->socket.shutdown(tcp::socket::shutdown_both, error);
        state_->socket.close(error);  // Cancels pending operations; their handlers see !open.
        MAYBE(error);
    }

    std::string peer_address() const override { return state_->peer; }

private:
    std::shared_ptr<StreamState> state_;
};

struct ListenerState {
    explicit ListenerState(net::io_context& io) : acceptor(io) {}
    tcp::acceptor acceptor;
    bool open = true;
    std::function<void(Result<std::unique_ptr<Stream>>)> on_accept;
};

void accept_next(const std::shared_ptr<ListenerState>& state) {
    state->acceptor.async_accept(
        [state](const boost::system::error_code& error, tcp::socket socket) {
            if (!state->open) return;
            if (error) {
                // Transient accept errors (EMFILE, aborted handshakes) are reported, then we keep
                // accepting.
                state->on_accept(asio_to_error(error));
            } else {
                state->on_accept(std::unique_ptr<Stream>(new AsioStream(std::move(socket))));
            }
            if (state->open) accept_next(state);
        });
}

class AsioListener final : public Listener {
public:
    explicit AsioListener(std::shared_ptr<ListenerState> state) : state_(std::move(state)) {}
    ~AsioListener() override {
        state_->open = false;
        boost::system::error_code error;
        state_->acceptor.close(error);
        MAYBE(error);
    }
    AsioListener(const AsioListener&) = delete;
    AsioListener& operator=(const AsioListener&) = delete;

    std::string local_address() const override {
        boost::system::error_code error;
        const auto endpoint = state_->acceptor.local_endpoint(error);
        return error ? std::string() : endpoint_text(endpoint);
    }
    std::uint16_t local_port() const override {
        boost::system::error_code error;
        const auto endpoint = state_->acceptor.local_endpoint(error);
        return error ? std::uint16_t{0} : endpoint.port();
    }

private:
    std::shared_ptr<ListenerState> state_;
};

// Literal addresses only, plus "localhost"; listening never resolves names.
std::optional<net::ip::address> literal_address(const std::string& host) {
    if (host == "localhost") return net::ip::make_address_v4("127.0.0.1");
    boost::system::error_code error;
    auto address = net::ip::make_address(host, error);
    if (error) return std::nullopt;
    return address;
}

}  // namespace

Result<std::unique_ptr<Listener>> AsioNetwork::listen(
    const std::string& address, std::function<void(Result<std::unique_ptr<Stream>>)> on_accept) {
    ASSERT(on_accept);
    const auto host_port = split_host_port(address);
    if (!host_port) return Errc::invalid_argument;
    const auto ip = literal_address(host_port->host);
    if (!ip) return Errc::invalid_argument;
    const tcp::endpoint endpoint(*ip, host_port->port);

    auto state = std::make_shared<ListenerState>(io_);
    state->on_accept = std::move(on_accept);
    boost::system::error_code error;
    state->acceptor.open(endpoint.protocol(), error);
    if (!error) state->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) state->acceptor.bind(endpoint, error);
    if (!error) state->acceptor.listen(net::socket_base::max_listen_connections, error);
    if (error) return asio_to_error(error);
    accept_next(state);
    return std::unique_ptr<Listener>(new AsioListener(std::move(state)));
}

void AsioNetwork::connect(const std::string& address,
                          std::function<void(Result<std::unique_ptr<Stream>>)> on_connect) {
    ASSERT(on_connect);
    const auto host_port = split_host_port(address);
    if (!host_port) {
        net::post(io_, [on_connect = std::move(on_connect)] {
            on_connect(make_error_code(Errc::invalid_argument));
        });
        return;
    }
    auto socket = std::make_shared<tcp::socket>(io_);
    auto finish = [socket, on_connect = std::move(on_connect)](
                      const boost::system::error_code& error) {
        if (error) {
            on_connect(asio_to_error(error));
        } else {
            on_connect(std::unique_ptr<Stream>(new AsioStream(std::move(*socket))));
        }
    };
    if (const auto ip = literal_address(host_port->host)) {
        socket->async_connect(tcp::endpoint(*ip, host_port->port), std::move(finish));
        return;
    }
    auto resolver = std::make_shared<tcp::resolver>(io_);
    resolver->async_resolve(
        host_port->host, std::to_string(host_port->port),
        [resolver, socket, finish = std::move(finish)](
            const boost::system::error_code& error,
            const tcp::resolver::results_type& endpoints) mutable {
            if (error) {
                finish(error);
                return;
            }
            net::async_connect(*socket, endpoints,
                               [finish = std::move(finish)](const boost::system::error_code& e,
                                                            const tcp::endpoint&) { finish(e); });
        });
}

}  // namespace herald::io::asio_env
