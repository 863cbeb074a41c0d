// SPDX-License-Identifier: Apache-2.0
#include <stox/msrp/session.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <stox/msrp/ids.hpp>
#include <stox/msrp/status.hpp>

namespace stox::msrp {

namespace tcp = boost::asio::ip;

namespace {

std::string lower(std::string s) {
    for (auto& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

/// RFC 4975 §8.1: a connection is reused for the same scheme, host and port.
std::string connection_key(const Uri& uri) {
    return std::string(uri.secure ? "msrps://" : "msrp://") + lower(uri.host) + ":" +
           std::to_string(uri.port.value_or(0));
}

} // namespace

std::shared_ptr<MsrpEndpoint> MsrpEndpoint::create(boost::asio::any_io_executor executor,
                                                   EndpointOptions options) {
    return std::shared_ptr<MsrpEndpoint>(new MsrpEndpoint(std::move(executor), std::move(options)));
}

MsrpEndpoint::MsrpEndpoint(boost::asio::any_io_executor executor, EndpointOptions options)
    : executor_(std::move(executor)), options_(std::move(options)), acceptor_(executor_) {}

MsrpEndpoint::~MsrpEndpoint() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    // Connections outlive us only until their pending handlers run; their callbacks hold a
    // weak_ptr to us and become no-ops.
    for (auto& [raw, entry] : conns_) entry.conn->abort(sdk::Status(sdk::ErrorCode::Cancelled));
}

void MsrpEndpoint::log(sdk::LogLevel level, const std::string& text) const {
    if (options_.log) options_.log(level, text);
}

sdk::Status MsrpEndpoint::listen() {
    boost::system::error_code ec;
    const auto address = tcp::make_address(options_.listen_address, ec);
    if (ec) {
        return sdk::Status(sdk::ErrorCode::InvalidConfig,
                           "MSRP listen address " + options_.listen_address + ": " + ec.message());
    }
    const tcp::tcp::endpoint ep(address, options_.listen_port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        return sdk::Status(sdk::ErrorCode::Unreachable, "MSRP listen: " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    accept_next();
    return {};
}

Uri MsrpEndpoint::make_local_uri() const {
    const auto& host =
        options_.advertised_host.empty() ? options_.listen_address : options_.advertised_host;
    return make_uri(host, port_, make_session_id());
}

void MsrpEndpoint::accept_next() {
    acceptor_.async_accept(
        [weak = weak_from_this()](const boost::system::error_code& ec, tcp::tcp::socket socket) {
            auto self = weak.lock();
            if (!self || self->shut_down_ || !self->acceptor_.is_open()) return;
            if (ec) {
                self->log(sdk::LogLevel::Warn, "MSRP accept: " + ec.message());
            } else {
                // RFC 6135 passive side: the connection stays unbound until its first request.
                self->adopt(std::move(socket), {});
            }
            self->accept_next();
        });
}

void MsrpEndpoint::adopt(MsrpConnection::Socket socket, std::string key) {
    auto conn = MsrpConnection::create(std::move(socket), options_.connection);
    const MsrpConnection* raw = conn.get();
    conns_[raw] = ConnEntry{conn, std::move(key), {}};
    std::weak_ptr<MsrpEndpoint> weak = weak_from_this();
    MsrpConnection::Handlers h;
    h.on_frame = [weak, raw](Frame&& f) {
        if (auto self = weak.lock()) self->on_frame(const_cast<MsrpConnection*>(raw), std::move(f));
    };
    h.on_parse_error = [weak, raw](const ParseError& e) {
        if (auto self = weak.lock()) self->on_parse_error(const_cast<MsrpConnection*>(raw), e);
    };
    h.on_closed = [weak, raw](const sdk::Status& s) {
        if (auto self = weak.lock()) self->on_conn_closed(const_cast<MsrpConnection*>(raw), s);
    };
    conn->start(std::move(h));
}

sdk::Result<std::shared_ptr<MsrpSession>> MsrpEndpoint::create_session(SessionOptions options,
                                                                       SessionHandlers handlers) {
    if (shut_down_) return sdk::Status(sdk::ErrorCode::Unreachable, "MSRP endpoint shut down");
    if (options.peer_path.empty()) {
        return sdk::Status(sdk::ErrorCode::BadRequest, "MSRP session without peer path");
    }
    if (!options.local_uri.session_id || options.local_uri.session_id->empty()) {
        return sdk::Status(sdk::ErrorCode::BadRequest, "MSRP local URI without session-id");
    }
    if (options.local_uri.secure || options.peer_path.front().secure) {
        return sdk::Status(sdk::ErrorCode::Unsupported, "msrps (TLS) is not implemented");
    }
    const std::string sid = *options.local_uri.session_id;
    if (auto it = sessions_.find(sid); it != sessions_.end() && !it->second.expired()) {
        return sdk::Status(sdk::ErrorCode::Forbidden, "MSRP local URI already in use");
    }
    const auto role = options.role;
    auto session = std::shared_ptr<MsrpSession>(
        new MsrpSession(shared_from_this(), std::move(options), std::move(handlers)));
    sessions_[sid] = session;
    if (role == SetupRole::Active) connect_for(session);
    return session;
}

void MsrpEndpoint::connect_for(const std::shared_ptr<MsrpSession>& session) {
    const Uri& peer = session->options_.peer_path.front(); // MSRP-25: connect to the leftmost
    if (!peer.port) {
        // A post to keep the callback out of create_session's caller stack.
        boost::asio::post(executor_, [weak = std::weak_ptr<MsrpSession>(session)] {
            if (auto s = weak.lock())
                s->fail(sdk::Status(sdk::ErrorCode::BadRequest, "peer URI without port"), true);
        });
        return;
    }
    const auto key = connection_key(peer);
    for (auto& [raw, entry] : conns_) {
        if (entry.key == key && entry.conn->is_open()) {
            bind(entry, session, true); // RFC 4975 §8.1 / RFC 6135 §4: reuse
            return;
        }
    }
    auto [it, fresh] = dialing_.try_emplace(key);
    it->second.waiters.push_back(session);
    if (!fresh) return; // a connect to that authority is already under way

    auto resolver = std::make_shared<tcp::tcp::resolver>(executor_);
    auto socket = std::make_shared<tcp::tcp::socket>(executor_);
    auto timer = std::make_shared<boost::asio::steady_timer>(executor_);
    timer->expires_after(options_.connect_timeout);
    timer->async_wait([resolver, socket](const boost::system::error_code& ec) {
        if (ec) return;
        resolver->cancel();
        boost::system::error_code ignored;
        socket->close(ignored);
    });
    std::weak_ptr<MsrpEndpoint> weak = weak_from_this();
    resolver->async_resolve(
        peer.host, std::to_string(*peer.port),
        [weak, key, resolver, socket, timer](const boost::system::error_code& ec,
                                             tcp::tcp::resolver::results_type results) {
            auto self = weak.lock();
            if (!self) return;
            if (ec) {
                timer->cancel();
                self->dial_failed(key, sdk::Status(sdk::ErrorCode::Unreachable,
                                                   "MSRP resolve " + key + ": " + ec.message()));
                return;
            }
            // RFC 4975 §6.2: try the resolved addresses in order.
            boost::asio::async_connect(
                *socket, results,
                [weak, key, socket, timer](const boost::system::error_code& cec,
                                           const tcp::tcp::endpoint&) {
                    timer->cancel();
                    auto me = weak.lock();
                    if (!me) return;
                    if (cec) {
                        me->dial_failed(key,
                                        sdk::Status(sdk::ErrorCode::Unreachable,
                                                    "MSRP connect " + key + ": " + cec.message()));
                        return;
                    }
                    auto waiters = std::move(me->dialing_[key].waiters);
                    me->dialing_.erase(key);
                    me->adopt(std::move(*socket), key);
                    ConnEntry* entry = nullptr;
                    for (auto& [raw, e] : me->conns_) {
                        if (e.key == key && e.conn->is_open()) entry = &e;
                    }
                    for (auto& w : waiters) {
                        auto s = w.lock();
                        if (!s || s->closed_ || s->conn_) continue;
                        if (!entry) {
                            s->fail(
                                sdk::Status(sdk::ErrorCode::Unreachable, "MSRP connection lost"),
                                true);
                            continue;
                        }
                        me->bind(*entry, s, true);
                    }
                });
        });
}

void MsrpEndpoint::dial_failed(const std::string& key, const sdk::Status& reason) {
    auto it = dialing_.find(key);
    if (it == dialing_.end()) return;
    auto waiters = std::move(it->second.waiters);
    dialing_.erase(it);
    log(sdk::LogLevel::Warn, reason.message());
    for (auto& w : waiters) {
        if (auto s = w.lock()) s->fail(reason, true);
    }
}

void MsrpEndpoint::bind(ConnEntry& entry, const std::shared_ptr<MsrpSession>& session,
                        bool send_bind) {
    entry.sessions.push_back(session);
    session->attach(entry.conn, send_bind);
}

void MsrpEndpoint::detach(MsrpSession* session) {
    // By its session-id, not a walk over every session: closing n sessions (shutdown, the
    // sessions of a lost connection) must not cost n^2 (create_session keeps ids unique).
    if (const auto& sid = session->options_.local_uri.session_id)
        if (auto it = sessions_.find(*sid); it != sessions_.end()) {
            auto s = it->second.lock();
            if (!s || s.get() == session) sessions_.erase(it);
        }
    for (auto& [key, d] : dialing_) {
        std::erase_if(d.waiters, [session](const std::weak_ptr<MsrpSession>& w) {
            auto s = w.lock();
            return !s || s.get() == session;
        });
    }
    std::vector<std::shared_ptr<MsrpConnection>> idle;
    for (auto& [raw, entry] : conns_) {
        const auto before = entry.sessions.size();
        std::erase_if(entry.sessions, [session](const std::weak_ptr<MsrpSession>& w) {
            auto s = w.lock();
            return !s || s.get() == session;
        });
        // MSRP-22: a connection closes only when no session uses it any more (TV-19).
        if (before > 0 && entry.sessions.empty()) idle.push_back(entry.conn);
    }
    for (auto& c : idle) c->close();
}

std::shared_ptr<MsrpSession> MsrpEndpoint::find_session(const Uri& uri) const {
    if (!uri.session_id) return nullptr;
    auto it = sessions_.find(*uri.session_id);
    if (it == sessions_.end()) return nullptr;
    auto s = it->second.lock();
    // §6.1 comparison: the session-id alone is not enough (scheme, host, port, transport).
    if (!s || s->closed_ || !equivalent(s->options_.local_uri, uri)) return nullptr;
    return s;
}

void MsrpEndpoint::answer_unbound(MsrpConnection* conn, const Request& request,
                                  std::uint16_t code) {
    if (request.method_kind() == Method::Report) return; // never answered (MSRP-14)
    const auto fr = request.effective_failure_report();
    if (fr == FailureReport::No || (fr == FailureReport::Partial && code == 200)) return;
    if (request.from_path.empty() || request.to_path.empty()) return; // nowhere to address it
    if (auto s = conn->send(Frame(make_response(request, code))); !s) {
        log(sdk::LogLevel::Warn,
            "MSRP: cannot answer " + request.transaction_id + ": " + s.message());
    }
}

void MsrpEndpoint::on_frame(MsrpConnection* conn, Frame&& frame) {
    auto eit = conns_.find(conn);
    if (eit == conns_.end()) return;
    if (auto* resp = std::get_if<Response>(&frame)) {
        // MSRP-17: a response's To-Path is our URI, the leftmost of our From-Path.
        auto s = resp->to_path.empty() ? nullptr : find_session(resp->to_path.front());
        if (!s || s->conn_.get() != conn) {
            log(sdk::LogLevel::Debug, "MSRP: response " + resp->transaction_id + " for no session");
            return;
        }
        s->handle_response(*resp);
        return;
    }
    auto& request = std::get<Request>(frame);
    // MSRP-18: the To-Path must hold exactly one URI naming a session of ours.
    auto s = request.to_path.size() == 1 ? find_session(request.to_path.front()) : nullptr;
    if (!s) {
        log(sdk::LogLevel::Info,
            "MSRP: request for an unknown session: " + to_string(request.to_path));
        answer_unbound(conn, request, to_int(StatusCode::SessionDoesNotExist)); // TV-23
        return;
    }
    if (s->conn_ && s->conn_.get() != conn) {
        // MSRP-21 / TV-24: the session is bound to another connection; that one is unaffected.
        answer_unbound(conn, request, to_int(StatusCode::SessionAlreadyBound));
        return;
    }
    if (!s->conn_) {
        // RFC 4975 §5.4: the first request binds the connection, if it comes from the peer the
        // SDP named.
        if (s->admission(request) != 200) {
            answer_unbound(conn, request, to_int(StatusCode::Forbidden));
            return;
        }
        bind(eit->second, s, false);
        if (s->closed_) return;
    }
    s->handle_request(std::move(request));
}

void MsrpEndpoint::on_parse_error(MsrpConnection* conn, const ParseError& error) {
    log(error.close_connection ? sdk::LogLevel::Warn : sdk::LogLevel::Info,
        "MSRP parse error (" + std::to_string(error.code) + "): " + error.reason +
            (error.close_connection ? "; closing the connection" : ""));
    if (error.close_connection || error.is_response || !error.request) return;
    Request request = *error.request;
    if (request.to_path.empty() && !request.from_path.empty()) {
        // No To-Path: a response still has an address (the From-Path) and our URI is that of
        // the session bound to this connection. Without one, nothing can answer: close the
        // connection rather than leave the sender waiting for its transaction timeout.
        auto it = conns_.find(conn);
        std::shared_ptr<MsrpSession> bound;
        if (it != conns_.end())
            for (auto& w : it->second.sessions)
                if (auto sp = w.lock()) {
                    bound = std::move(sp);
                    break;
                }
        if (!bound) {
            conn->abort(sdk::Status(sdk::ErrorCode::BadRequest,
                                    "MSRP: request without To-Path on an unbound connection"));
            return;
        }
        request.to_path.push_back(bound->local_uri());
    }
    // The frame was skipped but its tid and paths are known: answer 400/413 like §7.2 asks.
    answer_unbound(conn, request, error.code);
}

void MsrpEndpoint::on_conn_closed(MsrpConnection* conn, const sdk::Status& reason) {
    auto it = conns_.find(conn);
    if (it == conns_.end()) return;
    auto entry = std::move(it->second);
    conns_.erase(it);
    if (!reason.ok()) log(sdk::LogLevel::Info, "MSRP connection closed: " + reason.message());
    // MSRP-22: a connection failure fails every session on it.
    for (auto& w : entry.sessions) {
        if (auto s = w.lock()) {
            s->conn_.reset();
            s->fail(reason.ok() ? sdk::Status(sdk::ErrorCode::Unreachable, "MSRP connection closed")
                                : reason,
                    true);
        }
    }
}

void MsrpEndpoint::shutdown() {
    if (shut_down_) return;
    shut_down_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    auto sessions = sessions_;
    for (auto& [id, w] : sessions) {
        if (auto s = w.lock())
            s->fail(sdk::Status(sdk::ErrorCode::Cancelled, "MSRP endpoint shut down"), true);
    }
    auto conns = conns_;
    for (auto& [raw, entry] : conns) entry.conn->close();
}

} // namespace stox::msrp
