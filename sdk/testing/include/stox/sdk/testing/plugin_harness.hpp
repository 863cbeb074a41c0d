// SPDX-License-Identifier: Apache-2.0
/// \file plugin_harness.hpp
/// Header-only harness that runs a plugin against deterministic fakes of every SDK service,
/// in the spirit of GStreamer's GstHarness. It depends on the SDK only and on no test framework:
/// use it from GoogleTest, Catch2, doctest or plain asserts.
///
///   stox::sdk::testing::PluginHarness h(my_address_mapper, my_error_mapper, "org.example.x");
///   h.config().set("/greeting", std::string("hi"));
///   MyPlugin plugin;
///   assert(h.start(plugin).ok());
///   auto tx = h.receive_sip(stox::sdk::testing::parse_sip_request("MESSAGE sip:a@b
///   SIP/2.0\n...")); h.xmpp().write(0);                 // the stanza the plugin sent reached the
///   server h.advance(std::chrono::milliseconds(300)); // its reply window elapses
///   assert(tx->final_response()->status == 202);
///
/// What is faked, and how:
/// - ManualExecutor: the plugin's strand. Nothing runs by itself: posted work and timers run in
///   run_pending() and advance(), on the test's thread, in a deterministic order (posts first,
///   then timers by due time, then by creation order). steady_clock starts at a fixed point.
/// - FakeSipService: records every request; the test completes one with respond().
/// - FakeXmppService: records every stanza; the test completes `done` with write() (or fail()),
///   then, for send_tracked, delivers a reply with reply() or lets the window elapse.
/// - FakeSipServerTransaction: records responses and flags a second final response.
/// - MapConfigView: a ConfigView over a map from JSON Pointer to value.
/// - RecordingLogger, FakeMetrics, FakeEventBus: record what the plugin logs, counts, publishes.
/// - The AddressMapper and ErrorMapper are the test's: a plugin must not link the core, and the
///   real mappings are the core's business. Pass the core's own implementations if your tests
///   may link them, or small fakes.
/// Completions always run "on the strand" (through the executor), never inside the call that
/// started them, as the real core guarantees. After stop() the executor is closed: like the
/// core's strand, it drops whatever is still posted and cancels the timers.
///
/// Helpers: parse_sip_request() reads a SIP request written as text; parse_xml() reads a stanza
/// written as XML; canonical_xml() / xml_equal() compare XML ignoring attribute order and
/// whitespace-only text.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "stox/sdk/sdk.hpp"

namespace stox::sdk::testing {

// =============================================================================================
// ManualExecutor
// =============================================================================================

/// The plugin's strand with a manual clock.
class ManualExecutor final : public Executor {
public:
    using Clock = std::chrono::steady_clock;

    explicit ManualExecutor(Clock::time_point start = Clock::time_point{} + std::chrono::hours(1))
        : now_(start) {}

    void post(std::function<void()> fn) noexcept override {
        if (closed_ || !fn) {
            ++dropped_;
            return;
        }
        try {
            posted_.push_back(std::move(fn));
        } catch (...) {
            ++dropped_;
        }
    }

    [[nodiscard]] TimerHandle after(std::chrono::milliseconds delay,
                                    std::function<void()> fn) noexcept override {
        if (closed_ || !fn) {
            ++dropped_;
            return TimerHandle{};
        }
        try {
            auto state = std::make_shared<TimerState>();
            timers_.push_back(Timer{now_ + std::max(delay, std::chrono::milliseconds(0)),
                                    next_seq_++, state, std::move(fn)});
            return TimerHandle(state);
        } catch (...) {
            ++dropped_;
            return TimerHandle{};
        }
    }

    [[nodiscard]] Clock::time_point now() const noexcept override { return now_; }

    /// Runs posted work and the timers due at now() until nothing is left; returns how many
    /// callbacks ran. Exceptions from callbacks propagate to the test.
    std::size_t run_pending() {
        std::size_t n = 0;
        while (true) {
            if (!posted_.empty()) {
                auto fn = std::move(posted_.front());
                posted_.pop_front();
                fn();
                ++n;
                continue;
            }
            auto it = earliest_live();
            if (it != timers_.end() && it->due <= now_) {
                Timer t = std::move(*it);
                timers_.erase(it);
                t.state->fired = true;
                t.fn();
                ++n;
                continue;
            }
            return n;
        }
    }

    /// Moves the clock forward by `d`, running each timer at its due time (posted work in
    /// between), then everything due at the end; returns how many callbacks ran.
    std::size_t advance(std::chrono::milliseconds d) {
        const Clock::time_point target = now_ + d;
        std::size_t n = run_pending();
        while (true) {
            auto it = earliest_live();
            if (it == timers_.end() || it->due > target) break;
            now_ = std::max(now_, it->due);
            n += run_pending();
        }
        now_ = target;
        return n + run_pending();
    }

    /// Timers armed and not cancelled.
    [[nodiscard]] std::size_t pending_timers() const {
        return static_cast<std::size_t>(std::count_if(
            timers_.begin(), timers_.end(), [](const Timer& t) { return !t.state->cancelled; }));
    }
    [[nodiscard]] std::size_t pending_posts() const { return posted_.size(); }
    /// Time until the next live timer, or nullopt.
    [[nodiscard]] std::optional<std::chrono::milliseconds> next_timer_in() const {
        std::optional<std::chrono::milliseconds> best;
        for (const auto& t : timers_) {
            if (t.state->cancelled) continue;
            auto in = std::chrono::duration_cast<std::chrono::milliseconds>(t.due - now_);
            if (!best || in < *best) best = in;
        }
        return best;
    }

    /// Like the core's strand after stop(): drops posted work, cancels timers, refuses more.
    void close() {
        closed_ = true;
        dropped_ += posted_.size();
        posted_.clear();
        for (auto& t : timers_) t.state->cancelled = true;
        timers_.clear();
    }
    [[nodiscard]] bool closed() const noexcept { return closed_; }
    /// Callbacks refused or dropped because the executor was closed.
    [[nodiscard]] std::size_t dropped() const noexcept { return dropped_; }

private:
    struct TimerState final : Cancellable {
        bool cancelled = false;
        bool fired = false;
        void cancel() noexcept override { cancelled = true; }
    };
    struct Timer {
        Clock::time_point due;
        std::uint64_t seq = 0;
        std::shared_ptr<TimerState> state;
        std::function<void()> fn;
    };

