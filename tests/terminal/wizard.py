"""The wizard's pages as a person sees them at 80x24, walked with the keyboard,
and what a finished run leaves under the sandbox root.

The keys are the ones the wizard shows on screen: Ctrl+N next, Tab to reach a
field, Home + Ctrl+K to clear it, Tab + Enter for Apply in the dialog, Enter
on a focused button.
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

from installer import i18n

from tests.terminal.tmux import TRACEBACK, ScreenTimeout, Tmux, squeeze

PROJECT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PROFILE = "rocky-9"                # no other MTA installed: 12 pages
PAGES = ("Language", "This system", "Packages", "Identity", "Authentication and TLS", "DKIM and DMARC",
         "Dovecot", "Spam rules", "Aliases", "Review", "Apply", "Done")
RUNS = "var/lib/mailwiz/runs"
LOCK = "var/lib/mailwiz/lock"
REPLAY_NAME = "mailwiz-answers.yaml"   # the Review page's default, under a sandbox root


class FinishKeyIgnored(AssertionError):
    """The key the Done page names did not end the wizard."""


def text(msgid: str, lang: str) -> str:
    """*msgid* as the wizard shows it in *lang* (the shipped catalog)."""
    return msgid if lang == "en" else i18n.catalog(lang).get(msgid, msgid)


def japanese_locale() -> Optional[str]:
    """A Japanese UTF-8 locale this machine has, or None."""
    try:
        names = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    for name in names:
        if name.lower().replace("-", "") == "ja_jp.utf8":
            return name
    return None


def wizard_command(root: Path, *, term: str = "xterm-256color", lang_env: str = "C.UTF-8",
                   extra: Sequence[str] = (), environ: Optional[Dict[str, str]] = None,
                   program: Sequence[str] = ("-m", "installer.cli")) -> List[str]:
    """``env -i ... python -m installer.cli --sandbox ...``: a clean environment,
    so the developer's LC_ALL or MAILWIZ_FAILPOINT cannot change the run."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root.parent), "TERM": term,
           "LANG": lang_env}
    env.update(environ or {})
    return (["env", "-i"] + [f"{key}={value}" for key, value in env.items()]
            + [PYTHON, *program, "--sandbox", "--root", str(root), "--profile", PROFILE, *extra])


# -- walking ----------------------------------------------------------------------------------

def on_page(term: Tmux, number: int, lang: str, *also: str, timeout: float = 20.0) -> str:
    """Wait for page *number*'s title line (``n/12  Title``) and *also* texts."""
    title = squeeze(text(PAGES[number - 1], lang))
    counter = f"{number}/{len(PAGES)}"
    wanted = [squeeze(t) for t in also]

    def ready(screen: str) -> bool:
        top = squeeze(screen.splitlines()[0]) if screen.strip() else ""
        return top.startswith(counter) and title in top[len(counter):] and all(
            w in squeeze(screen) for w in wanted)

    return term.wait_until(ready, f"page {counter} {PAGES[number - 1]!r} " + " ".join(map(repr, also)), timeout)


def focus_field(term: Tmux, label: str) -> None:
    """Tab from the page body into the field under *label*.  Textual puts the
    cursor into a field (and selects its text) when the field gets the focus:
    typing starts only once the cursor is there, or the first letters would be
    replaced by that late selection."""
    screen = term.screen()
    rows = [i for i, line in enumerate(screen.splitlines()) if squeeze(label) == squeeze(line)]
    assert rows, f"no field labelled {label!r} on the screen:\n{screen}"
    term.keys("Tab")
    # the label, the field's top border, then its text line
    term.wait_until(lambda _screen: term.cursor()[1] == rows[0] + 2, f"the cursor in the field {label!r}")


def replace_field(term: Tmux, value: str) -> None:
    """The focused input: go to its start, delete to its end, type *value*."""
    term.keys("Home")
    term.keys("C-k")
    term.type(value)


