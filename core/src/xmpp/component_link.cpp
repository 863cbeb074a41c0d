// SPDX-License-Identifier: Apache-2.0
#include "xmpp/component_link.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <exception>
#include <optional>
#include <span>
#include <stdexcept>
#include <system_error>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "xmpp/stream_header.hpp"

namespace stox::core::xmpp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using sdk::ErrorCode;
using sdk::Status;

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
// Coalescing bound: one write carries at most this much (at least one stanza).
constexpr std::size_t kMaxBatchBytes = 64 * 1024;
constexpr std::size_t kMaxLoggedText = 200;
constexpr std::size_t kMinStanzaLimit = 1024;
constexpr unsigned kMaxBackoffExponent = 62;

std::string ms(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " ms";
}

// Peer-supplied text goes into logs: bounded.
std::string clip(std::string_view s) {
    if (s.size() <= kMaxLoggedText) return std::string(s);
    return std::string(s.substr(0, kMaxLoggedText)) + "...";
}

// xmpp.hpp: a stanza in no namespace is treated as jabber:component:accept; so are its
// children that were built without one.
void normalize_ns(sdk::XmlElement& el) {
    if (el.is_text() || !el.ns().empty()) return;
    el.set_ns(std::string(sdk::kComponentNs));
    for (auto& c : el.children()) normalize_ns(c);
}

// RFC 6120 §4.9.2: the error element, its condition and an optional <text/>.
std::string stream_error_xml(std::string_view condition, std::string_view text) {
    std::string s = "<stream:error><";
    s += condition;
    s += " xmlns='";
    s += kStreamErrorNs;
    s += "'/>";
    if (!text.empty()) {
        s += "<text xmlns='";
        s += kStreamErrorNs;
        s += "'>";
        sdk::XmlElement::escape_into(s, text, false);
        s += "</text>";
    }
    s += "</stream:error>";
    return s;
}

} // namespace

sdk::Status validate(const ComponentConfig& c) {
    auto bad = [](std::string m) { return Status(ErrorCode::InvalidConfig, std::move(m)); };
    if (c.host.empty()) return bad("host is empty");
    if (c.port == 0) return bad("port is 0");
    if (c.domain.empty()) return bad("domain is empty");
    if (c.secret.empty()) return bad("secret is empty (XEP-0114 needs a shared secret)");
    if (c.connect_timeout.count() <= 0) return bad("connect_timeout must be positive");
    if (c.keepalive_interval.count() < 0) return bad("keepalive_interval must not be negative");
    if (c.reconnect_on_rx_silence &&
        (c.keepalive_interval.count() == 0 || c.dead_peer_intervals == 0))
        return bad("reconnect_on_rx_silence needs keepalive_interval and dead_peer_intervals");
    if (c.reconnect_min.count() <= 0) return bad("reconnect_min must be positive");
    if (c.reconnect_max < c.reconnect_min) return bad("reconnect_max is below reconnect_min");
    if (c.max_stanza_bytes < kMinStanzaLimit)
        return bad("max_stanza_bytes must be at least " + std::to_string(kMinStanzaLimit));
    if (c.send_queue_limit == 0) return bad("send_queue_limit must be at least 1");
    if (c.send_queue_deadline.count() <= 0) return bad("send_queue_deadline must be positive");
    if (c.close_timeout.count() <= 0) return bad("close_timeout must be positive");
    return {};
}

std::string handshake_digest(std::string_view stream_id, std::string_view secret) {
    std::string input;
    input.reserve(stream_id.size() + secret.size());
    input.append(stream_id).append(secret);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok = EVP_Digest(input.data(), input.size(), md, &len, EVP_sha1(), nullptr);
    OPENSSL_cleanse(input.data(), input.size()); // the secret does not linger in freed memory
    if (ok != 1) throw std::runtime_error("OpenSSL SHA-1 failed");
    static constexpr char kHex[] = "0123456789abcdef"; // XEP-0114 §3: lowercase hex
    std::string out;
    out.reserve(2 * len);
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0xF];
    }
    return out;
}

std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min,
                                        std::chrono::milliseconds max, std::mt19937_64& rng) {
    const long long lo = min.count();
    const long long cap = std::max<long long>(max.count(), lo);
    long long hi = lo;
    for (unsigned i = 0; i < attempt && i < kMaxBackoffExponent && hi < cap; ++i) hi *= 2;
    hi = std::min(hi, cap);
    return std::chrono::milliseconds(std::uniform_int_distribution<long long>(lo, hi)(rng));
}

// --- ComponentLink ---------------------------------------------------------------------------

sdk::Result<std::shared_ptr<ComponentLink>> ComponentLink::create(asio::io_context& io,
                                                                  ComponentConfig config,
                                                                  sdk::Logger& log,
                                                                  sdk::Metrics& metrics) {
    if (Status s = validate(config); !s) return s;
    return std::make_shared<ComponentLink>(Passkey{}, io, std::move(config), log, metrics);
}

