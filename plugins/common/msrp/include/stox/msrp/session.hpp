// SPDX-License-Identifier: Apache-2.0
/// \file session.hpp
/// MSRP sessions and the endpoint that owns their connections (RFC 4975 §5.4, §7, §8.1; RFC 6135
/// COMEDIA). Part of stox_msrp_net. Single-threaded: every call and every callback happens on the
/// executor given to MsrpEndpoint::create (the plugin's strand); nothing takes a lock.
#pragma once

#include <utility> // Boost 1.74 Asio under C++20 needs std::exchange declared first
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <list>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <stox/msrp/chunking.hpp>
#include <stox/msrp/connection.hpp>
#include <stox/msrp/message.hpp>
#include <stox/msrp/uri.hpp>
#include <stox/sdk/logger.hpp>
#include <stox/sdk/status.hpp>

namespace stox::msrp {

class MsrpEndpoint;

/// Which side opens the TCP connection: the `a=setup` outcome (RFC 6135 §4.2; MSRP-31/32).
/// Without a=setup the SDP offerer is Active (RFC 4975 §5.4, MSRP-21).
enum class SetupRole : std::uint8_t { Active, Passive };

struct SessionOptions {
    Uri local_uri;  ///< our path URI (MsrpEndpoint::make_local_uri)
    Path peer_path; ///< the peer's a=path: To-Path of our requests (MSRP-25)
    SetupRole role = SetupRole::Active;
    std::size_t chunk_size = 2048; ///< body bytes per outgoing SEND chunk (MSRP-12)
    std::chrono::milliseconds transaction_timeout{30000}; ///< 408 locally (MSRP-10)
    std::chrono::milliseconds incomplete_timeout{120000}; ///< incoming reassembly expiry (TV-09)
    std::uint64_t max_message_bytes = 1024 * 1024;        ///< larger incoming -> 413 (MSRP-30)
    std::size_t max_incomplete_messages = 64;
    /// Content types we accept (a=accept-types): "*", "type/*" or "type/subtype", compared
    /// case-insensitively without parameters. multipart/mixed and multipart/alternative are always
    /// accepted (MSRP-20). Others get 415.
    std::vector<std::string> accept_types{"*"};
    /// false for a=sendonly: SENDs with content get 403 (MSRP-29; bodiless SENDs still pass).
    bool receive_allowed = true;
    /// Success REPORTs are sent as soon as a message is complete. false: the application calls
    /// MsrpSession::report() itself, e.g. when the XMPP receipt arrives (TV-22).
    bool auto_success_report = true;
    /// Requests whose From-Path does not end in the peer's URI get 403 (RFC 4975 §5.4: the
    /// passive side infers who connected from the SDP).
    bool check_from_path = true;
};

struct SendOptions {
    bool success_report = false;                       ///< Success-Report: yes (MSRP-15)
    FailureReport failure_report = FailureReport::Yes; ///< sent only when not Yes (MSRP-9)
    std::vector<Header> mime_headers;                  ///< e.g. Content-Language (TV-26)
    std::string message_id; ///< empty: a fresh one; set it to resend (RFC 4975 §5.4)
};

/// A complete incoming message (all chunks, MSRP-19).
struct IncomingMessage {
    std::string message_id;
    /// Transaction id of the SEND that completed the message (RFC 7573 / CHAT-7: the XMPP
    /// stanza's id).
    std::string transaction_id;
    std::string content_type;
    std::string body;
    Path from_path;
    std::vector<Header> mime_headers; ///< of the first chunk received
    bool success_report = false;      ///< the sender asked for a success REPORT
};

/// An incoming REPORT (RFC 4975 §7.1.2), for a message of ours (known) or not (MSRP-23).
struct ReportEvent {
    std::string message_id;
    StatusHeader status;
    std::optional<ByteRange> range;
    bool known = false;
};

enum class SendOutcome : std::uint8_t {
    Delivered, ///< 200 for every chunk, or success REPORTs covering every byte when requested
    Sent,      ///< written out; Failure-Report no/partial without Success-Report: no proof
    Failed,    ///< see code/error
};

/// The final result of one send_message(); exactly one per message.
struct SendResult {
    std::string message_id;
    SendOutcome outcome = SendOutcome::Delivered;
    /// The MSRP code: 200, the error response or failure REPORT code, 408 for the local
    /// transaction timeout, 0 when the session or connection went away first.
    std::uint16_t code = 200;
    sdk::ErrorCode error = sdk::ErrorCode::Ok; ///< Unreachable / Cancelled when code == 0
    std::string reason;
};

struct SessionHandlers {
    std::function<void(IncomingMessage&&)> on_message;
    std::function<void(const ReportEvent&)> on_report;
    std::function<void(const SendResult&)> on_send_result;
    /// Once, when the session fails: connection lost or refused (Unreachable), 481/506 from the
    /// peer, a failure REPORT for our bytes (RFC 4975 §7.3.2), endpoint shutdown (Cancelled).
    /// Not called for MsrpSession::close().
    std::function<void(const sdk::Status&)> on_closed;
};

/// One MSRP session: our URI plus the peer's path, carried by a connection the endpoint binds
/// (active: connect or reuse, then an immediate SEND; passive: bound by the To-Path of the first
/// request). Messages are chunked, each SEND transaction is timed and matched by tid; incoming
/// chunks are reassembled, answered (200/400/403/413/415/481/501/506) and reported per the
/// Success-/Failure-Report headers. Create with MsrpEndpoint::create_session.
class MsrpSession : public std::enable_shared_from_this<MsrpSession> {
public:
    ~MsrpSession();
    MsrpSession(const MsrpSession&) = delete;
    MsrpSession& operator=(const MsrpSession&) = delete;

