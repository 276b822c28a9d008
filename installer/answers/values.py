"""Value kinds: the checks shared by the validator and the JSON Schema (names, networks,
restrictions, blocklists)."""
from __future__ import annotations

import re
from typing import Dict, Optional, Tuple

from installer.i18n import Msg, N_
from installer.answers.errors import _LABEL, _LABEL_RE, _closest, _show


def _fqdn_problem(value: str, min_labels: int = 2) -> Optional[Msg]:
    if value.endswith("."):
        return Msg(N_("{value}: write the name without the trailing dot"), value=_show(value))
    if len(value) > 253:
        return Msg(N_("a domain name is at most 253 characters long"))
    labels = value.split(".")
    if any(not label for label in labels):
        return Msg(N_("{value} has an empty label (two dots in a row, or a dot at the start)"), value=_show(value))
    for label in labels:
        if len(label) > 63:
            return Msg(N_("the label {label} is longer than 63 characters"), label=_show(label))
        if not _LABEL_RE.match(label):
            return Msg(N_("the label {label} may contain only letters, digits and hyphens, and must not start "
                          "or end with a hyphen"), label=_show(label))
    if labels[-1].isdigit():
        return Msg(N_("{value} looks like an IP address; a domain name is expected here"), value=_show(value))
    if len(labels) < min_labels:
        return Msg(N_("{value} is not fully qualified: add its domain, e.g. {example}"), value=_show(value),
                   example=value + ".example.com")
    return None


def _ip(value: str):
    """An ipaddress object, or None.  Scope ids (fe80::1%eth0) are refused."""
    import ipaddress
    if "%" in value:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


_PRIVATE_BLOCKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
                   "100.64.0.0/10", "fc00::/7", "fe80::/10", "::1/128")


# IPv6 ranges that carry the whole IPv4 internet: Teredo (any client behind any
# relay, RFC 4380) is never trusted; IPv4-mapped and NAT64 (RFC 6052, 8215)
# addresses are judged as the IPv4 network they stand for.
_TEREDO = "2001::/32"
_IPV4_IN_IPV6 = ("::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")


# Common public suffixes of two labels or more (one label, "com", is already not a
# fully qualified name).  A short built-in list, not the whole Public Suffix List:
# the country second levels and the shared hosting domains people meet most.
PUBLIC_SUFFIXES = frozenset("""
co.uk org.uk ac.uk gov.uk ltd.uk plc.uk me.uk net.uk sch.uk nhs.uk
co.jp ne.jp or.jp ac.jp ad.jp ed.jp go.jp gr.jp lg.jp tokyo.jp osaka.jp kyoto.jp
com.au net.au org.au edu.au gov.au id.au asn.au co.nz net.nz org.nz govt.nz ac.nz
com.br net.br org.br gov.br com.cn net.cn org.cn gov.cn edu.cn com.hk net.hk org.hk
com.tw net.tw org.tw edu.tw co.kr or.kr ne.kr go.kr ac.kr co.in net.in org.in firm.in gen.in ind.in
co.za org.za gov.za com.mx org.mx com.ar com.tr com.sg com.my co.id co.th com.ph com.vn com.ua
co.il org.il com.pl com.es co.at or.at com.ru com.de com.fr com.cy com.eg com.sa com.pk
eu.com us.com uk.com github.io gitlab.io herokuapp.com blogspot.com appspot.com cloudfront.net
amazonaws.com azurewebsites.net netlify.app vercel.app pages.dev workers.dev
""".split())


def _too_broad(net) -> bool:
    """True when trusting *net* would trust too much of the internet (see the module docstring)."""
    import ipaddress
    if net.version == 6:
        if net.overlaps(ipaddress.ip_network(_TEREDO)):
            return True
        for block in map(ipaddress.ip_network, _IPV4_IN_IPV6):
            if net.subnet_of(block) and net.prefixlen >= 96:
                net = ipaddress.ip_network("%s/%d" % (
                    ipaddress.ip_address(int(net.network_address) & 0xFFFFFFFF), net.prefixlen - 96))
                break
            if net.overlaps(block):
                return True
    private = any(net.version == block.version and net.subnet_of(block)
                  for block in (ipaddress.ip_network(b) for b in _PRIVATE_BLOCKS))
    if net.version == 4:
        return net.prefixlen < 8 or (not private and net.prefixlen < 16)
    return net.prefixlen < 7 or (not private and net.prefixlen < 32)