ComponentLink::ComponentLink(Passkey, asio::io_context& io, ComponentConfig config,
                             sdk::Logger& log, sdk::Metrics& metrics)
    : cfg_(std::move(config)), log_(log), strand_(asio::make_strand(io)),
      // I/O objects on the strand: their handlers run on it without bind_executor.
      resolver_(strand_), socket_(strand_), establish_timer_(strand_), keepalive_timer_(strand_),
      backoff_timer_(strand_), deadline_timer_(strand_), close_timer_(strand_),
      framer_(cfg_.max_stanza_bytes), rng_(std::random_device{}()),
      stanzas_in_(metrics.counter("xmpp.stanzas_in")),
      stanzas_out_(metrics.counter("xmpp.stanzas_out")),
      reconnects_(metrics.counter("xmpp.reconnects")),
      stream_errors_(metrics.counter("xmpp.stream_errors")),
      queue_expired_(metrics.counter("xmpp.queue_expired")),
      queue_overflow_(metrics.counter("xmpp.queue_overflow")),
      too_large_(metrics.counter("xmpp.too_large")),
      handshakes_(metrics.counter("xmpp.handshakes")),
      keepalives_(metrics.counter("xmpp.keepalives_sent")),
      dropped_(metrics.counter("xmpp.stanzas_dropped")),
      callback_errors_(metrics.counter("xmpp.callback_errors")),
      replies_matched_(metrics.counter("xmpp.replies_matched")),
      reply_timeouts_(metrics.counter("xmpp.reply_timeouts")),
      links_lost_replies_(metrics.counter("xmpp.replies_unconfirmed")) {}

ComponentLink::~ComponentLink() {
    // Only reached when no handler holds the link any more (stop() finished, or the io_context
    // was destroyed with handlers pending). Nothing queued is left without an answer.
    for (auto& o : queue_) complete(o.done, Status(ErrorCode::Cancelled, "XMPP link destroyed"));
    for (auto& o : batch_) complete(o.done, Status(ErrorCode::Cancelled, "XMPP link destroyed"));
    for (auto& [key, t] : tracked_) deliver_reply(t.on_reply, nullptr);
}

void ComponentLink::set_on_stanza(StanzaCallback cb) {
    on_stanza_ = std::move(cb);
}
void ComponentLink::set_on_state(StateCallback cb) {
    on_state_ = std::move(cb);
}

void ComponentLink::start() noexcept {
    try {
        asio::post(strand_, [self = shared_from_this()] { self->do_start(); });
    } catch (const std::exception& e) {
        STOX_LOG_ERROR(log_, "cannot start the XMPP link: {}", e.what());
    }
}

void ComponentLink::stop(std::function<void()> on_stopped) noexcept {
    try {
        asio::post(strand_, [self = shared_from_this(), cb = std::move(on_stopped)]() mutable {
            self->do_stop(std::move(cb));
        });
    } catch (const std::exception& e) {
        STOX_LOG_ERROR(log_, "cannot stop the XMPP link: {}", e.what());
    }
}

void ComponentLink::send(sdk::Stanza stanza, sdk::SendCompletion done) noexcept {
    submit(std::move(stanza), std::move(done), std::nullopt);
}

void ComponentLink::send_tracked(sdk::Stanza stanza, sdk::SendCompletion done,
                                 std::chrono::milliseconds window,
                                 sdk::ReplyHandler on_reply) noexcept {
    if (!on_reply) {
        submit(std::move(stanza), std::move(done), std::nullopt);
        return;
    }
    submit(std::move(stanza), std::move(done), TrackRequest{window, std::move(on_reply)});
}

void ComponentLink::submit(sdk::Stanza stanza, sdk::SendCompletion done,
                           std::optional<TrackRequest> track) noexcept {
    try {
        if (stanza.ns().empty()) normalize_ns(stanza);
        // Serialized on the caller's thread: the strand only queues and writes.
        std::string data = stanza.to_string(sdk::kComponentNs);
        TrackKey key;
        const bool iq = stanza.name() == "iq";
        if (track) key = {stanza.attr("id"), stanza.attr("to")};
        asio::post(strand_,
                   [self = shared_from_this(), data = std::move(data), done = std::move(done),
                    track = std::move(track), key = std::move(key), iq]() mutable {
                       if (track)
                           self->track_and_enqueue(std::move(data), std::move(done), std::move(key),
                                                   iq, std::move(*track));
                       else
                           self->enqueue(std::move(data), std::move(done));
                   });
    } catch (const std::exception& e) {
        STOX_LOG_ERROR(log_, "cannot queue an XMPP stanza: {}", e.what());
        if (!done) return;
        try {
            asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
                self->complete(done, Status(ErrorCode::Internal, "cannot queue the stanza"));
            });
        } catch (...) {
            STOX_LOG_ERROR(log_, "dropping the completion of an unsent XMPP stanza");
        }
    }
}

