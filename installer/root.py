"""The target root: every path mailwiz reads or writes goes through it.

Paths are given as the target sees them (``/etc/postfix/main.cf``); with
``--root DIR`` they live under DIR.

Containment: a path is opened component by component from a descriptor of
the root (``openat`` with ``O_NOFOLLOW``), never as one string the kernel
resolves.  ``..`` in a target path is refused; a symbolic link on the way to
a file (``/var/run -> /run``) is followed only while it stays under the root,
and refused (:class:`LinkEscape`) when it leads out of it.  The file itself
is never a link: mailwiz does not read, edit or replace a file through a link
(:class:`LinkRefused`), except for the few host facts read with
``follow=True`` (``/etc/os-release`` is a link on Debian), which still stay
under the root.  Anything that is not a regular file where one is expected (a
folder, a FIFO, a device) is refused (:class:`NotAFile`).

Writes are atomic: a temporary ``.NAME.mailwiz-tmp`` created with
``O_CREAT|O_EXCL|O_NOFOLLOW`` and mode 0600 from its first byte, written,
fsync'd, given its mode and owner, renamed over the file, then the folder is
fsync'd.  A failure at any point (disk full, read-only file system, an
immutable file) leaves the original as it was and no temporary behind.
"""
from __future__ import annotations

import errno
import grp
import os
import pwd
import stat as stat_mod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from installer.i18n import Msg, N_

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_LINKS = 40     # as the kernel's ELOOP limit


@dataclass(frozen=True)
class FileMeta:
    mode: int       # permission bits only (e.g. 0o644)
    uid: int
    gid: int


class TargetRefused(OSError):
    """A path mailwiz will not use; ``message`` says why, in words that translate.
    An OSError, so that the engine's handling of failed writes covers it."""

    def __init__(self, message: Msg, path: str = ""):
        super().__init__(errno.EPERM, str(message), path)
        self.message = message


class PathEscape(TargetRefused):
    """A target path that is not absolute or climbs with ``..``."""

    def __init__(self, path: str):
        super().__init__(Msg(N_("{path} is not a plain absolute path under the target root"), path=path), path)


class LinkEscape(TargetRefused):
    """A symbolic link under the root that leads out of it."""

    def __init__(self, path: str, link: str, points_to: str):
        super().__init__(Msg(N_("{path}: the symbolic link {link} leads out of the target root ({target}); "
                                "mailwiz refuses it"), path=path, link=link, target=points_to), path)


class LinkRefused(TargetRefused):
    """The file itself is a symbolic link (mailwiz never works through one)."""

    def __init__(self, path: str):
        super().__init__(Msg(N_("{path} is a symbolic link; mailwiz does not read, change or replace "
                                "a file through a link"), path=path), path)


class NotAFile(TargetRefused):
    def __init__(self, path: str):
        super().__init__(Msg(N_("{path} is not a regular file"), path=path), path)


def _split(target_path: str) -> List[str]:
    if not isinstance(target_path, str) or not target_path.startswith("/") or "\0" in target_path:
        raise PathEscape(str(target_path))
    parts = [p for p in target_path.split("/") if p and p != "."]
    if ".." in parts:
        raise PathEscape(target_path)
    return parts