_BROAD_MSG = N_("{value} trusts too much of the internet: hosts in it may relay mail anywhere (an open relay). "
                "Private ranges may be as wide as their block (10.0.0.0/8, fc00::/7); other networks at most "
                "/16 for IPv4 and /32 for IPv6")


def _network(value: str) -> Tuple[Optional[str], Optional[Msg]]:
    """Normalised CIDR text, or a problem."""
    import ipaddress
    text = value
    bracketed = re.match(r"\[([0-9A-Fa-f:.]+)\](/\d+)?\Z", text)
    if bracketed:
        text = bracketed.group(1) + (bracketed.group(2) or "")
    if "/" not in text:
        address = _ip(text)
        if address is not None:
            return None, Msg(N_("{value} needs a prefix length in CIDR form, e.g. {example}"), value=_show(value),
                             example="%s/%d" % (address, address.max_prefixlen))
        return None, Msg(N_("{value} is not a network in CIDR form, e.g. 192.168.1.0/24 or 2001:db8::/48"),
                         value=_show(value))
    if "%" in text:
        return None, Msg(N_("{value}: scope ids (%...) are not allowed"), value=_show(value))
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None, Msg(N_("{value} is not a network in CIDR form, e.g. 192.168.1.0/24 or 2001:db8::/48"),
                         value=_show(value))
    if loose.network_address != ipaddress.ip_interface(text).ip:
        return None, Msg(N_("{value} has host bits set; did you mean {network}?"), value=_show(value),
                         network=str(loose))
    return str(loose), None


class Kind:
    """A kind of text value: its JSON Schema pattern, what is valid, and its own checks."""

    def __init__(self, name: str, pattern: str, expected: Msg, check=None, max_length: int = 255):
        self.name = name
        self.pattern = pattern
        self._regex = None          # compiled on first use: importing this module stays cheap
        self.expected = expected
        self.check = check            # value -> (normalised value, Optional[Msg])
        self.max_length = max_length

    def validate(self, value: str) -> Tuple[str, Optional[Msg]]:
        if self.check is not None:
            normal, problem = self.check(value)
            if problem is not None:
                return value, problem
            value = normal
        if self._regex is None:
            self._regex = re.compile(self.pattern)
        if not self._regex.search(value):
            return value, Msg(N_("{value} is not valid here; expected {expected}"), value=_show(value),
                              expected=self.expected)
        return value, None


def _plain(problem_fn):
    """A check that only finds problems (does not normalise)."""
    def check(value: str):
        return value, problem_fn(value)
    return check


_HOST_PATTERN = r"^%s(\.%s)+$" % (_LABEL, _LABEL)


_DOMAIN1_PATTERN = r"^%s(\.%s)*$" % (_LABEL, _LABEL)


_TEXT_CHARS = r"[A-Za-z0-9 .,:;()_@!?/=+'-]"


def _origin_problem(value: str) -> Optional[Msg]:
    if value in ("$mydomain", "$myhostname"):
        return None
    if "$" in value:
        return Msg(N_("{value} is not valid here; expected $mydomain, $myhostname or a domain name"),
                   value=_show(value))
    return _fqdn_problem(value, 1)


def _destination_problem(value: str) -> Optional[Msg]:
    if value in ("$mydomain", "$myhostname"):
        return None
    if value.endswith(".$mydomain"):
        return _fqdn_problem(value[:-len(".$mydomain")], 1)
    if "$" in value:
        return Msg(N_("{value}: only $myhostname, $mydomain and name.$mydomain may use $"), value=_show(value))
    if ":" in value or "/" in value:
        return Msg(N_("{value}: lookup tables and files are not allowed here; list domain names"),
                   value=_show(value))
    return _fqdn_problem(value, 1)