void ComponentLink::complete(sdk::SendCompletion& done, const Status& status) noexcept {
    if (!done) return;
    try {
        done(status);
    } catch (const std::exception& e) {
        callback_errors_.add();
        STOX_LOG_ERROR(log_, "XMPP send completion threw: {}", e.what());
    } catch (...) {
        callback_errors_.add();
        STOX_LOG_ERROR(log_, "XMPP send completion threw");
    }
    done = nullptr;
}

void ComponentLink::do_start() {
    if (phase_ != Phase::Idle || stopping_) return;
    STOX_LOG_INFO(log_, "XMPP component {} connecting to {}:{}", cfg_.domain, cfg_.host, cfg_.port);
    connect();
}

void ComponentLink::enqueue(std::string data, sdk::SendCompletion done) {
    if (data.size() > cfg_.max_stanza_bytes) {
        too_large_.add();
        complete(done,
                 Status(ErrorCode::TooLarge, "stanza of " + std::to_string(data.size()) +
                                                 " bytes exceeds max_stanza_bytes (" +
                                                 std::to_string(cfg_.max_stanza_bytes) + ")"));
        return;
    }
    if (stopping_ || phase_ == Phase::Stopped) {
        complete(done, Status(ErrorCode::Cancelled, "XMPP link stopped"));
        return;
    }
    if (queue_.size() >= cfg_.send_queue_limit) {
        queue_overflow_.add();
        complete(done, Status(ErrorCode::Overloaded, "XMPP send queue full (" +
                                                         std::to_string(queue_.size()) +
                                                         " stanzas waiting)"));
        return;
    }
    queue_.push_back({std::move(data), std::move(done), Clock::now() + cfg_.send_queue_deadline});
    arm_deadline();
    pump();
}

// --- reply tracking (XmppService::send_tracked) -----------------------------------------------

void ComponentLink::track_and_enqueue(std::string data, sdk::SendCompletion done, TrackKey key,
                                      bool iq, TrackRequest track) {
    if (key.first.empty()) {
        complete(done, Status(ErrorCode::BadRequest, "send_tracked needs a stanza with an id"));
        return;
    }
    if (tracked_.contains(key)) {
        complete(done,
                 Status(ErrorCode::BadRequest, "a reply to id '" + clip(key.first) + "' from '" +
                                                   clip(key.second) + "' is already awaited"));
        return;
    }
    tracked_.emplace(key, Tracked{iq, track.window, std::move(track.on_reply), nullptr});
    // The wrapper lives in this link's own queue and runs on its strand: `this` is enough (a
    // shared_ptr here would keep the link alive through its own queue).
    enqueue(std::move(data),
            [this, key = std::move(key), done = std::move(done)](const Status& s) mutable {
                if (s.ok())
                    start_reply_window(key);
                else
                    tracked_.erase(key); // sdk::ReplyHandler: not called when sending failed
                if (done) done(s);
            });
}

void ComponentLink::start_reply_window(const TrackKey& key) {
    auto it = tracked_.find(key);
    if (it == tracked_.end() || it->second.timer) return; // the reply came before the write
    it->second.timer = std::make_unique<asio::steady_timer>(strand_, it->second.window);
    it->second.timer->async_wait([self = shared_from_this(), key,
                                  t = it->second.timer.get()](const boost::system::error_code& ec) {
        if (ec) return;
        auto found = self->tracked_.find(key);
        if (found == self->tracked_.end() || found->second.timer.get() != t) return;
        sdk::ReplyHandler handler = std::move(found->second.on_reply);
        self->tracked_.erase(found);
        self->reply_timeouts_.add();
        self->deliver_reply(handler, nullptr);
    });
}

