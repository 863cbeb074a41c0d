// SPDX-License-Identifier: Apache-2.0
// The gateway's XMPP endpoint: a XEP-0114 (jabber:component:accept) client over TCP, on a strand
// of the core's io_context. It authenticates, keeps the link alive, reconnects with backoff,
// queues outgoing stanzas while down (bounded, with a deadline) and hands every incoming stanza
// to the application (the IngressRouter).
//
// Thread context: every public member may be called from any thread. All callbacks (on_stanza,
// on_state, send completions, stop completion) run on the link's strand; XmppServiceImpl moves
// send completions onto the sending plugin's strand.
#pragma once

#include <utility> // before Asio: Boost 1.74 + g++ 12 + C++20 (peers.md G1)
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "stox/sdk/executor.hpp"
#include "stox/sdk/logger.hpp"
#include "stox/sdk/metrics.hpp"
#include "stox/sdk/status.hpp"
#include "stox/sdk/xmpp.hpp"
#include "xmpp/stanza_parser.hpp"
#include "xmpp/stream_framer.hpp"

namespace stox::core::xmpp {

struct ComponentConfig {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5347;
    std::string domain; ///< the component's JID domain, sent as 'to' (XEP-0114 §3)
    std::string secret; ///< shared secret; never logged
    /// Bound on TCP connect + stream header + handshake, per attempt.
    std::chrono::milliseconds connect_timeout{10'000};
    /// A whitespace ping (RFC 6120 §4.6.1) is written after this much write-idle time; 0 = off.
    std::chrono::milliseconds keepalive_interval{60'000};
    /// The peer is dead when written bytes stay unacknowledged for this many keepalive intervals
    /// (TCP_USER_TIMEOUT) and, with reconnect_on_rx_silence, when nothing arrives for as long.
    unsigned dead_peer_intervals = 3;
    /// XEP-0114 servers need not answer whitespace pings (Prosody only pings after 14 min of
    /// read idleness, and never when we ping first), so read silence is not a failure by default.
    bool reconnect_on_rx_silence = false;
    std::chrono::milliseconds reconnect_min{500};
    std::chrono::milliseconds reconnect_max{30'000};
    /// Largest stanza accepted in either direction (Prosody's component default is 512 KiB).
    std::size_t max_stanza_bytes = 512 * 1024;
    std::size_t send_queue_limit = 10'000;
    /// A queued stanza not written within this time completes with Unreachable.
    std::chrono::milliseconds send_queue_deadline{30'000};
    /// How long stop() waits for the server's </stream:stream> (RFC 6120 §4.4).
    std::chrono::milliseconds close_timeout{2'000};
};

/// InvalidConfig with the offending field, or Ok.
[[nodiscard]] sdk::Status validate(const ComponentConfig& config);

/// XEP-0114 §3: lowercase hex SHA-1 of (stream id + secret).
[[nodiscard]] std::string handshake_digest(std::string_view stream_id, std::string_view secret);

/// Exponential backoff with full jitter above the floor: uniform in
/// [min, min(max, min * 2^attempt)]. attempt 0 is the first retry after a failure.
[[nodiscard]] std::chrono::milliseconds backoff_delay(unsigned attempt,
                                                      std::chrono::milliseconds min,
                                                      std::chrono::milliseconds max,
                                                      std::mt19937_64& rng);

class ComponentLink : public std::enable_shared_from_this<ComponentLink> {
    struct Passkey {};

public:
    using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
    using StanzaCallback = std::function<void(sdk::Stanza)>;
    /// up = authenticated; reason says why it went up or down. Called on changes only.
    using StateCallback = std::function<void(bool up, const std::string& reason)>;

    /// Fails with InvalidConfig. `log` and `metrics` must outlive the link.
    static sdk::Result<std::shared_ptr<ComponentLink>> create(boost::asio::io_context& io,
                                                              ComponentConfig config,
                                                              sdk::Logger& log,
                                                              sdk::Metrics& metrics);
    ComponentLink(Passkey, boost::asio::io_context& io, ComponentConfig config, sdk::Logger& log,
                  sdk::Metrics& metrics);
    ComponentLink(const ComponentLink&) = delete;
    ComponentLink& operator=(const ComponentLink&) = delete;
    ~ComponentLink();

    /// Set before start(). Incoming stanzas, whatever their 'to' (the router decides).
    void set_on_stanza(StanzaCallback cb);
    void set_on_state(StateCallback cb);

    /// Connects, and keeps reconnecting until stop().
    void start() noexcept;
    /// Serializes and queues a stanza. `done` (may be empty) runs on the link's strand: Ok once
    /// written to the socket; TooLarge, Overloaded (queue full), Unreachable (deadline passed
    /// while down) or Cancelled (stopped).
    void send(sdk::Stanza stanza, sdk::SendCompletion done) noexcept;
    /// send(), and watches for the reply (sdk::ReplyHandler): the first stanza from the 'to' it
    /// was sent to, with the same id, of type "error" (or "result" for an iq). Such a reply goes
    /// to `on_reply` instead of on_stanza. `on_reply(nullptr)` when `window` passes after the
    /// write (or the link stops) without one; never called when the send fails. Runs on the
    /// link's strand. A stanza without id, or whose (id, to) is already awaited, completes with
    /// BadRequest.
    void send_tracked(sdk::Stanza stanza, sdk::SendCompletion done,
                      std::chrono::milliseconds window, sdk::ReplyHandler on_reply) noexcept;
    /// Closes the stream cleanly (</stream:stream>, waiting up to close_timeout for the server's),
    /// completes queued sends with Cancelled and stops reconnecting. `on_stopped` runs on the
    /// strand once the socket is closed and every completion has run.
    void stop(std::function<void()> on_stopped = {}) noexcept;

    [[nodiscard]] bool connected() const noexcept { return connected_.load(); }
    [[nodiscard]] const ComponentConfig& config() const noexcept { return cfg_; }
    [[nodiscard]] Strand& strand() noexcept { return strand_; }

private:
    enum class Phase : std::uint8_t {
        Idle,           // before start()
        Connecting,     // resolving + TCP connect
        AwaitHeader,    // our header sent, waiting for the server's
        AwaitHandshake, // <handshake>digest</handshake> sent
        Up,
        Closing, // our </stream:stream> queued; closing after the flush (or the peer's close)
        Backoff, // waiting to reconnect
        Stopped,
    };
    struct Outgoing {
        std::string data;
        sdk::SendCompletion done;
        std::chrono::steady_clock::time_point deadline;
    };
    using Clock = std::chrono::steady_clock;
    struct TrackRequest {
        std::chrono::milliseconds window;
        sdk::ReplyHandler on_reply;
    };
    using TrackKey = std::pair<std::string, std::string>; // (id, address the stanza went to)
    struct Tracked {
        bool iq = false;
        std::chrono::milliseconds window{};
        sdk::ReplyHandler on_reply;
        std::unique_ptr<boost::asio::steady_timer> timer; // armed once written
    };

    void submit(sdk::Stanza stanza, sdk::SendCompletion done,
                std::optional<TrackRequest> track) noexcept;
    void do_start();
    void enqueue(std::string data, sdk::SendCompletion done);
    void track_and_enqueue(std::string data, sdk::SendCompletion done, TrackKey key, bool iq,
                           TrackRequest track);
    void start_reply_window(const TrackKey& key);
    bool match_reply(const sdk::Stanza& stanza);
    void fail_open_reply_windows();
    void deliver_reply(sdk::ReplyHandler& handler, const sdk::Stanza* reply) noexcept;
    void do_stop(std::function<void()> on_stopped);

    void connect();
    void on_connected(std::uint64_t gen);
    void start_read(std::uint64_t gen);
    void on_read(std::uint64_t gen, const boost::system::error_code& ec, std::size_t n);
    void process_frames();
    void on_header(std::string_view text);
    void on_stanza_frame(std::string_view text);
    void on_handshake_accepted();
    void handle_stream_error(const sdk::Stanza& error);

    void pump();
    void on_written(std::uint64_t gen, bool batch, const boost::system::error_code& ec,
                    std::size_t n);
    void arm_deadline();
    void expire_queue();
    void arm_keepalive();
    void on_keepalive();

    /// We end the stream (optionally with a stream error), flush, close, then reconnect/stop.
    void terminate(std::string reason, std::string_view condition = {}, std::string_view text = {});
    /// Transport failure: close now, then reconnect/stop.
    void connection_lost(std::string reason);
    void finish_close();
    void close_socket();
    void mark_down(const std::string& reason);
    void schedule_reconnect(const std::string& reason);
    void finish_stop();
    void run_stop_completion() noexcept;
    void complete(sdk::SendCompletion& done, const sdk::Status& status) noexcept;

    ComponentConfig cfg_;
    sdk::Logger& log_;
    Strand strand_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer establish_timer_;
    boost::asio::steady_timer keepalive_timer_;
    boost::asio::steady_timer backoff_timer_;
    boost::asio::steady_timer deadline_timer_;
    boost::asio::steady_timer close_timer_;

    StreamFramer framer_;
    std::unique_ptr<StanzaParser> parser_; // fresh per connection
    StanzaCallback on_stanza_;
    StateCallback on_state_;
    std::function<void()> on_stopped_;

    Phase phase_ = Phase::Idle;
    std::uint64_t gen_ = 0; // bumped when a socket closes: late handlers of it are ignored
    bool stopping_ = false;
    bool stop_when_idle_ = false;
    bool await_peer_close_ = false;
    bool up_reported_ = false;
    std::atomic<bool> connected_{false};
    unsigned attempt_ = 0;
    std::uint64_t connects_started_ = 0;
    std::string close_reason_;
    std::mt19937_64 rng_;

    std::map<TrackKey, Tracked> tracked_;
    std::deque<Outgoing> queue_;
    std::vector<Outgoing> batch_;  // stanzas of the write in flight
    std::string control_;          // stream-level bytes; written before queued stanzas
    std::string control_inflight_; // stream-level bytes of the write in flight
    std::vector<boost::asio::const_buffer> buffers_;
    bool writing_ = false;
    Clock::time_point deadline_armed_for_{};
    Clock::time_point last_rx_{};
    Clock::time_point last_tx_{};

    sdk::Counter& stanzas_in_;
    sdk::Counter& stanzas_out_;
    sdk::Counter& reconnects_;
    sdk::Counter& stream_errors_;
    sdk::Counter& queue_expired_;
    sdk::Counter& queue_overflow_;
    sdk::Counter& too_large_;
    sdk::Counter& handshakes_;
    sdk::Counter& keepalives_;
    sdk::Counter& dropped_;
    sdk::Counter& callback_errors_;
    sdk::Counter& replies_matched_;
    sdk::Counter& reply_timeouts_;
    sdk::Counter& links_lost_replies_;
};

/// sdk::XmppService over the link, shared by all plugins. Completions and replies run on the
/// link's strand; each plugin reaches it through StrandBoundXmppService, which re-posts them onto
/// the plugin's strand (plugin/strand_bound_services.hpp), as the SDK promises.
/// Thread context: every member from any thread.
class XmppServiceImpl final : public sdk::XmppService {
public:
    explicit XmppServiceImpl(std::shared_ptr<ComponentLink> link) : link_(std::move(link)) {}

    void send(sdk::Stanza stanza, sdk::SendCompletion done) noexcept override;
    void send_tracked(sdk::Stanza stanza, sdk::SendCompletion done,
                      std::chrono::milliseconds window,
                      sdk::ReplyHandler on_reply) noexcept override;
    [[nodiscard]] std::string component_domain() const override;
    [[nodiscard]] bool connected() const noexcept override;

private:
    std::shared_ptr<ComponentLink> link_;
};

} // namespace stox::core::xmpp