    std::vector<Timer>::iterator earliest_live() {
        timers_.erase(std::remove_if(timers_.begin(), timers_.end(),
                                     [](const Timer& t) { return t.state->cancelled; }),
                      timers_.end());
        return std::min_element(timers_.begin(), timers_.end(), [](const Timer& a, const Timer& b) {
            return a.due != b.due ? a.due < b.due : a.seq < b.seq;
        });
    }

    Clock::time_point now_;
    std::deque<std::function<void()>> posted_;
    std::vector<Timer> timers_;
    std::uint64_t next_seq_ = 0;
    bool closed_ = false;
    std::size_t dropped_ = 0;
};

// =============================================================================================
// RecordingLogger, FakeMetrics
// =============================================================================================

struct LogLine {
    LogLevel level = LogLevel::Info;
    std::string message;
    std::vector<std::pair<std::string, std::string>> fields;
};

/// Records every line at or above its level (Trace by default, so tests can check what would
/// be logged at each level, e.g. that message bodies never appear above Debug).
class RecordingLogger final : public Logger {
public:
    explicit RecordingLogger(LogLevel min = LogLevel::Trace) : min_(min) {}

    [[nodiscard]] bool enabled(LogLevel level) const noexcept override {
        return level >= min_ && level != LogLevel::Off;
    }
    void write(LogLevel level, std::string_view message,
               std::initializer_list<LogField> fields = {}) noexcept override {
        try {
            LogLine line{level, std::string(message), {}};
            for (const auto& f : fields) line.fields.emplace_back(f.key, f.value);
            std::lock_guard<std::mutex> lock(mu_);
            lines_.push_back(std::move(line));
        } catch (...) {
        }
    }

    void set_level(LogLevel min) noexcept { min_ = min; }
    [[nodiscard]] std::vector<LogLine> lines() const {
        std::lock_guard<std::mutex> lock(mu_);
        return lines_;
    }
    /// Whether a line at `at_least` or above contains `needle`.
    [[nodiscard]] bool contains(std::string_view needle,
                                LogLevel at_least = LogLevel::Trace) const {
        std::lock_guard<std::mutex> lock(mu_);
        return std::any_of(lines_.begin(), lines_.end(), [&](const LogLine& l) {
            return l.level >= at_least && l.message.find(needle) != std::string::npos;
        });
    }
    [[nodiscard]] std::size_t count(LogLevel level) const {
        std::lock_guard<std::mutex> lock(mu_);
        return static_cast<std::size_t>(std::count_if(
            lines_.begin(), lines_.end(), [&](const LogLine& l) { return l.level == level; }));
    }
    void clear() {
        std::lock_guard<std::mutex> lock(mu_);
        lines_.clear();
    }

private:
    std::atomic<LogLevel> min_;
    mutable std::mutex mu_;
    std::vector<LogLine> lines_;
};

class FakeCounter final : public Counter {
public:
    void add(std::uint64_t n = 1) noexcept override { v_ += n; }
    [[nodiscard]] std::uint64_t value() const noexcept override { return v_.load(); }

private:
    std::atomic<std::uint64_t> v_{0};
};

class FakeMetrics final : public Metrics {
public:
    Counter& counter(std::string_view name) noexcept override {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = counters_.find(std::string(name));
        if (it == counters_.end())
            it = counters_.emplace(std::string(name), std::make_unique<FakeCounter>()).first;
        return *it->second;
    }
    /// A counter's value; 0 for one never created.
    [[nodiscard]] std::uint64_t value(std::string_view name) const {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = counters_.find(std::string(name));
        return it == counters_.end() ? 0 : it->second->value();
    }
    [[nodiscard]] std::map<std::string, std::uint64_t> snapshot() const {
        std::lock_guard<std::mutex> lock(mu_);
        std::map<std::string, std::uint64_t> out;
        for (const auto& [k, c] : counters_) out.emplace(k, c->value());
        return out;
    }

private:
    mutable std::mutex mu_;
    std::map<std::string, std::unique_ptr<FakeCounter>> counters_;
};

// =============================================================================================
// MapConfigView
// =============================================================================================

using ConfigValue = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

/// A ConfigView over "JSON Pointer -> value" entries. Objects exist implicitly: "/a" is an
/// object when some "/a/..." is set. Arrays of strings are values; arrays of objects are not
/// supported. Errors follow the core's view: an absent key is ItemNotFound, a wrong type
/// InvalidConfig. Unlike the core, no defaults are applied: set what the test needs.
class MapConfigView final : public ConfigView {
public:
    MapConfigView& set(std::string pointer, ConfigValue value) {
        values_[std::move(pointer)] = std::move(value);
        return *this;
    }
    // Exact overloads, so that set("/flag", true) stores a boolean and set("/n", 5) an integer.
    MapConfigView& set(std::string pointer, int value) {
        return set(std::move(pointer), ConfigValue(static_cast<std::int64_t>(value)));
    }
    MapConfigView& set(std::string pointer, std::int64_t value) {
        return set(std::move(pointer), ConfigValue(value));
    }
    MapConfigView& set(std::string pointer, double value) {
        return set(std::move(pointer), ConfigValue(value));
    }
    MapConfigView& set(std::string pointer, bool value) {
        return set(std::move(pointer), ConfigValue(value));
    }
    MapConfigView& set(std::string pointer, const char* value) {
        return set(std::move(pointer), ConfigValue(std::string(value)));
    }
    MapConfigView& set(std::string pointer, std::string value) {
        return set(std::move(pointer), ConfigValue(std::move(value)));
    }
    MapConfigView& set(std::string pointer, std::vector<std::string> value) {
        return set(std::move(pointer), ConfigValue(std::move(value)));
    }
    MapConfigView& erase(std::string_view pointer) {
        values_.erase(std::string(pointer));
        return *this;
    }
    void clear() { values_.clear(); }