def walk_to_review(term: Tmux, lang: str, *, hostname: str, alias: str, toggle_language: bool = False) -> None:
    """From the first page to the Review page, typing a host name and root's alias."""
    on_page(term, 1, lang, "English", "日本語")
    if toggle_language:
        # F2 switches the language of every page at once, and back.
        other = "ja" if lang == "en" else "en"
        term.keys("F2")
        on_page(term, 1, other)
        term.keys("F2")
        on_page(term, 1, lang)
    term.keys("C-n")
    on_page(term, 2, lang, text("Host name", lang))          # the facts have been read
    term.keys("C-n")
    on_page(term, 3, lang, "postfix", "dovecot")
    term.keys("C-n")
    label = text("Host name (fully qualified)", lang)
    on_page(term, 4, lang, label)
    focus_field(term, label)
    replace_field(term, hostname)
    domain = hostname.split(".", 1)[1]

    def domain_followed(screen: str) -> bool:
        lines = [line for line in screen.splitlines() if domain in line]
        return any(hostname in line for line in lines) and any(hostname not in line for line in lines)

    term.wait_until(domain_followed, f"host name {hostname} and the derived domain {domain}")
    term.keys("C-n")
    for number in (5, 6, 7, 8):
        on_page(term, number, lang)
        term.keys("C-n")
    label = text("Forward root's mail to (an address or a local user)", lang)
    on_page(term, 9, lang, label)
    focus_field(term, label)
    # Under heavy load the keys sometimes do not reach the field (an open problem,
    # seen in CI and over SSH): type again, at most three times, rather than fail.
    for attempt in range(3):
        replace_field(term, alias)
        try:
            term.wait_for(alias)
            break
        except ScreenTimeout:
            if attempt == 2:
                raise
    term.keys("C-n")
    on_page(term, 10, lang, text("Save the answers for replay in", lang))


def confirm_apply(term: Tmux, lang: str) -> None:
    """On Review: Ctrl+N opens the question; its first answer is Not yet, so Tab, Enter."""
    term.keys("C-n")
    term.wait_for(text("Apply these changes now?", lang))
    term.keys("Tab")
    term.keys("Enter")
    on_page(term, 11, lang)


def finish(term: Tmux, lang: str, finish_key: str) -> int:
    """Wait for the run to end, go to Done, press *finish_key*; the exit status."""
    on_page(term, 11, lang, text("Finished. Next shows the results.", lang), timeout=30)
    term.keys("Enter")                                        # Next has the focus once the run is over
    on_page(term, 12, lang, text("Answers for replay", lang))
    term.keys(finish_key)
    try:
        return term.wait_exit(timeout=5)
    except ScreenTimeout as exc:
        raise FinishKeyIgnored(f"{finish_key} on the Done page did not end the wizard:\n{exc}") from None


def walk_whole_flow(term: Tmux, lang: str, *, hostname: str, alias: str, finish_key: str = "C-n",
                    toggle_language: bool = False) -> int:
    walk_to_review(term, lang, hostname=hostname, alias=alias, toggle_language=toggle_language)
    confirm_apply(term, lang)
    return finish(term, lang, finish_key)


# -- what a run leaves ----------------------------------------------------------------------------

def run_dirs(root: Path) -> List[Path]:
    return sorted(p for p in (root / RUNS).glob("*") if p.is_dir())


def journal(run_dir: Path) -> List[dict]:
    lines = (run_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def lock_is_free(root: Path) -> bool:
    path = root / LOCK
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)   # closing drops the lock again
    return True


def lock_holder(root: Path) -> Optional[int]:
    """The pid the lock file names (the process that last took the lock)."""
    try:
        return int((root / LOCK).read_text().strip())
    except (OSError, ValueError):
        return None


def assert_one_ok_run(root: Path, hostname: str, alias: str) -> None:
    """One run whose journal ends ok, the lock free, the replay answers saved
    with what was typed, and the host name in main.cf."""
    runs = run_dirs(root)
    assert len(runs) == 1, runs
    entries = journal(runs[0])
    assert entries[0]["event"] == "run-start"
    assert (entries[-1]["event"], entries[-1].get("status")) == ("run-end", "ok"), entries[-3:]
    assert lock_is_free(root)
    saved = yaml.safe_load((root / REPLAY_NAME).read_text(encoding="utf-8"))
    assert saved["postfix"]["hostname"] == hostname
    assert saved["aliases"]["root"] == alias
    assert hostname in (root / "etc/postfix/main.cf").read_text(encoding="utf-8")


def assert_no_traceback(term: Tmux) -> None:
    """No screen read during the test, nor what is left in the pane, shows a traceback."""
    for screen in term.screens + [term.everything()]:
        assert TRACEBACK not in screen, screen