void ComponentLink::fail_open_reply_windows() {
    // A stanza handed to the kernel shortly before the connection broke may never have been read
    // by the server (XEP-0114 has no acknowledgements). Its sender must not be told it was
    // delivered: every reply window still open gets a synthesized <remote-server-timeout/>
    // (type wait), which the plugin maps for its sender (SIP 408). Stanzas not yet written stay
    // queued and are sent after the reconnect.
    std::vector<std::pair<TrackKey, sdk::ReplyHandler>> lost;
    for (auto it = tracked_.begin(); it != tracked_.end();) {
        if (it->second.timer) {
            lost.emplace_back(it->first, std::move(it->second.on_reply));
            it = tracked_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& [key, handler] : lost) {
        sdk::Stanza error = sdk::make_stanza("message");
        error.set_attr("type", "error");
        error.set_attr("id", key.first);
        error.set_attr("from", key.second);
        auto& e = error.add_child("error");
        e.set_attr("type", "wait");
        e.add_child("remote-server-timeout", std::string(sdk::kStanzaErrorNs));
        e.add_child("text", std::string(sdk::kStanzaErrorNs))
            .add_text("XMPP link lost before delivery could be confirmed");
        links_lost_replies_.add();
        deliver_reply(handler, &error);
    }
    if (!lost.empty())
        STOX_LOG_WARN(log_,
                      "{} stanza(s) written shortly before the link broke reported as not "
                      "confirmed (remote-server-timeout)",
                      lost.size());
}

bool ComponentLink::match_reply(const sdk::Stanza& stanza) {
    if (tracked_.empty()) return false;
    const std::string type = stanza.attr("type");
    const bool iq = stanza.name() == "iq";
    if (type != "error" && !(iq && type == "result")) return false;
    auto it = tracked_.find({stanza.attr("id"), stanza.attr("from")});
    if (it == tracked_.end() || (type == "result" && !it->second.iq)) return false;
    sdk::ReplyHandler handler = std::move(it->second.on_reply);
    tracked_.erase(it); // destroying the timer cancels it
    replies_matched_.add();
    deliver_reply(handler, &stanza);
    return true;
}

void ComponentLink::deliver_reply(sdk::ReplyHandler& handler, const sdk::Stanza* reply) noexcept {
    if (!handler) return;
    try {
        handler(reply);
    } catch (...) {
        callback_errors_.add();
        STOX_LOG_ERROR(log_, "reply handler threw");
    }
    handler = nullptr;
}

// --- connection -------------------------------------------------------------------------------

void ComponentLink::connect() {
    phase_ = Phase::Connecting;
    framer_.reset();
    parser_ = std::make_unique<StanzaParser>(cfg_.max_stanza_bytes);
    if (connects_started_++ > 0) reconnects_.add();
    const auto gen = gen_;
    establish_timer_.expires_after(cfg_.connect_timeout);
    establish_timer_.async_wait(
        [self = shared_from_this(), gen](const boost::system::error_code& ec) {
            if (ec || gen != self->gen_) return;
            if (self->phase_ == Phase::Connecting || self->phase_ == Phase::AwaitHeader ||
                self->phase_ == Phase::AwaitHandshake)
                self->connection_lost("not authenticated within connect_timeout (" +
                                      ms(self->cfg_.connect_timeout) + ")");
        });
    resolver_.async_resolve(
        cfg_.host, std::to_string(cfg_.port),
        [self = shared_from_this(), gen](const boost::system::error_code& ec,
                                         const tcp::resolver::results_type& results) {
            if (gen != self->gen_) return;
            if (ec) {
                self->connection_lost("cannot resolve " + self->cfg_.host + ": " + ec.message());
                return;
            }
            asio::async_connect(
                self->socket_, results,
                [self, gen](const boost::system::error_code& cec, const tcp::endpoint&) {
                    if (gen != self->gen_) return;
                    if (cec) {
                        self->connection_lost("cannot connect: " + cec.message());
                        return;
                    }
                    self->on_connected(gen);
                });
        });
}

void ComponentLink::on_connected(std::uint64_t gen) {
    boost::system::error_code ec;
    // Stanzas are small, latency-bound writes: no Nagle delay (Kamailio's xmpp module lacks this).
    socket_.set_option(tcp::no_delay(true), ec);
    if (ec) STOX_LOG_WARN(log_, "cannot set TCP_NODELAY: {}", ec.message());
    if (cfg_.keepalive_interval.count() > 0 && cfg_.dead_peer_intervals > 0) {
        // Written bytes (stanzas or whitespace pings) unacknowledged for this long fail the
        // socket: the dead-peer check that works even when the server never talks.
        auto limit = cfg_.keepalive_interval.count() * cfg_.dead_peer_intervals;
        auto value = static_cast<unsigned int>(std::min<long long>(limit, UINT_MAX));
        if (::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &value,
                         sizeof value) != 0)
            STOX_LOG_WARN(log_, "cannot set TCP_USER_TIMEOUT: {}",
                          std::generic_category().message(errno));
    }
    phase_ = Phase::AwaitHeader;
    last_rx_ = last_tx_ = Clock::now();
    // RFC 6120 §11.5 (XML declaration) + XEP-0114 §3 header; 'to' is the component's domain.
    control_ += "<?xml version='1.0'?><stream:stream xmlns='";
    control_ += sdk::kComponentNs;
    control_ += "' xmlns:stream='";
    control_ += kStreamsNs;
    control_ += "' to='";
    sdk::XmlElement::escape_into(control_, cfg_.domain, true);
    control_ += "'>";
    STOX_LOG_DEBUG(log_, "TCP connected to {}:{}, opening the stream", cfg_.host, cfg_.port);
    start_read(gen);
    pump();
}

