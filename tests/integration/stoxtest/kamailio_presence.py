"""Kamailio as a SIP presence server for the SIP domain, on 127.0.0.1 (peers.md §4.5).

Users of ``sip_domain`` PUBLISH to it and it answers SUBSCRIBEs for them (presence +
presence_xml, subscriptions authorized without XCAP: ``force_active``). Requests for the XMPP
domain (SUBSCRIBEs of SIP watchers for XMPP users) are record-routed and relayed to the gateway;
in-dialog requests (the gateway's NOTIFYs to those watchers) follow their Route or Request-URI.
"""

import os
import shutil
import unittest

from . import ports, util

MODULE_DIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
DBTEXT_DIR = "/usr/share/kamailio/dbtext/kamailio"

CONFIG = r"""#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:{port}
listen=tcp:127.0.0.1:{port}
alias="{sip_domain}"
alias="127.0.0.1:{port}"
mpath="{module_dir}/"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "db_text.so"
loadmodule "presence.so"
loadmodule "presence_xml.so"
modparam("presence", "db_url", "text://{db_dir}")
modparam("presence", "server_address", "sip:127.0.0.1:{port}")
modparam("presence", "subs_db_mode", 0)
modparam("presence_xml", "db_url", "text://{db_dir}")
modparam("presence_xml", "force_active", 1)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    xlog("L_INFO", "REQ $rm $ru from $fu (source $si:$sp)\n");
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("SUBSCRIBE") && $rd == "{sip_domain}") {{ route(PRESENCE); exit; }}
        if (uri == myself && is_method("SUBSCRIBE")) {{ route(PRESENCE); exit; }}
        t_relay();
        exit;
    }}
    remove_hf("Route");
    if ($rd == "{xmpp_domain}") {{
        # A SIP watcher subscribing to an XMPP user: through the gateway, staying in the path.
        if (is_method("SUBSCRIBE")) record_route();
        $du = "sip:127.0.0.1:{gateway_port}";
        t_relay();
        exit;
    }}
    if (is_method("PUBLISH|SUBSCRIBE")) {{ route(PRESENCE); exit; }}
    if (is_method("OPTIONS")) {{ sl_send_reply("200", "OK"); exit; }}
    sl_send_reply("404", "Not Here");
}}

route[PRESENCE] {{
    if (!t_newtran()) {{ sl_reply_error(); exit; }}
    if (is_method("PUBLISH")) {{ handle_publish(); }} else {{ handle_subscribe(); }}
    exit;
}}
"""


def available():
    return (shutil.which("kamailio") is not None and
            os.path.isfile(os.path.join(MODULE_DIR, "presence.so")) and
            os.path.isfile(os.path.join(MODULE_DIR, "presence_xml.so")) and
            os.path.isdir(DBTEXT_DIR))


class KamailioPresence:
    """Start with ``start(gateway_port)``; ``port`` is its SIP port (UDP and TCP)."""

    def __init__(self, directory, sip_domain="example.net", xmpp_domain="example.com"):
        if not available():
            raise unittest.SkipTest("kamailio with presence modules is not installed "
                                    "(Debian: kamailio kamailio-presence-modules)")
        self.dir = util.fresh_dir(directory)
        self.sip_domain = sip_domain
        self.xmpp_domain = xmpp_domain
        self.port = ports.free_udp_tcp_port()
        self.log_path = os.path.join(self.dir, "kamailio.log")
        self._child = None

    def start(self, gateway_port, timeout=10.0):
        db = os.path.join(self.dir, "db")
        run = os.path.join(self.dir, "run")
        os.makedirs(db, exist_ok=True)
        os.makedirs(run, exist_ok=True)
        for table in ("version", "presentity", "active_watchers", "watchers", "xcap", "pua"):
            shutil.copy(os.path.join(DBTEXT_DIR, table), db)
        cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(port=self.port, sip_domain=self.sip_domain,
                                  xmpp_domain=self.xmpp_domain, module_dir=MODULE_DIR,
                                  db_dir=db, gateway_port=gateway_port))
        self._child = util.Child(["kamailio", "-f", cfg, "-DD", "-E", "-Y", run, "-P",
                                  os.path.join(run, "kamailio.pid")], self.log_path,
                                 cwd=self.dir)
        if not util.wait_until(lambda: ports.accepts_tcp(self.port) or
                               not self._child.running(), timeout) or not self._child.running():
            raise RuntimeError("kamailio did not start:\n" + self.logs())
        return self

    def stop(self):
        if self._child is not None:
            self._child.terminate(5.0)
            self._child = None

    def logs(self):
        return "---- kamailio (%s) ----\n%s" % (self.log_path, util.tail(self.log_path, 60))
