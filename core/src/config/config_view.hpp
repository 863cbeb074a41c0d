// SPDX-License-Identifier: Apache-2.0
// sdk::ConfigView over an nlohmann::json section (nlohmann types stay inside the core).
#pragma once

#include <nlohmann/json.hpp>

#include "stox/sdk/config.hpp"

namespace stox::core::config {

class JsonConfigView final : public sdk::ConfigView {
public:
    explicit JsonConfigView(nlohmann::json section) : j_(std::move(section)) {}
    [[nodiscard]] bool has(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::string> get_string(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::int64_t> get_int(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<double> get_double(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<bool> get_bool(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::vector<std::string>>
    get_string_list(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::vector<std::string>>
    keys(std::string_view pointer) const noexcept override;
    [[nodiscard]] sdk::Result<std::size_t> size(std::string_view pointer) const noexcept override;
    [[nodiscard]] std::string to_json() const override { return j_.dump(); }
    [[nodiscard]] const nlohmann::json& json() const noexcept { return j_; }

private:
    const nlohmann::json* find(std::string_view pointer) const noexcept;
    nlohmann::json j_;
};

} // namespace stox::core::config
