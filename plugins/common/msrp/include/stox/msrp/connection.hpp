// SPDX-License-Identifier: Apache-2.0
/// \file connection.hpp
/// MsrpConnection: one TCP connection carrying MSRP frames (RFC 4975 §5.4, §7) over Boost.Asio.
/// Part of stox_msrp_net. Single-threaded: create it, call it and receive its callbacks on one
/// executor (the plugin's strand); it takes no locks.
#pragma once

#include <utility> // Boost 1.74 Asio under C++20 needs std::exchange declared first
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <list>
#include <functional>
#include <memory>
#include <string>

#include <stox/msrp/message.hpp>
#include <stox/msrp/parser.hpp>
#include <stox/sdk/status.hpp>

namespace stox::msrp {

struct ConnectionOptions {
    std::size_t max_frame_bytes = 1024 * 1024;      ///< body of one received chunk (413 above)
    std::size_t max_header_bytes = 16 * 1024;       ///< start line + headers of one received frame
    std::size_t max_queued_bytes = 8 * 1024 * 1024; ///< unsent output; send() fails above
    /// No byte in either direction for this long closes the connection (Timeout); 0 = never.
    std::chrono::milliseconds idle_timeout{0};
};

/// One MSRP transport connection. Incoming bytes go through the incremental Parser; every
/// frame (or recoverable ParseError) is handed to on_frame/on_parse_error in stream order.
/// Writes are queued and written strictly in order. An unrecoverable parse error closes the
/// connection (RFC 4975 has no way to answer an unparseable frame) and reports it through
/// on_parse_error and then on_closed. Always held by shared_ptr (callbacks keep it alive).
class MsrpConnection : public std::enable_shared_from_this<MsrpConnection> {
public:
    using Socket = boost::asio::ip::tcp::socket;
    /// Called once the bytes were handed to the OS (Ok), or with the error that dropped them.
    using WriteHandler = std::function<void(const sdk::Status&)>;

    struct Handlers {
        std::function<void(Frame&&)> on_frame;
        std::function<void(const ParseError&)> on_parse_error;
        /// Exactly once. Ok after a local close(); otherwise why the connection went away
        /// (peer closed: Unreachable; I/O error: Unreachable; garbage: BadRequest; idle: Timeout).
        std::function<void(const sdk::Status&)> on_closed;
    };

    /// The socket must be connected and belong to the executor the caller runs on.
    static std::shared_ptr<MsrpConnection> create(Socket socket, ConnectionOptions options = {});

    MsrpConnection(const MsrpConnection&) = delete;
    MsrpConnection& operator=(const MsrpConnection&) = delete;
    ~MsrpConnection();

    /// Starts reading. Call once.
    void start(Handlers handlers);

    /// Serializes and queues a frame. BadRequest if it cannot be serialized, Overloaded if the
    /// queue limit would be exceeded, Unreachable if closed. `done` is not called on failure.
    sdk::Status send(const Frame& frame, WriteHandler done = {});
    /// Queues raw bytes (already framed).
    sdk::Status send_bytes(std::string bytes, WriteHandler done = {});

    /// Clean close: queued writes are flushed first, then the socket is shut down. on_closed
    /// receives `reason`.
    void close(sdk::Status reason = {});
    /// Immediate close: queued writes fail with `reason`.
    void abort(sdk::Status reason);

    [[nodiscard]] bool is_open() const noexcept { return state_ == State::Open; }
    [[nodiscard]] std::size_t queued_bytes() const noexcept { return queued_bytes_; }
    [[nodiscard]] boost::asio::any_io_executor get_executor() { return socket_.get_executor(); }
    /// Peer address (unspecified endpoint once the socket is closed).
    [[nodiscard]] boost::asio::ip::tcp::endpoint remote_endpoint() const noexcept;

private:
    MsrpConnection(Socket socket, ConnectionOptions options);

    enum class State : std::uint8_t { Open, Closing, Closed };
    struct Pending {
        std::string bytes;
        WriteHandler done;
    };

    void read_some();
    void on_readable(const boost::system::error_code& ec);
    void on_read(const boost::system::error_code& ec, std::string_view data);
    void write_next();
    void on_written(const boost::system::error_code& ec);
    void arm_idle();
    void finish(sdk::Status reason);

    Socket socket_;
    ConnectionOptions options_;
    Parser parser_;
    Handlers handlers_;
    State state_ = State::Open;
    bool started_ = false;
    bool writing_ = false;
    std::list<Pending> queue_; ///< a list: nothing allocated while idle (a deque takes ~600 B)
    std::size_t queued_bytes_ = 0;
    sdk::Status close_reason_;
    boost::asio::steady_timer idle_timer_;
    std::chrono::steady_clock::time_point last_activity_;
};

} // namespace stox::msrp
