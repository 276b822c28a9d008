"""The DNS records a mail server needs, and a check of what is published.

What the big mailbox providers look at before they accept mail:

- MX: ``DOMAIN. MX 10 HOSTNAME.``, and A/AAAA for the host name;
- SPF: ``DOMAIN. TXT "v=spf1 mx -all"`` (the MX hosts send; nobody else);
- DKIM: ``SELECTOR._domainkey.DOMAIN. TXT "v=DKIM1; k=rsa; p=..."``, the key
  split into strings of at most 255 bytes (the limit of one TXT string);
- DMARC: ``_dmarc.DOMAIN. TXT "v=DMARC1; p=none; rua=mailto:postmaster@DOMAIN"``;
- PTR: each address the host sends from must name ``HOSTNAME.`` back (set
  at the provider of the address, not in the domain's zone).

``records()`` is pure: answers, facts and the public key in, records out;
``public_key()`` reads the key that the dkim step made on the target.
``check()`` asks a resolver (dnspython: the one given, else the system's) and
returns one finding per record; when no name server answers at all it says
the check could not be made, instead of reporting every record missing.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from installer.i18n import Msg, N_

TXT_CHUNK = 255
TTL = 3600


@dataclass
class Record:
    name: str                      # fully qualified, with the final dot
    type: str                      # MX | TXT | A | AAAA | PTR
    value: str                     # the whole value (TXT: the strings joined)
    purpose: str                   # an N_() msgid
    strings: List[str] = field(default_factory=list)   # TXT: the 255-byte strings
    pending: bool = False          # the value is not known yet (the key is made at apply)

    def zone_line(self) -> str:
        if self.type == "TXT":
            rdata = " ".join(_quote(s) for s in self.strings)
            if len(self.strings) > 1:
                rdata = "( " + rdata + " )"
        else:
            rdata = self.value
        line = f"{self.name}\t{TTL}\tIN\t{self.type}\t{rdata}"
        return "; " + line if self.pending else line

    def to_json(self) -> dict:
        data = {"name": self.name, "type": self.type, "ttl": TTL, "value": self.value,
                "purpose": self.purpose, "pending": self.pending}
        if self.type == "TXT":
            data["strings"] = list(self.strings)
        return data


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_txt(value: str, size: int = TXT_CHUNK) -> List[str]:
    """*value* as TXT strings of at most *size* bytes each (UTF-8; a character is never cut)."""
    chunks, current, length = [], [], 0
    for char in value:
        width = len(char.encode("utf-8"))
        if length + width > size:
            chunks.append("".join(current))
            current, length = [], 0
        current.append(char)
        length += width
    chunks.append("".join(current))
    return chunks


def fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


def dkim_value(public_b64: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_b64}"


def dmarc_value(answers: dict) -> str:
    dmarc = answers.get("dmarc") or {}
    rua = dmarc.get("rua") or "postmaster@" + answers["postfix"]["domain"]
    return f"v=DMARC1; p={dmarc.get('policy') or 'none'}; rua=mailto:{rua}"


SPF_VALUE = "v=spf1 mx -all"
PENDING_KEY = N_("(made at apply; `mailwiz dns` prints it then)")
SANDBOX_KEY = N_("(the sandbox makes no key)")


def host_addresses(facts) -> List[str]:
    """The host's own addresses that others would see (not loopback, not link-local)."""
    found = []
    for text in getattr(facts, "addresses", []) or []:
        try:
            address = ipaddress.ip_interface(text).ip
        except ValueError:
            continue
        if address.is_loopback or address.is_link_local:
            continue
        if str(address) not in found:
            found.append(str(address))
    return found


