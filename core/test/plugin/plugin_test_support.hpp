// SPDX-License-Identifier: Apache-2.0
// Shared by the plugin unit tests and the loader tests (tests/loader): fakes of the services a
// PluginContext hands out, log capture through LogSink::set_output, the core objects a
// PluginHost needs, and small file helpers for temporary plugin directories.
#pragma once

#include <utility> // before Asio: Boost 1.74 + g++ 12 + C++20 (peers.md G1)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "../common/io_wait.hpp"
#include "bus/claim_table.hpp"
#include "bus/event_bus.hpp"
#include "bus/ingress_router.hpp"
#include "plugin/plugin_context_impl.hpp"
#include "runtime/log_sink.hpp"
#include "runtime/metrics_registry.hpp"
#include "stox/sdk/mapping.hpp"

namespace stox::core::test {

using namespace std::chrono_literals;

/// Every line a LogSink writes, kept in memory (open_memstream).
class LogCapture {
public:
    explicit LogCapture(LogSink& sink) : sink_(sink) {
        out_ = open_memstream(&buf_, &len_);
        sink_.set_output(out_);
    }
    ~LogCapture() {
        sink_.set_output(stderr);
        std::fclose(out_);
        std::free(buf_);
    }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    [[nodiscard]] std::string text() {
        std::fflush(out_);
        return buf_ != nullptr ? std::string(buf_, len_) : std::string();
    }
    [[nodiscard]] std::vector<std::string> lines() {
        std::vector<std::string> out;
        std::istringstream in(text());
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }
    /// Lines containing every needle.
    [[nodiscard]] std::vector<std::string> matching(std::initializer_list<std::string> needles) {
        std::vector<std::string> out;
        for (const auto& l : lines()) {
            bool all = true;
            for (const auto& n : needles) all = all && l.find(n) != std::string::npos;
            if (all) out.push_back(l);
        }
        return out;
    }

    /// Lines at warn or error level (text format "TS LEVEL [tag] message") naming `needle`.
    [[nodiscard]] std::vector<std::string> complaints(const std::string& needle) {
        std::vector<std::string> out;
        for (const auto& l : lines())
            if ((l.find(" warn [") != std::string::npos ||
                 l.find(" error [") != std::string::npos) &&
                l.find(needle) != std::string::npos)
                out.push_back(l);
        return out;
    }

private:
    LogSink& sink_;
    std::FILE* out_ = nullptr;
    char* buf_ = nullptr;
    std::size_t len_ = 0;
};

class FakeAddressMapper final : public sdk::AddressMapper {
public:
    [[nodiscard]] sdk::Result<std::string> to_jid(std::string_view uri,
                                                  sdk::UriRole) const override {
        auto colon = uri.find(':');
        if (colon == std::string_view::npos) return {sdk::ErrorCode::BadRequest, "no scheme"};
        return std::string(uri.substr(colon + 1));
    }
    [[nodiscard]] sdk::Result<std::string> to_uri(std::string_view jid,
                                                  sdk::UriScheme) const override {
        return "sip:" + std::string(jid);
    }
};

class FakeErrorMapper final : public sdk::ErrorMapper {
public:
    [[nodiscard]] sdk::XmppError sip_to_xmpp(int status, std::string_view,
                                             std::string_view) const override {
        return status >= 300 ? sdk::XmppError{"service-unavailable", "cancel", {}, {}}
                             : sdk::XmppError{};
    }
    [[nodiscard]] sdk::SipError xmpp_to_sip(const sdk::XmppError&,
                                            const sdk::XmppToSipContext&) const override {
        return {503, "Service Unavailable", {}, {}};
    }
    [[nodiscard]] sdk::XmppError xmpp_for(const sdk::Status&) const override {
        return {"feature-not-implemented", "cancel", {}, {}};
    }
    [[nodiscard]] sdk::SipError sip_for(const sdk::Status& s) const override {
        if (s.code() == sdk::ErrorCode::Unsupported) return {501, "Not Implemented", {}, {}};
        return {500, "Server Internal Error", {}, {}};
    }
};

/// Completes every request with `status`, from the calling thread (an endpoint may complete on
/// any thread; the context's adapter must still deliver on the plugin's strand).
class FakeSipService final : public sdk::SipService {
public:
    void send_request(sdk::SipRequest request, sdk::SipResponseHandler on_final) noexcept override {
        sent.fetch_add(1);
        last_method = request.method;
        if (on_final) {
            sdk::SipResponse r;
            r.status = 200;
            r.reason = "OK";
            on_final(r);
        }
    }
    [[nodiscard]] std::vector<std::string> domains() const override {
        if (on_domains) on_domains();
        return {"example.net"};
    }
    std::atomic<int> sent{0};
    std::string last_method;
    /// Called by domains(): lets a loader test check, on the core side, which thread a plugin
    /// calls from (test plugins call domains() in start() and stop()).
    std::function<void()> on_domains;
};

class FakeXmppService final : public sdk::XmppService {
public:
    void send(sdk::Stanza stanza, sdk::SendCompletion done) noexcept override {
        sent.fetch_add(1);
        last_name = stanza.name();
        if (done) done(sdk::Status{});
    }
    /// Sends, then answers with an error reply carrying the same id (from this thread).
    void send_tracked(sdk::Stanza stanza, sdk::SendCompletion done, std::chrono::milliseconds,
                      sdk::ReplyHandler on_reply) noexcept override {
        sdk::Stanza reply(stanza.name(), std::string(sdk::kComponentNs));
        reply.set_attr("id", stanza.attr("id"));
        reply.set_attr("type", "error");
        send(std::move(stanza), std::move(done));
        if (on_reply) on_reply(&reply);
    }
    [[nodiscard]] std::string component_domain() const override { return "example.net"; }
    [[nodiscard]] bool connected() const noexcept override { return true; }
    std::atomic<int> sent{0};
    std::string last_name;
};

/// The core objects CoreServices refers to, with logs captured.
struct CoreRig {
    LogSink sink;
    LogCapture capture{sink};
    MetricsRegistry metrics;
    TaggedLogger core_log{sink, "core"};
    EventBusCore bus{metrics, core_log};
    ClaimTable claims;
    FakeErrorMapper errors;
    FakeAddressMapper addresses;
    IngressRouter router{claims, errors, metrics, core_log};
    FakeSipService sip;
    FakeXmppService xmpp;
    boost::asio::io_context io;

