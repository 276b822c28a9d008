"""Check configuration text with the real Postfix and Dovecot tools on this host.

Nothing here touches /etc/postfix, /etc/dovecot or the mail queue, and no mail
service is started: every check runs on a copy in a temporary directory.

    from tests.realtools import requires_postfix, postconf_n, postfix_check

    @requires_postfix
    def test_main_cf_is_clean():
        out, warnings = postconf_n(main_cf_text)
        assert warnings == []

The functions skip the calling test (``pytest.skip`` with the reason) when a
tool is missing, or, for ``postfix check``, when not running as root.  The
fixtures at the end wrap them; import a fixture by name into a test module
(``from tests.realtools import selfsigned_cert``) to use it there.

How the tools are made to work on a temporary directory:

* Postfix re-reads a main.cf modified within the last two seconds until it
  stops changing (dict_load_file), costing 2 s per call; written main.cf files
  are therefore back-dated.
* ``postconf -c DIR -n`` wants ``DIR/master.cf`` too (it warns about unused
  parameters from both files); the stock master.cf is used when none is given.
  Its ``config_directory = DIR`` line is left out of the output.
* ``postfix -c DIR check`` runs postfix-script, which needs the queue and data
  directories to exist with Postfix's owners: main.cf gets ``queue_directory``
  and ``data_directory`` pointing into a temporary tree shared by all checks
  (``post-install create-missing`` fills it on the first run; only root may
  chown there).  Shared files (daemon, meta and command directories) are only
  read.  Its messages go to syslog, or to stderr only when stderr is a
  terminal, so the command runs with stderr on a pseudo-terminal.
* ``doveconf -n -c DIR/dovecot.conf`` resolves relative ``!include`` paths
  against DIR.  It reads ``ssl_cert = </file`` files only with ``-x``
  (``expand=True``); the ``selfsigned_cert`` fixture makes files for that.
"""

from __future__ import annotations

import atexit
import os
import pty
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import pytest

from installer import confedit

POSTFIX_CONFIG = Path("/etc/postfix")
DOVECOT_CONFIG = Path("/etc/dovecot")
TIMEOUT = 60  # seconds for any one tool run

_SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def _tool(name: str) -> Optional[str]:
    return shutil.which(name, path=_SBIN_PATH)


def postfix_missing_reason() -> Optional[str]:
    """Why Postfix checks cannot run here, or None when they can."""
    for name in ("postconf", "postfix", "postmap"):
        if _tool(name) is None:
            return "Postfix is not installed ({} not found)".format(name)
    for name in ("main.cf", "master.cf"):
        if not (POSTFIX_CONFIG / name).is_file():
            return "no stock {} in {}".format(name, POSTFIX_CONFIG)
    return None


def dovecot_missing_reason() -> Optional[str]:
    """Why Dovecot checks cannot run here, or None when they can."""
    if _tool("doveconf") is None:
        return "Dovecot is not installed (doveconf not found)"
    if not (DOVECOT_CONFIG / "dovecot.conf").is_file():
        return "no stock dovecot.conf in {}".format(DOVECOT_CONFIG)
    return None


def _postfix_check_missing_reason() -> Optional[str]:
    reason = postfix_missing_reason()
    if reason is None and os.geteuid() != 0:
        reason = "postfix check needs root (it chowns its queue directories)"
    return reason


_POSTFIX_MISSING = postfix_missing_reason()
_DOVECOT_MISSING = dovecot_missing_reason()

requires_postfix = pytest.mark.skipif(_POSTFIX_MISSING is not None, reason=_POSTFIX_MISSING or "")
requires_dovecot = pytest.mark.skipif(_DOVECOT_MISSING is not None, reason=_DOVECOT_MISSING or "")
requires_postfix_check = pytest.mark.skipif(
    _postfix_check_missing_reason() is not None, reason=_postfix_check_missing_reason() or "")


def _skip_unless(reason: Optional[str]) -> None:
    if reason is not None:
        pytest.skip(reason)


def stock_postfix_file(name: str) -> str:
    """The text of /etc/postfix/NAME as installed (skips when Postfix is missing)."""
    _skip_unless(postfix_missing_reason())
    return (POSTFIX_CONFIG / name).read_text()


def stock_dovecot_files() -> Dict[str, str]:
    """The installed Dovecot configuration tree as {relative path: text}, without private/."""
    _skip_unless(dovecot_missing_reason())
    files: Dict[str, str] = {}
    for path in sorted(DOVECOT_CONFIG.rglob("*")):
        relative = path.relative_to(DOVECOT_CONFIG)
        if path.is_file() and relative.parts[0] != "private":
            files[relative.as_posix()] = path.read_text()
    return files