def _ip_problem(value: str) -> Optional[Msg]:
    if _ip(value) is None:
        return Msg(N_("{value} is not an IP address"), value=_show(value))
    return None


def _listen_problem(value: str) -> Optional[Msg]:
    if value in ("*", "::"):
        return None
    if _ip(value) is None:
        return Msg(N_("{value} is not \"*\", \"::\" or an IP address"), value=_show(value))
    return None


def _mailbox_problem(value: str) -> Optional[Msg]:
    parts = (value[:-1] if value.endswith("/") else value).split("/")
    if value.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return Msg(N_("{value}: expected a path relative to the home folder, e.g. Maildir/ (a Maildir) or "
                      "Mailbox (a file), without . or .. parts"), value=_show(value))
    return None


_BANNER_VAR = r"\$(myhostname|mydomain)(?![A-Za-z0-9_])"


def _banner_problem(value: str) -> Optional[Msg]:
    if not re.match(r"\$myhostname(?![A-Za-z0-9_])", value):
        return Msg(N_("the banner must start with $myhostname (the SMTP protocol requires it), e.g. "
                      "\"$myhostname ESMTP\""))
    lowered = value.lower()
    if "postfix" in lowered or "$mail_name" in lowered or "$mail_version" in lowered or "${mail_" in lowered:
        return Msg(N_("the banner must not name the mail software or its version; e.g. \"$myhostname ESMTP\""))
    return None


def _mail_location_problem(value: str) -> Optional[Msg]:
    driver, _, where = value.partition(":")
    path = where[1:] if where.startswith("~") else where
    if ".." in path.split("/") or re.search(r"%(?![udnh])", path):
        return Msg(N_("{value}: no .. parts, and only %u, %n, %d, %h may follow %"), value=_show(value))
    return None


def _relayhost_problem(value: str) -> Optional[Msg]:
    match = re.match(r"(\[([^\]]*)\]|([^:\[\]]*))(:(\d{1,5}))?\Z", value)
    if not match:
        return Msg(N_("{value} is not a relay host: write \"[smtp.example.net]:587\" or \"smtp.example.net\""),
                   value=_show(value))
    host = match.group(2) if match.group(2) is not None else match.group(3)
    port = match.group(5)
    if port is not None and not 1 <= int(port) <= 65535:
        return Msg(N_("port {port} is out of range (1-65535)"), port=port)
    if match.group(2) is not None:
        if _ip(host) is not None:
            return None
        return _fqdn_problem(host, 2)
    if _ip(host) is not None:
        return Msg(N_("put an IP address in brackets so that no MX lookup is done: {example}"),
                   example="[%s]%s" % (host, ":" + port if port else ""))
    return _fqdn_problem(host, 2)


def _local_part_ok(local: str) -> bool:
    return bool(re.match(r"[A-Za-z0-9_%+=-]+(\.[A-Za-z0-9_%+=-]+)*\Z", local))


def _alias_target_problem(value: str) -> Optional[Msg]:
    if "@" in value:
        local, _, domain = value.rpartition("@")
        if not _local_part_ok(local) or _fqdn_problem(domain, 1) is not None:
            return Msg(N_("{value} is not a mail address such as admin@example.com"), value=_show(value))
        return None
    if value == "root":
        return Msg(N_("root's mail cannot go to root itself; give another user or an address"))
    if not re.match(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}\Z", value):
        return Msg(N_("{value} is neither a mail address nor a local user name"), value=_show(value))
    return None


