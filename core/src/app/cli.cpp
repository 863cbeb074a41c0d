// SPDX-License-Identifier: Apache-2.0
// The stoxgw command line. Commands:
//   stoxgw [run] [--config FILE] [--config-dir DIR] [--plugin-path DIR]...
//   stoxgw check-config --config FILE [--config-dir DIR] [--plugin-path DIR]...
//   stoxgw list-plugins [--config FILE] [--plugin-path DIR]... [--json]
//   stoxgw map-address ADDRESS [--scheme sip|sips|im|pres] [--role request-uri|to|from|contact]
//   stoxgw map-error CODE|CONDITION [--bare|--full]
//   stoxgw --version | --help
// Exit codes: 0 success, 1 the input was understood but is invalid / the gateway failed,
// 2 usage error. Errors are one line on stderr; results alone on stdout (scriptable).
#include "app/cli.hpp"

#include <boost/program_options.hpp>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/application.hpp"
#include "mapping/address_mapper.hpp"
#include "mapping/error_mapper.hpp"
#include "stox/sdk/abi.hpp"

namespace po = boost::program_options;

namespace stox::core {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;

const char* const kUsage =
    "Usage:\n"
    "  stoxgw [run] [--config FILE] [--config-dir DIR] [--plugin-path DIR]...\n"
    "      Run the gateway. Ctrl-C or SIGTERM stops it cleanly.\n"
    "  stoxgw check-config [--config FILE] [--config-dir DIR] [--plugin-path DIR]...\n"
    "      Validate the configuration (and each plugin's section against its manifest);\n"
    "      exit 0 when valid, 1 with every error listed otherwise.\n"
    "  stoxgw list-plugins [--config FILE] [--plugin-path DIR]... [--json]\n"
    "      List every plugin found: id, version, ABI, state (refused ones with the reason).\n"
    "  stoxgw map-address ADDRESS [--scheme sip|sips|im|pres] [--role ROLE]\n"
    "      Map a sip:/sips:/im:/pres: URI to a JID, or a JID to a URI (sip: by default),\n"
    "      per RFC 7247 section 6. ROLE (request-uri|to|from|contact, default to) says where\n"
    "      the URI was found: a sips: Request-URI or To is refused (RFC 7247 section 8).\n"
    "  stoxgw map-error CODE|CONDITION [--bare|--full]\n"
    "      SIP response code -> XMPP condition and type (RFC 7247 section 7.2), or XMPP\n"
    "      condition -> SIP response code (section 7.1; --full for a full-JID target,\n"
    "      default --bare).\n"
    "  stoxgw --version\n";

int usage_error(const std::string& message) {
    std::cerr << "stoxgw: " << message << "\n(see stoxgw --help)\n";
    return kExitUsage;
}

int invalid(const std::string& message) {
    std::cerr << "stoxgw: " << message << '\n';
    return kExitInvalid;
}

// "sip:x@y" is a URI; "x@y/res:with:colons" and "example.com" are JIDs: a scheme is a token
// before the first ':' with no '@' or '/' in it (RFC 3986 §3.1 scheme syntax).
std::optional<std::string> uri_scheme_of(const std::string& text) {
    auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    std::string scheme = text.substr(0, colon);
    if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return std::nullopt;
    for (char c : scheme)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
            return std::nullopt;
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return scheme;
}

int cmd_map_address(const po::variables_map& vm) {
    if (!vm.count("arg")) return usage_error("map-address needs an ADDRESS");
    const auto& args = vm["arg"].as<std::vector<std::string>>();
    if (args.size() != 1) return usage_error("map-address takes exactly one ADDRESS");
    const std::string& address = args[0];
    AddressMapperImpl mapper;

    if (auto scheme = uri_scheme_of(address)) {
        if (vm.count("scheme") && vm["scheme"].as<std::string>() != *scheme)
            return usage_error("--scheme applies to a JID; the URI already has scheme '" + *scheme +
                               "'");
        sdk::UriRole role = sdk::UriRole::To;
        std::string r = vm["role"].as<std::string>();
        if (r == "request-uri")
            role = sdk::UriRole::RequestUri;
        else if (r == "to")
            role = sdk::UriRole::To;
        else if (r == "from")
            role = sdk::UriRole::From;
        else if (r == "contact")
            role = sdk::UriRole::Contact;
        else
            return usage_error("unknown --role '" + r + "' (request-uri|to|from|contact)");
        auto jid = mapper.to_jid(address, role);
        if (!jid) return invalid("cannot map '" + address + "': " + jid.status().message());
        std::cout << *jid << '\n';
        return kExitOk;
    }
    sdk::UriScheme scheme = sdk::UriScheme::Sip;
    if (vm.count("scheme") && !parse_uri_scheme(vm["scheme"].as<std::string>(), scheme))
        return usage_error("unknown --scheme '" + vm["scheme"].as<std::string>() +
                           "' (sip|sips|im|pres)");
    auto uri = mapper.to_uri(address, scheme);
    if (!uri) return invalid("cannot map '" + address + "': " + uri.status().message());
    std::cout << *uri << '\n';
    return kExitOk;
}

int cmd_map_error(const po::variables_map& vm) {
    if (!vm.count("arg")) return usage_error("map-error needs a CODE or CONDITION");
    const auto& args = vm["arg"].as<std::vector<std::string>>();
    if (args.size() != 1) return usage_error("map-error takes exactly one CODE or CONDITION");
    if (vm.count("bare") && vm.count("full"))
        return usage_error("--bare and --full exclude each other");
    const std::string& in = args[0];
    ErrorMapperImpl mapper;

    bool numeric = !in.empty();
    for (char c : in) numeric = numeric && std::isdigit(static_cast<unsigned char>(c));
    if (numeric) {
        if (vm.count("bare") || vm.count("full"))
            return usage_error("--bare/--full apply to an XMPP condition, not a SIP code");
        if (in.size() != 3) return invalid("'" + in + "' is not a SIP response code (100-699)");
        int code = std::stoi(in);
        if (code < 100 || code > 699)
            return invalid("'" + in + "' is not a SIP response code (100-699)");
        if (code < 300)
            return invalid("SIP " + in + " is not an error: RFC 7247 section 7 maps only 3xx-6xx");
        sdk::XmppError e = mapper.sip_to_xmpp(code, {}, {});
        std::cout << e.condition << ' ' << e.type << '\n';
        return kExitOk;
    }
    if (!is_known_condition(in))
        return invalid("'" + in +
                       "' is neither a SIP response code nor an RFC 6120 stanza error condition");
    sdk::XmppToSipContext ctx;
    ctx.target = vm.count("full") ? sdk::TargetKind::Full : sdk::TargetKind::Bare;
    sdk::XmppError e;
    e.condition = in;
    e.type = std::string(default_error_type(in));
    sdk::SipError s = mapper.xmpp_to_sip(e, ctx);
    std::cout << s.status << '\n';
    return kExitOk;
}

} // namespace