    [[nodiscard]] bool has(std::string_view pointer) const noexcept override {
        return pointer.empty() || values_.count(std::string(pointer)) != 0 || is_object(pointer);
    }
    [[nodiscard]] Result<std::string> get_string(std::string_view p) const noexcept override {
        return get<std::string>(p, "a string");
    }
    [[nodiscard]] Result<std::int64_t> get_int(std::string_view p) const noexcept override {
        return get<std::int64_t>(p, "an integer");
    }
    [[nodiscard]] Result<double> get_double(std::string_view p) const noexcept override {
        try {
            auto it = values_.find(std::string(p));
            if (it != values_.end())
                if (const auto* i = std::get_if<std::int64_t>(&it->second))
                    return static_cast<double>(*i);
        } catch (...) {
            return Status(ErrorCode::Internal, "out of memory");
        }
        return get<double>(p, "a number");
    }
    [[nodiscard]] Result<bool> get_bool(std::string_view p) const noexcept override {
        return get<bool>(p, "a boolean");
    }
    [[nodiscard]] Result<std::vector<std::string>>
    get_string_list(std::string_view p) const noexcept override {
        return get<std::vector<std::string>>(p, "an array of strings");
    }
    [[nodiscard]] Result<std::vector<std::string>>
    keys(std::string_view pointer) const noexcept override {
        try {
            if (!pointer.empty() && values_.count(std::string(pointer)))
                return Status(ErrorCode::InvalidConfig, std::string(pointer) + ": not an object");
            if (!pointer.empty() && !is_object(pointer))
                return Status(ErrorCode::ItemNotFound, std::string(pointer) + ": not set");
            std::vector<std::string> out;
            const std::string prefix = std::string(pointer) + "/";
            for (const auto& [k, v] : values_) {
                if (k.compare(0, prefix.size(), prefix) != 0) continue;
                std::string token = k.substr(prefix.size());
                token = unescape(token.substr(0, token.find('/')));
                if (std::find(out.begin(), out.end(), token) == out.end()) out.push_back(token);
            }
            return out;
        } catch (...) {
            return Status(ErrorCode::Internal, "out of memory");
        }
    }
    [[nodiscard]] Result<std::size_t> size(std::string_view pointer) const noexcept override {
        auto list = get_string_list(pointer);
        if (!list) return list.status();
        return list->size();
    }
    [[nodiscard]] std::string to_json() const override {
        Node root;
        for (const auto& [k, v] : values_) {
            Node* n = &root;
            std::size_t pos = 1;
            while (pos <= k.size() && !k.empty()) {
                const std::size_t end = std::min(k.find('/', pos), k.size());
                n = &n->children[unescape(k.substr(pos, end - pos))];
                pos = end + 1;
            }
            n->value = v;
        }
        std::string out;
        write(root, out);
        return out;
    }

private:
    struct Node {
        std::optional<ConfigValue> value;
        std::map<std::string, Node> children;
    };

    static std::string unescape(std::string token) {
        std::string out;
        for (std::size_t i = 0; i < token.size(); ++i) {
            if (token[i] == '~' && i + 1 < token.size() &&
                (token[i + 1] == '0' || token[i + 1] == '1')) {
                out += token[i + 1] == '0' ? '~' : '/';
                ++i;
            } else {
                out += token[i];
            }
        }
        return out;
    }
    static void write_string(std::string_view s, std::string& out) {
        out += '"';
        for (char c : s) {
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    static constexpr char kHex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += kHex[(c >> 4) & 0xF];
                    out += kHex[c & 0xF];
                } else {
                    out += c;
                }
            }
        }
        out += '"';
    }
    static void write(const Node& n, std::string& out) {
        if (n.value && n.children.empty()) {
            std::visit(
                [&](const auto& v) {
                    using V = std::decay_t<decltype(v)>;
                    if constexpr (std::is_same_v<V, std::string>) {
                        write_string(v, out);
                    } else if constexpr (std::is_same_v<V, bool>) {
                        out += v ? "true" : "false";
                    } else if constexpr (std::is_same_v<V, std::int64_t>) {
                        out += std::to_string(v);
                    } else if constexpr (std::is_same_v<V, double>) {
                        std::ostringstream s;
                        s.precision(17);
                        s << v;
                        out += s.str();
                    } else {
                        out += '[';
                        for (std::size_t i = 0; i < v.size(); ++i) {
                            if (i) out += ',';
                            write_string(v[i], out);
                        }
                        out += ']';
                    }
                },
                *n.value);
            return;
        }
        out += '{';
        bool first = true;
        for (const auto& [k, child] : n.children) {
            if (!first) out += ',';
            first = false;
            write_string(k, out);
            out += ':';
            write(child, out);
        }
        out += '}';
    }

    [[nodiscard]] bool is_object(std::string_view pointer) const {
        const std::string prefix = std::string(pointer) + "/";
        auto it = values_.lower_bound(prefix);
        return it != values_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
    }

    template <class T> Result<T> get(std::string_view pointer, const char* what) const noexcept {
        try {
            auto it = values_.find(std::string(pointer));
            if (it == values_.end())
                return Status(
                    is_object(pointer) ? ErrorCode::InvalidConfig : ErrorCode::ItemNotFound,
                    std::string(pointer) + (is_object(pointer) ? ": is an object" : ": not set"));
            if (const T* v = std::get_if<T>(&it->second)) return *v;
            return Status(ErrorCode::InvalidConfig, std::string(pointer) + ": must be " + what);
        } catch (...) {
            return Status(ErrorCode::Internal, "out of memory");
        }
    }

    std::map<std::string, ConfigValue> values_;
};

// =============================================================================================
// FakeEventBus
// =============================================================================================

/// Delivers events to subscribers through the executor (the subscriber's strand) and records
/// what was published ("name@version").
class FakeEventBus final : public EventBus {
public:
    FakeEventBus(Executor& strand, std::string origin)
        : strand_(strand), origin_(std::move(origin)) {}