void ComponentLink::start_read(std::uint64_t gen) {
    std::span<char> buf = framer_.prepare(kReadChunk);
    socket_.async_read_some(
        asio::buffer(buf.data(), buf.size()),
        [self = shared_from_this(), gen](const boost::system::error_code& ec, std::size_t n) {
            self->on_read(gen, ec, n);
        });
}

void ComponentLink::on_read(std::uint64_t gen, const boost::system::error_code& ec, std::size_t n) {
    if (gen != gen_) return;
    if (ec) {
        if (phase_ == Phase::Closing) {
            finish_close(); // the server closed after (or instead of) its </stream:stream>
            return;
        }
        connection_lost(ec == asio::error::eof ? std::string("server closed the TCP connection")
                                               : "read failed: " + ec.message());
        return;
    }
    framer_.commit(n);
    last_rx_ = Clock::now();
    process_frames();
    if (gen == gen_) start_read(gen);
}

void ComponentLink::process_frames() {
    const auto gen = gen_;
    while (gen == gen_) {
        if (phase_ == Phase::Closing && !await_peer_close_) return; // closing after our error
        Frame f = framer_.next();
        switch (f.kind) {
        case FrameKind::NeedMore: return;
        case FrameKind::Error:
            if (phase_ == Phase::Closing) {
                finish_close();
                return;
            }
            terminate("framing error from server: " + framer_.error_detail(),
                      framer_.error_condition(), framer_.error_detail());
            return;
        case FrameKind::StreamHeader: on_header(f.text); break;
        case FrameKind::Stanza: on_stanza_frame(f.text); break;
        case FrameKind::StreamEnd:
            if (phase_ == Phase::Closing) {
                finish_close(); // RFC 6120 §4.4: the server answered our </stream:stream>
                return;
            }
            terminate("server closed the stream");
            return;
        }
    }
}

void ComponentLink::on_header(std::string_view text) {
    if (phase_ != Phase::AwaitHeader) return; // stop() came first: we are only closing now
    auto h = parse_stream_header(text);
    if (!h) {
        terminate("malformed stream header from server: " + h.status().message(), kNotWellFormed,
                  h.status().message());
        return;
    }
    // RFC 6120 §4.9.3.10 invalid-namespace: wrong stream or content namespace.
    if (h->local_name() != "stream" || h->namespace_uri(h->prefix()) != kStreamsNs) {
        terminate("server's root element is not a stream in " + std::string(kStreamsNs),
                  "invalid-namespace");
        return;
    }
    if (h->namespace_uri("") != sdk::kComponentNs) {
        terminate("server's stream namespace is '" + clip(h->namespace_uri("")) + "', not " +
                      std::string(sdk::kComponentNs),
                  "invalid-namespace");
        return;
    }
    std::string id = h->attr("id");
    if (id.empty()) {
        terminate("server's stream header has no id (XEP-0114 §3)", "invalid-xml");
        return;
    }
    std::string digest;
    try {
        digest = handshake_digest(id, cfg_.secret);
    } catch (const std::exception& e) {
        terminate(std::string("cannot compute the handshake: ") + e.what(),
                  "internal-server-error");
        return;
    }
    parser_->set_stream_namespaces(h->namespaces());
    control_ += "<handshake>";
    control_ += digest;
    control_ += "</handshake>";
    phase_ = Phase::AwaitHandshake;
    STOX_LOG_DEBUG(log_, "stream {} opened by {}, sending the handshake", clip(id),
                   clip(h->attr("from")));
    pump();
}

void ComponentLink::on_stanza_frame(std::string_view text) {
    ParseResult r = parser_->parse(text);
    if (!r.ok()) {
        terminate("unparsable stanza from server (" + std::string(r.condition) +
                      "): " + clip(r.detail),
                  r.condition, r.detail);
        return;
    }
    sdk::Stanza& st = r.stanza;
    if (st.name() == "error" && st.ns() == kStreamsNs) {
        handle_stream_error(st);
        return;
    }
    switch (phase_) {
    case Phase::AwaitHandshake:
        if (st.name() == "handshake" && st.ns() == sdk::kComponentNs) {
            on_handshake_accepted();
            return;
        }
        terminate("server sent <" + clip(st.name()) + "/> before accepting the handshake",
                  "unsupported-stanza-type");
        return;
    case Phase::Up:
        stanzas_in_.add();
        if (match_reply(st)) return; // awaited by send_tracked: not routed by claims
        if (!on_stanza_) {
            dropped_.add();
            STOX_LOG_ERROR(log_, "no stanza handler installed; dropping <{}/>", st.name());
            return;
        }
        try {
            on_stanza_(std::move(st));
        } catch (const std::exception& e) {
            callback_errors_.add();
            STOX_LOG_ERROR(log_, "stanza handler threw: {}", e.what());
        } catch (...) {
            callback_errors_.add();
            STOX_LOG_ERROR(log_, "stanza handler threw");
        }
        return;
    default:
        // Closing after stop(): the server may still deliver stanzas before its close tag.
        if (match_reply(st)) return;
        dropped_.add();
        STOX_LOG_WARN(log_, "dropping <{}/> received while the stream closes", st.name());
        return;
    }
}