int run_cli(int argc, char** argv) {
    po::options_description opts("Options");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("version", "print the version")
        ("config,c", po::value<std::string>(), "operator config file (JSON)")
        ("config-dir", po::value<std::string>(), "directory of *.json fragments merged in name order "
                                                 "(default: conf.d next to the config file)")
        ("plugin-path,p", po::value<std::vector<std::string>>()->composing(), "directory to search for plugins (repeatable)")
        ("json", "list-plugins: print JSON")
        ("scheme", po::value<std::string>(), "map-address: target URI scheme for a JID (sip|sips|im|pres)")
        ("role", po::value<std::string>()->default_value("to"), "map-address: where a URI was found")
        ("bare", "map-error: the failed request was addressed to a bare JID (default)")
        ("full", "map-error: the failed request was addressed to a full JID")
        ("command", po::value<std::string>(), "command")
        ("arg", po::value<std::vector<std::string>>(), "command arguments");
    // clang-format on
    po::positional_options_description pos;
    pos.add("command", 1).add("arg", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        return usage_error(e.what());
    }

    if (vm.count("help")) {
        std::cout << kUsage << '\n' << opts << '\n';
        return kExitOk;
    }
    if (vm.count("version")) {
        std::cout << "stoxgw " << STOX_VERSION << " (plugin ABI " << STOX_SDK_ABI_MAJOR << '.'
                  << STOX_SDK_ABI_MINOR << ", SDK " << STOX_SDK_VERSION << ")\n";
        return kExitOk;
    }
    std::string command = vm.count("command") ? vm["command"].as<std::string>() : "run";

    try {
        if (command == "map-address") return cmd_map_address(vm);
        if (command == "map-error") return cmd_map_error(vm);

        if (vm.count("arg"))
            return usage_error("unexpected argument '" +
                               vm["arg"].as<std::vector<std::string>>()[0] + "'");
        AppOptions app;
        if (vm.count("config")) app.config_file = vm["config"].as<std::string>();
        if (vm.count("config-dir")) app.config_dir = vm["config-dir"].as<std::string>();
        if (vm.count("plugin-path"))
            for (const auto& p : vm["plugin-path"].as<std::vector<std::string>>())
                app.plugin_paths.emplace_back(p);
        if (command == "run") return run_gateway(app);
        if (command == "check-config") return check_config(app);
        if (command == "list-plugins") return list_plugins(app, vm.count("json") > 0);
    } catch (const std::exception& e) {
        return invalid(std::string("internal error: ") + e.what());
    }
    return usage_error("unknown command '" + command + "'");
}

} // namespace stox::core