class _Resolved:
    """An open folder of the target and the name of an entry in it."""

    def __init__(self, dir_fd: int, name: str, inside: List[str]):
        self.dir_fd = dir_fd
        self.name = name            # "" for the root itself
        self.inside = inside        # where the folder really is, as components under the root

    def close(self):
        os.close(self.dir_fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TargetRoot:
    # Called with a stage name at the steps of a write ("temp-written", "renamed"): a
    # test hook for crash injection (see engine.Failpoints), None otherwise.
    write_hook: Optional[Callable[[str, str], None]] = None

    def __init__(self, base: str = "/"):
        self.base = Path(base).resolve()
        self._base_parts = [p for p in str(self.base).split("/") if p]

    @property
    def is_host(self) -> bool:
        return str(self.base) == "/"

    def path(self, target_path: str) -> Path:
        """The real path of a target path, for display and for tools that take a
        path; refuses anything that climbs out.  Reading and writing go through
        the methods below, which do not let the kernel follow links."""
        parts = _split(target_path)
        return self.base.joinpath(*parts) if parts else self.base

    # --- resolution --------------------------------------------------------------

    def _inside_root(self, absolute: str) -> Optional[List[str]]:
        """Components under the root of an absolute link target, None if outside."""
        parts = [p for p in absolute.split("/") if p and p != "."]
        if parts[:len(self._base_parts)] != self._base_parts:
            return None
        return parts[len(self._base_parts):]

    def _resolve(self, target_path: str, *, follow: bool = False, create: Optional[int] = None,
                 created: Optional[List[str]] = None) -> _Resolved:
        """Open the folder that holds *target_path*'s last component.

        Links on the way are followed while they stay under the root; the
        last component is followed only with *follow*.  With *create* (a mode),
        missing folders are made with it (and listed in *created*)."""
        pending = _split(target_path)
        if not pending:
            return _Resolved(os.open(self.base, _DIR_FLAGS), "", [])
        fds = [os.open(self.base, _DIR_FLAGS)]
        inside: List[str] = []
        hops = 0
        try:
            while True:
                name = pending.pop(0)
                if name == "..":
                    if not inside:
                        if self.is_host:
                            continue        # /.. is / on the host
                        raise LinkEscape(target_path, "/" + "/".join(inside), "..")
                    os.close(fds.pop())
                    inside.pop()
                    continue
                last = not pending
                try:
                    st = os.stat(name, dir_fd=fds[-1], follow_symlinks=False)
                except FileNotFoundError:
                    if last:
                        return _Resolved(fds.pop(), name, inside)
                    if create is None:
                        raise
                    os.mkdir(name, create, dir_fd=fds[-1])
                    st = os.stat(name, dir_fd=fds[-1], follow_symlinks=False)
                    fd = os.open(name, _DIR_FLAGS, dir_fd=fds[-1])
                    os.fchmod(fd, create)     # whatever the umask
                    if created is not None:
                        created.append("/" + "/".join(inside + [name]))
                    fds.append(fd)
                    inside.append(name)
                    continue
                if stat_mod.S_ISLNK(st.st_mode) and (follow or not last):
                    hops += 1
                    link_path = "/" + "/".join(inside + [name])
                    points_to = os.readlink(name, dir_fd=fds[-1])
                    if hops > _MAX_LINKS:
                        raise TargetRefused(Msg(N_("{path}: too many symbolic links"), path=target_path),
                                            target_path)
                    if points_to.startswith("/"):
                        under = self._inside_root(points_to)
                        if under is None:
                            raise LinkEscape(target_path, link_path, points_to)
                        while len(fds) > 1:
                            os.close(fds.pop())
                        inside = []
                        pending[:0] = under
                    else:
                        pending[:0] = [p for p in points_to.split("/") if p and p != "."]
                    if not pending:         # a link to the root itself
                        raise NotAFile(target_path)
                    continue
                if last:
                    return _Resolved(fds.pop(), name, inside)
                if not stat_mod.S_ISDIR(st.st_mode):
                    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), target_path)
                fds.append(os.open(name, _DIR_FLAGS, dir_fd=fds[-1]))
                inside.append(name)
        finally:
            for fd in fds:
                os.close(fd)

    def _lstat(self, target_path: str, follow: bool = False) -> Optional[os.stat_result]:
        try:
            with self._resolve(target_path, follow=follow) as at:
                if not at.name:
                    return os.fstat(at.dir_fd)
                return os.stat(at.name, dir_fd=at.dir_fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None

    # --- reading -----------------------------------------------------------------

    def exists(self, target_path: str) -> bool:
        """Something (even a link) is at *target_path*."""
        return self._lstat(target_path) is not None

    def is_dir(self, target_path: str) -> bool:
        st = self._lstat(target_path, follow=True)
        return st is not None and stat_mod.S_ISDIR(st.st_mode)

    def is_file(self, target_path: str) -> bool:
        st = self._lstat(target_path, follow=True)
        return st is not None and stat_mod.S_ISREG(st.st_mode)

    def listdir(self, target_path: str) -> List[str]:
        """Names in a folder of the target ([] when there is none)."""
        try:
            with self._resolve(target_path, follow=True) as at:
                fd = os.open(at.name, _DIR_FLAGS, dir_fd=at.dir_fd) if at.name else os.dup(at.dir_fd)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                return []
            raise
        try:
            return sorted(os.listdir(fd))
        finally:
            os.close(fd)

    def open_file(self, target_path: str, flags: int = os.O_RDONLY, mode: int = 0o600,
                  follow: bool = False) -> int:
        """A descriptor of the regular file at *target_path*, opened without
        following a link; refuses links, folders, FIFOs and devices (a FIFO is
        opened non-blocking, so it cannot hang us)."""
        with self._resolve(target_path, follow=follow) as at:
            if not at.name:
                raise NotAFile(target_path)
            try:
                fd = os.open(at.name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode,
                             dir_fd=at.dir_fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise LinkRefused(target_path) from None
                if exc.errno in (errno.EISDIR, errno.ENXIO):
                    raise NotAFile(target_path) from None
                raise
        try:
            if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
                raise NotAFile(target_path)
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def read_bytes(self, target_path: str, follow: bool = False) -> Optional[bytes]:
        """The file's bytes, None when there is none.  A link, a folder or a
        special file where a file is expected raises :class:`TargetRefused`."""
        try:
            fd = self.open_file(target_path, follow=follow)
        except (FileNotFoundError, NotADirectoryError):
            return None
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def read_text(self, target_path: str, follow: bool = False) -> Optional[str]:
        data = self.read_bytes(target_path, follow=follow)
        return None if data is None else data.decode("utf-8", errors="surrogateescape")

    def meta(self, target_path: str) -> Optional[FileMeta]:
        st = self._lstat(target_path)
        if st is None:
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

    # --- changing ------------------------------------------------------------------

    def makedirs(self, target_dir: str, mode: int = 0o755) -> List[str]:
        """Create missing folders (with *mode*, whatever the umask); return the
        target paths created, outermost first."""
        created: List[str] = []
        if not _split(target_dir):
            return created
        with self._resolve(target_dir, create=mode, created=created) as at:
            try:
                st = os.stat(at.name, dir_fd=at.dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                os.mkdir(at.name, mode, dir_fd=at.dir_fd)
                fd = os.open(at.name, _DIR_FLAGS, dir_fd=at.dir_fd)
                os.fchmod(fd, mode)
                os.close(fd)
                created.append("/" + "/".join(at.inside + [at.name]))
                return created
            if stat_mod.S_ISLNK(st.st_mode):
                # a link to a folder: followed like any other on the way, if it stays inside
                st = self._lstat(target_dir, follow=True)
            if st is None or not stat_mod.S_ISDIR(st.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), target_dir)
        return created

    def private_dir(self, target_dir: str) -> None:
        """A folder only root may enter (mailwiz's state): made 0700 if missing;
        if present it must be a real folder, not a link, and is made 0700 and
        ours again.  Missing folders above it are made 0755."""
        self.makedirs(split_target(target_dir)[0])
        self.makedirs(target_dir, mode=0o700)
        with self._resolve(target_dir) as at:
            try:
                fd = os.open(at.name, _DIR_FLAGS, dir_fd=at.dir_fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise LinkRefused(target_dir) from None
                raise
        try:
            os.fchmod(fd, 0o700)
            if os.geteuid() == 0:
                os.fchown(fd, 0, 0)
        finally:
            os.close(fd)

    def write_atomic(self, target_path: str, data: bytes, mode: Optional[int] = None,
                     uid: int = -1, gid: int = -1) -> None:
        """Write *data* atomically.  An existing file keeps its mode and owner
        unless others are given; a new file gets *mode* (default 0644).  The
        folder must exist (see :meth:`makedirs`)."""
        with self._resolve(target_path) as at:
            if not at.name:
                raise NotAFile(target_path)
            try:
                st = os.stat(at.name, dir_fd=at.dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                st = None
            if st is not None:
                if stat_mod.S_ISLNK(st.st_mode):
                    raise LinkRefused(target_path)
                if not stat_mod.S_ISREG(st.st_mode):
                    raise NotAFile(target_path)
                mode = stat_mod.S_IMODE(st.st_mode) if mode is None else mode
                uid = st.st_uid if uid == -1 else uid
                gid = st.st_gid if gid == -1 else gid
            elif mode is None:
                mode = 0o644
            tmp = f".{at.name}.mailwiz-tmp"
            try:
                fd = self._create_temp(at.dir_fd, tmp)
            except OSError as exc:      # said of the file, not of its temporary twin
                raise OSError(exc.errno, exc.strerror, target_path) from exc
            try:
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                    if self.write_hook:
                        self.write_hook("temp-written", target_path)
                    os.fchmod(fd, mode)
                    if (uid != -1 or gid != -1) and os.geteuid() == 0:
                        os.fchown(fd, uid, gid)
                finally:
                    os.close(fd)
                os.rename(tmp, at.name, src_dir_fd=at.dir_fd, dst_dir_fd=at.dir_fd)
            except BaseException as exc:
                try:
                    os.unlink(tmp, dir_fd=at.dir_fd)
                except OSError:
                    pass
                if isinstance(exc, OSError) and exc.filename in (None, tmp) and not isinstance(exc, TargetRefused):
                    raise OSError(exc.errno, exc.strerror, target_path) from exc
                raise
            self._fsync(at.dir_fd)
            if self.write_hook:
                self.write_hook("renamed", target_path)

    @staticmethod
    def _create_temp(dir_fd: int, name: str) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            return os.open(name, flags, 0o600, dir_fd=dir_fd)
        except FileExistsError:
            # Left by a kill, or planted: unlink removes a link itself, never what it points to.
            os.unlink(name, dir_fd=dir_fd)
            return os.open(name, flags, 0o600, dir_fd=dir_fd)

    def set_meta(self, target_path: str, mode: int, uid: int = -1, gid: int = -1) -> None:
        fd = self.open_file(target_path)
        try:
            os.fchmod(fd, mode)
            if (uid != -1 or gid != -1) and os.geteuid() == 0:
                os.fchown(fd, uid, gid)
        finally:
            os.close(fd)

    def remove(self, target_path: str) -> None:
        """Remove a file (or a link itself, never what it points to)."""
        try:
            at = self._resolve(target_path)
        except (FileNotFoundError, NotADirectoryError):
            return
        with at:
            if not at.name:
                raise NotAFile(target_path)
            try:    # a temporary file a kill left in the middle of writing it goes too
                os.unlink(f".{at.name}.mailwiz-tmp", dir_fd=at.dir_fd)
            except OSError:
                pass
            try:
                st = os.stat(at.name, dir_fd=at.dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                return
            if stat_mod.S_ISDIR(st.st_mode):
                raise NotAFile(target_path)
            os.unlink(at.name, dir_fd=at.dir_fd)
            self._fsync(at.dir_fd)

    def remove_temp(self, target_path: str) -> None:
        """Remove the temporary twin of *target_path* that a kill may have left."""
        try:
            with self._resolve(target_path) as at:
                if at.name:
                    os.unlink(f".{at.name}.mailwiz-tmp", dir_fd=at.dir_fd)
        except OSError:
            pass

    def rename(self, target_from: str, target_to: str) -> None:
        """Rename within one folder (a folder of mailwiz's own, made whole)."""
        folder, name = split_target(target_from)
        other, new_name = split_target(target_to)
        if folder != other:
            raise PathEscape(target_to)
        with self._resolve(target_from) as at:
            os.rename(at.name, new_name, src_dir_fd=at.dir_fd, dst_dir_fd=at.dir_fd)
            self._fsync(at.dir_fd)

    def rmdir_if_empty(self, target_dir: str) -> None:
        try:
            with self._resolve(target_dir) as at:
                if at.name:
                    os.rmdir(at.name, dir_fd=at.dir_fd)
        except OSError:
            pass

    def remove_tree(self, target_dir: str) -> None:
        """Remove a folder and everything in it, never following a link."""
        try:
            at = self._resolve(target_dir)
        except (FileNotFoundError, NotADirectoryError):
            return
        with at:
            if not at.name:
                raise NotAFile(target_dir)
            try:
                st = os.stat(at.name, dir_fd=at.dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                return
            if not stat_mod.S_ISDIR(st.st_mode):
                return
            _rmtree_at(at.dir_fd, at.name)

    @staticmethod
    def _fsync(dir_fd: int) -> None:
        try:
            os.fsync(dir_fd)
        except OSError:
            pass


def _rmtree_at(parent_fd: int, name: str) -> None:
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    try:
        for entry in os.listdir(fd):
            st = os.stat(entry, dir_fd=fd, follow_symlinks=False)
            if stat_mod.S_ISDIR(st.st_mode):
                _rmtree_at(fd, entry)
            else:
                os.unlink(entry, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent_fd)


def split_target(target_path: str) -> Tuple[str, str]:
    """("/etc/postfix", "main.cf") for "/etc/postfix/main.cf"."""
    parts = _split(target_path)
    return "/" + "/".join(parts[:-1]), (parts[-1] if parts else "")
