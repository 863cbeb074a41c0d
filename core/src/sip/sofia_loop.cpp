// SPDX-License-Identifier: Apache-2.0
#include "sip/sofia_loop.hpp"

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include <atomic>
#include <stdexcept>

namespace stox::core::sip {
namespace {

using Fn = std::function<void()>;

void trampoline(su_root_magic_t*, su_msg_r msg, su_msg_arg_t* arg) {
    (void)msg;
    Fn* fn = *static_cast<Fn**>(static_cast<void*>(arg));
    try {
        (*fn)();
    } catch (...) {
        // Nothing may unwind through sofia's C frames; the endpoint logs its own failures.
    }
    delete fn;
}

} // namespace

SofiaLoop::SofiaLoop() {
    std::promise<void> ready;
    auto fut = ready.get_future();
    thread_ = std::thread([this, &ready] { thread_main(ready); });
    fut.get(); // rethrows if the root could not be created
}

void SofiaLoop::thread_main(std::promise<void>& ready) {
    thread_id_ = std::this_thread::get_id();
    su_init();
    root_ = su_root_create(nullptr);
    if (!root_) {
        su_deinit();
        ready.set_exception(std::make_exception_ptr(std::runtime_error("su_root_create failed")));
        return;
    }
    ready.set_value();
    su_root_run(root_);
    // Drain messages posted while stopping so their closures are freed.
    for (int i = 0; i < 16; ++i) su_root_step(root_, 0);
    su_root_destroy(root_);
    su_deinit();
}

SofiaLoop::~SofiaLoop() {
    if (root_ && thread_.joinable()) {
        su_root_t* root = root_;
        post([root] { su_root_break(root); });
    }
    if (thread_.joinable()) thread_.join();
}

bool SofiaLoop::on_loop_thread() const noexcept {
    return std::this_thread::get_id() == thread_id_;
}

bool SofiaLoop::post(std::function<void()> fn) noexcept {
    if (!root_) return false;
    try {
        su_msg_r msg = SU_MSG_R_INIT;
        if (su_msg_create(msg, su_root_task(root_), su_task_null, trampoline, sizeof(Fn*)) != 0)
            return false;
        *static_cast<Fn**>(static_cast<void*>(su_msg_data(msg))) = new Fn(std::move(fn));
        if (su_msg_send(msg) != 0)
            return false; // the message (and closure) is lost: rare, logged by caller
        return true;
    } catch (...) {
        return false;
    }
}

} // namespace stox::core::sip
