// SPDX-License-Identifier: Apache-2.0
// sofia-sip runs on a dedicated thread with its own su_root (sofia: "only a single thread can
// execute code within a task"; peers.md §3b approach A, measured 13k msg/s, sanitizer-clean).
// Asio -> sofia: post() (su_msg_send, thread-safe, wakes su_root_run).
// sofia -> Asio: the callbacks posted by the endpoint onto plugin strands.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <thread>

struct su_root_s;

namespace stox::core::sip {

class SofiaLoop {
public:
    /// Starts the sofia thread (su_init, su_root_create) and returns once the root exists.
    SofiaLoop();
    /// Runs pending work, then stops and joins the thread.
    ~SofiaLoop();
    SofiaLoop(const SofiaLoop&) = delete;
    SofiaLoop& operator=(const SofiaLoop&) = delete;

    /// Runs fn on the sofia thread. Safe from any thread, including the sofia thread itself
    /// (then it runs after the current callback). Returns false once the loop has stopped.
    bool post(std::function<void()> fn) noexcept;
    /// Runs fn on the sofia thread and waits for it (never call from the sofia thread).
    template <class F> auto call(F&& fn) -> decltype(fn()) {
        if (on_loop_thread()) return fn();
        std::packaged_task<decltype(fn())()> task(std::forward<F>(fn));
        auto fut = task.get_future();
        post([&task] { task(); });
        return fut.get();
    }
    [[nodiscard]] bool on_loop_thread() const noexcept;
    /// The root; only to be used on the sofia thread.
    [[nodiscard]] su_root_s* root() const noexcept { return root_; }

private:
    void thread_main(std::promise<void>& ready);
    su_root_s* root_ = nullptr;
    std::thread thread_;
    std::thread::id thread_id_;
};

} // namespace stox::core::sip