    [[nodiscard]] std::vector<std::string> published() const { return published_; }
    [[nodiscard]] std::size_t subscribers(std::string_view name) const {
        return static_cast<std::size_t>(std::count_if(
            subs_.begin(), subs_.end(), [&](const Sub& s) { return *s.active && s.name == name; }));
    }
    /// Deactivates every subscription (the core does this before stop()).
    void cancel_all() {
        for (auto& s : subs_) *s.active = false;
    }

protected:
    Subscription subscribe_erased(std::string_view name, std::uint32_t version,
                                  ErasedHandler handler, SubscribeOptions /*options*/) override {
        auto active = std::make_shared<bool>(true);
        subs_.push_back(Sub{std::string(name), version, std::move(handler), active});
        return Subscription(std::make_shared<Token>(active));
    }
    void publish_erased(std::string_view name, std::uint32_t version,
                        std::shared_ptr<const void> event) override {
        published_.push_back(std::string(name) + "@" + std::to_string(version));
        for (const auto& s : subs_) {
            if (!*s.active || s.name != name || s.version != version) continue;
            strand_.post([h = s.handler, active = s.active, event] {
                if (*active) h(event.get());
            });
        }
    }
    void stamp(EventMeta& meta) const noexcept override {
        try {
            if (meta.origin.empty()) meta.origin = origin_;
        } catch (...) {
        }
        if (meta.at == std::chrono::system_clock::time_point{})
            meta.at = std::chrono::system_clock::now();
    }

private:
    struct Token final : SubscriptionToken {
        explicit Token(std::shared_ptr<bool> a) : active(std::move(a)) {}
        void unsubscribe() noexcept override { *active = false; }
        std::shared_ptr<bool> active;
    };
    struct Sub {
        std::string name;
        std::uint32_t version = 0;
        ErasedHandler handler;
        std::shared_ptr<bool> active;
    };

    Executor& strand_;
    std::string origin_;
    std::vector<Sub> subs_;
    std::vector<std::string> published_;
};

// =============================================================================================
// SIP fakes
// =============================================================================================

/// One incoming request as the plugin sees it. Records every respond(); the first final
/// response wins, as in the core, and any later one is a contract violation.
class FakeSipServerTransaction final : public SipServerTransaction {
public:
    explicit FakeSipServerTransaction(SipRequest request) : request_(std::move(request)) {}

    [[nodiscard]] const SipRequest& request() const noexcept override { return request_; }
    void respond(SipResponse response) noexcept override {
        try {
            std::lock_guard<std::mutex> lock(mu_);
            if (response.status >= 200 && final_) {
                violations_.push_back("second final response " + std::to_string(response.status) +
                                      " after " + std::to_string(final_->status));
                return;
            }
            if (response.status < 100 || response.status > 699)
                violations_.push_back("status out of range: " + std::to_string(response.status));
            responses_.push_back(response);
            if (response.status >= 200) final_ = std::move(response);
        } catch (...) {
        }
    }
    [[nodiscard]] bool answered() const noexcept override {
        std::lock_guard<std::mutex> lock(mu_);
        return final_.has_value();
    }

    [[nodiscard]] std::optional<SipResponse> final_response() const {
        std::lock_guard<std::mutex> lock(mu_);
        return final_;
    }
    /// The final status, or 0 while unanswered.
    [[nodiscard]] int status() const {
        std::lock_guard<std::mutex> lock(mu_);
        return final_ ? final_->status : 0;
    }
    [[nodiscard]] std::vector<SipResponse> responses() const {
        std::lock_guard<std::mutex> lock(mu_);
        return responses_;
    }
    [[nodiscard]] std::vector<std::string> violations() const {
        std::lock_guard<std::mutex> lock(mu_);
        return violations_;
    }

private:
    SipRequest request_;
    mutable std::mutex mu_;
    std::vector<SipResponse> responses_;
    std::optional<SipResponse> final_;
    std::vector<std::string> violations_;
};

struct SentSipRequest {
    SipRequest request;
    SipResponseHandler on_final;
    bool completed = false;
};

/// Records requests; the test answers them with respond(), which runs the completion on the
/// strand (unless the plugin was stopped).
class FakeSipService final : public SipService {
public:
    explicit FakeSipService(ManualExecutor& strand) : strand_(strand) {}

    void send_request(SipRequest request, SipResponseHandler on_final) noexcept override {
        try {
            sent_.push_back(SentSipRequest{std::move(request), std::move(on_final), false});
        } catch (...) {
        }
    }
    [[nodiscard]] std::vector<std::string> domains() const override { return domains_; }
    void set_domains(std::vector<std::string> domains) { domains_ = std::move(domains); }

    [[nodiscard]] std::size_t count() const noexcept { return sent_.size(); }
    [[nodiscard]] const SipRequest& request(std::size_t i) const { return sent_.at(i).request; }
    [[nodiscard]] const SipRequest& last() const {
        if (sent_.empty()) throw std::out_of_range("no SIP request was sent");
        return sent_.back().request;
    }
    [[nodiscard]] bool completed(std::size_t i) const { return sent_.at(i).completed; }
    /// Requests sent and not yet answered.
    [[nodiscard]] std::size_t outstanding() const {
        return static_cast<std::size_t>(std::count_if(
            sent_.begin(), sent_.end(), [](const SentSipRequest& s) { return !s.completed; }));
    }

    /// Completes request `i` with a final response and runs the strand.
    void respond(std::size_t i, SipResponse response) {
        SentSipRequest& s = sent_.at(i);
        if (s.completed) throw std::logic_error("SIP request already completed");
        if (response.status < 200)
            throw std::logic_error("only final responses complete a request");
        s.completed = true;
        if (s.on_final) strand_.post([cb = s.on_final, r = std::move(response)] { cb(r); });
        strand_.run_pending();
    }
    void respond(std::size_t i, int status, std::string reason = {},
                 std::vector<SipHeader> headers = {}) {
        SipResponse r;
        r.status = status;
        r.reason = std::move(reason);
        r.headers = std::move(headers);
        respond(i, std::move(r));
    }

private:
    ManualExecutor& strand_;
    std::vector<std::string> domains_;
    std::vector<SentSipRequest> sent_;
};

