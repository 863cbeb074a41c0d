// SPDX-License-Identifier: Apache-2.0
// The IM plugin (RFC 7572 pager mode): SIP MESSAGE <-> XMPP <message/>.
//
// S2X: a MESSAGE is translated (s2x.hpp), sent with send_tracked, and answered only once the
// stanza has been written to the XMPP server and no error came back within the await window
// ("honest delivery", docs/delivery.md): the write failure or the XMPP error is mapped by the
// core (ctx.errors()) and becomes the SIP final response.
// X2S: a <message/> is translated (x2s.hpp) and sent as a MESSAGE, one pending per destination
// URI (RFC 3428 §8) with a bounded FIFO behind it; a 3xx-6xx answer goes back to the XMPP
// sender as an error stanza (except for headlines).
//
// Threading: every entry point runs on the plugin's strand (SDK contract), so no locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "cseq_cache.hpp"
#include "destination_queues.hpp"
#include "im_config.hpp"
#include "stox/sdk/context.hpp"
#include "stox/sdk/plugin.hpp"

namespace stox::plugins::im {

class ImPlugin : public stox::sdk::Plugin {
public:
    using WallClock = std::function<std::chrono::system_clock::time_point()>;

    /// `version` is only logged. `wall_clock` (default: system_clock) dates stale messages
    /// `seed` (0 = std::random_device) feeds ids, tags and Call-IDs.
    explicit ImPlugin(std::string version = {}, WallClock wall_clock = {}, std::uint64_t seed = 0);
    ~ImPlugin() override;
    ImPlugin(const ImPlugin&) = delete;
    ImPlugin& operator=(const ImPlugin&) = delete;

    stox::sdk::Status start(stox::sdk::PluginContext& ctx) noexcept override;
    stox::sdk::Status reconfigure(const stox::sdk::ConfigView& config) noexcept override;
    void stop() noexcept override;

    // Observability (tests, status output).
    [[nodiscard]] std::size_t pending_deliveries() const noexcept { return deliveries_.size(); }
    [[nodiscard]] std::size_t busy_destinations() const noexcept { return queues_.destinations(); }
    [[nodiscard]] std::size_t queued_messages() const noexcept { return queues_.queued(); }
    [[nodiscard]] const ImConfig& config() const noexcept { return cfg_; }

private:
    /// An S2X MESSAGE waiting for its stanza to be written and for the await window.
    struct Delivery {
        std::shared_ptr<stox::sdk::SipServerTransaction> tx;
        stox::sdk::TargetKind target = stox::sdk::TargetKind::Bare;
        std::string call_id;
        bool written = false;
        stox::sdk::TimerHandle deadline;
    };
    /// An X2S MESSAGE, queued or in flight. `origin` keeps what an error reply needs.
    struct Outgoing {
        stox::sdk::Stanza origin;
        bool headline = false;
        stox::sdk::SipRequest request;
    };
    struct InFlight {
        stox::sdk::Stanza origin;
        bool headline = false;
        std::uint64_t token = 0;
        stox::sdk::TimerHandle guard;
    };
    struct Counters;

    // S2X
    void on_sip_request(const std::shared_ptr<stox::sdk::SipServerTransaction>& tx);
    void on_written(std::uint64_t seq, const stox::sdk::Status& status);
    void on_reply(std::uint64_t seq, const stox::sdk::Stanza* reply);
    void on_deadline(std::uint64_t seq);
    void answer(std::uint64_t seq, stox::sdk::SipResponse response);
    [[nodiscard]] stox::sdk::SipResponse success_response() const;

    // X2S
    void on_stanza(const stox::sdk::Stanza& stanza);
    void send_x2s(const std::string& destination, Outgoing item);
    void on_sip_final(const std::string& destination, std::uint64_t token,
                      const stox::sdk::SipResponse& response);
    void on_guard(const std::string& destination, std::uint64_t token);
    void next_for(const std::string& destination);
    void refuse(const stox::sdk::Stanza& origin, bool headline, const stox::sdk::XmppError& error);

    std::string random_hex(std::size_t octets);
    std::function<bool()> alive_check() const;

    stox::sdk::PluginContext* ctx_ = nullptr;
    std::string version_;
    WallClock wall_clock_;
    std::mt19937_64 rng_;
    ImConfig cfg_;
    std::unique_ptr<Counters> counters_;
    std::shared_ptr<bool> alive_; // callbacks hold a weak_ptr: nothing runs after stop()

    std::vector<std::string> from_domains_;
    std::string warn_agent_;
    std::string id_prefix_;
    std::uint64_t seq_ = 0;
    std::unordered_map<std::uint64_t, Delivery> deliveries_;

    DestinationQueues<Outgoing> queues_;
    std::unordered_map<std::string, InFlight> in_flight_;
    CSeqCache cseq_;
    std::uint64_t x2s_token_ = 0;
};

} // namespace stox::plugins::im
