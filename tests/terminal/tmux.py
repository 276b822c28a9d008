"""A real terminal for tests: one tmux pane of a fixed size, on a private tmux
server (its own socket, no user configuration), driven with send-keys and read
with capture-pane.

Every wait is bounded and, when it runs out, fails with the screen as it was.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

TRACEBACK = "Traceback (most recent call last)"
POLL = 0.1


def squeeze(text: str) -> str:
    """*text* without any whitespace: a message wrapped over lines (English or
    Japanese) still matches, and so do padded cells."""
    return re.sub(r"\s+", "", text)


class ScreenTimeout(AssertionError):
    pass


class Tmux:
    """One detached tmux session of *width* x *height* running one command."""

    def __init__(self, workdir: Path, width: int = 80, height: int = 24):
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.socket = self.workdir / "tmux.sock"
        self.width = width
        self.height = height
        self.config = self.workdir / "tmux.conf"
        # The pane stays after its command exits, so the exit status and the
        # last screen can still be read.
        self.config.write_text("set -g remain-on-exit on\nset -g history-limit 5000\n")
        self.started = False
        self.status_file = self.workdir / "exit-status"
        self.screens: List[str] = []      # every screen read, to look for tracebacks afterwards

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-S", str(self.socket), "-f", str(self.config), *args],
                              capture_output=True, text=True, check=check, timeout=10)

    def start(self, argv: Sequence[str], cwd: Path) -> None:
        """Run *argv* in a new session whose pane is width x height.

        A small sh between tmux and *argv* writes *argv*'s exit status to a
        file: tmux sometimes leaves its pane's process unreaped (a zombie),
        and then it does not know the status."""
        self._tmux("new-session", "-d", "-s", "wiz", "-x", str(self.width), "-y", str(self.height),
                   "-c", str(cwd), "--", "sh", "-c", '"$@"; echo $? > "$0"', str(self.status_file), *argv)
        self.started = True

    def close(self) -> None:
        """Stop this tmux server (its pane's process gets SIGHUP)."""
        if self.started:
            self._tmux("kill-server", check=False)
            self.started = False

    # -- reading ----------------------------------------------------------------------

    def screen(self) -> str:
        text = self._tmux("capture-pane", "-p", "-t", "wiz").stdout
        self.screens.append(text)
        return text

    def everything(self) -> str:
        """The pane with its scrollback (what was printed after the app left the screen)."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "wiz").stdout

    def pane(self, fmt: str) -> str:
        return self._tmux("display-message", "-p", "-t", "wiz", fmt).stdout.strip()

    def program_pid(self) -> int:
        """The pid of the command given to start() (the child of the pane's sh)."""
        shell = int(self.pane("#{pane_pid}"))
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        assert len(children) == 1, f"the pane's sh has children {children}"
        return int(children[0])

    def cursor(self) -> Tuple[int, int]:
        """Where the terminal's cursor is (column, row), counting from 0."""
        x, y = self.pane("#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def exit_status(self) -> Optional[int]:
        """The exit status of the command given to start(), or None while it runs."""
        try:
            return int(self.status_file.read_text())
        except (OSError, ValueError):     # not yet, or being written
            return None

    # -- waiting ----------------------------------------------------------------------

    def wait_until(self, ready: Callable[[str], bool], what: str, timeout: float = 20.0,
                   poll: float = POLL) -> str:
        """Poll the screen until ``ready(screen)``; the screen then, or a failure
        naming *what* with the last screen.  A traceback on screen fails at once."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if TRACEBACK in text:
                raise AssertionError(f"a Python traceback is on the screen (waiting for {what}):\n{text}")
            if ready(text):
                return text
            if self.exit_status() is not None:
                raise ScreenTimeout(f"the program exited ({self.exit_status()}) while waiting for {what}:\n"
                                    + self.everything())
            if time.monotonic() > deadline:
                raise ScreenTimeout(f"no {what} within {timeout:.0f} s; the screen is:\n{text}")
            time.sleep(poll)

    def wait_for(self, *texts: str, timeout: float = 20.0) -> str:
        """Wait until every one of *texts* is on the screen (whitespace ignored)."""
        wanted = [squeeze(t) for t in texts]
        return self.wait_until(lambda screen: all(w in squeeze(screen) for w in wanted),
                               " + ".join(repr(t) for t in texts), timeout)

    def wait_exit(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while True:
            status = self.exit_status()
            if status is not None:
                return status
            if time.monotonic() > deadline:
                raise ScreenTimeout(f"the program did not exit within {timeout:.0f} s; the screen is:\n"
                                    + self.screen())
            time.sleep(POLL)

    # -- typing -----------------------------------------------------------------------

    def keys(self, *names: str) -> None:
        """Press keys by tmux name: Enter, Tab, Escape, C-n, F2, Home, ..."""
        self._tmux("send-keys", "-t", "wiz", *names)

    def type(self, text: str) -> None:
        """Type *text* literally."""
        self._tmux("send-keys", "-t", "wiz", "-l", text)