void ComponentLink::handle_stream_error(const sdk::Stanza& error) {
    std::string condition;
    std::string text;
    for (const auto& c : error.children()) {
        if (c.is_text() || c.ns() != kStreamErrorNs) continue;
        if (c.name() == "text")
            text = c.text();
        else if (condition.empty())
            condition = c.name();
    }
    if (condition.empty()) condition = "(no condition)";
    stream_errors_.add();
    // RFC 6120 §4.9.1.1: stream errors are unrecoverable; the server closes the stream.
    STOX_LOG_ERROR(log_, "XMPP server {}:{} sent stream error <{}/>{}{}", cfg_.host, cfg_.port,
                   condition, text.empty() ? "" : ": ", clip(text));
    terminate("stream error <" + condition + "/> from server");
}

void ComponentLink::on_handshake_accepted() {
    establish_timer_.cancel();
    phase_ = Phase::Up;
    attempt_ = 0; // backoff starts over after a successful handshake
    connected_ = true;
    handshakes_.add();
    last_rx_ = Clock::now();
    STOX_LOG_INFO(log_, "XMPP component {} authenticated with {}:{}", cfg_.domain, cfg_.host,
                  cfg_.port);
    up_reported_ = true;
    if (on_state_) {
        try {
            on_state_(true, "handshake accepted");
        } catch (...) {
            callback_errors_.add();
            STOX_LOG_ERROR(log_, "link state handler threw");
        }
    }
    arm_keepalive();
    pump(); // flush what was queued while down, in order
}

// --- writing ----------------------------------------------------------------------------------

void ComponentLink::pump() {
    if (writing_) return;
    if (phase_ != Phase::AwaitHeader && phase_ != Phase::AwaitHandshake && phase_ != Phase::Up &&
        phase_ != Phase::Closing)
        return;
    const auto gen = gen_;
    if (!control_.empty()) {
        control_inflight_.swap(control_);
        control_.clear();
        writing_ = true;
        asio::async_write(
            socket_, asio::buffer(control_inflight_),
            [self = shared_from_this(), gen](const boost::system::error_code& ec, std::size_t n) {
                self->on_written(gen, false, ec, n);
            });
        return;
    }
    if (phase_ == Phase::Up && !queue_.empty()) {
        // Coalesce what is queued into one gathered write: one syscall for a burst.
        std::size_t bytes = 0;
        while (!queue_.empty() &&
               (batch_.empty() || bytes + queue_.front().data.size() <= kMaxBatchBytes)) {
            bytes += queue_.front().data.size();
            batch_.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        buffers_.clear();
        for (const auto& o : batch_) buffers_.push_back(asio::buffer(o.data));
        writing_ = true;
        asio::async_write(
            socket_, buffers_,
            [self = shared_from_this(), gen](const boost::system::error_code& ec, std::size_t n) {
                self->on_written(gen, true, ec, n);
            });
        arm_deadline();
        return;
    }
    if (phase_ == Phase::Closing && !await_peer_close_) finish_close();
}

void ComponentLink::on_written(std::uint64_t gen, bool batch, const boost::system::error_code& ec,
                               std::size_t n) {
    writing_ = false;
    if (batch) {
        // Stanzas wholly inside the n bytes written reached the kernel: Ok. The rest is queued
        // again, in order, for the next connection (or cancelled when stopping).
        std::vector<Outgoing> b;
        b.swap(batch_);
        std::size_t i = 0;
        std::size_t written = 0;
        for (; i < b.size(); ++i) {
            if (ec && written + b[i].data.size() > n) break;
            written += b[i].data.size();
            complete(b[i].done, Status{});
        }
        stanzas_out_.add(i);
        if (i < b.size()) {
            if (stopping_) {
                for (std::size_t j = i; j < b.size(); ++j)
                    complete(b[j].done, Status(ErrorCode::Cancelled, "XMPP link stopped"));
            } else {
                for (std::size_t j = b.size(); j-- > i;) queue_.push_front(std::move(b[j]));
                arm_deadline();
            }
        }
    } else {
        control_inflight_.clear();
    }
    if (stop_when_idle_) {
        stop_when_idle_ = false;
        finish_stop();
        return;
    }
    if (gen != gen_) {
        pump(); // that socket is gone; a newer connection may be waiting to write
        return;
    }
    if (ec) {
        connection_lost("write failed: " + ec.message());
        return;
    }
    last_tx_ = Clock::now();
    pump();
}

void ComponentLink::arm_deadline() {
    if (queue_.empty()) {
        if (deadline_armed_for_ != Clock::time_point{}) {
            deadline_timer_.cancel();
            deadline_armed_for_ = {};
        }
        return;
    }
    const auto when = queue_.front().deadline;
    if (when == deadline_armed_for_) return;
    deadline_armed_for_ = when;
    deadline_timer_.expires_at(when);
    deadline_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec == asio::error::operation_aborted) return;
        self->deadline_armed_for_ = {};
        self->expire_queue();
    });
}

