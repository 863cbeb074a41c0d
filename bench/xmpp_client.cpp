// SPDX-License-Identifier: Apache-2.0
// bench_xmpp_client: a raw-socket XMPP c2s client for benchmarks (a slixmpp client costs about
// six times the CPU and becomes the bottleneck). Plain TCP, SASL PLAIN, resource binding.
//   sink   --port P --user U --password W [--expect N] [--idle-ms MS]
//          counts <message/> stanzas, reads "t=SEC.USEC" in each body and records the
//          end-to-end latency against CLOCK_REALTIME; prints one JSON line at the end.
//   source --port P --user U --password W --to JID --count N --rate R
//          sends N messages at R/s, each body "t=SEC.USEC n=I"; counts error stanzas that come
//          back while sending and for 2 s after; prints one JSON line.
//          [--type chat] sets the message type (the chat benchmark, RFC 7573); [--warmup-ms MS]
//          first sends one message to each of the --to-count users and waits MS before the
//          timed run (sessions are set up outside the measurement).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "timestamp.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    std::string mode, user = "bench", password = "bench", domain = "example.com", to;
    int port = 5222;
    long count = 0, expect = 0, idle_ms = 3000, to_count = 1;
    std::string to_domain = "example.net";
    std::string type;
    long warmup_ms = 0;
    double rate = 1000;
};

std::string b64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                     (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += t[(v >> 18) & 63], out += t[(v >> 12) & 63], out += t[(v >> 6) & 63],
            out += t[v & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += t[(v >> 18) & 63], out += t[(v >> 12) & 63];
        out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

class Conn {
public:
    explicit Conn(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            std::perror("connect");
            std::exit(1);
        }
        int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~Conn() { ::close(fd_); }
    void send(const std::string& s) {
        std::size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) {
                std::perror("send");
                std::exit(1);
            }
            off += static_cast<std::size_t>(n);
        }
    }
    /// Appends what is readable within `ms` to buf_; false on EOF.
    bool read(int ms) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, ms) <= 0) return true;
        char tmp[65536];
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        buf_.append(tmp, static_cast<std::size_t>(n));
        return true;
    }
    void wait_for(const char* needle, int timeout_ms = 5000) {
        auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (buf_.find(needle) == std::string::npos) {
            if (Clock::now() > end || !read(100)) {
                std::fprintf(stderr, "timeout waiting for %s; got: %s\n", needle, buf_.c_str());
                std::exit(1);
            }
        }
        buf_.erase(0, buf_.find(needle) + std::strlen(needle));
    }
    std::string& buf() { return buf_; }

private:
    int fd_;
    std::string buf_;
};

void login(Conn& c, const Args& a) {
    auto open = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='" +
                a.domain + "'>";
    c.send(open);
    c.wait_for("</stream:features>");
    c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
           b64(std::string(1, '\0') + a.user + std::string(1, '\0') + a.password) + "</auth>");
    c.wait_for("<success");
    c.send(open);
    c.wait_for("</stream:features>");
    c.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
           "<resource>bench</resource></bind></iq>");
    c.wait_for("</iq>");
    c.send("<presence/>");
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
    return v[i];
}