def records(answers: dict, facts, public_b64: Optional[str], selector: Optional[str],
            placeholder: str = PENDING_KEY) -> List[Record]:
    """The records to publish.  *public_b64*: the DKIM public key (base64 DER),
    None while it is not made yet; *selector*: None when DKIM is off."""
    domain, hostname = fqdn(answers["postfix"]["domain"]), fqdn(answers["postfix"]["hostname"])
    out = [Record(domain, "MX", f"10 {hostname}", N_("mail for the domain goes to this host"))]
    addresses = host_addresses(facts)
    for address in addresses:
        kind = "AAAA" if ":" in address else "A"
        out.append(Record(hostname, kind, address, N_("the address of the mail host")))
    out.append(Record(domain, "TXT", SPF_VALUE, N_("SPF: only the domain's MX hosts send its mail"),
                      split_txt(SPF_VALUE)))
    if selector:
        value = dkim_value(public_b64) if public_b64 else dkim_value(placeholder)
        out.append(Record(f"{selector}._domainkey.{domain}", "TXT", value,
                          N_("DKIM: the public key that checks this server's signatures"),
                          split_txt(value), pending=public_b64 is None))
    value = dmarc_value(answers)
    out.append(Record(f"_dmarc.{domain}", "TXT", value, N_("DMARC: what receivers do with mail that fails "
                                                           "SPF and DKIM, and where they report"),
                      split_txt(value)))
    for address in addresses:
        out.append(Record(ipaddress.ip_address(address).reverse_pointer + ".", "PTR", hostname,
                          N_("PTR: the address names the host back (set it at the provider of the address)")))
    return out


def public_key_b64(pem: Optional[str]) -> Optional[str]:
    """The base64 body of a PEM public key (SubjectPublicKeyInfo): DKIM's p= value."""
    if not pem or "-----BEGIN PUBLIC KEY-----" not in pem:
        return None
    body = pem.split("-----BEGIN PUBLIC KEY-----", 1)[1].split("-----END PUBLIC KEY-----", 1)[0]
    text = "".join(body.split())
    return text or None


def for_target(answers: dict, profile, facts, root) -> List[Record]:
    """The records for a target, with the DKIM key read from it when it is there."""
    from steps import StepInput, dkim
    selector = public = text = None
    if dkim.enabled(answers):
        inp = StepInput(profile=profile, facts=facts, answers=answers)
        selector = dkim.selector(inp)
        text = root.read_text(dkim.key_paths(profile, selector)[1])
        public = public_key_b64(text)
    from installer.i18n import _
    # A file that is there but holds no key is the sandbox's stand-in for one.
    return records(answers, facts, public, selector, _(PENDING_KEY if text is None else SANDBOX_KEY))


def zone_text(found: Sequence[Record]) -> str:
    from installer.i18n import _
    lines = []
    for record in found:
        lines.append("; " + _(record.purpose))
        lines.append(record.zone_line())
    return "\n".join(lines) + "\n"


def json_text(answers: dict, found: Sequence[Record]) -> str:
    return json.dumps({"domain": answers["postfix"]["domain"], "hostname": answers["postfix"]["hostname"],
                       "records": [r.to_json() for r in found]}, indent=2, ensure_ascii=False) + "\n"


# --- checking what is published ------------------------------------------------------

@dataclass
class Finding:
    record: Record
    result: str                    # ok | missing | wrong | unknown
    message: Msg
    found: List[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.record.name, "type": self.record.type, "result": self.result,
                "message": self.message.to_json(), "expected": self.record.value, "found": self.found}


class Offline(Exception):
    """No name server answered: nothing could be checked."""