    CoreServices services() {
        return CoreServices{sink, metrics, bus, router, addresses, errors, sip, xmpp};
    }
};

/// A fresh directory under the system temp dir, removed with its content afterwards.
class TempDir {
public:
    TempDir() {
        std::string templ =
            (std::filesystem::temp_directory_path() / "stox-plugin-XXXXXX").string();
        if (mkdtemp(templ.data()) != nullptr) path_ = templ;
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

    /// Writes `text` to `relative` (creating directories); returns the full path.
    std::filesystem::path write(const std::filesystem::path& relative, const std::string& text) {
        const auto full = path_ / relative;
        std::filesystem::create_directories(full.parent_path());
        std::ofstream(full, std::ios::binary) << text;
        return full;
    }

private:
    std::filesystem::path path_;
};

/// A valid manifest for `id` (library "lib_<id with dots as underscores>"), with `extra`
/// members (a JSON object text without braces, e.g. R"("requires": [...])") appended.
inline std::string manifest_json(const std::string& id, const std::string& version = "1.0.0",
                                 const std::string& extra = {}) {
    std::string lib = "lib_" + id;
    for (auto& c : lib)
        if (c == '.' || c == '-') c = '_';
    return R"({"manifest_version": 1, "id": ")" + id + R"(", "name": "Test )" + id +
           R"(", "version": ")" + version + R"(", "library": ")" + lib + R"(", "abi": {"major": )" +
           std::to_string(STOX_SDK_ABI_MAJOR) + R"(, "minor": )" +
           std::to_string(STOX_SDK_ABI_MINOR) + "}" + (extra.empty() ? "" : ", " + extra) + "}";
}

/// The smallest valid site configuration, with `plugins` (JSON object text) as its plugins.
inline std::string site_json(const std::string& plugins = "{}") {
    return R"({"config_version": 1, "xmpp": {"component": {"secret": "s3cret"}}, "plugins": )" +
           plugins + "}";
}

} // namespace stox::core::test