int sink(const Args& a) {
    Conn c(a.port);
    login(c, a);
    std::fprintf(stderr, "sink ready\n");
    long received = 0, errors = 0;
    double first_us = 0, last_us = 0;
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(std::max(a.expect, 1000L)));
    auto last = Clock::now();
    bool started = false;
    while (true) {
        if (!c.read(50)) break;
        std::string& b = c.buf();
        std::size_t pos = 0;
        while (true) {
            std::size_t m = b.find("<message", pos);
            if (m == std::string::npos) break;
            std::size_t e = b.find("</message>", m);
            if (e == std::string::npos) break;
            double now = bench::now_us();
            if (first_us == 0) first_us = now;
            last_us = now;
            std::string_view stanza(b.data() + m, e - m);
            if (stanza.find("type='error'") != std::string_view::npos ||
                stanza.find("type=\"error\"") != std::string_view::npos)
                ++errors;
            else {
                ++received;
                double sent = bench::parse_stamp_us(stanza);
                if (sent > 0) lat.push_back(now - sent);
            }
            pos = e + 10;
            last = Clock::now();
            started = true;
        }
        b.erase(0, pos);
        if (a.expect && received + errors >= a.expect) break;
        if (started && Clock::now() - last > std::chrono::milliseconds(a.idle_ms)) break;
        if (!started && Clock::now() - last > std::chrono::milliseconds(a.idle_ms * 20)) break;
    }
    std::printf("{\"received\":%ld,\"errors\":%ld,\"p50_us\":%.0f,\"p99_us\":%.0f,"
                "\"span_s\":%.3f}\n",
                received, errors, percentile(lat, 0.5), percentile(lat, 0.99),
                (last_us - first_us) / 1e6);
    return 0;
}

int source(const Args& a) {
    Conn c(a.port);
    login(c, a);
    auto start = Clock::now();
    long errors = 0;
    auto count_errors = [&] {
        std::string& b = c.buf();
        std::size_t p = 0;
        while ((p = b.find("type='error'", p)) != std::string::npos) ++errors, ++p;
        std::size_t keep = b.size() > 64 ? b.size() - 64 : 0;
        b.erase(0, keep);
    };
    const std::string type_attr = a.type.empty() ? "" : "' type='" + a.type;
    auto target = [&](long i) {
        return a.to_count > 1 ? a.to + std::to_string(i % a.to_count) + "@" + a.to_domain : a.to;
    };
    if (a.warmup_ms > 0) {
        for (long i = 0; i < a.to_count; ++i)
            c.send("<message to='" + target(i) + type_attr + "' id='w" + std::to_string(i) +
                   "'><body>warmup</body></message>");
        auto until = Clock::now() + std::chrono::milliseconds(a.warmup_ms);
        while (Clock::now() < until) c.read(20);
        count_errors();
        std::fprintf(stderr, "warmup done, errors %ld\n", errors);
        errors = 0;
        start = Clock::now();
    }
    for (long i = 0; i < a.count; ++i) {
        auto due = start + std::chrono::microseconds(
                               static_cast<long>(static_cast<double>(i) * 1e6 / a.rate));
        while (Clock::now() < due) {
            c.read(0);
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        c.send("<message to='" + target(i) + type_attr + "' id='b" + std::to_string(i) +
               "'><body>" + bench::stamp() + " n=" + std::to_string(i) + "</body></message>");
        if ((i & 255) == 0) {
            c.read(0);
            count_errors();
        }
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    auto end = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < end) c.read(100);
    count_errors();
    std::printf("{\"sent\":%ld,\"seconds\":%.3f,\"errors\":%ld}\n", a.count, secs, errors);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    Args a;
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s sink|source [options]\n", argv[0]);
        return 2;
    }
    a.mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--port")
            a.port = std::atoi(v.c_str());
        else if (k == "--user")
            a.user = v;
        else if (k == "--password")
            a.password = v;
        else if (k == "--domain")
            a.domain = v;
        else if (k == "--to")
            a.to = v;
        else if (k == "--to-count")
            a.to_count = std::atol(v.c_str());
        else if (k == "--to-domain")
            a.to_domain = v;
        else if (k == "--count")
            a.count = std::atol(v.c_str());
        else if (k == "--expect")
            a.expect = std::atol(v.c_str());
        else if (k == "--idle-ms")
            a.idle_ms = std::atol(v.c_str());
        else if (k == "--type")
            a.type = v;
        else if (k == "--warmup-ms")
            a.warmup_ms = std::atol(v.c_str());
        else if (k == "--rate")
            a.rate = std::atof(v.c_str());
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    return a.mode == "sink" ? sink(a) : a.mode == "source" ? source(a) : 2;
}