// =============================================================================================
// XMPP fake
// =============================================================================================

struct SentStanza {
    enum class State { Queued, Written, Failed, Replied, WindowElapsed };
    Stanza stanza;
    SendCompletion done;
    bool tracked = false;
    std::chrono::milliseconds window{0};
    ReplyHandler on_reply;
    State state = State::Queued;
    TimerHandle window_timer;
};

/// Records stanzas. write(i) reports them written (starting a tracked stanza's reply window),
/// fail(i, status) reports a failure, reply(i, stanza) delivers a reply within the window.
/// With auto_write, every stanza is written as soon as it is sent.
class FakeXmppService final : public XmppService {
public:
    explicit FakeXmppService(ManualExecutor& strand, std::string domain = "example.net")
        : strand_(strand), domain_(std::move(domain)) {}

    void send(Stanza stanza, SendCompletion done) noexcept override {
        record(std::move(stanza), std::move(done), false, std::chrono::milliseconds(0), {});
    }
    void send_tracked(Stanza stanza, SendCompletion done, std::chrono::milliseconds window,
                      ReplyHandler on_reply) noexcept override {
        try {
            const std::string id = stanza.attr("id");
            if (id.empty()) violations_.push_back("send_tracked without an id");
            for (const auto& s : sent_)
                if (s->tracked && s->stanza.attr("id") == id &&
                    (s->state == SentStanza::State::Queued ||
                     s->state == SentStanza::State::Written))
                    violations_.push_back("send_tracked with an id already being tracked: " + id);
            if (!on_reply) violations_.push_back("send_tracked without a reply handler");
        } catch (...) {
        }
        record(std::move(stanza), std::move(done), true, window, std::move(on_reply));
    }
    [[nodiscard]] std::string component_domain() const override { return domain_; }
    [[nodiscard]] bool connected() const noexcept override { return connected_; }

    void set_component_domain(std::string d) { domain_ = std::move(d); }
    void set_connected(bool c) noexcept { connected_ = c; }
    /// Write every stanza as soon as it is sent (the completion still runs on the strand).
    void set_auto_write(bool on) noexcept { auto_write_ = on; }

    [[nodiscard]] std::size_t count() const noexcept { return sent_.size(); }
    [[nodiscard]] const Stanza& stanza(std::size_t i) const { return sent_.at(i)->stanza; }
    [[nodiscard]] const Stanza& last() const {
        if (sent_.empty()) throw std::out_of_range("no stanza was sent");
        return sent_.back()->stanza;
    }
    [[nodiscard]] const SentStanza& at(std::size_t i) const { return *sent_.at(i); }
    [[nodiscard]] std::vector<std::string> violations() const { return violations_; }

    /// Reports stanza `i` written (status Ok) or not (any other status) and runs the strand.
    void write(std::size_t i, Status status = {}) {
        SentStanza& s = *sent_.at(i);
        if (s.state != SentStanza::State::Queued)
            throw std::logic_error("stanza " + std::to_string(i) + " was already completed");
        complete(s, std::move(status));
        strand_.run_pending();
    }
    void fail(std::size_t i, Status status) {
        if (status.ok()) throw std::logic_error("fail() needs an error status");
        write(i, std::move(status));
    }
    /// Writes every stanza still queued.
    void write_all() {
        for (auto& s : sent_)
            if (s->state == SentStanza::State::Queued) complete(*s, {});
        strand_.run_pending();
    }
    /// Delivers `reply` for tracked stanza `i` (written, window still open) and runs the strand.
    void reply(std::size_t i, Stanza reply) {
        SentStanza& s = *sent_.at(i);
        if (!s.tracked) throw std::logic_error("stanza " + std::to_string(i) + " is not tracked");
        if (s.state != SentStanza::State::Written)
            throw std::logic_error("stanza " + std::to_string(i) +
                                   " is not written or its window is over");
        s.state = SentStanza::State::Replied;
        s.window_timer.cancel();
        if (s.on_reply) strand_.post([cb = s.on_reply, r = std::move(reply)] { cb(&r); });
        strand_.run_pending();
    }

private:
    void record(Stanza stanza, SendCompletion done, bool tracked, std::chrono::milliseconds window,
                ReplyHandler on_reply) noexcept {
        try {
            auto s = std::make_shared<SentStanza>();
            s->stanza = std::move(stanza);
            s->done = std::move(done);
            s->tracked = tracked;
            s->window = window;
            s->on_reply = std::move(on_reply);
            sent_.push_back(s);
            if (auto_write_) complete(*s, {});
        } catch (...) {
        }
    }
    void complete(SentStanza& s, Status status) {
        const bool ok = status.ok();
        s.state = ok ? SentStanza::State::Written : SentStanza::State::Failed;
        if (s.done) strand_.post([cb = s.done, st = std::move(status)] { cb(st); });
        if (ok && s.tracked) {
            // The window starts when the stanza is written (xmpp.hpp ReplyHandler).
            SentStanza* p = &s;
            s.window_timer = strand_.after(s.window, [p] {
                if (p->state != SentStanza::State::Written) return;
                p->state = SentStanza::State::WindowElapsed;
                if (p->on_reply) p->on_reply(nullptr);
            });
        }
    }

    ManualExecutor& strand_;
    std::string domain_;
    bool connected_ = true;
    bool auto_write_ = false;
    std::vector<std::shared_ptr<SentStanza>> sent_; // stable addresses for window timers
    std::vector<std::string> violations_;
};

// =============================================================================================
// FakePluginContext and PluginHarness
// =============================================================================================

class FakePluginContext final : public PluginContext {
public:
    FakePluginContext(std::string plugin_id, const AddressMapper& addresses,
                      const ErrorMapper& errors)
        : id_(std::move(plugin_id)), addresses_(addresses), errors_(errors), bus_(executor_, id_),
          sip_(executor_), xmpp_(executor_) {}