void ComponentLink::expire_queue() {
    const auto now = Clock::now();
    std::size_t expired = 0;
    while (!queue_.empty() && queue_.front().deadline <= now) {
        Outgoing o = std::move(queue_.front());
        queue_.pop_front();
        queue_expired_.add();
        ++expired;
        complete(o.done,
                 Status(ErrorCode::Unreachable,
                        "XMPP server unreachable: not written within send_queue_deadline (" +
                            ms(cfg_.send_queue_deadline) + ")"));
    }
    if (expired > 0)
        STOX_LOG_WARN(log_, "{} queued stanza(s) expired while the XMPP link was down", expired);
    arm_deadline();
}

void ComponentLink::arm_keepalive() {
    if (cfg_.keepalive_interval.count() <= 0 || phase_ != Phase::Up) return;
    const auto now = Clock::now();
    auto next = last_tx_ + cfg_.keepalive_interval;
    if (next <= now) next = now + cfg_.keepalive_interval;
    if (cfg_.reconnect_on_rx_silence)
        next = std::min(next, last_rx_ + cfg_.keepalive_interval * cfg_.dead_peer_intervals);
    const auto gen = gen_;
    keepalive_timer_.expires_at(next);
    keepalive_timer_.async_wait(
        [self = shared_from_this(), gen](const boost::system::error_code& ec) {
            if (ec || gen != self->gen_) return;
            self->on_keepalive();
        });
}

void ComponentLink::on_keepalive() {
    if (phase_ != Phase::Up) return;
    const auto now = Clock::now();
    if (cfg_.reconnect_on_rx_silence) {
        const auto silence = cfg_.keepalive_interval * cfg_.dead_peer_intervals;
        if (now - last_rx_ >= silence) {
            // RFC 6120 §4.9.3.4: we believe the peer can no longer communicate.
            terminate("no data from the server for " + ms(silence), "connection-timeout");
            return;
        }
    }
    if (!writing_ && control_.empty() && now - last_tx_ >= cfg_.keepalive_interval) {
        control_ += ' '; // RFC 6120 §4.6.1 whitespace keepalive
        keepalives_.add();
        pump();
    }
    arm_keepalive();
}

// --- closing ----------------------------------------------------------------------------------

void ComponentLink::terminate(std::string reason, std::string_view condition,
                              std::string_view text) {
    if (phase_ != Phase::AwaitHeader && phase_ != Phase::AwaitHandshake && phase_ != Phase::Up)
        return;
    if (!condition.empty()) {
        stream_errors_.add();
        control_ += stream_error_xml(condition, clip(text));
        STOX_LOG_WARN(log_, "closing the XMPP stream with <{}/>: {}", condition, reason);
    } else {
        STOX_LOG_WARN(log_, "closing the XMPP stream: {}", reason);
    }
    control_ += "</stream:stream>";
    establish_timer_.cancel();
    keepalive_timer_.cancel();
    close_reason_ = std::move(reason);
    mark_down(close_reason_);
    phase_ = Phase::Closing;
    await_peer_close_ = false;
    const auto gen = gen_;
    close_timer_.expires_after(cfg_.close_timeout);
    close_timer_.async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
        if (ec || gen != self->gen_ || self->phase_ != Phase::Closing) return;
        self->finish_close(); // the write of the close tag is stuck: give up on it
    });
    pump();
}

void ComponentLink::connection_lost(std::string reason) {
    if (phase_ == Phase::Idle || phase_ == Phase::Backoff || phase_ == Phase::Stopped) return;
    close_reason_ = std::move(reason);
    finish_close();
}

void ComponentLink::finish_close() {
    close_socket();
    mark_down(close_reason_);
    if (!stopping_) fail_open_reply_windows();
    if (stopping_)
        finish_stop();
    else
        schedule_reconnect(close_reason_);
}

void ComponentLink::close_socket() {
    ++gen_;
    resolver_.cancel();
    establish_timer_.cancel();
    keepalive_timer_.cancel();
    close_timer_.cancel();
    boost::system::error_code ec;
    if (socket_.is_open()) {
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
    }
    // A write in flight still owns control_inflight_/batch_; its handler (run with
    // operation_aborted) settles them.
    control_.clear();
    await_peer_close_ = false;
}

