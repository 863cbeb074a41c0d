// SPDX-License-Identifier: Apache-2.0
#include "plugin/plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>

#include <boost/dll/shared_library.hpp>

namespace stox::core {
namespace {

namespace fs = std::filesystem;

// Every library this process opens stays loaded until the process exits, deliberately:
//  - plugin code may still be referenced after stop(): std::function targets, shared_ptr control
//    blocks and event payloads created by plugin templates (EventBus::publish<E>) live in the
//    plugin's text, and a queued callback or a late event may run them (Boost.DLL "misuses");
//  - GNU unique symbols already make dlclose a no-op for most C++ plugins (peers.md G4), so
//    "unloading" would be an illusion that breaks only sometimes.
// The registry itself is leaked (never destroyed) so that no static destructor at exit calls
// dlclose either, while other static objects may still hold plugin-created objects.
class LibraryRegistry {
public:
    static LibraryRegistry& instance() {
        static auto* registry = new LibraryRegistry(); // intentionally leaked, see above
        return *registry;
    }
    void keep(boost::dll::shared_library library) {
        std::lock_guard lock(mu_);
        libraries_.push_back(std::move(library));
    }
    std::size_t size() const {
        std::lock_guard lock(mu_);
        return libraries_.size();
    }

private:
    LibraryRegistry() = default;
    mutable std::mutex mu_;
    std::vector<boost::dll::shared_library> libraries_;
};

std::string abi_text(std::uint32_t major, std::uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

} // namespace

std::vector<fs::path> find_manifests(const std::vector<fs::path>& paths,
                                     std::vector<std::string>& problems) {
    std::vector<fs::path> found;
    std::set<fs::path> seen;
    const auto add = [&](const fs::path& manifest) {
        std::error_code ec;
        fs::path key = fs::weakly_canonical(manifest, ec);
        if (ec) key = manifest.lexically_normal();
        if (seen.insert(key).second) found.push_back(manifest);
    };
    for (const auto& entry : paths) {
        std::error_code ec;
        if (!fs::is_directory(entry, ec)) {
            problems.push_back("plugin path entry " + entry.string() +
                               (fs::exists(entry, ec) ? " is not a directory" : " does not exist"));
            continue;
        }
        if (fs::is_regular_file(entry / "plugin.json", ec)) {
            add(entry / "plugin.json");
            continue;
        }
        std::vector<fs::path> subdirs;
        fs::directory_iterator it(entry, ec);
        if (ec) {
            problems.push_back("cannot read plugin directory " + entry.string() + ": " +
                               ec.message());
            continue;
        }
        for (const fs::directory_entry& d : it) {
            std::error_code dec;
            if (d.is_directory(dec)) subdirs.push_back(d.path());
        }
        std::sort(subdirs.begin(), subdirs.end());
        for (const auto& dir : subdirs) {
            std::error_code fec;
            if (fs::is_regular_file(dir / "plugin.json", fec)) add(dir / "plugin.json");
        }
    }
    return found;
}

sdk::Status check_manifest_abi(const Manifest& manifest, const CoreAbi& core) {
    if (manifest.abi_major != core.major)
        return sdk::Status(sdk::ErrorCode::Unsupported,
                           "manifest declares ABI " +
                               abi_text(manifest.abi_major, manifest.abi_minor) +
                               ", the core has ABI major " + std::to_string(core.major));
    if (manifest.abi_minor > core.minor)
        return sdk::Status(sdk::ErrorCode::Unsupported,
                           "manifest declares ABI " +
                               abi_text(manifest.abi_major, manifest.abi_minor) +
                               ", newer than the core's ABI " + abi_text(core.major, core.minor));
    return {};
}

sdk::Status check_descriptor(const stox_plugin_descriptor_v1& d, const Manifest& manifest,
                             const CoreAbi& core) {
    const auto refuse = [](std::string why) {
        return sdk::Status(sdk::ErrorCode::Unsupported, std::move(why));
    };
    // Size first: a smaller struct means fields below are not there to read (OBS-style growth).
    if (d.struct_size < sizeof(stox_plugin_descriptor_v1))
        return refuse("descriptor struct_size " + std::to_string(d.struct_size) +
                      " is smaller than stox_plugin_descriptor_v1 (" +
                      std::to_string(sizeof(stox_plugin_descriptor_v1)) + ")");
    // GStreamer's rule: same major, minor not newer than the core.
    if (d.abi_major != core.major)
        return refuse("plugin ABI " + abi_text(d.abi_major, d.abi_minor) +
                      " has a different major than the core's ABI " +
                      abi_text(core.major, core.minor));
    if (d.abi_minor > core.minor)
        return refuse("plugin ABI " + abi_text(d.abi_major, d.abi_minor) +
                      " is newer than the core's ABI " + abi_text(core.major, core.minor));
    if (d.build_fingerprint == nullptr) return refuse("descriptor has no build fingerprint");
    if (std::string_view(d.build_fingerprint) != core.fingerprint)
        return refuse("build fingerprint '" + std::string(d.build_fingerprint) +
                      "' differs from the core's '" + std::string(core.fingerprint) +
                      "' (rebuild the plugin with the core's toolchain)");
    if (d.id == nullptr || d.version == nullptr) return refuse("descriptor has no id or version");
    if (std::string_view(d.id) != manifest.id)
        return refuse("descriptor id '" + std::string(d.id) + "' differs from the manifest id '" +
                      manifest.id + "'");
    if (std::string_view(d.version) != manifest.version)
        return refuse("descriptor version '" + std::string(d.version) +
                      "' differs from the manifest version '" + manifest.version + "'");
    if (d.create == nullptr || d.destroy == nullptr)
        return refuse("descriptor has no create or destroy function");
    return {};
}

sdk::Result<const stox_plugin_descriptor_v1*>
open_plugin(const Manifest& manifest, const fs::path& library, const CoreAbi& core) noexcept {
    using R = sdk::Result<const stox_plugin_descriptor_v1*>;
    try {
        std::error_code ec;
        if (!fs::is_regular_file(library, ec))
            return R(sdk::ErrorCode::ItemNotFound, "library " + library.string() + " not found");

        boost::dll::shared_library lib;
        lib.load(library, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
        if (ec || !lib.is_loaded()) {
            // Boost.DLL only reports a generic code; dlerror() still holds the loader's reason
            // (undefined symbol, wrong ELF class, ...). Safe: we are the only loader thread.
            const char* why = ::dlerror(); // NOLINT(concurrency-mt-unsafe): loader thread only
            return R(sdk::ErrorCode::Internal, "cannot load library " + library.string() + ": " +
                                                   (why != nullptr ? why : ec.message()));
        }
        // From here on the library is kept whatever happens: static initialisers have run.
        const bool has_descriptor = lib.has(kDescriptorSymbol);
        const stox_plugin_descriptor_v1* descriptor =
            has_descriptor ? &lib.get<const stox_plugin_descriptor_v1>(kDescriptorSymbol) : nullptr;
        LibraryRegistry::instance().keep(std::move(lib));
        if (descriptor == nullptr)
            return R(sdk::ErrorCode::Unsupported,
                     std::string("library exports no '") + kDescriptorSymbol + "' descriptor");
        if (auto st = check_descriptor(*descriptor, manifest, core); !st.ok()) return R(st);
        return R(descriptor);
    } catch (const std::exception& e) {
        return R(sdk::ErrorCode::Internal,
                 "cannot load library " + library.string() + ": " + e.what());
    } catch (...) {
        return R(sdk::ErrorCode::Internal, "cannot load library " + library.string());
    }
}

std::size_t opened_library_count() noexcept {
    try {
        return LibraryRegistry::instance().size();
    } catch (...) {
        return 0;
    }
}

} // namespace stox::core