def _access_key_check(value: str) -> Tuple[str, Optional[Msg]]:
    if "@" in value:
        local, _, domain = value.rpartition("@")
        if not local or not _local_part_ok(local) or (domain and _fqdn_problem(domain, 1) is not None):
            return value, Msg(N_("{value} is not a mail address (user@example.com) or user@"), value=_show(value))
        return value, None
    if "/" in value:
        return _network_checked(value)
    if ":" in value or re.match(r"[\d.]+\Z", value):
        if _ip(value) is None:
            return value, Msg(N_("{value} is not an IP address; write networks in CIDR form, e.g. 192.0.2.0/24"),
                              value=_show(value))
        return value, None
    return value, _fqdn_problem(value[1:] if value.startswith(".") else value, 1)


def _network_checked(value: str) -> Tuple[str, Optional[Msg]]:
    normal, problem = _network(value)
    return (normal if normal is not None else value), problem


_ACTION_WORDS = ("OK", "DUNNO", "REJECT", "DEFER", "DISCARD", "HOLD", "WARN")


def _action_problem(value: str) -> Optional[Msg]:
    word, _, text = value.partition(" ")
    if word.upper() in _ACTION_WORDS and word != word.upper():
        return Msg(N_("write the action in capitals: {suggestion}"), suggestion=_show(word.upper()))
    if word in ("OK", "DUNNO") and text:
        return Msg(N_("{word} takes no text"), word=word)
    if word not in _ACTION_WORDS and not re.match(r"[45]\d\d\Z", word):
        return Msg(N_("{value} is not an access action: OK, REJECT, DISCARD, DUNNO, HOLD, DEFER, "
                      "\"REJECT text\", \"554 text\" or \"WARN text\""), value=_show(value))
    if (word == "WARN" or word[0] in "45") and not text.strip():
        return Msg(N_("{word} needs a text, e.g. \"{word} go away\""), word=word)
    return None


def _rbl_problem(value: str) -> Optional[Msg]:
    return _fqdn_problem(value, 2)