void ComponentLink::mark_down(const std::string& reason) {
    connected_ = false;
    if (!up_reported_) return;
    up_reported_ = false;
    if (!on_state_) return;
    try {
        on_state_(false, reason);
    } catch (...) {
        callback_errors_.add();
        STOX_LOG_ERROR(log_, "link state handler threw");
    }
}

void ComponentLink::schedule_reconnect(const std::string& reason) {
    phase_ = Phase::Backoff;
    const auto delay = backoff_delay(attempt_, cfg_.reconnect_min, cfg_.reconnect_max, rng_);
    if (attempt_ < kMaxBackoffExponent) ++attempt_;
    STOX_LOG_WARN(log_, "XMPP link to {}:{} down ({}); reconnecting in {}", cfg_.host, cfg_.port,
                  reason, ms(delay));
    backoff_timer_.expires_after(delay);
    backoff_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->phase_ != Phase::Backoff || self->stopping_) return;
        self->connect();
    });
}

void ComponentLink::do_stop(std::function<void()> on_stopped) {
    if (phase_ == Phase::Stopped) {
        on_stopped_ = std::move(on_stopped);
        run_stop_completion();
        return;
    }
    if (stopping_) {
        if (on_stopped) {
            on_stopped_ = [first = std::move(on_stopped_), then = std::move(on_stopped)] {
                if (first) first();
                then();
            };
        }
        return;
    }
    stopping_ = true;
    on_stopped_ = std::move(on_stopped);
    backoff_timer_.cancel();
    std::deque<Outgoing> queued;
    queued.swap(queue_);
    arm_deadline();
    for (auto& o : queued) complete(o.done, Status(ErrorCode::Cancelled, "XMPP link stopped"));
    switch (phase_) {
    case Phase::Idle:
    case Phase::Backoff: finish_stop(); return;
    case Phase::Connecting:
        close_reason_ = "stopped";
        finish_close();
        return;
    case Phase::AwaitHeader:
    case Phase::AwaitHandshake:
    case Phase::Up: {
        // RFC 6120 §4.4: send our close tag, then wait (bounded) for the server's.
        STOX_LOG_INFO(log_, "closing the XMPP stream (stopping)");
        control_ += "</stream:stream>";
        establish_timer_.cancel();
        keepalive_timer_.cancel();
        close_reason_ = "stopped";
        mark_down(close_reason_);
        phase_ = Phase::Closing;
        await_peer_close_ = true;
        const auto gen = gen_;
        close_timer_.expires_after(cfg_.close_timeout);
        close_timer_.async_wait(
            [self = shared_from_this(), gen](const boost::system::error_code& ec) {
                if (ec || gen != self->gen_ || self->phase_ != Phase::Closing) return;
                STOX_LOG_WARN(self->log_, "XMPP server did not close the stream within {}",
                              ms(self->cfg_.close_timeout));
                self->finish_close();
            });
        pump();
        return;
    }
    case Phase::Closing: return; // already closing; finish_close() sees stopping_
    case Phase::Stopped: return;
    }
}

void ComponentLink::finish_stop() {
    if (writing_) {
        stop_when_idle_ = true; // the write in flight settles its stanzas first
        return;
    }
    phase_ = Phase::Stopped;
    backoff_timer_.cancel();
    deadline_timer_.cancel();
    deadline_armed_for_ = {};
    mark_down("stopped");
    for (auto& o : queue_) complete(o.done, Status(ErrorCode::Cancelled, "XMPP link stopped"));
    queue_.clear();
    // Written stanzas still awaiting a reply: none will come now (exactly one call each).
    auto tracked = std::move(tracked_);
    tracked_.clear();
    for (auto& [key, t] : tracked) deliver_reply(t.on_reply, nullptr);
    STOX_LOG_INFO(log_, "XMPP component {} stopped", cfg_.domain);
    on_stanza_ = nullptr; // release what the application captured
    on_state_ = nullptr;
    run_stop_completion();
}

void ComponentLink::run_stop_completion() noexcept {
    auto cb = std::move(on_stopped_);
    on_stopped_ = nullptr;
    if (!cb) return;
    try {
        cb();
    } catch (...) {
        callback_errors_.add();
        STOX_LOG_ERROR(log_, "stop completion threw");
    }
}

// --- XmppServiceImpl --------------------------------------------------------------------------

void XmppServiceImpl::send(sdk::Stanza stanza, sdk::SendCompletion done) noexcept {
    link_->send(std::move(stanza), std::move(done));
}

void XmppServiceImpl::send_tracked(sdk::Stanza stanza, sdk::SendCompletion done,
                                   std::chrono::milliseconds window,
                                   sdk::ReplyHandler on_reply) noexcept {
    link_->send_tracked(std::move(stanza), std::move(done), window, std::move(on_reply));
}

std::string XmppServiceImpl::component_domain() const {
    return link_->config().domain;
}

bool XmppServiceImpl::connected() const noexcept {
    return link_->connected();
}

} // namespace stox::core::xmpp
