// SPDX-License-Identifier: Apache-2.0
// A scriptable XEP-0114 server for tests: listens on 127.0.0.1 port 0 on the test's io_context,
// answers the stream header, checks the handshake, and lets the test inject bytes, close
// streams and hold back answers. It works on raw text (string search), independent of the
// framer and parser under test.
#pragma once

#include <utility>
#include <array>
#include <deque>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace stox::core::xmpp::testing {

class FakeComponentServer {
public:
    struct Conn {
        explicit Conn(boost::asio::ip::tcp::socket s) : sock(std::move(s)) {}
        boost::asio::ip::tcp::socket sock;
        std::string rx;                           // every byte received
        std::size_t auth_end = std::string::npos; // offset in rx just after </handshake>
        std::string header_to;                    // 'to' of the component's stream header
        std::string id;
        std::string digest; // the handshake the component sent
        bool header_answered = false;
        bool handshake_seen = false;
        bool handshake_answered = false;
        bool authed = false;
        bool eof = false; // the component closed the TCP connection
        std::array<char, 4096> buf{};
        std::deque<std::string> out;
        bool writing = false;
        bool close_after_write = false;
        bool close_tag_seen = false;

        /// Bytes received after the handshake.
        [[nodiscard]] std::string after_auth() const {
            return auth_end == std::string::npos ? std::string() : rx.substr(auth_end);
        }
    };

    FakeComponentServer(boost::asio::io_context& io, std::string domain, std::string secret_)
        : secret(std::move(secret_)), domain_(std::move(domain)),
          acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        accept();
    }

    [[nodiscard]] std::uint16_t port() const { return port_; }

    // --- behaviour knobs ---
    std::string secret;           ///< handshakes are checked against it
    bool answer_header = true;    ///< false: accept TCP, then stay silent
    bool answer_handshake = true; ///< false: hold handshakes until accept_pending()
    bool reply_close = true;      ///< answer the component's </stream:stream> and close

    // --- observations ---
    std::vector<std::shared_ptr<Conn>> conns;
    int handshakes_ok = 0;
    int handshakes_bad = 0;

    Conn& conn(std::size_t i) { return *conns.at(i); }
    Conn& last() { return *conns.back(); }

    void send(Conn& c, std::string data) {
        c.out.push_back(std::move(data));
        write_next(c);
    }
    /// Sends data, then closes the TCP connection once it is written.
    void send_and_close(Conn& c, std::string data) {
        c.close_after_write = true;
        send(c, std::move(data));
    }
    void close(Conn& c) {
        boost::system::error_code ec;
        c.sock.close(ec);
    }
    /// Answers the handshakes held while answer_handshake was false.
    void accept_pending() {
        answer_handshake = true;
        for (auto& c : conns)
            if (c->handshake_seen && !c->handshake_answered) answer(*c);
    }
    void stop_listening() {
        boost::system::error_code ec;
        acceptor_.close(ec);
    }

    static std::string sha1_hex(const std::string& in) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_Digest(in.data(), in.size(), md, &len, EVP_sha1(), nullptr);
        static constexpr char kHex[] = "0123456789abcdef";
        std::string out;
        for (unsigned int i = 0; i < len; ++i) {
            out += kHex[md[i] >> 4];
            out += kHex[md[i] & 0xF];
        }
        return out;
    }

private:
    void accept() {
        acceptor_.async_accept(
            [this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket s) {
                if (ec) return; // acceptor closed
                auto c = std::make_shared<Conn>(std::move(s));
                c->id = "stream-" + std::to_string(conns.size());
                conns.push_back(c);
                read(c);
                accept();
            });
    }

    void read(const std::shared_ptr<Conn>& c) {
        c->sock.async_read_some(boost::asio::buffer(c->buf),
                                [this, c](const boost::system::error_code& ec, std::size_t n) {
                                    if (ec) {
                                        c->eof = true;
                                        return;
                                    }
                                    c->rx.append(c->buf.data(), n);
                                    process(*c);
                                    read(c);
                                });
    }

    void process(Conn& c) {
        if (!c.header_answered && answer_header) {
            std::size_t at = c.rx.find("<stream:stream");
            std::size_t gt = at == std::string::npos ? at : c.rx.find('>', at);
            if (gt != std::string::npos) {
                std::smatch m;
                std::string tag = c.rx.substr(at, gt - at);
                if (std::regex_search(tag, m, std::regex("to='([^']*)'"))) c.header_to = m[1];
                c.header_answered = true;
                send(c, "<?xml version='1.0'?><stream:stream "
                        "xmlns:stream='http://etherx.jabber.org/streams' "
                        "xmlns='jabber:component:accept' from='" +
                            domain_ + "' id='" + c.id + "'>");
            }
        }
        if (c.header_answered && !c.handshake_seen) {
            std::smatch m;
            if (std::regex_search(c.rx, m, std::regex("<handshake>([^<]*)</handshake>"))) {
                c.handshake_seen = true;
                c.digest = m[1];
                c.auth_end = static_cast<std::size_t>(m.position(0) + m.length(0));
                if (answer_handshake) answer(c);
            }
        }
        if (!c.close_tag_seen && c.rx.find("</stream:stream>") != std::string::npos) {
            c.close_tag_seen = true;
            if (reply_close) send_and_close(c, "</stream:stream>");
        }
    }

    void answer(Conn& c) {
        c.handshake_answered = true;
        if (c.digest == sha1_hex(c.id + secret)) {
            c.authed = true;
            ++handshakes_ok;
            send(c, "<handshake/>");
        } else {
            // Prosody's answer to a wrong secret (peers.md §4.1).
            ++handshakes_bad;
            send_and_close(c, "<stream:error><not-authorized "
                              "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
                              "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Given token does not "
                              "match calculated token</text></stream:error></stream:stream>");
        }
    }

    void write_next(Conn& c) {
        if (c.writing || c.out.empty() || !c.sock.is_open()) return;
        c.writing = true;
        auto data = std::make_shared<std::string>(std::move(c.out.front()));
        c.out.pop_front();
        boost::asio::async_write(
            c.sock, boost::asio::buffer(*data),
            [this, &c, data](const boost::system::error_code& ec, std::size_t) {
                c.writing = false;
                if (ec) return;
                if (c.out.empty() && c.close_after_write) {
                    close(c);
                    return;
                }
                write_next(c);
            });
    }

    std::string domain_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = acceptor_.local_endpoint().port();
};

} // namespace stox::core::xmpp::testing