    [[nodiscard]] std::string_view plugin_id() const noexcept override { return id_; }
    Logger& log() noexcept override { return log_; }
    [[nodiscard]] const ConfigView& config() const noexcept override { return config_; }
    Executor& executor() noexcept override { return executor_; }
    EventBus& bus() noexcept override { return bus_; }
    Metrics& metrics() noexcept override { return metrics_; }
    [[nodiscard]] const AddressMapper& addresses() const noexcept override { return addresses_; }
    [[nodiscard]] const ErrorMapper& errors() const noexcept override { return errors_; }
    SipService& sip() noexcept override { return sip_; }
    XmppService& xmpp() noexcept override { return xmpp_; }

    Status on_sip_request(SipRequestHandler handler) noexcept override {
        if (!claims_sip_) return Status(ErrorCode::Unsupported, "the manifest claims no SIP");
        sip_handler_ = std::move(handler);
        return {};
    }
    Status on_stanza(StanzaHandler handler) noexcept override {
        if (!claims_xmpp_) return Status(ErrorCode::Unsupported, "the manifest claims no stanzas");
        stanza_handler_ = std::move(handler);
        return {};
    }
    void set_status(HealthLevel level, std::string message) noexcept override {
        try {
            health_.emplace_back(level, std::move(message));
        } catch (...) {
        }
    }
    /// Offers SipDialogSupport (ABI 1.1) like the core; nothing else.
    void* unstable_interface(std::string_view name) noexcept override {
        if (name == kSipDialogSupportInterface && dialog_support_enabled_)
            return static_cast<SipDialogSupport*>(&dialog_support_);
        return nullptr;
    }

    // --- test side -------------------------------------------------------------------------
    /// Contact URIs are "sip:USER@<host>" (default host "gateway.test:5060").
    void set_contact_host(std::string host) { dialog_support_.host = std::move(host); }
    /// Behave like a gateway older than ABI 1.1 (no SipDialogSupport).
    void set_dialog_support(bool on) { dialog_support_enabled_ = on; }
    /// Whether the (imaginary) manifest claims SIP requests / stanzas.
    void set_claims(bool sip, bool xmpp) {
        claims_sip_ = sip;
        claims_xmpp_ = xmpp;
    }
    [[nodiscard]] const SipRequestHandler& sip_handler() const { return sip_handler_; }
    [[nodiscard]] const StanzaHandler& stanza_handler() const { return stanza_handler_; }
    /// The core cancels handlers and subscriptions before stop().
    void cancel_handlers() {
        sip_handler_ = nullptr;
        stanza_handler_ = nullptr;
        bus_.cancel_all();
    }
    /// Every set_status() call, in order.
    [[nodiscard]] const std::vector<std::pair<HealthLevel, std::string>>& health() const {
        return health_;
    }

    MapConfigView& mutable_config() { return config_; }
    ManualExecutor& manual_executor() { return executor_; }
    RecordingLogger& recording_log() { return log_; }
    FakeMetrics& fake_metrics() { return metrics_; }
    [[nodiscard]] const FakeMetrics& fake_metrics() const { return metrics_; }
    FakeEventBus& fake_bus() { return bus_; }
    FakeSipService& fake_sip() { return sip_; }
    FakeXmppService& fake_xmpp() { return xmpp_; }

private:
    struct FakeDialogSupport final : SipDialogSupport {
        std::string host = "gateway.test:5060";
        [[nodiscard]] std::string contact_uri(std::string_view user) const override {
            return "sip:" + std::string(user) + (user.empty() ? "" : "@") + host;
        }
    };
    FakeDialogSupport dialog_support_;
    bool dialog_support_enabled_ = true;
    std::string id_;
    const AddressMapper& addresses_;
    const ErrorMapper& errors_;
    RecordingLogger log_;
    MapConfigView config_;
    ManualExecutor executor_;
    FakeMetrics metrics_;
    FakeEventBus bus_;
    FakeSipService sip_;
    FakeXmppService xmpp_;
    bool claims_sip_ = true;
    bool claims_xmpp_ = true;
    SipRequestHandler sip_handler_;
    StanzaHandler stanza_handler_;
    std::vector<std::pair<HealthLevel, std::string>> health_;
};

/// Starts one plugin against the fakes and drives it.
class PluginHarness {
public:
    PluginHarness(const AddressMapper& addresses, const ErrorMapper& errors,
                  std::string plugin_id = "org.example.test")
        : ctx_(std::move(plugin_id), addresses, errors) {}
    PluginHarness(const PluginHarness&) = delete;
    PluginHarness& operator=(const PluginHarness&) = delete;
    // No stop() in the destructor: the plugin may already be gone. Call stop() explicitly.
    ~PluginHarness() = default;

    FakePluginContext& context() { return ctx_; }
    MapConfigView& config() { return ctx_.mutable_config(); }
    ManualExecutor& executor() { return ctx_.manual_executor(); }
    RecordingLogger& log() { return ctx_.recording_log(); }
    FakeMetrics& metrics() { return ctx_.fake_metrics(); }
    FakeEventBus& bus() { return ctx_.fake_bus(); }
    FakeSipService& sip() { return ctx_.fake_sip(); }
    FakeXmppService& xmpp() { return ctx_.fake_xmpp(); }
    /// Value of a counter (0 if never created).
    [[nodiscard]] std::uint64_t counter(std::string_view name) const {
        return ctx_.fake_metrics().value(name);
    }

    /// Calls plugin.start() on the "strand" and runs what it posted.
    Status start(Plugin& plugin) {
        if (plugin_ != nullptr) throw std::logic_error("the harness already ran a plugin");
        plugin_ = &plugin;
        Status s = plugin.start(ctx_);
        started_ = s.ok();
        if (started_) executor().run_pending();
        return s;
    }
    /// Applies the current config() through plugin.reconfigure().
    Status reconfigure() {
        if (plugin_ == nullptr) throw std::logic_error("no plugin started");
        Status s = plugin_->reconfigure(ctx_.config());
        executor().run_pending();
        return s;
    }
    /// As the core does: cancels handlers, subscriptions, timers and queued work, then calls
    /// plugin.stop(). Completions that arrive later are dropped.
    void stop() {
        if (plugin_ == nullptr || !started_) return;
        ctx_.cancel_handlers();
        executor().close();
        plugin_->stop();
        started_ = false;
    }
    [[nodiscard]] bool running() const noexcept { return started_; }

