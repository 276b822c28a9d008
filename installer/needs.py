"""What a step needs from the platform, declared by the step itself.

A step module may define ``needs(profile, answers=None, facts=None) -> Needs``.  With
*answers* it says what this configuration needs; with ``answers=None``
everything it could need on *profile* (what facts read and what the
sandbox's pretend repositories must hold).  Everything that used to be a
list kept somewhere else is derived from these declarations
(``steps.declared``): the packages step's package list, the services step's
services, the SELinux step's paths, the services whose state facts read,
the sandbox's package and service tables and the stock files a package
brings.  Adding a step touches only its own module (and ``steps.ORDER``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass(frozen=True)
class Daemon:
    """A service a step needs running (or, ``observed``, whose state it reads)."""

    name: str
    packages: Tuple[str, ...]                  # any of these installed provides it
    # Control without an init system (containers): verb -> command, for
    # start, stop, restart and status; a verb without a command does nothing.
    direct: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    stop_start: bool = False                   # a restart must be a real stop and start
    watch: Tuple[str, ...] = ()                # a change to these restarts it; "/"-ended: a folder
    uses_certificate: bool = False             # ... and so does one to the tls step's certificate
    after: Tuple[str, ...] = ()                # started after these services

    def to_json(self) -> dict:
        return {"name": self.name, "packages": list(self.packages),
                "direct": {verb: list(argv) for verb, argv in self.direct},
                "stop_start": self.stop_start, "watch": list(self.watch),
                "uses_certificate": self.uses_certificate, "after": list(self.after)}

    @classmethod
    def from_json(cls, data: Optional[dict]) -> Optional["Daemon"]:
        if not data:
            return None
        return cls(name=data["name"], packages=tuple(data.get("packages", ())),
                   direct=tuple((verb, tuple(argv)) for verb, argv in data.get("direct", {}).items()),
                   stop_start=bool(data.get("stop_start")), watch=tuple(data.get("watch", ())),
                   uses_certificate=bool(data.get("uses_certificate")),
                   after=tuple(data.get("after", ())))


def direct(**commands: List[str]) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    """``direct(start=["postfix", "start"], ...)`` in the form :class:`Daemon` keeps."""
    return tuple((verb, tuple(argv)) for verb, argv in commands.items())


@dataclass(frozen=True)
class PackageFile:
    """A file a package creates, as the stock files are (``installer/stockfiles.py``)."""

    path: str
    package: str
    content: str
    mode: int = 0o644


@dataclass
class Needs:
    packages: List[str] = field(default_factory=list)        # to install, in a stable order
    services: List[Daemon] = field(default_factory=list)     # to enable and start
    observed: List[Daemon] = field(default_factory=list)     # whose state the step reads
    selinux: List[str] = field(default_factory=list)         # to relabel when changed; "/"-ended: a folder
    files: List[PackageFile] = field(default_factory=list)   # what the step's packages ship
    # Of the packages, those that come from the profile's extra repository (EPEL),
    # which the packages step enables first.
    from_extra_repo: List[str] = field(default_factory=list)
    # What the packages' scripts create that removing them leaves behind: taken
    # away on rollback if it was not there; "/"-ended: a folder.
    leaves: List[str] = field(default_factory=list)

    def add(self, other: "Needs") -> "Needs":
        for name in ("packages", "selinux", "from_extra_repo", "leaves"):
            mine = getattr(self, name)
            mine += [item for item in getattr(other, name) if item not in mine]
        for name in ("services", "observed", "files"):
            getattr(self, name).extend(getattr(other, name))
        return self

    def service(self, name: str) -> Optional[Daemon]:
        for daemon in self.services + self.observed:
            if daemon.name == name:
                return daemon
        return None

    def service_packages(self) -> Dict[str, Tuple[str, ...]]:
        """service -> the packages that provide it, for every service a step starts or reads."""
        found: Dict[str, Tuple[str, ...]] = {}
        for daemon in self.services + self.observed:
            found.setdefault(daemon.name, daemon.packages)
        return found