    /// Queues a message; chunks go out once the session is bound. Returns the Message-ID.
    /// BadRequest for an invalid content type or Message-ID, Unreachable once closed.
    sdk::Result<std::string> send_message(std::string body, std::string content_type,
                                          SendOptions options = {});

    /// Sends a REPORT for a complete incoming message: a success REPORT (code 200) when the
    /// sender asked for one, or a failure REPORT (any error code) unless it said
    /// Failure-Report: no (RFC 4975 §7.1.3, §7.1.4). ItemNotFound for an unknown or no longer
    /// remembered Message-ID, Forbidden when its report headers forbid it.
    sdk::Status report(const std::string& message_id, std::uint16_t code);

    /// Ends the session: pending sends fail (code 0, Cancelled), the connection is closed when
    /// no other session uses it (MSRP-22). No on_closed callback.
    void close();

    [[nodiscard]] const Uri& local_uri() const noexcept { return options_.local_uri; }
    [[nodiscard]] const Path& peer_path() const noexcept { return options_.peer_path; }
    [[nodiscard]] bool bound() const noexcept { return conn_ != nullptr; }
    [[nodiscard]] bool closed() const noexcept { return closed_; }

private:
    friend class MsrpEndpoint;
    struct Outgoing;
    struct Transaction;
    struct Incoming;
    struct Remembered;

    MsrpSession(std::shared_ptr<MsrpEndpoint> endpoint, SessionOptions options,
                SessionHandlers handlers);

    // Called by the endpoint.
    void attach(std::shared_ptr<MsrpConnection> conn, bool send_bind);
    void handle_request(Request&& request);
    void handle_response(const Response& response);
    void fail(sdk::Status reason, bool notify);
    std::uint16_t admission(const Request& request) const;

    void pump();
    void send_chunk(const std::shared_ptr<Outgoing>& msg);
    void send_bind();
    void send_abort(const std::shared_ptr<Outgoing>& msg);
    void arm_transaction(const std::string& tid);
    void on_timeout(const std::string& tid);
    void finish_send(const std::shared_ptr<Outgoing>& msg, SendOutcome outcome, std::uint16_t code,
                     sdk::ErrorCode error, std::string reason);
    void check_delivered(const std::shared_ptr<Outgoing>& msg);
    void respond(const Request& request, std::uint16_t code);
    void handle_send(Request&& request);
    void handle_report(const Request& request);
    void touch_incoming(const Request& request);
    void expire_incoming(const std::string& message_id);
    sdk::Status send_report(const Remembered& r, const std::string& message_id, std::uint16_t code);
    void log(sdk::LogLevel level, std::string text) const;