    /// Routes a SIP request to the plugin's handler (as the core does for a claimed request)
    /// and runs the strand. Keep the transaction to inspect the answer.
    std::shared_ptr<FakeSipServerTransaction> receive_sip(SipRequest request) {
        if (!ctx_.sip_handler()) throw std::logic_error("the plugin registered no SIP handler");
        auto tx = std::make_shared<FakeSipServerTransaction>(std::move(request));
        executor().post([h = ctx_.sip_handler(), tx] { h(tx); });
        executor().run_pending();
        return tx;
    }
    /// Routes a stanza to the plugin's handler and runs the strand.
    void receive_stanza(Stanza stanza) {
        if (!ctx_.stanza_handler())
            throw std::logic_error("the plugin registered no stanza handler");
        executor().post([h = ctx_.stanza_handler(), s = std::move(stanza)] { h(s); });
        executor().run_pending();
    }

    std::size_t run_pending() { return executor().run_pending(); }
    std::size_t advance(std::chrono::milliseconds d) { return executor().advance(d); }

private:
    FakePluginContext ctx_;
    Plugin* plugin_ = nullptr;
    bool started_ = false;
};

// =============================================================================================
// Helpers: SIP requests and XML from text
// =============================================================================================

namespace detail {
inline std::string_view trim_view(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}
inline std::string long_header_name(std::string_view name) {
    // RFC 3261 §7.3.3 compact forms.
    if (name.size() == 1) {
        switch (name[0] | 0x20) {
        case 'i': return "Call-ID";
        case 'm': return "Contact";
        case 'e': return "Content-Encoding";
        case 'l': return "Content-Length";
        case 'c': return "Content-Type";
        case 'f': return "From";
        case 's': return "Subject";
        case 'k': return "Supported";
        case 't': return "To";
        case 'v': return "Via";
        default: break;
        }
    }
    return std::string(name);
}
} // namespace detail

/// Reads a SIP request written as text ("MESSAGE sip:a@b SIP/2.0", headers, empty line, body),
/// with LF or CRLF line ends. Compact header names become long ones. The body is the text after
/// the empty line, cut to Content-Length when that header is present (Content-Length itself is
/// not kept: the stack computes it). Throws std::invalid_argument when malformed.
inline SipRequest parse_sip_request(std::string_view text) {
    SipRequest r;
    std::size_t pos = 0;
    auto next_line = [&]() -> std::optional<std::string_view> {
        if (pos >= text.size()) return std::nullopt;
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return line;
    };
    auto start = next_line();
    if (!start) throw std::invalid_argument("empty SIP request");
    const std::string_view sl = detail::trim_view(*start);
    const std::size_t sp1 = sl.find(' ');
    const std::size_t sp2 = sl.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1 || sl.substr(sp2 + 1) != "SIP/2.0")
        throw std::invalid_argument("bad request line: " + std::string(sl));
    r.method = std::string(sl.substr(0, sp1));
    r.request_uri = std::string(detail::trim_view(sl.substr(sp1 + 1, sp2 - sp1 - 1)));
    std::optional<std::size_t> content_length;
    while (auto line = next_line()) {
        if (line->empty()) break;
        if ((line->front() == ' ' || line->front() == '\t') && !r.headers.empty()) {
            r.headers.back().value += " " + std::string(detail::trim_view(*line));
            continue;
        }
        const std::size_t colon = line->find(':');
        if (colon == std::string_view::npos)
            throw std::invalid_argument("bad header line: " + std::string(*line));
        std::string name = detail::long_header_name(detail::trim_view(line->substr(0, colon)));
        std::string value(detail::trim_view(line->substr(colon + 1)));
        if (SipMessage::iequals(name, "Content-Length")) {
            content_length = static_cast<std::size_t>(std::stoul(value));
            continue;
        }
        r.headers.push_back({std::move(name), std::move(value)});
    }
    std::string_view body = pos < text.size() ? text.substr(pos) : std::string_view{};
    if (content_length) {
        if (*content_length > body.size())
            throw std::invalid_argument("Content-Length larger than the body");
        body = body.substr(0, *content_length);
    }
    r.body = std::string(body);
    return r;
}

namespace detail {

class XmlReader {
public:
    XmlReader(std::string_view text, std::string default_ns)
        : s_(text), default_ns_(std::move(default_ns)) {}