KINDS: Dict[str, Kind] = {k.name: k for k in (
    Kind("hostname", _HOST_PATTERN, Msg(N_("a fully qualified host name such as mail.example.com")),
         _plain(_fqdn_problem), 253),
    Kind("domain", _HOST_PATTERN, Msg(N_("a domain name such as example.com")), _plain(_fqdn_problem), 253),
    Kind("origin", r"^(\$mydomain|\$myhostname|%s)$" % _DOMAIN1_PATTERN[1:-1],
         Msg(N_("$mydomain, $myhostname or a domain name")), _plain(_origin_problem), 253),
    Kind("destination", r"^(\$mydomain|\$myhostname|(%s\.)*\$mydomain|%s)$" % (_LABEL, _DOMAIN1_PATTERN[1:-1]),
         Msg(N_("a domain name, $myhostname, $mydomain or a name like localhost.$mydomain")),
         _plain(_destination_problem), 253),
    Kind("ip", r"^[0-9A-Fa-f:.]+$", Msg(N_("an IP address such as 192.0.2.1 or 2001:db8::1")),
         _plain(_ip_problem), 45),
    Kind("network", r"^\[?[0-9A-Fa-f:.]+\]?/[0-9]{1,3}$",
         Msg(N_("a network in CIDR form such as 192.168.1.0/24 or 2001:db8::/48")), _network_checked, 60),
    Kind("home_mailbox", r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/?$",
         Msg(N_("a path relative to the home folder: Maildir/ (ends in /) or a mailbox file name")),
         _plain(_mailbox_problem), 255),
    Kind("banner", r"^\$myhostname(?![A-Za-z0-9_])(%s|%s)*$" % (_TEXT_CHARS, _BANNER_VAR),
         Msg(N_("$myhostname followed by plain text (letters, digits, spaces, .,:;()_@!?/=+'-)")),
         _plain(_banner_problem), 200),
    Kind("path", r"^(/[A-Za-z0-9_+@=-][A-Za-z0-9._+@=-]*)+$",
         Msg(N_("an absolute file path on the target, e.g. /etc/pki/tls/certs/mail.pem")),
         _plain(lambda v: Msg(N_("{value}: no . or .. parts are allowed in the path"), value=_show(v))
                if any(p in (".", "..") for p in v.split("/")) else None), 1024),
    Kind("relayhost", r"^(\[[A-Za-z0-9.:-]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$",
         Msg(N_("a host such as \"[smtp.example.net]:587\" or smtp.example.net")), _plain(_relayhost_problem), 260),
    Kind("username", r"^[A-Za-z0-9._@+=%-]+$",
         Msg(N_("a user name of letters, digits and ._@+=%-")), None, 256),
    Kind("env_name", r"^[A-Z_][A-Z0-9_]*$",
         Msg(N_("an environment variable name such as MAILWIZ_RELAY_PASSWORD")), None, 128),
    Kind("listen", r"^(\*|[0-9A-Fa-f:.]+)$", Msg(N_("\"*\", \"::\" or an IP address")), _plain(_listen_problem), 45),
    Kind("mail_location", r"^(maildir|mbox|sdbox|mdbox):(~/|/)[A-Za-z0-9._/%-]*$",
         Msg(N_("a driver and a path such as maildir:~/Maildir (drivers: maildir, mbox, sdbox, mdbox)")),
         _plain(_mail_location_problem), 255),
    Kind("alias_target", r"^([A-Za-z0-9_%+=.-]+@[A-Za-z0-9.-]+|[A-Za-z_][A-Za-z0-9_.-]*)$",
         Msg(N_("a mail address such as admin@example.com or a local user name")), _plain(_alias_target_problem),
         254),
    Kind("access_key", r"^[A-Za-z0-9._%+=@:/\[\]-]+$",
         Msg(N_("a domain, a mail address, an IP address or a network (CIDR)")), _access_key_check, 254),
    Kind("access_action", r"^(OK|DUNNO|((REJECT|DEFER|DISCARD|HOLD)( %s+)?)|((WARN|[45][0-9][0-9]) %s+))$"
         % (_TEXT_CHARS, _TEXT_CHARS),
         Msg(N_("OK, REJECT, DISCARD, DUNNO, HOLD, DEFER, \"REJECT text\", \"554 text\" or \"WARN text\"")),
         _plain(_action_problem), 200),
    Kind("rbl", _HOST_PATTERN, Msg(N_("a DNS blocklist zone such as zen.spamhaus.org")), _plain(_rbl_problem), 253),
    Kind("selector", r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
         Msg(N_("a DKIM selector: one DNS label of letters, digits and -, e.g. 202612")), None, 63),
    Kind("email", r"^[A-Za-z0-9_%%+=.-]+@%s(\.%s)+$" % (_LABEL, _LABEL),
         Msg(N_("a mail address such as admin@example.com")), None, 254),
    Kind("url", r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/+-]*)?$",
         Msg(N_("an ACME directory address such as https://acme-v02.api.letsencrypt.org/directory")), None, 500),
)}


RESTRICTIONS: Dict[str, Tuple[str, ...]] = {
    "client": ("reject_unknown_client_hostname", "reject_unknown_reverse_client_hostname"),
    "helo": ("reject_invalid_helo_hostname", "reject_non_fqdn_helo_hostname", "reject_unknown_helo_hostname"),
    "sender": ("reject_non_fqdn_sender", "reject_unknown_sender_domain", "reject_unlisted_sender"),
    "recipient": ("reject_non_fqdn_recipient", "reject_unknown_recipient_domain", "reject_unlisted_recipient",
                  "reject_unauth_pipelining", "reject_multi_recipient_bounce"),
}


# Renamed in Postfix 2.3; the old names are gone from current releases.
RENAMED_RESTRICTIONS = {
    "reject_invalid_hostname": "reject_invalid_helo_hostname",
    "reject_unknown_hostname": "reject_unknown_helo_hostname",
    "reject_non_fqdn_hostname": "reject_non_fqdn_helo_hostname",
    "reject_unknown_client": "reject_unknown_client_hostname",
}


