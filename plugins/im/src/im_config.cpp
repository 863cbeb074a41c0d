// SPDX-License-Identifier: Apache-2.0
#include "im_config.hpp"

#include "stox/sdk/format.hpp"

namespace stox::plugins::im {

namespace {

using stox::sdk::ErrorCode;
using stox::sdk::Status;

// Bounds repeat plugin.json's config_schema (the config test checks that they agree).
Status read_int(const stox::sdk::ConfigView& v, std::string_view key, std::int64_t min,
                std::int64_t max, std::int64_t& out) {
    if (!v.has(key)) return {};
    auto r = v.get_int(key);
    if (!r)
        return Status(ErrorCode::InvalidConfig,
                      stox::sdk::format("{}: {}", key, r.status().message()));
    if (*r < min || *r > max)
        return Status(ErrorCode::InvalidConfig,
                      stox::sdk::format("{}: {} is outside [{}, {}]", key, *r, min, max));
    out = *r;
    return {};
}

Status read_bool(const stox::sdk::ConfigView& v, std::string_view key, bool& out) {
    if (!v.has(key)) return {};
    auto r = v.get_bool(key);
    if (!r)
        return Status(ErrorCode::InvalidConfig,
                      stox::sdk::format("{}: {}", key, r.status().message()));
    out = *r;
    return {};
}

Status read_string(const stox::sdk::ConfigView& v, std::string_view key, std::string& out) {
    if (!v.has(key)) return {};
    auto r = v.get_string(key);
    if (!r)
        return Status(ErrorCode::InvalidConfig,
                      stox::sdk::format("{}: {}", key, r.status().message()));
    out = *r;
    return {};
}

} // namespace

stox::sdk::Result<ImConfig> load_config(const stox::sdk::ConfigView& view) {
    ImConfig c;
    std::int64_t v = 0;
    auto size_key = [&](std::string_view key, std::int64_t min, std::int64_t max,
                        std::size_t& field) -> Status {
        v = static_cast<std::int64_t>(field);
        Status s = read_int(view, key, min, max, v);
        if (s) field = static_cast<std::size_t>(v);
        return s;
    };
    auto ms_key = [&](std::string_view key, std::int64_t min, std::int64_t max,
                      std::chrono::milliseconds& field) -> Status {
        v = field.count();
        Status s = read_int(view, key, min, max, v);
        if (s) field = std::chrono::milliseconds(v);
        return s;
    };

    v = c.success_status;
    if (Status s = read_int(view, "/success_status", 200, 202, v); !s) return s;
    if (v != 200 && v != 202)
        return Status(ErrorCode::InvalidConfig, "/success_status: must be 200 or 202");
    c.success_status = static_cast<int>(v);
    if (Status s = ms_key("/await_window_ms", 0, 10000, c.await_window); !s) return s;
    if (Status s = ms_key("/answer_deadline_ms", 1000, 31000, c.answer_deadline); !s) return s;
    if (Status s = read_bool(view, "/restrict_from_domains", c.restrict_from_domains); !s) return s;
    if (Status s = read_bool(view, "/xhtml_im", c.xhtml_im); !s) return s;
    if (Status s = read_string(view, "/message_type", c.message_type); !s) return s;
    if (c.message_type != "normal" && c.message_type != "chat")
        return Status(ErrorCode::InvalidConfig, "/message_type: must be \"normal\" or \"chat\"");
    if (Status s = size_key("/max_stanza_bytes", 1024, 1048576, c.max_stanza_bytes); !s) return s;
    std::string non_xml = "strip";
    if (Status s = read_string(view, "/non_xml_chars", non_xml); !s) return s;
    if (non_xml == "strip")
        c.non_xml_chars = NonXmlChars::Strip;
    else if (non_xml == "reject")
        c.non_xml_chars = NonXmlChars::Reject;
    else
        return Status(ErrorCode::InvalidConfig, "/non_xml_chars: must be \"strip\" or \"reject\"");
    if (Status s = size_key("/max_pending_deliveries", 1, 100000, c.max_pending_deliveries); !s)
        return s;
    if (Status s = size_key("/max_sip_message_bytes", 512, 65535, c.max_sip_message_bytes); !s)
        return s;
    if (Status s = size_key("/max_queue_per_destination", 0, 10000, c.max_queue_per_destination);
        !s)
        return s;
    if (Status s = size_key("/max_destinations", 1, 1000000, c.max_destinations); !s) return s;
    if (Status s = size_key("/max_queued_messages", 0, 1000000, c.max_queued_messages); !s)
        return s;
    if (Status s = size_key("/max_tracked_threads", 1, 1000000, c.max_tracked_threads); !s)
        return s;
    if (Status s = ms_key("/sip_response_guard_ms", 1000, 300000, c.sip_response_guard); !s)
        return s;
    // The deadline must leave room for the window, or every delivery would end in 408.
    if (c.answer_deadline <= c.await_window + std::chrono::milliseconds(500))
        return Status(ErrorCode::InvalidConfig,
                      "/answer_deadline_ms: must exceed /await_window_ms by more than 500 ms");
    return c;
}

} // namespace stox::plugins::im