    XmlElement read_document() {
        skip_misc();
        if (!peek("<")) fail("no root element");
        std::vector<std::pair<std::string, std::string>> scope{
            {"", default_ns_}, {"xml", "http://www.w3.org/XML/1998/namespace"}};
        XmlElement root = read_element(scope);
        skip_misc();
        if (i_ != s_.size()) fail("content after the root element");
        return root;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw std::invalid_argument("XML: " + what + " at offset " + std::to_string(i_));
    }
    bool peek(std::string_view t) const { return s_.substr(i_, t.size()) == t; }
    void skip_ws() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n'))
            ++i_;
    }
    void skip_misc() {
        while (true) {
            skip_ws();
            if (peek("<?"))
                skip_past("?>");
            else if (peek("<!--"))
                skip_past("-->");
            else
                return;
        }
    }
    void skip_past(std::string_view end) {
        const std::size_t e = s_.find(end, i_);
        if (e == std::string_view::npos) fail("unterminated construct");
        i_ = e + end.size();
    }
    static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == ':' || c == '.' ||
               static_cast<unsigned char>(c) >= 0x80;
    }
    std::string read_name() {
        const std::size_t start = i_;
        while (i_ < s_.size() && name_char(s_[i_])) ++i_;
        if (i_ == start) fail("name expected");
        return std::string(s_.substr(start, i_ - start));
    }
    std::string decode(std::string_view raw) const {
        std::string out;
        for (std::size_t k = 0; k < raw.size(); ++k) {
            if (raw[k] != '&') {
                out += raw[k];
                continue;
            }
            const std::size_t semi = raw.find(';', k);
            if (semi == std::string_view::npos) fail("unterminated reference");
            const std::string_view ref = raw.substr(k + 1, semi - k - 1);
            if (ref == "lt")
                out += '<';
            else if (ref == "gt")
                out += '>';
            else if (ref == "amp")
                out += '&';
            else if (ref == "quot")
                out += '"';
            else if (ref == "apos")
                out += '\'';
            else if (ref.size() > 1 && ref[0] == '#') {
                const bool hex = ref[1] == 'x';
                sdk::append_utf8(
                    out, static_cast<std::uint32_t>(std::stoul(std::string(ref.substr(hex ? 2 : 1)),
                                                               nullptr, hex ? 16 : 10)));
            } else {
                fail("unknown entity &" + std::string(ref) + ";");
            }
            k = semi;
        }
        return out;
    }
    static std::string lookup(const std::vector<std::pair<std::string, std::string>>& scope,
                              std::string_view prefix) {
        for (auto it = scope.rbegin(); it != scope.rend(); ++it)
            if (it->first == prefix) return it->second;
        throw std::invalid_argument("XML: undeclared prefix " + std::string(prefix));
    }

    XmlElement read_element(std::vector<std::pair<std::string, std::string>> scope) {
        ++i_; // '<'
        const std::string qname = read_name();
        std::vector<std::pair<std::string, std::string>> attrs;
        bool empty = false;
        while (true) {
            skip_ws();
            if (i_ >= s_.size()) fail("unterminated start tag");
            if (peek("/>")) {
                i_ += 2;
                empty = true;
                break;
            }
            if (s_[i_] == '>') {
                ++i_;
                break;
            }
            std::string an = read_name();
            skip_ws();
            if (i_ >= s_.size() || s_[i_] != '=') fail("'=' expected");
            ++i_;
            skip_ws();
            if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) fail("quote expected");
            const char q = s_[i_++];
            const std::size_t e = s_.find(q, i_);
            if (e == std::string_view::npos) fail("unterminated attribute");
            std::string value = decode(s_.substr(i_, e - i_));
            i_ = e + 1;
            if (an == "xmlns")
                scope.emplace_back("", value);
            else if (an.rfind("xmlns:", 0) == 0)
                scope.emplace_back(an.substr(6), value);
            else
                attrs.emplace_back(std::move(an), std::move(value));
        }
        const std::size_t colon = qname.find(':');
        const std::string prefix = colon == std::string::npos ? "" : qname.substr(0, colon);
        XmlElement e(colon == std::string::npos ? qname : qname.substr(colon + 1),
                     lookup(scope, prefix));
        for (auto& [k, v] : attrs) e.set_attr(k, v);
        if (empty) return e;
        std::string text;
        auto flush = [&] {
            if (!text.empty()) e.children().push_back(XmlElement::text_node(decode(text)));
            text.clear();
        };
        while (true) {
            if (i_ >= s_.size()) fail("unterminated element " + qname);
            if (peek("</")) {
                flush();
                i_ += 2;
                if (read_name() != qname) fail("mismatched end tag for " + qname);
                skip_ws();
                if (i_ >= s_.size() || s_[i_] != '>') fail("'>' expected");
                ++i_;
                return e;
            }
            if (peek("<!--")) {
                flush();
                skip_past("-->");
            } else if (peek("<![CDATA[")) {
                flush();
                i_ += 9;
                const std::size_t end = s_.find("]]>", i_);
                if (end == std::string_view::npos) fail("unterminated CDATA");
                e.children().push_back(XmlElement::text_node(std::string(s_.substr(i_, end - i_))));
                i_ = end + 3;
            } else if (s_[i_] == '<') {
                flush();
                e.children().push_back(read_element(scope));
            } else {
                text += s_[i_++];
            }
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::string default_ns_;
};

inline void canonical_into(const XmlElement& e, std::string& out, std::string_view parent_ns) {
    out += '<';
    out += e.name();
    if (e.ns() != parent_ns) {
        out += " xmlns='";
        XmlElement::escape_into(out, e.ns(), true);
        out += '\'';
    }
    auto attrs = e.attributes();
    std::sort(attrs.begin(), attrs.end());
    for (const auto& [k, v] : attrs) {
        out += ' ';
        out += k;
        out += "='";
        XmlElement::escape_into(out, v, true);
        out += '\'';
    }
    std::string inner;
    std::string text;
    auto flush = [&] {
        if (text.find_first_not_of(" \t\r\n") != std::string::npos)
            XmlElement::escape_into(inner, text, false);
        text.clear();
    };
    for (const auto& c : e.children()) {
        if (c.is_text()) {
            text += c.text();
        } else {
            flush();
            canonical_into(c, inner, e.ns());
        }
    }
    flush();
    if (inner.empty()) {
        out += "/>";
    } else {
        out += '>';
        out += inner;
        out += "</";
        out += e.name();
        out += '>';
    }
}

} // namespace detail

/// Parses one XML element (a stanza) from text. The root's default namespace, unless declared,
/// is `default_ns` (the component namespace, as stanzas handed to plugins carry). Supports
/// namespaces and prefixes, the five predefined entities, character references, comments and
/// CDATA; no DTDs. Throws std::invalid_argument when malformed.
inline XmlElement parse_xml(std::string_view text,
                            std::string default_ns = std::string(kComponentNs)) {
    return detail::XmlReader(text, std::move(default_ns)).read_document();
}

/// Serialization for comparisons: attributes sorted, whitespace-only text dropped, adjacent
/// text merged, xmlns written where the namespace changes (relative to `parent_ns`).
inline std::string canonical_xml(const XmlElement& e, std::string_view parent_ns = kComponentNs) {
    std::string out;
    detail::canonical_into(e, out, parent_ns);
    return out;
}

/// XML equality ignoring attribute order and whitespace-only text.
inline bool xml_equal(const XmlElement& a, const XmlElement& b) {
    return canonical_xml(a) == canonical_xml(b);
}

} // namespace stox::sdk::testing
