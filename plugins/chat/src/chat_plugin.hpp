// SPDX-License-Identifier: Apache-2.0
// The one-to-one chat plugin (RFC 7573): XMPP <message type='chat'/> <-> SIP INVITE + MSRP.
//
// X2S: the first chat message from an XMPP user to a SIP user opens a session: INVITE with an
// MSRP SDP offer (a=setup:actpass), the message queued until the MSRP session is up, then sent as
// a SEND; later messages of the conversation (same pair, same <thread/>) use the same session.
// S2X: an INVITE with m=message is answered at once (RFC 4975 §8.8); SENDs become chat messages
// to the mapped JID, and the XMPP user's replies go back on that session.
// Honest delivery: every message accepted on one side that cannot be delivered on the other comes
// back as an error (XMPP error stanza, MSRP failure REPORT), never silence.
//
// Threading: SIP/XMPP handlers, timers and MSRP callbacks all run on the plugin's strand (the
// MSRP endpoint is created on sdk::unstable::native_asio(ctx)->strand()), so nothing locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat_config.hpp"
#include "sdp.hpp"
#include "sip_util.hpp"
#include "stox/sdk/context.hpp"
#include "stox/sdk/plugin.hpp"
#include "transport.hpp"

namespace stox::plugins::chat {

class ChatPlugin : public sdk::Plugin {
public:
    /// Builds the MSRP transport at start(). The default uses the core's Asio strand
    /// (sdk::unstable::native_asio) and declines to start without it.
    using TransportFactory = std::function<sdk::Result<std::unique_ptr<ChatTransport>>(
        sdk::PluginContext&, const ChatConfig&)>;

    explicit ChatPlugin(std::string version = {}, TransportFactory factory = {});
    ~ChatPlugin() override;
    ChatPlugin(const ChatPlugin&) = delete;
    ChatPlugin& operator=(const ChatPlugin&) = delete;

    sdk::Status start(sdk::PluginContext& ctx) noexcept override;
    void stop() noexcept override;

    enum class State : std::uint8_t { Inviting, Active, Recovering, Ended };

    /// What tests and the status output may see of a session.
    struct SessionView {
        State state = State::Inviting;
        bool offerer = false;
        std::string call_id;
        std::string thread;
        std::string local_jid; ///< full once locked (AMB-2)
        std::string peer_jid;  ///< with the GRUU resource when known (COMMON-2)
        std::size_t queued = 0;
        bool iscomposing_allowed = false;
        msrp::Uri local_uri;
    };
    [[nodiscard]] std::size_t session_count() const noexcept { return convs_.size(); }
    [[nodiscard]] std::optional<SessionView> session_by_call_id(const std::string& call_id) const;
    [[nodiscard]] std::vector<SessionView> sessions() const;
    [[nodiscard]] const ChatConfig& config() const noexcept { return cfg_; }

private:
    struct Outstanding {
        sdk::Stanza origin;      ///< the XMPP message (for its error reply / receipt)
        bool receipt = false;    ///< XEP-0184 <request/> -> Success-Report: yes
        std::uint64_t seq = 0;   ///< send order, to resend in order after a lost connection
        bool chat_state = false; ///< isComposing: no XMPP error for these
    };
    struct Queued {
        sdk::Stanza origin;
        std::string message_id; ///< non-empty when resent after a lost connection (MSRP-22)
        std::uint64_t seq = 0;
    };
    struct Conversation {
        std::uint64_t id = 0;
        State state = State::Inviting;
        bool offerer = false;
        std::string local_bare, local_full;
        std::string peer_bare, peer_full;
        std::string peer_uri; ///< Request-URI of our INVITE (may carry gr)
        std::string thread;
        Dialog dialog;
        std::uint32_t invite_cseq = 1;
        bool recovery_tried = false;
        std::shared_ptr<ChatMsrpSession> msrp;
        msrp::Uri local_uri;
        msrp::SetupRole role = msrp::SetupRole::Active;
        std::string peer_path;
        std::vector<std::string> peer_types;   ///< accept-types
        std::vector<std::string> peer_wrapped; ///< accept-wrapped-types
        std::optional<std::uint64_t> peer_max_size;
        std::uint64_t sdp_session = 0, sdp_version = 0;
        std::string last_answer; ///< SDP we answered with (re-INVITE without change)
        // Lists, not deques: a std::deque allocates ~600 B even when empty (every idle session).
        std::list<Queued> queue;
        std::vector<Queued> resend;
        std::map<std::string, Outstanding> sent;   ///< by MSRP Message-ID
        std::map<std::string, std::string> issued; ///< XMPP id we sent -> incoming Message-ID
        std::list<std::string> issued_order;
        bool composing_sent = false; ///< last isComposing state we sent
        /// RFC 7573 §6.1 idle timeout: touch() only stamps the time; one timer re-arms itself
        /// for the remainder when it fires early (no timer churn per message).
        std::chrono::steady_clock::time_point last_activity{};
        sdk::TimerHandle idle_timer, invite_timer, peer_composing_timer;
    };

