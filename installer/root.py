"""The target root: every path mailwiz reads or writes goes through it.

Paths are given as the target sees them (``/etc/postfix/main.cf``); with
``--root DIR`` they live under DIR.  Writes are atomic: a temporary file in
the same folder, fsync, rename, then fsync of the folder (fsyncs only on a
durable root: not in the sandbox).
"""
from __future__ import annotations

import os
import pwd
import grp
import stat as stat_mod
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional


@dataclass(frozen=True)
class FileMeta:
    mode: int       # permission bits only (e.g. 0o644)
    uid: int
    gid: int


class PathEscape(ValueError):
    pass


class TargetRoot:
    def __init__(self, base: str = "/", durable: bool = True):
        self.base = Path(base).resolve()
        # fsync what is written (files, their folders, the journal).  A sandbox
        # root is a scratch copy: flushed writes survive a killed process, and a
        # power cut there loses nothing worth a disk flush per write.
        self.durable = durable

    def sync(self, fd: int) -> None:
        if self.durable:
            os.fsync(fd)

    @property
    def is_host(self) -> bool:
        return str(self.base) == "/"

    def path(self, target_path: str) -> Path:
        """The real path of a target path; refuses anything that climbs out."""
        if not target_path.startswith("/"):
            raise PathEscape(target_path)
        parts = [p for p in target_path.split("/") if p and p != "."]
        if ".." in parts:
            raise PathEscape(target_path)
        return self.base.joinpath(*parts) if parts else self.base

    def exists(self, target_path: str) -> bool:
        return os.path.lexists(self.path(target_path))

    def read_bytes(self, target_path: str) -> Optional[bytes]:
        try:
            return self.path(target_path).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def read_text(self, target_path: str) -> Optional[str]:
        data = self.read_bytes(target_path)
        return None if data is None else data.decode("utf-8", errors="surrogateescape")

    def meta(self, target_path: str) -> Optional[FileMeta]:
        try:
            st = os.lstat(self.path(target_path))
        except FileNotFoundError:
            return None
        return FileMeta(stat_mod.S_IMODE(st.st_mode), st.st_uid, st.st_gid)

    def resolve_owner(self, user: Optional[str], group: Optional[str]):
        """uid/gid for names, or -1 where a name is unknown here (the sandbox)."""
        uid = gid = -1
        if user is not None:
            try:
                uid = pwd.getpwnam(user).pw_uid
            except KeyError:
                uid = -1
        if group is not None:
            try:
                gid = grp.getgrnam(group).gr_gid
            except KeyError:
                gid = -1
        return uid, gid

    def makedirs(self, target_dir: str, mode: int = 0o755) -> List[str]:
        """Create missing folders; return the target paths created, outermost first."""
        created: List[str] = []
        current = ""
        for part in [p for p in target_dir.split("/") if p]:
            current += "/" + part
            real = self.path(current)
            if not real.exists():
                real.mkdir(mode=mode)
                os.chmod(real, mode)
                created.append(current)
        return created

    def write_atomic(self, target_path: str, data: bytes, mode: Optional[int] = None,
                     uid: int = -1, gid: int = -1) -> None:
        """Write *data* atomically.  An existing file keeps its mode and owner
        unless others are given; a new file gets *mode* (default 0644)."""
        real = self.path(target_path)
        old = self.meta(target_path)
        if mode is None:
            mode = old.mode if old else 0o644
        if old is not None:
            uid = old.uid if uid == -1 else uid
            gid = old.gid if gid == -1 else gid
        tmp = real.with_name(f".{real.name}.mailwiz-tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                self.sync(handle.fileno())
            os.chmod(tmp, mode)
            if (uid != -1 or gid != -1) and os.geteuid() == 0:
                os.chown(tmp, uid, gid)
            os.replace(tmp, real)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        self._fsync_dir(real.parent)

    def set_meta(self, target_path: str, mode: int, uid: int = -1, gid: int = -1) -> None:
        real = self.path(target_path)
        os.chmod(real, mode)
        if (uid != -1 or gid != -1) and os.geteuid() == 0:
            os.chown(real, uid, gid)

    def remove(self, target_path: str) -> None:
        real = self.path(target_path)
        try:
            real.unlink()
        except FileNotFoundError:
            return
        self._fsync_dir(real.parent)

    def rmdir_if_empty(self, target_dir: str) -> None:
        try:
            self.path(target_dir).rmdir()
        except OSError:
            pass

    def _fsync_dir(self, folder: Path) -> None:
        if not self.durable:
            return
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
