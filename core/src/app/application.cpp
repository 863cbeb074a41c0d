// SPDX-License-Identifier: Apache-2.0
// Startup order (run): config -> logging -> io_context -> bus/router/mappers -> endpoints ->
// plugin host (discover, validate, load) -> endpoints start -> worker threads -> plugins start
// -> "ready". Shutdown is the reverse: plugins stop first (they may still answer what they owe),
// then the XMPP link closes its stream, then the SIP endpoint answers what is left 503, then
// the worker threads end. See docs/architecture.md.
#include "app/application.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <fstream>
#include <future>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "bus/claim_table.hpp"
#include "bus/event_bus.hpp"
#include "bus/ingress_router.hpp"
#include "config/site_config.hpp"
#include "mapping/address_mapper.hpp"
#include "mapping/error_mapper.hpp"
#include "plugin/plugin_host.hpp"
#include "runtime/log_sink.hpp"
#include "runtime/metrics_registry.hpp"
#include "sip/sip_endpoint.hpp"
#include "sip/sip_service_impl.hpp"
#include "stox/sdk/events/core.hpp"
#include "xmpp/component_link.hpp"
#include "xmpp/stanza_parser.hpp"

namespace stox::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;

fs::path config_file_of(const AppOptions& o) {
    return o.config_file ? *o.config_file : fs::path(STOX_DEFAULT_CONFIG);
}

/// Loads and validates the site config; prints every error. nullopt on failure.
std::optional<config::SiteConfig> load_config(const AppOptions& o) {
    fs::path file = config_file_of(o);
    std::optional<fs::path> fragments = o.config_dir;
    if (!fragments) {
        fs::path d = config::default_fragments_dir(file);
        std::error_code ec;
        if (fs::is_directory(d, ec)) fragments = d;
    }
    auto result = config::load_site_config(file, fragments);
    for (const auto& e : result.errors) std::cerr << e.to_string() << '\n';
    return std::move(result.config);
}

std::vector<fs::path> plugin_path_of(const AppOptions& o, const config::SiteConfig* site) {
    std::vector<fs::path> out = o.plugin_paths;
    if (site)
        for (const auto& p : site->doc.value("plugin_path", json::array()))
            out.emplace_back(p.get<std::string>());
    if (out.empty()) out.emplace_back(STOX_DEFAULT_PLUGIN_DIR);
    return out;
}

/// xmpp.component.secret, or the first line of xmpp.component.secret_file (trimmed).
sdk::Result<std::string> component_secret(const config::SiteConfig& site) {
    const json& c = site.doc["xmpp"]["component"];
    if (c.contains("secret")) return c["secret"].get<std::string>();
    std::string path = c.value("secret_file", "");
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line))
        return sdk::Result<std::string>(sdk::ErrorCode::InvalidConfig,
                                        site.source_of("/xmpp/component/secret_file") +
                                            ": /xmpp/component/secret_file: cannot read '" + path +
                                            "'");
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty())
        return sdk::Result<std::string>(sdk::ErrorCode::InvalidConfig, "'" + path + "' is empty");
    return line;
}

sdk::Result<sip::SipEndpointConfig> sip_config(const config::SiteConfig& site) {
    const json& s = site.doc["sip"];
    sip::SipEndpointConfig c;
    for (const auto& l : s["listen"]) {
        auto parsed = sip::parse_listen(l.get<std::string>());
        if (!parsed) return parsed.status();
        c.listen.push_back(*parsed);
    }
    c.outbound_proxy = s.value("outbound_proxy", "");
    c.contact_host = s.value("contact_host", "");
    for (const auto& d : s["domains"]) c.domains.push_back(d.get<std::string>());
    c.user_agent = s.value("user_agent", "stoxgw");
    c.udp_mtu = s.value("udp_mtu", 1300u);
    if (s.contains("transaction_timeout_ms"))
        c.t1x64_ms = s["transaction_timeout_ms"].get<unsigned>();
    if (s.contains("max_message_bytes"))
        c.max_message_bytes = s["max_message_bytes"].get<std::size_t>();
    return c;
}