def _write(path: Path, text: str, backdate: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if backdate:
        # See the module docstring: a fresh main.cf makes Postfix wait 2 s.
        past = time.time() - 60
        os.utime(path, (past, past))


def _run(argv: List[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT)


# ---------------------------------------------------------------------------
# postconf


def postconf_query(main_cf_text: str, master_cf_text: Optional[str],
                   args: List[str]) -> Tuple[int, str, str]:
    """Run ``postconf -c DIR ARGS...`` on the given files; return (status, stdout, stderr).

    ``master_cf_text`` None means the stock master.cf.  Any config_directory
    line naming the temporary directory is left out of stdout.
    """
    _skip_unless(postfix_missing_reason())
    if master_cf_text is None:
        master_cf_text = stock_postfix_file("master.cf")
    with tempfile.TemporaryDirectory(prefix="mailwiz-postconf.") as tmp:
        _write(Path(tmp, "main.cf"), main_cf_text, backdate=True)
        _write(Path(tmp, "master.cf"), master_cf_text)
        proc = _run([_tool("postconf"), "-c", tmp] + list(args))
    own_dir_line = "config_directory = " + tmp
    stdout = "".join(line + "\n" for line in proc.stdout.splitlines() if line != own_dir_line)
    return proc.returncode, stdout, proc.stderr


def postconf_n(main_cf_text: str, master_cf_text: Optional[str] = None) -> Tuple[str, List[str]]:
    """Run ``postconf -c DIR -n`` on main.cf text; return (stdout, warning lines).

    The warning lines are postconf's stderr lines (``postconf: warning: ...``,
    and ``postconf: fatal: ...`` when it fails); a failure without a message
    still yields one line.  ``master_cf_text`` defaults to the stock master.cf.
    """
    returncode, stdout, stderr = postconf_query(main_cf_text, master_cf_text, ["-n"])
    warnings = [line for line in stderr.splitlines() if line.strip()]
    if returncode != 0 and not warnings:
        warnings.append("postconf exited with status {}".format(returncode))
    return stdout, warnings


def postconf_e(main_cf_text: Optional[str], params: Mapping[str, Optional[str]]) -> str:
    """What the real ``postconf -c DIR -e name=value`` (``-X name`` for None) makes of main.cf text.

    A missing file (None) starts as an empty one.  Raises RuntimeError when postconf fails.
    """
    _skip_unless(postfix_missing_reason())
    sets = ["{}={}".format(name, value) for name, value in params.items() if value is not None]
    removes = [name for name, value in params.items() if value is None]
    with tempfile.TemporaryDirectory(prefix="mailwiz-postconf-e.") as tmp:
        main_cf = Path(tmp, "main.cf")
        _write(main_cf, main_cf_text or "", backdate=True)
        for option, args in (("-e", sets), ("-X", removes)):
            if not args:
                continue
            proc = _run([_tool("postconf"), "-c", tmp, option] + args)
            if proc.returncode != 0:
                raise RuntimeError("postconf {} failed: {}".format(option, proc.stderr.strip()))
        return main_cf.read_text()


# ---------------------------------------------------------------------------
# postfix check


class PostfixSandbox:
    """A temporary tree for ``postfix -c DIR check``: a pristine copy of
    /etc/postfix, and a queue and data directory shared by every check."""

    def __init__(self) -> None:
        _skip_unless(_postfix_check_missing_reason())
        self.root = Path(tempfile.mkdtemp(prefix="mailwiz-postfix."))
        # Dereference symlinks: postfix check warns about links leaving the
        # config directory (Debian's makedefs.out is one).
        self.template = self.root / "template"
        shutil.copytree(str(POSTFIX_CONFIG), str(self.template), symlinks=False)
        self.queue_directory = self.root / "queue"
        self.queue_directory.mkdir()  # postfix-script cd's here before creating the rest
        # data_directory is left for post-install to create, owned by postfix.
        self.data_directory = self.root / "data"
        self._count = 0

    def new_config_dir(self) -> Path:
        self._count += 1
        config_dir = self.root / "config{}".format(self._count)
        shutil.copytree(str(self.template), str(config_dir), symlinks=True)
        return config_dir

    def check(self, main_cf_text: str, master_cf_text: str,
              extra_files: Optional[Mapping[str, str]] = None,
              postmap: Iterable[str] = ()) -> Tuple[int, str]:
        """Write the config into a fresh copy, postmap maps, run ``postfix -c DIR check``.

        ``extra_files`` are paths relative to the config directory; those
        named in ``postmap`` (optionally ``type:name``; default type from
        ``postconf -h default_database_type``) go through the real postmap
        first: a postmap failure is returned as the result, its warnings
        come first in the output.  Returns (exit status, output); a clean
        check has status 0 and no output.
        """
        config_dir = self.new_config_dir()
        main_cf_text = confedit.postconf_set(main_cf_text, {
            "queue_directory": str(self.queue_directory),
            "data_directory": str(self.data_directory),
        })
        _write(config_dir / "main.cf", main_cf_text, backdate=True)
        _write(config_dir / "master.cf", master_cf_text)
        for relative, text in (extra_files or {}).items():
            _write(config_dir / relative, text)
        outputs = []
        for name in postmap:
            map_type, sep, map_name = name.rpartition(":")
            target = str(config_dir / map_name)
            # postmap, too, reports bad lines only to syslog or a terminal.
            status, output = _run_with_stderr_on_tty(
                [_tool("postmap"), "-c", str(config_dir),
                 "{}:{}".format(map_type, target) if sep else target])
            if status != 0:
                return status, output
            outputs.append(output)
        status, output = _run_with_stderr_on_tty(
            [_tool("postfix"), "-c", str(config_dir), "check"])
        return status, "\n".join(text for text in outputs + [output] if text)

    def close(self) -> None:
        shutil.rmtree(str(self.root), ignore_errors=True)


def _run_with_stderr_on_tty(argv: List[str]) -> Tuple[int, str]:
    """Run argv with stderr on a pseudo-terminal; return (status, stdout + stderr)."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=slave)
    finally:
        os.close(slave)
    output = {master: [], proc.stdout.fileno(): []}
    open_fds = set(output)
    deadline = time.monotonic() + TIMEOUT
    try:
        while open_fds:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                proc.kill()
                raise subprocess.TimeoutExpired(argv, TIMEOUT)
            ready, _, _ = select.select(list(open_fds), [], [], remaining)
            for fd in ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO on the pty: every holder of the terminal has exited
                    chunk = b""
                if chunk:
                    output[fd].append(chunk)
                else:
                    open_fds.discard(fd)
    finally:
        os.close(master)
        proc.stdout.close()
    status = proc.wait(timeout=TIMEOUT)
    text = b"".join(b"".join(chunks) for chunks in output.values())
    return status, text.decode("utf-8", "replace").replace("\r\n", "\n").strip()


_default_sandbox: Optional[PostfixSandbox] = None


def _sandbox() -> PostfixSandbox:
    global _default_sandbox
    if _default_sandbox is None:
        _default_sandbox = PostfixSandbox()
        atexit.register(_default_sandbox.close)
    return _default_sandbox


def postfix_check(main_cf_text: str, master_cf_text: str,
                  extra_files: Optional[Mapping[str, str]] = None,
                  postmap: Iterable[str] = ()) -> Tuple[int, str]:
    """``postfix -c DIR check`` on the given files; see ``PostfixSandbox.check``.

    Uses one sandbox per test process, removed at exit.
    """
    return _sandbox().check(main_cf_text, master_cf_text, extra_files, postmap)


# ---------------------------------------------------------------------------
# doveconf


def doveconf_n(files: Mapping[str, str], expand: bool = False) -> Tuple[int, str]:
    """Write a Dovecot config tree and run ``doveconf -n -c DIR/dovecot.conf``.

    ``files`` maps paths relative to the tree (``dovecot.conf``,
    ``conf.d/10-ssl.conf``, ...) to their text; ``dovecot.conf`` is required.
    With ``expand`` doveconf also reads ``</file`` values (``-x``), so SSL
    certificate and key files must exist.  Returns (exit status, stdout +
    stderr).
    """
    _skip_unless(dovecot_missing_reason())
    if "dovecot.conf" not in files:
        raise ValueError("files must include dovecot.conf")
    with tempfile.TemporaryDirectory(prefix="mailwiz-dovecot.") as tmp:
        for relative, text in files.items():
            _write(Path(tmp, relative), text)
        argv = [_tool("doveconf"), "-n", "-c", str(Path(tmp, "dovecot.conf"))]
        if expand:
            argv.insert(1, "-x")
        proc = _run(argv)
    return proc.returncode, proc.stdout + proc.stderr


def make_selfsigned_cert(directory: Path) -> Tuple[Path, Path]:
    """A throwaway self-signed certificate and key (PEM) in ``directory``."""
    if _tool("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    proc = _run([_tool("openssl"), "req", "-x509", "-nodes", "-newkey", "ec",
                 "-pkeyopt", "ec_paramgen_curve:prime256v1", "-days", "2",
                 "-subj", "/CN=mailwiz-test.invalid",
                 "-keyout", str(key), "-out", str(cert)])
    if proc.returncode != 0:
        raise RuntimeError("openssl req failed: " + proc.stderr.strip())
    return cert, key


# ---------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session")
def selfsigned_cert(tmp_path_factory) -> Tuple[Path, Path]:
    """(certificate path, key path) of a throwaway self-signed certificate."""
    return make_selfsigned_cert(tmp_path_factory.mktemp("cert"))


@pytest.fixture(scope="session")
def postfix_sandbox():
    """A PostfixSandbox shared by the session (skips without Postfix or root)."""
    sandbox = PostfixSandbox()
    yield sandbox
    sandbox.close()


@pytest.fixture
def real_postconf():
    """``postconf_n``; skips the test when Postfix is missing."""
    _skip_unless(postfix_missing_reason())
    return postconf_n


@pytest.fixture
def real_postfix_check(postfix_sandbox):
    """``postfix_check`` on the session sandbox."""
    return postfix_sandbox.check


@pytest.fixture
def real_doveconf():
    """``doveconf_n``; skips the test when Dovecot is missing."""
    _skip_unless(dovecot_missing_reason())
    return doveconf_n
