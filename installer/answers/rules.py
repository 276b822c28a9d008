"""Rules that span several keys, and secrets that must never be in an answer file."""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from installer.i18n import Msg, N_
from installer.answers.errors import Path_, _Ctx, _is_secret_key, _safe_text, _show
from installer.answers.values import PUBLIC_SUFFIXES, _BROAD_MSG, _rbl_verdict, _too_broad


def _check_secrets(data: Any, ctx: _Ctx) -> None:
    """A key named like a password anywhere (even under unknown keys) is an error; its value is never shown."""
    stack: List[Tuple[Path_, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, sub in value.items():
                if _is_secret_key(key):
                    ctx.error(path + (key,), Msg(N_(
                        "secrets are never read from an answer file: remove this key and name an environment "
                        "variable in relayhost.password_env, or let the wizard ask for the password")))
                else:
                    stack.append((path + (key,), sub))
        elif isinstance(value, list):
            stack.extend((path + (index,), sub) for index, sub in enumerate(value))


def _check_rules(data: Dict[str, Any], given: Dict[str, Any], ctx: _Ctx) -> None:
    """Rules between keys and rules about mail service; *given* is the data as written (before defaults)."""
    postfix, auth, spam = data["postfix"], data["auth"], data["spam"]
    # A section of the wrong type is already reported; its rules are skipped.
    tls = auth["tls"] if isinstance(auth["tls"], dict) else {"certificate": None, "cert_file": None, "key_file": None,
                                                             "acme": {}}

    if data["system"]["existing_mta"] == "alternatives" and ctx.profile is not None \
            and getattr(ctx.profile, "mta_switch", None) != "alternatives":
        ctx.error(("system", "existing_mta"), Msg(
            N_("{profile} has no alternatives mechanism for the MTA; write existing_mta: remove"),
            profile=_safe_text(str(getattr(ctx.profile, "id", "?")), 40)))

    given_postfix = given.get("postfix") if isinstance(given.get("postfix"), dict) else {}
    for key in ("hostname", "domain"):
        if key not in given_postfix:
            ctx.warn(("postfix", key), Msg(N_("not given: the example value {value} is used"),
                                           value=_show(postfix[key])))
    hostname, domain = postfix["hostname"], postfix["domain"]
    names_ok = not ctx.errors_at(("postfix", "hostname")) and not ctx.errors_at(("postfix", "domain"))
    if names_ok and not hostname.lower().endswith("." + domain.lower()):
        ctx.warn(("postfix", "hostname"), Msg(N_("{hostname} is not inside the domain {domain}"),
                                              hostname=_show(hostname), domain=_show(domain)))

    networks = postfix["networks"]
    if isinstance(networks, list):
        import ipaddress
        for index, value in enumerate(networks):
            if not isinstance(value, str):
                continue
            try:
                net = ipaddress.ip_network(value)
            except ValueError:
                continue        # already reported
            if _too_broad(net):
                ctx.error(("postfix", "networks", index), Msg(_BROAD_MSG, value=_show(value)))

    def expand(name: str) -> str:
        return name.replace("$myhostname", str(hostname)).replace("$mydomain", str(domain)).lower()

    if isinstance(postfix["relay_domains"], list):
        for index, value in enumerate(postfix["relay_domains"]):
            if isinstance(value, str) and value.lower().lstrip(".") in PUBLIC_SUFFIXES:
                ctx.error(("postfix", "relay_domains", index), Msg(
                    N_("{value} is a public suffix, not one owner's domain: relaying for it relays for everyone "
                       "under it"), value=_show(value)))
    if isinstance(postfix["destinations"], list) and isinstance(postfix["relay_domains"], list):
        local = {expand(d) for d in postfix["destinations"] if isinstance(d, str)}
        for index, value in enumerate(postfix["relay_domains"]):
            if isinstance(value, str) and value.lower() in local:
                ctx.error(("postfix", "relay_domains", index), Msg(
                    N_("{value} is also in postfix.destinations: a domain is either delivered here or relayed, "
                       "not both"), value=_show(value)))

    if auth["submission"] is True and auth["sasl"] is False:
        ctx.error(("auth", "submission"), Msg(N_("submission needs SMTP AUTH: set auth.sasl: true or "
                                                 "auth.submission: false")))
    if tls["certificate"] == "none" and (auth["sasl"] is True or auth["submission"] is True):
        ctx.error(("auth", "tls", "certificate"), Msg(
            N_("SMTP AUTH and submission need TLS, or passwords would cross the network in clear text: choose "
               "self-signed, existing or acme, or set auth.sasl and auth.submission to false")))
    if tls["certificate"] == "existing":
        for key in ("cert_file", "key_file"):
            path = tls[key]
            if path is None:
                ctx.error(("auth", "tls", key), Msg(N_("certificate: existing needs the path of the file on the "
                                                       "target host")), ctx.where(("auth", "tls", "certificate"))[1])
            elif isinstance(path, str) and ctx.root is not None and ctx.errors_at(("auth", "tls", key)) == 0:
                try:
                    found = ctx.root.exists(path)
                    is_dir = found and ctx.root.is_dir(path)
                except (OSError, ValueError):
                    found, is_dir = False, False
                if not found:
                    ctx.error(("auth", "tls", key), Msg(N_("{path} does not exist on the target"),
                                                        path=_show(path)))
                elif is_dir:
                    ctx.error(("auth", "tls", key), Msg(N_("{path} is a folder, not a file"), path=_show(path)))
        if ctx.root is not None and not ctx.errors_at(("auth", "tls")):
            _check_existing_certificate(tls, str(hostname), ctx)
    else:
        for key in ("cert_file", "key_file"):
            if tls[key] is not None:
                ctx.warn(("auth", "tls", key), Msg(N_("ignored: used only with certificate: existing")))

    acme = tls.get("acme") if isinstance(tls.get("acme"), dict) else {}
    if tls["certificate"] == "acme" and acme.get("email") is None and not ctx.errors_at(("auth", "tls", "acme")):
        ctx.error(("auth", "tls", "acme", "email"), Msg(N_("certificate: acme needs an address for the ACME "
                                                           "account (expiry notices)")),
                  ctx.where(("auth", "tls", "certificate"))[1])
    elif tls["certificate"] != "acme":
        for key in ("email", "directory"):
            if acme.get(key) is not None:
                ctx.warn(("auth", "tls", "acme", key), Msg(N_("ignored: used only with certificate: acme")))

    relay = data["relayhost"]
    if isinstance(relay, dict) and relay.get("password_env") is not None and relay.get("username") is None:
        ctx.error(("relayhost", "password_env"), Msg(N_("a password needs a user name: set relayhost.username")))

    home, location = postfix["home_mailbox"], data["dovecot"]["mail_location"]
    if isinstance(home, str) and isinstance(location, str):
        if home.endswith("/"):
            expected_location = "maildir:~/" + home.rstrip("/")
            if location.rstrip("/") != expected_location:
                ctx.warn(("dovecot", "mail_location"), Msg(
                    N_("Postfix delivers to ~/{home} but Dovecot reads {location}: users will not see their mail; "
                       "expected {expected}"), home=home, location=_show(location), expected=expected_location))
        elif location.startswith("maildir:"):
            ctx.warn(("dovecot", "mail_location"), Msg(
                N_("Postfix delivers to the mailbox file ~/{home} but Dovecot reads a Maildir"), home=home))

    if spam["helo_required"] is False and spam["helo"]:
        ctx.warn(("spam", "helo"), Msg(N_("HELO checks do not apply to clients that skip HELO; "
                                          "consider spam.helo_required: true")))

    if isinstance(spam["access"], list):
        import ipaddress
        for index, entry in enumerate(spam["access"]):
            if isinstance(entry, dict) and entry.get("action") == "OK" and "/" in str(entry.get("key", "")):
                try:
                    net = ipaddress.ip_network(entry["key"])
                except ValueError:
                    continue
                if _too_broad(net):
                    ctx.error(("spam", "access", index, "key"), Msg(_BROAD_MSG, value=_show(entry["key"])))

    if isinstance(spam["rbl"], list):
        for index, zone in enumerate(spam["rbl"]):
            if not isinstance(zone, str) or ctx.errors_at(("spam", "rbl", index)):
                continue
            reason, warning = _rbl_verdict(zone)
            if reason is not None:
                ctx.error(("spam", "rbl", index), Msg(N_("{zone} must not be used: {reason}; use zen.spamhaus.org"),
                                                      zone=_show(zone), reason=Msg(reason)))
            elif warning is not None:
                ctx.warn(("spam", "rbl", index), warning)

    if data["verify"] is True and data["services"]["start"] is False:
        ctx.warn(("verify",), Msg(N_("the self-test is skipped because services.start is false")))


def _check_existing_certificate(tls: Dict[str, Any], hostname: str, ctx: _Ctx) -> None:
    """certificate: existing: the key matches, the chain holds, not expired, names the host."""
    from installer import certs
    try:
        cert_pem = ctx.root.read_bytes(tls["cert_file"])
        key_pem = ctx.root.read_bytes(tls["key_file"])
    except (OSError, ValueError):
        return                  # unreadable: reported by the existence checks or at apply
    if cert_pem is None or key_pem is None:
        return
    problems, warnings = certs.check_files(cert_pem, key_pem, hostname)
    for problem in problems:
        ctx.error(("auth", "tls", "cert_file"), problem)
    for warning in warnings:
        ctx.warn(("auth", "tls", "cert_file"), warning)