    std::weak_ptr<MsrpEndpoint> endpoint_;
    boost::asio::any_io_executor executor_;
    SessionOptions options_;
    SessionHandlers handlers_;
    std::shared_ptr<MsrpConnection> conn_;
    bool closed_ = false;
    bool writing_ = false;   ///< a chunk of ours is in the connection queue
    bool need_bind_ = false; ///< active side: the first SEND must go out immediately
    /// FIFOs as lists: O(1) at the front, and nothing allocated while empty (a std::deque
    /// allocates ~600 B up front, which an idle session would pay for each of them).
    std::list<std::shared_ptr<Outgoing>> queue_; ///< messages with chunks left to send
    std::map<std::string, std::shared_ptr<Outgoing>, std::less<>> outgoing_; ///< by Message-ID
    std::map<std::string, std::unique_ptr<Transaction>, std::less<>> transactions_; ///< by tid
    Reassembler reassembler_;
    std::map<std::string, std::unique_ptr<Incoming>, std::less<>> incoming_;
    std::map<std::string, Remembered, std::less<>> remembered_; ///< for deferred REPORTs
    std::list<std::string> remembered_order_; ///< oldest first: evicted from the front
};

struct EndpointOptions {
    std::string listen_address = "127.0.0.1";
    std::uint16_t listen_port = 0; ///< 0: any free port
    std::string advertised_host;   ///< host of our URIs; empty: listen_address
    ConnectionOptions connection;
    std::chrono::milliseconds connect_timeout{10000};
    /// Optional log sink (the plugin passes its sdk::Logger through a lambda).
    std::function<void(sdk::LogLevel, const std::string&)> log;
};

/// The MSRP endpoint of a plugin: listener (passive side, RFC 6135), outgoing connections
/// (active side, reused per scheme/host/port, RFC 4975 §8.1 / RFC 6135 §4), and the session
/// table that binds incoming connections by To-Path (481 unknown, 506 bound elsewhere, §5.4).
class MsrpEndpoint : public std::enable_shared_from_this<MsrpEndpoint> {
public:
    static std::shared_ptr<MsrpEndpoint> create(boost::asio::any_io_executor executor,
                                                EndpointOptions options = {});
    ~MsrpEndpoint();
    MsrpEndpoint(const MsrpEndpoint&) = delete;
    MsrpEndpoint& operator=(const MsrpEndpoint&) = delete;

    /// Binds the listener and starts accepting (needed for Passive sessions).
    sdk::Status listen();
    /// The bound listening port (0 before listen()).
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    /// A fresh URI for a new session: msrp://<advertised host>:<port>/<random id>;tcp.
    [[nodiscard]] Uri make_local_uri() const;

    /// Registers a session. Active: connects (or reuses a connection) now and sends the binding
    /// SEND. Passive: waits for the peer's connection. BadRequest for an empty peer path or a
    /// local URI without session-id, Unsupported for msrps (no TLS here), Forbidden for a
    /// duplicate local URI.
    sdk::Result<std::shared_ptr<MsrpSession>> create_session(SessionOptions options,
                                                             SessionHandlers handlers);

    /// Stops listening and closes every connection; live sessions get on_closed(Cancelled).
    void shutdown();

    [[nodiscard]] std::size_t connection_count() const noexcept { return conns_.size(); }
    [[nodiscard]] std::size_t session_count() const noexcept { return sessions_.size(); }
    [[nodiscard]] boost::asio::any_io_executor get_executor() const { return executor_; }

private:
    friend class MsrpSession;
    struct ConnEntry {
        std::shared_ptr<MsrpConnection> conn;
        std::string key; ///< "scheme://host:port" for connections we opened; empty if accepted
        std::vector<std::weak_ptr<MsrpSession>> sessions;
    };
    struct Dialing {
        std::vector<std::weak_ptr<MsrpSession>> waiters;
    };

    MsrpEndpoint(boost::asio::any_io_executor executor, EndpointOptions options);

    void accept_next();
    void adopt(MsrpConnection::Socket socket, std::string key);
    void connect_for(const std::shared_ptr<MsrpSession>& session);
    void dial_failed(const std::string& key, const sdk::Status& reason);
    void on_frame(MsrpConnection* conn, Frame&& frame);
    void on_parse_error(MsrpConnection* conn, const ParseError& error);
    void on_conn_closed(MsrpConnection* conn, const sdk::Status& reason);
    void bind(ConnEntry& entry, const std::shared_ptr<MsrpSession>& session, bool send_bind);
    void detach(MsrpSession* session);
    std::shared_ptr<MsrpSession> find_session(const Uri& uri) const;
    void answer_unbound(MsrpConnection* conn, const Request& request, std::uint16_t code);
    void log(sdk::LogLevel level, const std::string& text) const;

    boost::asio::any_io_executor executor_;
    EndpointOptions options_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    bool shut_down_ = false;
    std::map<std::string, std::weak_ptr<MsrpSession>> sessions_; ///< by session-id
    std::map<const MsrpConnection*, ConnEntry> conns_;
    std::map<std::string, Dialing> dialing_; ///< by key
};

} // namespace stox::msrp
