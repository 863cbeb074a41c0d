// SPDX-License-Identifier: Apache-2.0
// ComponentLink against a real Prosody (peers.md §4.1), skipped when `prosody` is not installed.
// The test starts a private instance on free loopback ports with its own data dir under a temp
// dir (run_as_root = true for CI), kills it by PID at the end, and checks the XEP-0114 handshake,
// a message round trip with a c2s client (alice@localhost, plain TCP + SASL PLAIN) and reply
// tracking against the server's real bounces.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "runtime/log_sink.hpp"
#include "runtime/metrics_registry.hpp"
#include "xmpp/component_link.hpp"

namespace stox::core::xmpp {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using asio::ip::tcp;

const XercesGuard kXerces;

std::optional<fs::path> find_in_path(const std::string& exe) {
    const char* path = std::getenv("PATH");
    if (path == nullptr) return std::nullopt;
    std::string_view rest(path);
    while (!rest.empty()) {
        std::size_t colon = rest.find(':');
        fs::path candidate = fs::path(std::string(rest.substr(0, colon))) / exe;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    return std::nullopt;
}

std::uint16_t free_port() {
    asio::io_context io;
    tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

// A private Prosody: config, data and log under a temp dir; killed (by PID) and removed at the end.
class PrivateProsody {
public:
    PrivateProsody(const fs::path& exe, std::uint16_t c2s, std::uint16_t component)
        : dir_(make_temp_dir()) {
        fs::create_directories(dir_ / "data" / "localhost" / "accounts");
        fs::create_directories(dir_ / "certs");
        // Clear-text account file, as prosodyctl register writes it (peers.md §4.1).
        std::ofstream(dir_ / "data" / "localhost" / "accounts" / "alice.dat")
            << "return { [\"password\"] = \"alicepw\"; };\n";
        const std::string d = dir_.string();
        std::ofstream(dir_ / "prosody.cfg.lua")
            << "run_as_root = true\n"
            << "pidfile = \"" << d << "/prosody.pid\"\n"
            << "data_path = \"" << d << "/data\"\n"
            << "log = { { levels = { min = \"debug\" }, to = \"console\" } }\n"
            << "interfaces = { \"127.0.0.1\" }\n"
            << "c2s_ports = { " << c2s << " }\nc2s_direct_tls_ports = { }\n"
            << "s2s_ports = { " << free_port() << " }\ns2s_direct_tls_ports = { }\n"
            << "component_ports = { " << component << " }\n"
            << "component_interfaces = { \"127.0.0.1\" }\n"
            << "http_ports = { }; https_ports = { }\n"
            << "modules_enabled = { \"roster\"; \"saslauth\"; \"disco\"; \"ping\"; "
               "\"presence\"; \"message\"; \"iq\"; }\n"
            << "modules_disabled = { \"tls\"; \"offline\"; }\n"
            << "c2s_require_encryption = false\ns2s_require_encryption = false\n"
            << "allow_unencrypted_plain_auth = true\n"
            << "authentication = \"internal_plain\"\nstorage = \"internal\"\n"
            << "certificates = \"" << d << "/certs\"\n"
            << "VirtualHost \"localhost\"\n"
            << "Component \"sip.localhost\"\n    component_secret = \"s3cret\"\n";
        const std::string cfg = (dir_ / "prosody.cfg.lua").string();
        const std::string log = (dir_ / "prosody.log").string();
        pid_ = ::fork();
        if (pid_ == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            ::execl(exe.c_str(), exe.c_str(), "-F", "--config", cfg.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~PrivateProsody() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            for (int i = 0; i < 200 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
                std::this_thread::sleep_for(10ms); // shutdown wait, not synchronization
            if (::waitpid(pid_, &status, WNOHANG) == 0) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
            }
        }
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    PrivateProsody(const PrivateProsody&) = delete;
    PrivateProsody& operator=(const PrivateProsody&) = delete;

    [[nodiscard]] bool started() const { return pid_ > 0; }
    [[nodiscard]] std::string log() const {
        std::ifstream in(dir_ / "prosody.log");
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

private:
    static fs::path make_temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "stox-prosody-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        return tmpl;
    }
    fs::path dir_;
    pid_t pid_ = -1;
};

// Minimal blocking c2s client on its own thread: RFC 6120 stream, SASL PLAIN (no TLS, test
// server only), resource binding, one message, then waits for the echo.
class C2sClient {
public:
    explicit C2sClient(std::uint16_t port) : port_(port) {}

    /// Returns "" on success, else what went wrong.
    std::string run() {
        try {
            tcp::socket s(io_);
            s.connect({asio::ip::make_address("127.0.0.1"), port_});
            timeval tv{10, 0};
            ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            const std::string header =
                "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
            write(s, header);
            if (!read_until(s, "</stream:features>")) return "no stream features: " + rx_;
            // base64("\0alice\0alicepw")
            write(s, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                     "mechanism='PLAIN'>AGFsaWNlAGFsaWNlcHc=</auth>");
            if (!read_until(s, "<success")) return "SASL failed: " + rx_;
            rx_.clear();
            write(s, header); // RFC 6120 §6.4.6: stream restart after SASL
            if (!read_until(s, "</stream:features>")) return "no features after SASL: " + rx_;
            write(s, "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                     "<resource>test</resource></bind></iq>");
            if (!read_until(s, "alice@localhost/test")) return "bind failed: " + rx_;
            write(s, "<presence/><message to='someone@sip.localhost' type='chat' id='m1'>"
                     "<body>hello gateway</body></message>");
            if (!read_until(s, "echo: hello gateway")) return "no echo: " + rx_;
            write(s, "</stream:stream>");
            return "";
        } catch (const std::exception& e) {
            return std::string("client: ") + e.what();
        }
    }

private:
    static void write(tcp::socket& s, const std::string& data) {
        asio::write(s, asio::buffer(data));
    }
    bool read_until(tcp::socket& s, std::string_view what) {
        char buf[4096];
        while (rx_.find(what) == std::string::npos) {
            boost::system::error_code ec;
            std::size_t n = s.read_some(asio::buffer(buf), ec);
            if (ec) return false; // includes the SO_RCVTIMEO timeout
            rx_.append(buf, n);
        }
        return true;
    }
    asio::io_context io_;
    std::uint16_t port_;
    std::string rx_;
};

TEST(ProsodyIntegration, HandshakeRoundTripAndTrackedBounce) {
    auto exe = find_in_path("prosody");
    if (!exe) GTEST_SKIP() << "prosody is not installed";
    const std::uint16_t c2s = free_port();
    const std::uint16_t component = free_port();
    PrivateProsody prosody(*exe, c2s, component);
    ASSERT_TRUE(prosody.started());

    MetricsRegistry metrics;
    LogSink sink(stderr);
    sink.set_level(sdk::LogLevel::Warn);
    TaggedLogger log(sink, "xmpp");
    asio::io_context io;
    ComponentConfig cfg;
    cfg.port = component;
    cfg.domain = "sip.localhost";
    cfg.secret = "s3cret";
    cfg.reconnect_min = 20ms; // Prosody needs ~0.1 s to listen: the link's retries cover it
    cfg.reconnect_max = 200ms;
    auto made = ComponentLink::create(io, cfg, log, metrics);
    ASSERT_TRUE(made.ok());
    auto link = made.value();
    std::vector<sdk::Stanza> got;
    link->set_on_stanza([&](sdk::Stanza st) {
        if (st.name() == "message" && st.child("body") != nullptr) {
            sdk::Stanza echo = sdk::make_stanza("message");
            echo.set_attr("from", st.attr("to"));
            echo.set_attr("to", st.attr("from"));
            echo.set_attr("type", "chat");
            echo.add_child("body").add_text("echo: " + st.child_text("body"));
            link->send(std::move(echo), {});
        }
        got.push_back(std::move(st));
    });
    link->start();

    auto run_until = [&](const std::function<bool()>& pred, std::chrono::seconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            io.run_one_for(5ms);
        }
        return true;
    };
    ASSERT_TRUE(run_until([&] { return link->connected(); }, 15s)) << prosody.log();
    EXPECT_EQ(metrics.value("xmpp.handshakes"), 1U);

    // Round trip: alice -> Prosody -> component -> echo -> Prosody -> alice.
    std::string client_error = "not run";
    std::atomic<bool> client_done{false};
    std::thread client([&] {
        client_error = C2sClient(c2s).run();
        client_done = true;
    });
    bool finished = run_until([&] { return client_done.load(); }, 30s);
    client.join();
    ASSERT_TRUE(finished);
    EXPECT_EQ(client_error, "") << prosody.log();
    auto msg = std::find_if(got.begin(), got.end(),
                            [](const sdk::Stanza& st) { return st.name() == "message"; });
    ASSERT_NE(msg, got.end());
    EXPECT_EQ(msg->attr("to"), "someone@sip.localhost");
    EXPECT_EQ(msg->attr("from"), "alice@localhost/test");
    EXPECT_EQ(msg->child_text("body"), "hello gateway");

    // Honest delivery: a message to a user that does not exist comes back as an error, which
    // send_tracked catches instead of the router; an iq ping gets its result.
    std::optional<sdk::Stanza> bounce;
    bool bounce_called = false;
    sdk::Stanza m = sdk::make_stanza("message");
    m.set_attr("from", "bob@sip.localhost").set_attr("to", "nobody@localhost");
    m.set_attr("type", "chat").set_attr("id", "trk1");
    m.add_child("body").add_text("anyone?");
    link->send_tracked(std::move(m), {}, 10s, [&](const sdk::Stanza* r) {
        bounce_called = true;
        if (r != nullptr) bounce = *r;
    });
    std::optional<sdk::Stanza> pong;
    sdk::Stanza ping = sdk::make_stanza("iq");
    ping.set_attr("from", "bob@sip.localhost").set_attr("to", "localhost");
    ping.set_attr("type", "get").set_attr("id", "ping1");
    ping.add_child("ping", "urn:xmpp:ping");
    link->send_tracked(std::move(ping), {}, 10s, [&](const sdk::Stanza* r) {
        if (r != nullptr) pong = *r;
    });
    ASSERT_TRUE(run_until([&] { return bounce_called && pong.has_value(); }, 15s)) << prosody.log();
    ASSERT_TRUE(bounce.has_value());
    EXPECT_EQ(bounce->attr("type"), "error");
    EXPECT_EQ(pong->attr("type"), "result");

    bool stopped = false;
    link->stop([&] { stopped = true; });
    EXPECT_TRUE(run_until([&] { return stopped; }, 10s));
}

} // namespace
} // namespace stox::core::xmpp