xmpp::ComponentConfig component_config(const config::SiteConfig& site, std::string secret) {
    const json& c = site.doc["xmpp"]["component"];
    using std::chrono::milliseconds;
    xmpp::ComponentConfig x;
    x.host = c.value("host", x.host);
    x.port = c.value("port", x.port);
    x.domain = c.value("domain", std::string{});
    x.secret = std::move(secret);
    auto ms = [&](const char* key, milliseconds def) {
        return c.contains(key) ? milliseconds(c[key].get<std::int64_t>()) : def;
    };
    x.connect_timeout = ms("connect_timeout_ms", x.connect_timeout);
    x.keepalive_interval = ms("keepalive_interval_ms", x.keepalive_interval);
    x.reconnect_min = ms("reconnect_min_ms", x.reconnect_min);
    x.reconnect_max = ms("reconnect_max_ms", x.reconnect_max);
    x.send_queue_deadline = ms("send_queue_deadline_ms", x.send_queue_deadline);
    x.max_stanza_bytes = c.value("max_stanza_bytes", x.max_stanza_bytes);
    x.send_queue_limit = c.value("send_queue_limit", x.send_queue_limit);
    return x;
}

void configure_logging(LogSink& sink, const config::SiteConfig& site) {
    const json& l = site.doc["log"];
    sdk::LogLevel level = sdk::LogLevel::Info;
    parse_log_level(l.value("level", "info"), level);
    sink.set_level(level);
    sink.set_format(l.value("format", "text") == "json" ? LogFormat::Json : LogFormat::Text);
}

template <class E> void publish_core(EventBusCore& bus, E event) {
    event.meta.origin = "core";
    event.meta.at = std::chrono::system_clock::now();
    auto p = std::make_shared<E>(std::move(event));
    bus.publish(E::kName, E::kVersion, std::shared_ptr<const void>(p, p.get()));
}

std::string pad(std::string s, std::size_t n) {
    if (s.size() < n) s.resize(n, ' ');
    return s;
}

} // namespace

// ---------------------------------------------------------------------------------------------
int check_config(const AppOptions& o) {
    auto site = load_config(o);
    if (!site) return kExitInvalid;
    int errors = 0;
    if (auto secret = component_secret(*site); !secret) {
        std::cerr << secret.status().message() << '\n';
        ++errors;
    }
    if (auto s = sip_config(*site); !s) {
        std::cerr << site->source_of("/sip/listen") << ": /sip/listen: " << s.status().message()
                  << '\n';
        ++errors;
    }
    LogSink sink;
    sink.set_level(sdk::LogLevel::Error);
    MetricsRegistry metrics;
    PluginHost host(sink, metrics, PluginHost::Options::from_site(*site));
    auto records = host.discover(plugin_path_of(o, &*site));
    for (const auto& e : host.validate_plugin_configs(*site)) {
        std::cerr << e.to_string() << '\n';
        ++errors;
    }
    if (errors) return kExitInvalid;
    std::cout << config_file_of(o).string() << ": OK (" << site->files.size() << " file"
              << (site->files.size() == 1 ? "" : "s") << ", " << records.size() << " plugin"
              << (records.size() == 1 ? "" : "s") << " found)\n";
    return kExitOk;
}

int list_plugins(const AppOptions& o, bool as_json) {
    std::optional<config::SiteConfig> site;
    if (o.config_file) {
        site = load_config(o);
        if (!site) return kExitInvalid;
    }
    LogSink sink;
    sink.set_level(sdk::LogLevel::Off); // the reasons are in the listing itself
    MetricsRegistry metrics;
    PluginHost host(sink, metrics,
                    site ? PluginHost::Options::from_site(*site) : PluginHost::Options{});
    host.discover(plugin_path_of(o, site ? &*site : nullptr));
    // Opening the libraries checks each descriptor (ABI, fingerprint, id/version); it runs no
    // plugin code (the descriptor is data), so listing is safe.
    ClaimTable claims;
    (void)host.load_all(claims, site ? &*site : nullptr);
    auto records = host.records();
    if (as_json) {
        std::cout << to_json(records).dump(2) << '\n';
        return kExitOk;
    }
    if (records.empty()) {
        std::cout << "no plugins found\n";
        return kExitOk;
    }
    std::cout << pad("ID", 34) << pad("VERSION", 10) << pad("ABI", 6) << pad("STATE", 10)
              << "REASON\n";
    for (const auto& r : records) {
        std::string state(to_string(r.state));
        if (r.state == PluginState::Loaded) state = "loadable";
        std::cout << pad(r.id, 34) << pad(r.version, 10)
                  << pad(std::to_string(r.abi_major) + "." + std::to_string(r.abi_minor), 6)
                  << pad(state, 10) << r.reason << '\n';
    }
    return kExitOk;
}

