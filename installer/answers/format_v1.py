"""The v1 format table (``docs/answers-v1.md``): one table for validation, defaults, dump and schema."""
from __future__ import annotations

from typing import Any, Dict

from installer.answers.errors import FORMAT_VERSION, MAX_MESSAGE_SIZE_MB
from installer.answers.fields import set_root, Bool, Choice, Const, Enum, Int, ListOf, Map, Nullable, Text


_RELAYHOST = Map([
    ("host", Text("relayhost", description="smarthost: \"[smtp.example.net]:587\" (no MX lookup) or a host name")),
    ("username", Nullable(Text("username"), default=None, description="user name for SMTP AUTH at the relay")),
    ("password_env", Nullable(Text("env_name"), default=None,
                              description="name of the environment variable that holds the relay password")),
], required=("host",))


FORMAT = Map([
    ("version", Const(FORMAT_VERSION, description="format version; must be 1")),
    ("language", Enum(("ja", "en"), default="ja", description="language of messages and of the step log")),
    ("system", Map([
        ("update", Bool(default=True, description="full package update first")),
        ("existing_mta", Enum(("remove", "alternatives"), default="remove",
                              description="what to do with sendmail (RHEL family)")),
        ("firewall", Bool(default=True, description="open the enabled mail ports in the active firewall")),
        ("selinux", Bool(default=True, description="RHEL family: keep SELinux enforcing and fix labels")),
    ])),
    ("postfix", Map([
        ("hostname", Text("hostname", default="mail.example.com", description="myhostname")),
        ("domain", Text("domain", default="example.com", description="mydomain")),
        ("origin", Text("origin", default="$mydomain", description="myorigin")),
        ("inet_interfaces", Choice(("all", "loopback-only"), ListOf(Text("ip"), min_items=1), default="all",
                                   description="all | loopback-only | a list of addresses")),
        ("destinations", ListOf(Text("destination"),
                              default=["$myhostname", "localhost.$mydomain", "localhost", "$mydomain"],
                              description="mydestination")),
        ("networks", ListOf(Text("network"), default=["127.0.0.0/8"],
                          description="mynetworks: IPv4/IPv6 networks in CIDR form")),
        ("relay_domains", ListOf(Text("domain"), default=[], description="domains this server relays for")),
        ("home_mailbox", Text("home_mailbox", default="Maildir/",
                              description="Maildir/ (ends in /) or a mailbox file, relative to the home folder")),
        ("banner", Text("banner", default="$myhostname ESMTP",
                        description="smtpd_banner: starts with $myhostname, does not name the software")),
        ("message_size_limit_mb", Int(1, MAX_MESSAGE_SIZE_MB, default=10, description="message_size_limit in MiB")),
    ])),
    ("auth", Map([
        ("sasl", Bool(default=True, description="SMTP AUTH for users, through Dovecot SASL")),
        ("submission", Bool(default=True, description="port 587: STARTTLS and AUTH required")),
        ("tls", Map([
            ("certificate", Enum(("self-signed", "existing", "acme", "none"), default="self-signed")),
            ("cert_file", Nullable(Text("path"), default=None, description="with existing: path on the target")),
            ("key_file", Nullable(Text("path"), default=None, description="with existing: path on the target")),
            ("acme", Map([
                ("email", Nullable(Text("email"), default=None,
                                   description="with acme: the account's address for expiry notices")),
                ("directory", Nullable(Text("url"), default=None,
                                       description="with acme: the ACME directory; null: Let's Encrypt")),
            ])),
        ])),
    ])),
    ("relayhost", Nullable(_RELAYHOST, default=None, description="null, or a smarthost for outgoing mail")),
    ("dovecot", Map([
        ("protocols", ListOf(Enum(("imap", "pop3", "lmtp")), min_items=1, default=["imap", "pop3", "lmtp"],
                           description="a non-empty subset of imap, pop3, lmtp")),
        ("listen", ListOf(Text("listen"), min_items=1, default=["*"],
                        description="addresses; \"*\" all IPv4, \"::\" all IPv6")),
        ("mail_location", Text("mail_location", default="maildir:~/Maildir")),
    ])),
    ("aliases", Map([
        ("root", Nullable(Text("alias_target"), default=None,
                          description="where root's mail goes: an address or a local user; null leaves it")),
    ])),
    ("spam", Map([
        ("helo_required", Bool(default=True)),
        ("access", ListOf(Map([("key", Text("access_key")), ("action", Text("access_action"))],
                            required=("key", "action")),
                        unique_by="key", default=[{"key": "spammer.example", "action": "REJECT"}],
                        description="entries of the access map; empty: no map is used")),
        ("client", ListOf(Text("restriction_client"), default=[], description="extra client checks")),
        ("helo", ListOf(Text("restriction_helo"),
                      default=["reject_invalid_helo_hostname", "reject_non_fqdn_helo_hostname"])),
        ("sender", ListOf(Text("restriction_sender"),
                        default=["reject_unknown_sender_domain", "reject_non_fqdn_sender"])),
        ("recipient", ListOf(Text("restriction_recipient"), default=["reject_non_fqdn_recipient"])),
        ("rbl", ListOf(Text("rbl"), default=[], description="DNS blocklists for reject_rbl_client")),
    ])),
    ("services", Map([
        ("enable", Bool(default=True, description="start postfix and dovecot at boot")),
        ("start", Bool(default=True, description="start (or restart) them now")),
    ])),
    ("verify", Bool(default=True, description="after start: the self-test")),
    # Added compatibly in v1 (absent: as before).
    ("dkim", Map([
        ("enabled", Bool(default=False, description="OpenDKIM signing for postfix.domain")),
        ("selector", Nullable(Text("selector"), default=None,
                              description="DKIM selector; null: from the date of the first run, e.g. 202612")),
    ])),
    ("dmarc", Map([
        ("policy", Enum(("none", "quarantine", "reject"), default="none",
                        description="p= of the printed _dmarc record")),
        ("rua", Nullable(Text("email"), default=None,
                         description="address for aggregate reports; null: postmaster@DOMAIN")),
    ])),
], required=("version",))


set_root(FORMAT)

DEFAULTS: Dict[str, Any] = {"version": FORMAT_VERSION, **FORMAT.defaults()}
