// SPDX-License-Identifier: Apache-2.0
// MemoryStore (stox-core §2.6 state, `store: "memory"`) and the open_store() factory.
#include <gtest/gtest.h>

#include <vector>

#include "store/memory_store.hpp"

namespace st = stox::presence::store;

namespace {

st::WatcherRecord watcher(const std::string& u, const std::string& c) {
    st::WatcherRecord w;
    w.key = {u, c};
    w.authorized = true;
    w.announced_resources = {"balcony", "orchard"};
    st::DialogRecord d;
    d.call_id = "cid-" + u;
    d.local_tag = "lt";
    d.remote_tag = "rt";
    d.route_set = {"<sip:p1.example.net;lr>"};
    d.local_cseq = 3;
    d.state = st::SubState::active;
    w.dialog = d;
    return w;
}

std::vector<st::WatcherRecord> load_watchers(st::SubscriptionStore& s) {
    std::vector<st::WatcherRecord> out;
    auto r = s.load_all({[&](st::WatcherRecord&& w) { out.push_back(std::move(w)); }, {}});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return out;
}

TEST(StoreMemory, PutOverwriteEraseLoad) {
    st::MemoryStore s;
    s.put_watcher(watcher("juliet@example.com", "sip:romeo@example.net"));
    auto w2 = watcher("juliet@example.com", "sip:romeo@example.net");
    w2.subscribed_sent = true;
    s.put_watcher(w2); // same key: overwrite
    s.put_watcher(watcher("nurse@example.com", "sip:romeo@example.net"));
    st::NotifierRecord n;
    n.key = {"sip:romeo@example.net", "juliet@example.com"};
    n.approval = st::Approval::approved;
    s.put_notifier(n);
    EXPECT_EQ(s.watcher_count(), 2U);

    auto ws = load_watchers(s);
    ASSERT_EQ(ws.size(), 2U);
    EXPECT_EQ(ws[0], w2);
    std::vector<st::NotifierRecord> ns;
    auto r = s.load_all({{}, [&](st::NotifierRecord&& x) { ns.push_back(std::move(x)); }});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->watchers, 2U);
    ASSERT_EQ(ns.size(), 1U);
    EXPECT_EQ(ns[0], n);

    s.erase_watcher({"juliet@example.com", "sip:romeo@example.net"});
    s.erase_notifier(n.key);
    s.erase_notifier(n.key); // erasing twice is harmless
    EXPECT_EQ(load_watchers(s).size(), 1U);
    EXPECT_EQ(s.notifier_count(), 0U);
    EXPECT_TRUE(s.flush().ok());
    EXPECT_TRUE(s.health().ok());
}

TEST(StoreMemory, VisitorMayWriteBack) {
    st::MemoryStore s;
    s.put_watcher(watcher("a@example.com", "sip:b@example.net"));
    auto r = s.load_all({[&](st::WatcherRecord&& w) {
                             w.pending_out = true;
                             s.put_watcher(w); // would deadlock if load_all held the lock
                         },
                         {}});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(load_watchers(s).at(0).pending_out);
}

TEST(StoreFactory, MemoryAndBadOptions) {
    st::StoreOptions o;
    o.kind = st::StoreOptions::Kind::memory;
    auto m = st::open_store(o);
    ASSERT_TRUE(m.ok());
    EXPECT_NE(dynamic_cast<st::MemoryStore*>(m.value().get()), nullptr);

    o.kind = st::StoreOptions::Kind::sqlite; // no path
    auto bad = st::open_store(o);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), stox::sdk::ErrorCode::InvalidConfig);

    o.path = "/tmp/whatever.db";
    o.batch_max_records = 0;
    bad = st::open_store(o);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), stox::sdk::ErrorCode::InvalidConfig);
    EXPECT_NE(bad.status().message().find("/tmp/whatever.db"), std::string::npos);
}

} // namespace