int run_gateway(const AppOptions& o) {
    auto site = load_config(o);
    if (!site) return kExitInvalid;
    auto secret = component_secret(*site);
    if (!secret) {
        std::cerr << secret.status().message() << '\n';
        return kExitInvalid;
    }
    auto sip_cfg = sip_config(*site);
    if (!sip_cfg) {
        std::cerr << sip_cfg.status().message() << '\n';
        return kExitInvalid;
    }

    LogSink sink;
    configure_logging(sink, *site);
    TaggedLogger log(sink, "core");
    STOX_LOG_INFO(log, "stoxgw {} starting with {}", STOX_VERSION, config_file_of(o).string());

    xmpp::XercesGuard xerces;
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    MetricsRegistry metrics;
    EventBusCore bus(metrics, log);
    ClaimTable claims;
    AddressMapperImpl addresses;
    ErrorMapperImpl errors;
    IngressRouter router(claims, errors, metrics, log);

    TaggedLogger sip_log(sink, "sip");
    sip::SipEndpoint sip_endpoint(*sip_cfg, metrics, sip_log);
    sip_endpoint.set_request_handler([&router](auto tx) { router.deliver_sip(std::move(tx)); });
    sip::SipServiceImpl sip_service(sip_endpoint);

    TaggedLogger xmpp_log(sink, "xmpp");
    auto link_result =
        xmpp::ComponentLink::create(io, component_config(*site, *secret), xmpp_log, metrics);
    if (!link_result) {
        STOX_LOG_ERROR(log, "xmpp.component: {}", link_result.status().message());
        return kExitInvalid;
    }
    const std::shared_ptr<xmpp::ComponentLink>& link = *link_result;
    link->set_on_stanza([&router, link](sdk::Stanza s) {
        router.deliver_stanza(std::move(s),
                              [link](sdk::Stanza reply) { link->send(std::move(reply), {}); });
    });
    link->set_on_state([&bus](bool up, const std::string& reason) {
        sdk::events::XmppLinkChanged e;
        e.up = up;
        e.reason = reason;
        publish_core(bus, std::move(e));
    });
    xmpp::XmppServiceImpl xmpp_service(link);

    PluginHost host(sink, metrics, PluginHost::Options::from_site(*site));
    host.discover(plugin_path_of(o, &*site));
    bool config_ok = true;
    for (const auto& e : host.validate_plugin_configs(*site)) {
        STOX_LOG_ERROR(log, "{}", e.to_string());
        config_ok = false;
    }
    if (!config_ok) return kExitInvalid;
    if (auto st = host.load_all(claims, &*site); !st) {
        STOX_LOG_ERROR(log, "startup aborted: {}", st.message());
        return kExitInvalid;
    }

    if (auto st = sip_endpoint.start(); !st) {
        STOX_LOG_ERROR(log, "SIP endpoint: {}", st.message());
        return kExitInvalid;
    }

    // Handle SIGINT/SIGTERM from here on: a signal that arrives before async_wait() is queued by
    // Asio and delivered to it, so a stop request right after "ready" still stops cleanly.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);

    unsigned threads = site->doc["core"].value("threads", 2u);
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < threads; ++i) workers.emplace_back([&io] { io.run(); });
    auto join_workers = [&] {
        work.reset();
        io.stop();
        for (auto& t : workers)
            if (t.joinable()) t.join();
    };

    CoreServices services{sink,   metrics,     bus,          router,      addresses,
                          errors, sip_service, xmpp_service, &sip_service};
    if (auto st = host.start_all(services, io); !st) {
        STOX_LOG_ERROR(log, "startup aborted: {}", st.message());
        sip_endpoint.stop();
        join_workers();
        return kExitInvalid;
    }
    link->start();

    std::size_t started = 0;
    for (const auto& r : host.records()) started += r.state == PluginState::Started;
    std::string listening;
    for (const auto& b : sip_endpoint.bound())
        listening += (listening.empty() ? "" : ", ") + b.transport + ":" + b.host + ":" +
                     std::to_string(b.port);
    STOX_LOG_INFO(log, "ready: {} plugin(s) started; SIP on {}; XMPP component {} via {}:{}",
                  started, listening, link->config().domain, link->config().host,
                  link->config().port);
    publish_core(bus, sdk::events::GatewayReady{});

    // Block until SIGINT/SIGTERM. The signal_set runs on a worker thread; the main thread waits.
    std::promise<int> stop_signal;
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (!ec) stop_signal.set_value(sig);
    });
    int sig = stop_signal.get_future().get();
    STOX_LOG_INFO(log, "signal {} received; stopping", sig);

    host.stop_all();
    std::promise<void> link_stopped;
    link->stop([&link_stopped] { link_stopped.set_value(); });
    if (link_stopped.get_future().wait_for(std::chrono::seconds(5)) != std::future_status::ready)
        STOX_LOG_WARN(log, "XMPP link did not close within 5 s");
    sip_endpoint.stop();
    signals.cancel();
    join_workers();
    STOX_LOG_INFO(log, "stopped");
    return kExitOk;
}

} // namespace stox::core