def make_resolver(server: Optional[str] = None, timeout: float = 3.0):
    """dnspython's resolver: *server* as "ADDRESS" or "ADDRESS:PORT" ("[v6]:PORT"), else the system's."""
    import dns.resolver
    if server:
        resolver = dns.resolver.Resolver(configure=False)
        address, port = server, 53
        if server.startswith("["):
            address, _, rest = server[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else 53
        elif server.count(":") == 1:
            address, port_text = server.split(":")
            port = int(port_text)
        resolver.nameservers = [address]
        resolver.port = port
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration as exc:
            raise Offline(str(exc)) from None
    resolver.timeout = timeout
    resolver.lifetime = timeout * 2
    return resolver


def _lookup(resolver, name: str, rtype: str) -> List[str]:
    """The values published for (name, type); [] when there are none; Offline when no server answers."""
    import dns.exception
    import dns.resolver
    try:
        answer = resolver.resolve(name, rtype, raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.resolver.NoNameservers, dns.exception.Timeout, OSError) as exc:
        raise Offline(str(exc)) from None
    values = []
    for rdata in answer.rrset or []:
        if rtype == "TXT":
            values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        elif rtype == "MX":
            values.append(f"{rdata.preference} {rdata.exchange.to_text().lower()}")
        else:
            values.append(rdata.to_text().lower())
    return values


def _tags(value: str) -> dict:
    tags = {}
    for part in value.split(";"):
        key, sep, val = part.strip().partition("=")
        if sep:
            tags[key.strip()] = "".join(val.split())
    return tags


def _judge(record: Record, values: List[str]) -> Finding:
    if record.pending:
        return Finding(record, "unknown", Msg(N_("{name}: the DKIM key is not made yet; apply first"),
                                              name=record.name), values)
    if record.type == "MX":
        hostname = record.value.split()[1]
        if any(v.split()[-1] == hostname for v in values):
            return Finding(record, "ok", Msg(N_("{name} MX: names {host}"), name=record.name, host=hostname), values)
        return _absent_or_wrong(record, values, N_("{name} MX: does not name {expected}"))
    if record.type == "TXT":
        prefix = record.value.split(";")[0].split()[0]          # v=spf1, v=DKIM1, v=DMARC1
        ours = [v for v in values if v.split(";")[0].split()[0:1] == [prefix]]
        if record.value.startswith("v=spf1"):
            if len(ours) > 1:
                return Finding(record, "wrong", Msg(N_("{name}: {count} SPF records; receivers ignore them all "
                                                       "unless there is exactly one"), name=record.name,
                                                    count=len(ours)), values)
            if ours and ours[0].split() == record.value.split():
                return Finding(record, "ok", Msg(N_("{name}: SPF as expected"), name=record.name), values)
            if ours:
                return Finding(record, "wrong", Msg(N_("{name}: SPF is {found}, expected {expected}"),
                                                    name=record.name, found=ours[0], expected=record.value), values)
            return _absent_or_wrong(record, values, N_("{name}: no SPF record"))
        want = _tags(record.value)
        if prefix == "v=DKIM1":
            if any(_tags(v).get("p") == want["p"] for v in ours):
                return Finding(record, "ok", Msg(N_("{name}: the DKIM key matches"), name=record.name), values)
            if ours:
                return Finding(record, "wrong", Msg(N_("{name}: a DKIM key is published, but not this server's "
                                                       "key"), name=record.name), values)
            return _absent_or_wrong(record, values, N_("{name}: no DKIM key is published"))
        if ours:
            found = _tags(ours[0])
            if found.get("p") == want.get("p"):
                return Finding(record, "ok", Msg(N_("{name}: DMARC policy {policy}"), name=record.name,
                                                 policy=found.get("p")), values)
            return Finding(record, "wrong", Msg(N_("{name}: DMARC policy is {found}, expected {expected}"),
                                                name=record.name, found=found.get("p", "-"),
                                                expected=want.get("p")), values)
        return _absent_or_wrong(record, values, N_("{name}: no DMARC record"))
    if record.type == "PTR":
        if record.value in values:
            return Finding(record, "ok", Msg(N_("{name} PTR: names {host}"), name=record.name, host=record.value),
                           values)
        return _absent_or_wrong(record, values, N_("{name} PTR: does not name {expected} (ask the provider of "
                                                   "the address to set it)"))
    if record.value.lower() in values:
        return Finding(record, "ok", Msg(N_("{name} {type}: {value}"), name=record.name, type=record.type,
                                         value=record.value), values)
    return _absent_or_wrong(record, values, N_("{name} {type}: {expected} is not published"))


def _absent_or_wrong(record: Record, values: List[str], msgid: str) -> Finding:
    expected = record.value if record.type != "MX" else record.value.split()[1]
    message = Msg(msgid, name=record.name, expected=expected, type=record.type)
    if values:
        message = Msg(N_("{problem} (found: {found})"), problem=message, found=", ".join(values)[:200])
        return Finding(record, "wrong", message, values)
    return Finding(record, "missing", message, values)


def check(found: Sequence[Record], resolver) -> List[Finding]:
    """One finding per record.  Raises Offline when no name server answers."""
    return [_judge(record, _lookup(resolver, record.name, record.type)) for record in found]
