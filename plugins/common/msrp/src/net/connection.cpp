// SPDX-License-Identifier: Apache-2.0
#include <stox/msrp/connection.hpp>

#include <boost/asio/write.hpp>

#include <vector>

namespace stox::msrp {

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;

sdk::Status io_error(std::string_view what, const boost::system::error_code& ec) {
    return sdk::Status(sdk::ErrorCode::Unreachable,
                       "MSRP connection " + std::string(what) + ": " + ec.message());
}
} // namespace

std::shared_ptr<MsrpConnection> MsrpConnection::create(Socket socket, ConnectionOptions options) {
    return std::shared_ptr<MsrpConnection>(new MsrpConnection(std::move(socket), options));
}

MsrpConnection::MsrpConnection(Socket socket, ConnectionOptions options)
    : socket_(std::move(socket)), options_(options),
      parser_(ParserLimits{options.max_header_bytes, options.max_frame_bytes}),
      idle_timer_(socket_.get_executor()), last_activity_(std::chrono::steady_clock::now()) {}

MsrpConnection::~MsrpConnection() {
    boost::system::error_code ignored;
    socket_.close(ignored);
}

boost::asio::ip::tcp::endpoint MsrpConnection::remote_endpoint() const noexcept {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    return ec ? boost::asio::ip::tcp::endpoint{} : ep;
}

void MsrpConnection::start(Handlers handlers) {
    if (started_) return;
    started_ = true;
    handlers_ = std::move(handlers);
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored); // on_readable() reads without ever blocking a thread
    arm_idle();
    read_some();
}

void MsrpConnection::read_some() {
    if (state_ == State::Closed) return;
    // Wait for readability, then read into a per-thread buffer: an idle connection holds no
    // read buffer of its own (16 KB each before; the memory per idle session counts it).
    socket_.async_wait(Socket::wait_read,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                           self->on_readable(ec);
                       });
}

void MsrpConnection::on_readable(const boost::system::error_code& ec) {
    if (state_ == State::Closed) return;
    if (ec) {
        on_read(ec, {});
        return;
    }
    // The parser copies what it keeps, so the buffer is free again once on_read() returns.
    thread_local std::vector<char> buffer(kReadChunk);
    boost::system::error_code rec;
    const std::size_t n = socket_.read_some(boost::asio::buffer(buffer), rec);
    if (rec == boost::asio::error::would_block || rec == boost::asio::error::try_again) {
        read_some(); // spurious readiness
        return;
    }
    on_read(rec, std::string_view(buffer.data(), rec ? 0 : n));
}

void MsrpConnection::on_read(const boost::system::error_code& ec, std::string_view data) {
    if (state_ == State::Closed) return;
    if (ec) {
        if (ec == boost::asio::error::eof) {
            finish(sdk::Status(sdk::ErrorCode::Unreachable, "MSRP connection closed by the peer"));
        } else {
            finish(io_error("read failed", ec));
        }
        return;
    }
    last_activity_ = std::chrono::steady_clock::now();
    auto self = shared_from_this(); // handlers may drop the last outside reference
    auto events = parser_.feed(data);
    for (auto& ev : events) {
        if (state_ == State::Closed) return;
        if (auto* err = std::get_if<ParseError>(&ev)) {
            if (handlers_.on_parse_error) handlers_.on_parse_error(*err);
            if (err->close_connection && state_ != State::Closed) {
                // RFC 4975 §7: nothing can answer a frame whose framing is lost; drop the stream.
                abort(sdk::Status(sdk::ErrorCode::BadRequest,
                                  "MSRP: unparseable input, connection closed: " + err->reason));
                return;
            }
            continue;
        }
        Frame frame = std::holds_alternative<Request>(ev)
                          ? Frame(std::get<Request>(std::move(ev)))
                          : Frame(std::get<Response>(std::move(ev)));
        if (handlers_.on_frame) handlers_.on_frame(std::move(frame));
    }
    if (parser_.failed() && state_ != State::Closed) {
        abort(sdk::Status(sdk::ErrorCode::BadRequest, "MSRP: parser failed, connection closed"));
        return;
    }
    read_some();
}

sdk::Status MsrpConnection::send(const Frame& frame, WriteHandler done) {
    auto bytes = serialize(frame);
    if (!bytes) return bytes.status();
    return send_bytes(std::move(bytes).value(), std::move(done));
}

sdk::Status MsrpConnection::send_bytes(std::string bytes, WriteHandler done) {
    if (state_ != State::Open) {
        return sdk::Status(sdk::ErrorCode::Unreachable, "MSRP connection is closed");
    }
    if (queued_bytes_ + bytes.size() > options_.max_queued_bytes) {
        return sdk::Status(sdk::ErrorCode::Overloaded, "MSRP connection output queue is full");
    }
    queued_bytes_ += bytes.size();
    queue_.push_back({std::move(bytes), std::move(done)});
    write_next();
    return {};
}

void MsrpConnection::write_next() {
    if (writing_ || state_ == State::Closed) return;
    if (queue_.empty()) {
        if (state_ == State::Closing) finish(close_reason_);
        return;
    }
    writing_ = true;
    boost::asio::async_write(socket_, boost::asio::buffer(queue_.front().bytes),
                             [self = shared_from_this()](const boost::system::error_code& ec,
                                                         std::size_t) { self->on_written(ec); });
}

void MsrpConnection::on_written(const boost::system::error_code& ec) {
    writing_ = false;
    if (state_ == State::Closed) return; // finish() already failed the queue
    if (ec) {
        finish(io_error("write failed", ec));
        return;
    }
    last_activity_ = std::chrono::steady_clock::now();
    auto self = shared_from_this();
    Pending done = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= done.bytes.size();
    if (done.done) done.done(sdk::Status{});
    write_next();
}

void MsrpConnection::arm_idle() {
    if (options_.idle_timeout.count() <= 0 || state_ == State::Closed) return;
    const auto deadline = last_activity_ + options_.idle_timeout;
    idle_timer_.expires_at(deadline);
    idle_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || self->state_ == State::Closed) return;
        if (std::chrono::steady_clock::now() - self->last_activity_ >=
            self->options_.idle_timeout) {
            self->abort(sdk::Status(sdk::ErrorCode::Timeout, "MSRP connection idle timeout"));
        } else {
            self->arm_idle();
        }
    });
}

void MsrpConnection::close(sdk::Status reason) {
    if (state_ != State::Open) return;
    state_ = State::Closing;
    close_reason_ = std::move(reason);
    write_next(); // finishes now when nothing is queued
}

void MsrpConnection::abort(sdk::Status reason) {
    if (state_ == State::Closed) return;
    finish(std::move(reason));
}

void MsrpConnection::finish(sdk::Status reason) {
    if (state_ == State::Closed) return;
    auto self = shared_from_this();
    state_ = State::Closed;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    idle_timer_.cancel();
    auto pending = std::move(queue_);
    queue_.clear();
    queued_bytes_ = 0;
    const sdk::Status dropped =
        reason.ok() ? sdk::Status(sdk::ErrorCode::Cancelled, "MSRP connection closed") : reason;
    for (auto& p : pending) {
        if (p.done) p.done(dropped);
    }
    auto on_closed = std::move(handlers_.on_closed);
    handlers_ = {};
    if (on_closed) on_closed(reason);
}

} // namespace stox::msrp
