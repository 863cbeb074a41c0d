// SPDX-License-Identifier: Apache-2.0
/// \file config.hpp
/// Read-only, typed view of a plugin's configuration section. The core has already validated
/// it against the manifest's config_schema and applied defaults, so a key declared in the
/// schema with a default is always present.
/// Paths are JSON Pointers relative to the section ("/default_expiry", "/limits/rate").
/// Thread context: immutable; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/status.hpp"

namespace stox::sdk {

class ConfigView {
public:
    virtual ~ConfigView() = default;
    [[nodiscard]] virtual bool has(std::string_view pointer) const noexcept = 0;
    [[nodiscard]] virtual Result<std::string>
    get_string(std::string_view pointer) const noexcept = 0;
    [[nodiscard]] virtual Result<std::int64_t> get_int(std::string_view pointer) const noexcept = 0;
    [[nodiscard]] virtual Result<double> get_double(std::string_view pointer) const noexcept = 0;
    [[nodiscard]] virtual Result<bool> get_bool(std::string_view pointer) const noexcept = 0;
    [[nodiscard]] virtual Result<std::vector<std::string>>
    get_string_list(std::string_view pointer) const noexcept = 0;
    /// Member names of an object, or an error if the pointer does not name an object.
    [[nodiscard]] virtual Result<std::vector<std::string>>
    keys(std::string_view pointer) const noexcept = 0;
    /// Length of an array, or an error if the pointer does not name an array.
    [[nodiscard]] virtual Result<std::size_t> size(std::string_view pointer) const noexcept = 0;
    /// The whole section as compact JSON text (for plugins with their own JSON parser).
    [[nodiscard]] virtual std::string to_json() const = 0;
};

} // namespace stox::sdk