# Relay control is written by the steps (smtpd_relay_restrictions, or the head of
# the recipient list before 2.10): a user-given permit could open the relay.
RELAY_RESTRICTIONS = ("permit", "reject", "defer", "permit_mynetworks", "permit_sasl_authenticated",
                      "permit_auth_destination", "reject_unauth_destination", "defer_unauth_destination",
                      "check_relay_domains", "permit_mx_backup", "permit_tls_clientcerts",
                      "permit_tls_all_clientcerts", "permit_inet_interfaces")


def _restriction_problem(value: str, list_name: str) -> Optional[Msg]:
    if value in RESTRICTIONS[list_name]:
        return None
    name = value.split()[0] if value.split() else value   # "check_client_access hash:..." -> its name
    if name in RENAMED_RESTRICTIONS:
        return Msg(N_("{name} was renamed in Postfix 2.3: write {new}"), name=_show(name),
                   new=RENAMED_RESTRICTIONS[name])
    if name in RELAY_RESTRICTIONS or name.startswith("permit"):
        return Msg(N_("{name} is not allowed here: mailwiz writes the relay rules (permit_mynetworks, "
                      "permit_sasl_authenticated, reject_unauth_destination) itself"), name=_show(name))
    if name.startswith("check_") and name.endswith("_access"):
        return Msg(N_("{name} is not allowed here: put access entries in spam.access and mailwiz adds the "
                      "access map"), name=_show(name))
    if "rbl" in name or "dnswl" in name:
        return Msg(N_("{name} is not allowed here: list DNS blocklists in spam.rbl"), name=_show(name))
    for other, names in RESTRICTIONS.items():
        if name in names:
            return Msg(N_("{name} belongs in spam.{other}"), name=_show(name), other=other)
    suggestion = _closest(name, [n for names in RESTRICTIONS.values() for n in names])
    if suggestion:
        return Msg(N_("{name} is not a restriction mailwiz knows; did you mean {suggestion}? Valid here: {valid}"),
                   name=_show(name), suggestion=suggestion, valid=", ".join(RESTRICTIONS[list_name]))
    return Msg(N_("{name} is not a restriction mailwiz knows; valid here: {valid}"), name=_show(name),
               valid=", ".join(RESTRICTIONS[list_name]))


def _restriction_kind(list_name: str) -> Kind:
    names = RESTRICTIONS[list_name]

    def check(value: str):
        return value, _restriction_problem(value, list_name)

    return Kind("restriction_" + list_name, "^(%s)$" % "|".join(names),
                Msg(N_("one of {names}"), names=", ".join(names)), check, 64)


for _list_name in RESTRICTIONS:
    KINDS["restriction_" + _list_name] = _restriction_kind(_list_name)


DEAD_RBLS: Dict[str, str] = {
    # zone (or parent zone) -> why it is refused
    "dsbl.org": N_("DSBL closed in 2008 and its zone later listed every address"),
    "sbl-xbl.spamhaus.org": N_("Spamhaus retired this zone"),
    "ordb.org": N_("ORDB closed in 2006"),
    "njabl.org": N_("NJABL closed in 2013"),
    "ahbl.org": N_("AHBL closed in 2015 and its zone then listed every address"),
    "sorbs.net": N_("SORBS was shut down in 2024"),
    "spamcannibal.org": N_("SpamCannibal is gone and its domain was taken over"),
}


def _rbl_verdict(zone: str) -> Tuple[Optional[str], Optional[Msg]]:
    """(reason it is dead or None, warning or None)."""
    lowered = zone.lower()
    for dead, reason in DEAD_RBLS.items():
        if lowered == dead or lowered.endswith("." + dead):
            return reason, None
    if lowered == "all.rbl.jp" or lowered.endswith(".rbl.jp"):
        return None, Msg(N_("{zone}: the list's status is unknown and its site stopped updating in 2008; "
                            "make sure it still works before relying on it"), zone=zone)
    if lowered.endswith(".spamhaus.org"):
        return None, Msg(N_("{zone}: Spamhaus does not answer queries that come through public DNS resolvers; "
                            "the server needs its own resolver"), zone=zone)
    return None, None