    // XMPP side
    void on_stanza(const sdk::Stanza& stanza);
    void handle_body(Conversation& c, const sdk::Stanza& stanza);
    void send_body(Conversation& c, Queued item);
    void send_chat_state(Conversation& c, bool composing);
    void handle_receipt(const sdk::Stanza& stanza, const std::string& local_bare,
                        const std::string& peer_bare, const std::string& id);
    void refuse(const sdk::Stanza& origin, const sdk::XmppError& error);
    void refuse(const sdk::Stanza& origin, std::string condition, std::string type,
                std::string text = {});
    Conversation* find_conversation(const std::string& local_bare, const std::string& peer_bare,
                                    const std::string& thread);
    Conversation* open_conversation(const sdk::Stanza& stanza, const std::string& local_bare,
                                    const std::string& peer_bare, const std::string& thread);

    // SIP side
    void on_sip_request(const std::shared_ptr<sdk::SipServerTransaction>& tx);
    void handle_invite(const std::shared_ptr<sdk::SipServerTransaction>& tx);
    void handle_reinvite(Conversation& c, const std::shared_ptr<sdk::SipServerTransaction>& tx);
    void handle_bye(const std::shared_ptr<sdk::SipServerTransaction>& tx);
    void send_invite(Conversation& c, bool reinvite);
    void on_invite_final(std::uint64_t id, bool reinvite, const sdk::SipRequest& invite,
                         const sdk::SipResponse& response);
    void on_invite_timeout(std::uint64_t id);
    void send_ack(Dialog& d, std::uint32_t cseq);
    void ack_and_bye(const sdk::SipRequest& invite, const sdk::SipResponse& response);
    void send_bye(Conversation& c);
    std::string local_sdp(Conversation& c, Setup setup);
    sdk::Status bind_msrp(Conversation& c, const MsrpMedia& media, msrp::SetupRole role);

    // MSRP side
    void on_msrp_message(std::uint64_t id, msrp::IncomingMessage&& m);
    void on_send_result(std::uint64_t id, const msrp::SendResult& r);
    void on_msrp_closed(std::uint64_t id, const sdk::Status& why);
    void flush(Conversation& c);

    // Lifecycle
    void touch(Conversation& c);
    void arm_idle_timer(Conversation& c, std::chrono::steady_clock::duration delay);
    void on_idle_timer(std::uint64_t id);
    void index_conversation(const Conversation& c);
    void unindex_conversation(const Conversation& c);
    void end_conversation(Conversation& c, bool bye, bool gone, const sdk::XmppError& queued_error);
    void send_gone(Conversation& c);
    Conversation* get(std::uint64_t id);
    std::string new_call_id(const std::string& thread);
    std::string new_stanza_id();
    [[nodiscard]] std::string xmpp_target(const Conversation& c) const;
    std::function<bool()> alive_check() const;

    std::string version_;
    TransportFactory factory_;
    sdk::PluginContext* ctx_ = nullptr;
    ChatConfig cfg_;
    std::unique_ptr<ChatTransport> transport_;
    std::shared_ptr<bool> alive_;
    std::uint64_t next_id_ = 1;
    std::uint64_t next_seq_ = 1;
    std::map<std::uint64_t, std::unique_ptr<Conversation>> convs_;
    std::map<std::string, std::uint64_t> by_call_id_;
    /// Live conversations by (local bare, peer bare) and by (local bare, peer bare, thread),
    /// ids ascending: an XMPP stanza or receipt finds its session without scanning them all.
    std::unordered_map<std::string, std::set<std::uint64_t>> by_pair_;
    std::unordered_map<std::string, std::set<std::uint64_t>> by_thread_;
    std::set<std::string> used_call_ids_; ///< a thread gets a new Call-ID after BYE (TV-20)
    std::deque<std::string> used_order_;
};

} // namespace stox::plugins::chat
