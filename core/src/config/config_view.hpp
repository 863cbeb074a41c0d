// SPDX-License-Identifier: Apache-2.0
// sdk::ConfigView over an nlohmann::json section (nlohmann types stay inside the core).
// Errors: an absent key is ErrorCode::ItemNotFound; a value of the wrong type, an integer out of
// int64 range or a malformed JSON Pointer is ErrorCode::InvalidConfig, with a message naming the
// pointer and the expected type. Nothing throws (the getters are noexcept by SDK contract).
#pragma once

#include <nlohmann/json.hpp>

#include "stox/sdk/config.hpp"

namespace stox::core::config {

class JsonConfigView final : public sdk::ConfigView {
public:
    explicit JsonConfigView(nlohmann::json section) : j_(std::move(section)) {}
    [[nodiscard]] bool has(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::string>
    get_string(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::int64_t>
    get_int(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<double> get_double(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<bool> get_bool(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::vector<std::string>>
    get_string_list(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::vector<std::string>>
    keys(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::size_t> size(std::string_view pointer) const noexcept override;
    [[nodiscard]] std::string to_json() const override {
        // Replace invalid UTF-8 rather than throw: a view built in code may hold any bytes.
        return j_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    [[nodiscard]] const nlohmann::json& json() const noexcept { return j_; }

private:
    const nlohmann::json* find(std::string_view pointer) const noexcept;
    nlohmann::json j_;
};

} // namespace stox::core::config
