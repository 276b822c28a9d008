"""mailwiz's benchmark: one table of figures (run on demand; not a timed test).

    python tests/bench.py              # full run (creates .venv-bench once: deps + ansible-core)
    python tests/bench.py --runs 9     # more samples per figure
    python tests/bench.py --quick      # one sample, small sizes, this interpreter (the smoke test)
    python tests/bench.py --only 1,3   # some rows only
    python tests/bench.py --only 5 --targets   # row 5: a real apply on a booted Debian 13 machine
    python tests/bench.py --journal J  # row 5 from a real apply's journal.jsonl

Every figure is the median of --runs fresh processes, timed with
time.perf_counter() around the child and its peak RSS taken from os.wait4().
Where there is a peer (Ansible, a minimal Textual app) the two are run
alternately (A B A B ...) in the same run, so the ratio sees the same load.
mailwiz runs from this work tree (PYTHONPATH) with compiled bytecode, as an
installed copy would.  The answer file and the Ansible playbook that makes the
same edits are generated here (see full_answers() and ansible_playbook()).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT / "installer" / "answers.example.yaml"
BENCH_VENV = PROJECT / ".venv-bench"
PROFILE = "debian-13"
ENTRY = "import sys; from installer.cli import main; sys.exit(main())"
OWN_DIRS = ("var/lib/mailwiz", "var/log/mailwiz")
RELAY_ENV = "MAILWIZ_BENCH_RELAY_PASSWORD"


# --- processes ---------------------------------------------------------------------------

class Child:
    """How children are started: interpreter, environment, Ansible."""

    def __init__(self, python: str, ansible: Optional[str]):
        self.python = python
        self.ansible = ansible
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
        env.update(PYTHONPATH=str(PROJECT), LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="dumb",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_PYTHON_INTERPRETER=python,
                   ANSIBLE_LOCAL_TEMP=tempfile.gettempdir() + "/mailwiz-bench-ansible",
                   **{RELAY_ENV: "bench-secret"})
        env.pop("MAILWIZ_FAILPOINT", None)
        self.env = env

    def mailwiz(self, *args: str) -> List[str]:
        # --profile every time: a sandbox root seeded for one profile is refused with
        # another, and on a host mailwiz knows, detection names the host's own.
        if args and args[0] in ("plan", "apply", "log"):
            args = (*args, "--profile", PROFILE)
        return [self.python, "-c", ENTRY, *args]


class Sample(NamedTuple):
    wall: float      # seconds
    rss: int         # peak resident set, KiB
    out: str         # stdout
    cpu: float       # user + system seconds: what the load of other processes changes least


def run(argv: Sequence[str], child: Child, cwd: Optional[Path] = None, ok=(0,)) -> Sample:
    """One child process, timed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=str(cwd or PROJECT), env=child.env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if proc.returncode not in ok:
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{stdout[-2000:]}"
                             f"{err.read().decode('utf-8', 'replace')[-2000:]}")
    return Sample(wall, usage.ru_maxrss, stdout, usage.ru_utime + usage.ru_stime)


def median(samples: List[float]) -> float:
    return statistics.median(samples)


def alternate(a: Callable[[], object], b: Callable[[], object], runs: int) -> Tuple[list, list]:
    """Samples of a and b taken A B A B ..., after one warm-up of each."""
    a(), b()
    xs, ys = [], []
    for _ in range(runs):
        xs.append(a())
        ys.append(b())
    return xs, ys


def samples(fn: Callable[[], object], runs: int, warm: bool = True) -> list:
    if warm:
        fn()
    return [fn() for _ in range(runs)]


# --- inputs ------------------------------------------------------------------------------

def full_answers(access: Optional[List[str]] = None) -> str:
    """The example answer file with every section in use: relay host, root alias, access map."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = re.sub(r"^relayhost: null.*$", "relayhost:\n  host: \"[smtp.example.net]:587\"\n  username: mailer\n"
                  f"  password_env: {RELAY_ENV}", text, count=1, flags=re.M)
    text = re.sub(r"^  root: null.*$", "  root: admin@example.org", text, count=1, flags=re.M)
    entries = access if access is not None else [
        "    - {key: spammer.example, action: REJECT}",
        "    - {key: 192.0.2.66, action: REJECT}",
        "    - {key: 198.51.100.0/24, action: REJECT}",
        "    - {key: friend.example, action: OK}"]
    text = re.sub(r"^  access:.*\n(    - .*\n)+", "  access:\n" + "".join(e + "\n" for e in entries), text,
                  count=1, flags=re.M)
    return text


def seeded_root(child: Child, answers: Path, where: Path) -> Path:
    """A sandbox root seeded for PROFILE (the first command on it seeds it)."""
    run(child.mailwiz("plan", "--answers", str(answers), "--sandbox", "--root", str(where)), child)
    return where


def copy_root(source: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, symlinks=True)
    return dest


def target_files(root: Path) -> Dict[str, Path]:
    """The target's own files (mailwiz's state and logs left out)."""
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(rel.startswith(d + "/") for d in OWN_DIRS):
            out[rel] = path
    return out


# "name = value" (main.cf, Dovecot) or "name: value" (/etc/aliases)
_PARAM = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.-]*)\s*([=:])\s*(.*?)\s*$")


def _params(lines: Sequence[str]) -> Dict[str, str]:
    found = {}
    for line in lines:
        match = _PARAM.match(line)
        if match:
            found[match.group(1)] = match.group(3)
    return found


def _param_lines(lines: Sequence[str]) -> Dict[str, str]:
    """Each setting's last line as written."""
    return {match.group(1): line for line in lines for match in [_PARAM.match(line)] if match}


def ansible_playbook(before: Path, after: Path) -> Tuple[str, int]:
    """A playbook making the edits that turned *before* into *after*, and its task count.

    Settings files (``name = value`` lines: main.cf, Dovecot's conf.d) get one
    lineinfile per setting changed, added or removed; other changed files
    (master.cf) one blockinfile per inserted block; new files a copy."""
    import difflib
    old, new = target_files(before), target_files(after)
    tasks = []
    folders = {str(Path(rel).parent) for rel in new} - {str(Path(rel).parent) for rel in old}
    for folder in sorted(folders):
        mode = "0%o" % ((after / folder).stat().st_mode & 0o7777)
        tasks.append({"name": f"folder {folder}", "ansible.builtin.file": {
            "path": "{{ root }}/" + folder, "state": "directory", "mode": mode}})
    for rel in sorted(new):
        dest = "{{ root }}/" + rel
        data = new[rel].read_text(encoding="utf-8")
        mode = "0%o" % (new[rel].stat().st_mode & 0o7777)
        if rel not in old:
            tasks.append({"name": f"write {rel}", "ansible.builtin.copy": {"dest": dest, "content": data,
                                                                          "mode": mode}})
            continue
        was = old[rel].read_text(encoding="utf-8")
        if was == data:
            continue
        was_lines, now_lines = was.splitlines(), data.splitlines()
        was_params, now_params = _params(was_lines), _params(now_lines)
        if was_params != now_params and all(
                _PARAM.match(line) or not line.strip() or line.lstrip().startswith("#")
                for line in set(now_lines) - set(was_lines)):
            was_line, now_line = _param_lines(was_lines), _param_lines(now_lines)
            for name, line in now_line.items():
                if was_line.get(name) != line:     # a new value, or the same value rewritten
                    tasks.append({"name": f"{rel}: {name}", "ansible.builtin.lineinfile": {
                        "path": dest, "regexp": rf"^\s*{re.escape(name)}\s*{_PARAM.match(line)[2]}",
                        "line": line}})
            for name in was_params:
                if name not in now_params:
                    tasks.append({"name": f"{rel}: no {name}", "ansible.builtin.lineinfile": {
                        "path": dest, "regexp": rf"^\s*{re.escape(name)}\s*[=:]", "state": "absent"}})
            continue
        opcodes = difflib.SequenceMatcher(a=was_lines, b=now_lines, autojunk=False).get_opcodes()
        if any(tag not in ("equal", "insert") or (tag == "insert" and i1 == 0) for tag, i1, _, _, _ in opcodes):
            tasks.append({"name": f"write {rel}", "ansible.builtin.copy": {"dest": dest, "content": data,
                                                                          "mode": mode}})
            continue
        for number, (tag, i1, i2, j1, j2) in enumerate(opcodes):
            if tag == "equal":
                continue
            tasks.append({"name": f"{rel}: block {number}", "ansible.builtin.blockinfile": {
                "path": dest, "insertafter": "^" + re.escape(was_lines[i1 - 1]) + "$",
                "marker": f"# {{mark}} bench block {number}", "block": "\n".join(now_lines[j1:j2])}})
    play = [{"name": "the edits mailwiz makes", "hosts": "localhost", "connection": "local",
             "gather_facts": False, "tasks": tasks}]
    return json.dumps(play, indent=1), len(tasks)     # JSON is YAML


def same_edits(mailwiz_root: Path, ansible_root: Path) -> None:
    """Refuse to compare unless both tools left the same settings and files."""
    ours, theirs = target_files(mailwiz_root), target_files(ansible_root)
    if set(ours) != set(theirs):
        raise SystemExit(f"bench: Ansible and mailwiz left different files: {sorted(set(ours) ^ set(theirs))}")
    for rel in ours:
        a, b = ours[rel].read_text(encoding="utf-8"), theirs[rel].read_text(encoding="utf-8")
        if a != b and (_params(a.splitlines()) != _params(b.splitlines())
                       or not set(a.splitlines()) <= set(b.splitlines())):
            raise SystemExit(f"bench: Ansible and mailwiz disagree on {rel}")


# --- the table ---------------------------------------------------------------------------

class Table:
    def __init__(self):
        self.rows: List[Tuple[str, ...]] = []

    def add(self, row: str, what: str, mailwiz: str, peer: str = "", ratio: str = "", target: str = "",
            met: Optional[bool] = None) -> None:
        verdict = "" if met is None else ("yes" if met else "NO")
        self.rows.append((row, what, mailwiz, peer, ratio, target, verdict))
        print("  " + " | ".join(x for x in self.rows[-1] if x), file=sys.stderr, flush=True)

    def render(self) -> str:
        head = ("#", "measure", "mailwiz", "peer / floor", "ratio", "target", "met")
        widths = [max(len(r[i]) for r in self.rows + [head]) for i in range(len(head))]
        line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
        return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                         + [line(r) for r in self.rows])


def wall(found: List[Sample]) -> float:
    return median([s.wall for s in found])


def ms_cpu(found: List[Sample]) -> str:
    """Median wall time, and median CPU time beside it."""
    return f"{ms(wall(found))} (cpu {ms(median([s.cpu for s in found]))})"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


# --- rows --------------------------------------------------------------------------------

def row_replay(table: Table, child: Child, work: Path, answers: Path, seed: Path, runs: int, peer_runs: int,
               quick: bool) -> None:
    """Rows 1-2: apply on a fresh copy of the seeded root, then again; the playbook the same way."""
    floor = median(samples(lambda: run([child.python, "-c", "import yaml, sh, distro"], child)[0], runs))
    apply_args = lambda root: child.mailwiz("apply", "--answers", str(answers), "--sandbox", "--root", str(root),
                                            "--yes", "--lang", "en")
    reference = copy_root(seed, work / "reference")
    run(apply_args(reference), child)
    playbook_text, task_count = ansible_playbook(seed, reference)
    playbook = work / "playbook.yml"
    playbook.write_text(playbook_text)
    if child.ansible is None:
        note = ("not measured with --quick" if quick else
                "not measured: ansible-playbook not found (python tests/bench.py installs it in .venv-bench)")
        table.add("1", "apply --sandbox, fresh root", "", note)
        table.add("2", "apply again (nothing to do)", "", note)
        return

    def ansible(root: Path) -> List[str]:
        return [child.ansible, "-i", "localhost,", "-c", "local", "-e", f"root={root}", str(playbook)]

    def fresh_mailwiz() -> float:
        root = copy_root(seed, work / "fresh-m")
        sample = run(apply_args(root), child)
        if "Done." not in sample.out:
            raise SystemExit("bench: apply did not finish:\n" + sample.out[-2000:])
        return sample

    def fresh_ansible() -> float:
        root = copy_root(seed, work / "fresh-a")
        sample = run(ansible(root), child)
        if "changed=0" in sample.out or "failed=0" not in sample.out:
            raise SystemExit("bench: the playbook changed nothing or failed:\n" + sample.out[-3000:])
        return sample

    first_m, first_a = alternate(fresh_mailwiz, fresh_ansible, peer_runs)
    same_edits(work / "fresh-m", work / "fresh-a")
    m, a = wall(first_m), wall(first_a)
    table.add("1", f"apply --sandbox, fresh root ({PROFILE}; playbook: {task_count} tasks)", ms_cpu(first_m),
              f"Ansible {ms(a)}; floor {ms(floor)}", f"{a / m:.0f}x", ">= 30x, < 150 ms",
              a / m >= 30 and m < 0.150)

    def again_mailwiz() -> float:
        sample = run(apply_args(work / "fresh-m"), child)
        if "Nothing to do" not in sample.out:
            raise SystemExit("bench: the second apply was not empty:\n" + sample.out[-2000:])
        return sample

    def again_ansible() -> float:
        sample = run(ansible(work / "fresh-a"), child)
        if "changed=0" not in sample.out:
            raise SystemExit("bench: the playbook's second run changed something:\n" + sample.out[-3000:])
        return sample

    again_m, again_a = alternate(again_mailwiz, again_ansible, peer_runs)
    m, a = wall(again_m), wall(again_a)
    table.add("2", "apply again (nothing to do)", ms_cpu(again_m), f"Ansible {ms(a)}", f"{a / m:.0f}x", ">= 30x",
              a / m >= 30)


def row_commands(table: Table, child: Child, answers: Path, seed: Path, runs: int) -> None:
    """Row 3: plan, validate, --help; the bare interpreter beside."""
    floor = median(samples(lambda: run([child.python, "-c", "pass"], child)[0], runs))
    cases = [
        ("plan --sandbox", ["plan", "--answers", str(answers), "--sandbox", "--root", str(seed)], 0.120),
        ("validate", ["validate", str(answers)], 0.080),
        ("--help", ["--help"], 0.080),
    ]
    for name, args, target in cases:
        found = samples(lambda: run(child.mailwiz(*args), child), runs)
        m = wall(found)
        table.add("3", name, ms_cpu(found), f"python -c pass {ms(floor)}", "", f"< {target * 1000:.0f} ms", m < target)
    probe = ("import sys; from installer.cli import main; main(sys.argv[1:]); "
             "print(len(sys.modules), any(m.split('.')[0] == 'textual' for m in sys.modules))")
    count, textual = run([child.python, "-c", probe, *cases[0][1], "--profile", PROFILE], child).out.split()[-2:]
    table.add("3", "modules the headless plan imports", count, "", "", "no textual", textual == "False")


MINIMAL_APP = """
import time
from textual.app import App
from textual.widgets import Footer, Header, Input

class Minimal(App):
    def compose(self):
        yield Header()
        yield Input(placeholder="host name")
        yield Footer()
    def on_mount(self):
        self.call_after_refresh(self.drawn)
    def drawn(self):
        print(time.perf_counter(), flush=True)
        self.exit()

Minimal().run(headless=True, size=(80, 24))
"""

WIZARD_APP = """
import time
from installer import cli
from installer.tui.app import make_app
from installer.tui.language import LanguagePage

args = cli.fill_defaults(cli.build_parser().parse_args(
    ["--sandbox", "--root", {root!r}, "--profile", {profile!r}, "--lang", "ja"]))
app = make_app(cli.Target(args), lang="ja")
original = LanguagePage.on_mount

def drawn(app):
    print(time.perf_counter(), flush=True)
    app.exit()

def on_mount(self):   # exit once the first page has been drawn
    original(self)
    self.app.call_after_refresh(drawn, self.app)

LanguagePage.on_mount = on_mount
app.run(headless=True, size=(80, 24))
"""

# Inside one process: Pilot types into the Identity page's host name and walks
# the pages; Page.revalidate (what each keystroke runs: store the text, validate
# the answers, mark the fields) is timed by a wrapper, and each keystroke and
# page change as a whole by the clock around Pilot's await (which returns once
# the app has processed the key and is idle again, redraw included).
PILOT = """
import asyncio, json, statistics, sys, time
from installer import cli
from installer.tui import base
from installer.tui.app import make_app
from installer.tui.identity import IdentityPage
from installer.tui.review import ReviewPage

# Textual binds @on handlers when the class is made, so the two methods the
# handler calls are wrapped: each keystroke's cost is their sum.
spent = {{"set_answer": [], "revalidate": []}}
typing = [False]
def timed(cls, name):
    original = getattr(cls, name)
    def wrapper(self, *args):
        start = time.thread_time()      # CPU time of this thread: the app's own work
        try:
            return original(self, *args)
        finally:
            if typing[0]:
                spent[name].append(time.thread_time() - start)
    setattr(cls, name, wrapper)
timed(IdentityPage, "set_answer")
timed(base.Page, "revalidate")

async def main():
    args = cli.fill_defaults(cli.build_parser().parse_args(
        ["--sandbox", "--root", {root!r}, "--profile", {profile!r}, "--lang", "en"]))
    app = make_app(cli.Target(args), lang="en")
    changes, keys = [], []
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.facts_ready.is_set() or not hasattr(app.screen, "state"):
            await pilot.pause(0.01)
        await pilot.pause()
        while type(app.screen) is not ReviewPage:
            before = app.screen
            if type(before) is IdentityPage:
                box = before.query_one("#f-postfix-hostname")
                box.focus()
                box.value = ""
                await pilot.pause()
                typing[0] = True
                for ch in {typed!r}:
                    start = time.perf_counter()
                    await pilot.press(ch)
                    keys.append(time.perf_counter() - start)
                typing[0] = False
            if type(before).__name__ == "AliasesPage":
                break    # the next page (Review) makes the whole plan first: reported apart
            start, cpu = time.perf_counter(), time.thread_time()
            await pilot.press("ctrl+n")
            while app.screen is before:
                await asyncio.sleep(0)
            await pilot.pause()
            changes.append((type(before).__name__, time.perf_counter() - start, time.thread_time() - cpu))
        before = app.screen
        start = time.perf_counter()
        await pilot.press("ctrl+n")
        while type(app.screen) is not ReviewPage:
            await asyncio.sleep(0.001)
        await pilot.pause()
        review = time.perf_counter() - start
    validation = [a + b for a, b in zip(spent["set_answer"], spent["revalidate"])]
    assert len(validation) == len(keys), (spent, keys)
    print(json.dumps({{"validation": validation, "keys": keys, "changes": changes, "review": review}}))

asyncio.run(main())
"""


# The peer of a page change: a plain Textual app switching between screens
# built like a wizard page (title, mode, 7 labelled fields with help and error
# lines, Back / hints / Next), the app thread's CPU time per switch.
PLAIN_SWITCH = """
import asyncio, json, time
from textual.app import App
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

class Page(Screen):
    def compose(self):
        yield Static("1/12  title")
        yield Static("debian-13 - sandbox")
        with VerticalScroll():
            for n in range(7):
                yield Label(f"field {{n}}")
                yield Input(value="mail.example.com")
                yield Static("help")
                yield Static("")
        with Horizontal():
            yield Button("Back", compact=True)
            yield Static("Esc back")
            yield Button("Next", compact=True)

async def main():
    app = App()
    cpu = []
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(Page())
        await pilot.pause()
        for _ in range({count}):
            start = time.thread_time()
            await app.switch_screen(Page())
            await pilot.pause()
            cpu.append(time.thread_time() - start)
    print(json.dumps(cpu))

asyncio.run(main())
"""


def row_tui(table: Table, child: Child, work: Path, runs: int) -> None:
    """Row 4: first screen and peak RSS against a minimal Textual app; keystrokes and page changes."""
    wizard = WIZARD_APP.format(root=str(work / "tui-root"), profile=PROFILE)

    def sample(code: str) -> Tuple[float, int, float]:
        start = time.perf_counter()       # same clock as the child's (CLOCK_MONOTONIC)
        sample = run([child.python, "-c", code], child)
        return float(sample.out.strip().splitlines()[-1]) - start, sample.rss, sample.cpu

    pairs_m, pairs_w = alternate(lambda: sample(MINIMAL_APP), lambda: sample(wizard), runs)
    t_m, t_w = median([p[0] for p in pairs_m]), median([p[0] for p in pairs_w])
    r_m, r_w = median([p[1] for p in pairs_m]), median([p[1] for p in pairs_w])
    c_m, c_w = median([p[2] for p in pairs_m]), median([p[2] for p in pairs_w])
    table.add("4", "TUI: start to first screen", f"{ms(t_w)} (process CPU {ms(c_w)})",
              f"minimal Textual app {ms(t_m)} (CPU {ms(c_m)}; CPU ratio {c_w / c_m:.2f}x)",
              f"{t_w / t_m:.2f}x", "<= 1.2x", t_w / t_m <= 1.2)
    table.add("4", "TUI: peak RSS at first screen", f"{r_w / 1024:.0f} MiB", f"minimal {r_m / 1024:.0f} MiB",
              f"{r_w / r_m:.2f}x", "<= 1.2x", r_w / r_m <= 1.2)
    pilot = PILOT.format(root=str(work / "tui-pilot"), profile=PROFILE, typed="mx1.mail.example.org")
    found = json.loads(run([child.python, "-c", pilot], child).out.strip().splitlines()[-1])
    worst_validation = max(found["validation"])
    table.add("4", f"TUI: keystroke, validation (CPU, max of {len(found['validation'])})",
              ms_fine(worst_validation), f"median {ms_fine(median(found['validation']))}; whole key through Pilot "
              f"(wall): median {ms_fine(median(found['keys']))}",
              "", "< 5 ms", worst_validation < 0.005)
    worst = max(found["changes"], key=lambda c: c[2])
    plain = json.loads(run([child.python, "-c", PLAIN_SWITCH.format(count=len(found["changes"]))],
                           child).out.strip().splitlines()[-1])
    ours = median([c[2] for c in found["changes"]])
    table.add("4", f"TUI: page change (CPU, median of {len(found['changes'])}; max {ms_fine(worst[2])} after "
              f"{worst[0]})", ms_fine(ours),
              f"plain Textual screen switch, same widgets: median {ms_fine(median(plain))}; wall (ours): median "
              f"{ms_fine(median([c[1] for c in found['changes']]))}; to Review (makes the plan) "
              f"{ms_fine(found['review'])}", f"{ours / median(plain):.2f}x", "< 50 ms", worst[2] < 0.050)


def ms_fine(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


PACKAGE_TOOLS = {"apt-get", "apt", "dpkg", "debconf-set-selections", "dnf", "yum", "rpm"}
SERVICE_TOOLS = {"systemctl", "service", "chkconfig", "update-rc.d"}


def _seconds(stamp: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(stamp).timestamp()


def journal_share(journal: Path) -> Dict[str, float]:
    """Seconds of a run, from its journal: total, in the package manager, in service
    commands, in other commands (openssl, postmap, ...), in the self-test, and
    mailwiz's own rest.

    A command's time runs from its ``command`` entry to the next command or the
    end of its action (``done``/``failed``), so what mailwiz does around it
    (backups, journal) stays mailwiz's."""
    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines() if line.strip()]
    start = next(e for e in entries if e["event"] == "run-start")
    end = next(e for e in reversed(entries) if e["event"] in ("run-end", "rollback-end"))
    spent = {"package manager": 0.0, "services": 0.0, "other commands": 0.0, "self-test": 0.0}
    # The self-test (after the last action, before the end) talks to the servers
    # and waits for a delivery: timed apart, from the last action's end.
    first_check = next((n for n, e in enumerate(entries) if e["event"] == "check"), None)
    if first_check is not None:
        last_done = next(e for e in reversed(entries[:first_check]) if e["event"] in ("done", "run-start"))
        spent["self-test"] = _seconds(end["t"]) - _seconds(last_done["t"])
        entries = entries[:entries.index(last_done) + 1]
    open_command = None
    for entry in entries:
        if open_command is not None and entry["event"] in ("command", "done", "failed", "undo-begin"):
            tool = Path(open_command["command"].split()[0]).name if open_command.get("command") else ""
            kind = ("package manager" if tool in PACKAGE_TOOLS else "services" if tool in SERVICE_TOOLS
                    else "other commands")
            spent[kind] += _seconds(entry["t"]) - _seconds(open_command["t"])
            open_command = None
        if entry["event"] == "command":
            open_command = entry
    total = _seconds(end["t"]) - _seconds(start["t"])
    return dict(spent, total=total, mailwiz=total - sum(spent.values()))


def apply_on_booted_machine(work: Path) -> Tuple[Path, float]:
    """A real ``mailwiz apply`` on a freshly booted Debian 13 machine of tests/targets
    (mailwiz installed there as the README says); its journal and the apply's wall time."""
    sys.path.insert(0, str(PROJECT))
    from tests.targets.flow import ANSWERS_INSIDE, Target
    from tests.targets.machine import Machine
    machine = Machine.boot("13")
    try:
        target = Target(machine).prepare()
        started = time.perf_counter()
        machine.run(["true"])
        enter = time.perf_counter() - started
        started = time.perf_counter()
        target.mailwiz("plan", "--answers", ANSWERS_INSIDE)
        plan = time.perf_counter() - started
        print(f"bench: on the machine, entering it {enter:.2f} s; mailwiz plan (facts, apt queries) {plan:.1f} s",
              file=sys.stderr)
        proc, seconds = target.apply()
        if proc.returncode != 0:
            raise SystemExit("bench: apply on the booted machine failed:\n" + (proc.stdout or "")[-3000:])
        (run_id,) = target.runs()
        journal = work / "real-journal.jsonl"
        journal.write_text(machine.read(f"/var/lib/mailwiz/runs/{run_id}/journal.jsonl"), encoding="utf-8")
        return journal, seconds
    finally:
        machine.destroy()


def row_real_install(table: Table, work: Path, journal: Optional[Path], boot: bool) -> None:
    """Row 5: a real install's journal (the booted Debian 13 machine of tests/targets, or any real run)."""
    what = "real install (Debian 13 machine): mailwiz's own share of apply"
    wall_seconds = None
    if journal is None and boot:
        journal, wall_seconds = apply_on_booted_machine(work)
    if journal is None:
        harness = PROJECT / "tests" / "targets"
        why = ("needs tests/targets" if not harness.is_dir() else
               "run with --targets (boots a Debian 13 machine, about 10 minutes), or give --journal")
        table.add("5", what, f"not measured: {why}", "", "", "< 3 %")
        return
    share = journal_share(journal)
    own = share["mailwiz"] / share["total"]
    total = f"{share['total']:.1f} s" + (f" (apply's wall time {wall_seconds:.1f} s)" if wall_seconds else "")
    table.add("5", what, f"{own * 100:.1f} % ({share['mailwiz']:.2f} s of {total})",
              f"package manager {share['package manager']:.1f} s, services {share['services']:.1f} s, "
              f"other commands {share['other commands']:.1f} s, self-test {share['self-test']:.1f} s", "", "< 3 %",
              own < 0.03)


def padded_main_cf(stock: str, times: int) -> str:
    """The stock main.cf followed by times-1 renamed copies (real settings syntax, unused names)."""
    parts = [stock]
    for n in range(1, times):
        parts.append(re.sub(r"^([a-z][a-z0-9_]*)(\s*=)", rf"bench{n}_\1\2", stock, flags=re.M))
    return "\n".join(parts)


def row_scaling(table: Table, child: Child, work: Path, answers: Path, seed: Path, runs: int, quick: bool) -> None:
    """Row 6: plan and apply against main.cf, access map and aliases sizes; log after many runs."""
    runs = max(1, min(runs, 3))

    # CPU time: the shape of the curve, which the load of other processes would hide.
    def plan_apply(root_source: Path, answer_file: Path) -> Tuple[float, float]:
        plan = median([s.cpu for s in samples(lambda: run(child.mailwiz(
            "plan", "--answers", str(answer_file), "--sandbox", "--root", str(root_source)), child), runs)])

        def one_apply() -> Sample:
            root = copy_root(root_source, work / "scale-apply")
            return run(child.mailwiz("apply", "--answers", str(answer_file), "--sandbox", "--root", str(root),
                                     "--yes"), child)
        return plan, median([s.cpu for s in samples(one_apply, runs)])

    def curve(label: str, points: List[Tuple[str, Tuple[float, float]]], note: str = "") -> None:
        first = points[0][1]
        text = "; ".join(f"{size}: {ms(p)} / {ms(a)}" for size, (p, a) in points)
        growth = max(max(p / first[0], a / first[1]) for _, (p, a) in points)
        table.add("6", label + " (plan / apply, CPU)", text, note, f"x{growth:.1f} at the largest",
                  "linear at worst")

    stock = (seed / "etc/postfix/main.cf").read_text(encoding="utf-8")
    points = []
    for times in ((1, 10) if quick else (1, 10, 100)):
        root = copy_root(seed, work / f"maincf-{times}")
        (root / "etc/postfix/main.cf").write_text(padded_main_cf(stock, times), encoding="utf-8")
        points.append((f"{times}x", plan_apply(root, answers)))
    curve(f"main.cf size ({len(stock.splitlines())} lines stock)", points)

    def access_answers(count: int) -> Path:
        entries = [f"    - {{key: host{n}.spam.example, action: REJECT}}" for n in range(count)]
        answer_file = work / f"access-{count}.yaml"
        answer_file.write_text(full_answers(entries), encoding="utf-8")
        return answer_file

    points = []
    for count in ((10, 1000) if quick else (10, 1000, 5000)):
        points.append((f"{count:,}", plan_apply(seed, access_answers(count))))
    # An answer file holds at most 256 KiB (about 5,800 entries like these): a
    # larger map is refused before anything else is read.
    big = 100000
    refused = samples(lambda: run(child.mailwiz("plan", "--answers", str(access_answers(big)), "--sandbox",
                                                "--root", str(seed)), child, ok=(2,)), runs)
    curve("access map entries", points, f"{big:,}: refused (answer file over 256 KiB) in {ms(wall(refused))}")

    count = 500 if quick else 5000
    root = copy_root(seed, work / "aliases")
    with open(root / "etc/aliases", "a", encoding="utf-8") as handle:
        handle.writelines(f"user{n}: user{n}@example.org\n" for n in range(count))
    plan, apply = plan_apply(root, answers)
    table.add("6", f"aliases: {count:,} entries (plan / apply)", f"{ms(plan)} / {ms(apply)}")

    count = 50 if quick else 1000
    root = copy_root(seed, work / "log")
    run(child.mailwiz("apply", "--answers", str(answers), "--sandbox", "--root", str(root), "--yes"), child)
    runs_dir = root / "var/lib/mailwiz/runs"
    (first,) = [p.name for p in runs_dir.iterdir()]
    log = root / "var/log/mailwiz" / f"{first}.log"
    index = root / "var/lib/mailwiz/runs.jsonl"
    own_lines = index.read_text(encoding="utf-8").splitlines() if index.exists() else []
    with open(index, "a", encoding="utf-8") as handle:
        for n in range(1, count):
            # what count-1 more runs would leave: their folders, logs and index lines
            run_id = f"{first[:9]}{n:06d}-000000"
            shutil.copytree(runs_dir / first, runs_dir / run_id)
            shutil.copyfile(log, log.with_name(run_id + ".log"))
            handle.writelines(line.replace(first, run_id) + "\n" for line in own_lines)
    found = samples(lambda: run(child.mailwiz("log", "--sandbox", "--root", str(root)), child), runs)
    table.add("6", f"log after {count:,} runs", ms_cpu(found), "", "", "< 300 ms", wall(found) < 0.300)


# --- setup -------------------------------------------------------------------------------

def bench_venv() -> Path:
    """.venv-bench: mailwiz's dependencies and ansible-core (mailwiz itself runs from the tree)."""
    python = BENCH_VENV / "bin" / "python"
    if not (BENCH_VENV / "bin" / "ansible-playbook").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "textual>=0.80", "sh>=2.0", "distro>=1.8", "pyyaml>=6.0", "ansible-core"], check=True)
    return python


def compile_tree(python: str) -> None:
    """Bytecode for the tree, as an installed copy has it (PYTHONDONTWRITEBYTECODE notwithstanding)."""
    subprocess.run([python, "-m", "compileall", "-q", "installer", "steps"], cwd=PROJECT, check=True,
                   env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                   stdout=subprocess.DEVNULL)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="samples per figure (median); default 5")
    parser.add_argument("--peer-runs", type=int, default=3,
                        help="samples of the Ansible rows (a playbook run takes tens of seconds); default 3")
    parser.add_argument("--quick", action="store_true", help="one sample, small sizes, this interpreter")
    parser.add_argument("--python", help="interpreter with mailwiz's dependencies (default: .venv-bench)")
    parser.add_argument("--only", help="rows to run, e.g. 1,3,6")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR and keep it (roots, playbook, journals) instead of a temporary folder")
    parser.add_argument("--targets", action="store_true",
                        help="row 5: boot a Debian 13 machine (tests/targets, as root) and apply there for real")
    parser.add_argument("--journal", type=Path,
                        help="row 5: the journal.jsonl of a real apply (e.g. on a booted Debian 13 machine)")
    options = parser.parse_args(argv)
    runs = 1 if options.quick else options.runs
    if options.python:
        python = options.python
    elif options.quick:
        python = sys.executable
    else:
        python = str(bench_venv())
    # --quick (the smoke test) leaves Ansible out: a playbook run takes tens of seconds.
    ansible = None if options.quick else shutil.which("ansible-playbook", path=str(Path(python).parent))
    child = Child(python, ansible)
    compile_tree(python)
    only = set(options.only.split(",")) if options.only else {"1", "2", "3", "4", "5", "6"}
    table = Table()
    with tempfile.TemporaryDirectory(prefix="mailwiz-bench-") as folder:
        work = Path(folder)
        if options.keep:
            work = options.keep
            work.mkdir(parents=True, exist_ok=True)
        answers = work / "answers.yaml"
        answers.write_text(full_answers(), encoding="utf-8")
        seed = seeded_root(child, answers, work / "seed")
        if only & {"1", "2"}:
            row_replay(table, child, work, answers, seed, runs, 1 if options.quick else options.peer_runs,
                       options.quick)
        if "3" in only:
            row_commands(table, child, answers, seed, runs)
        if "4" in only:
            row_tui(table, child, work, runs)
        if "5" in only:
            row_real_install(table, work, options.journal, options.targets)
        if "6" in only:
            row_scaling(table, child, work, answers, seed, runs, options.quick)
    load = os.getloadavg()[0]
    print(f"mailwiz benchmark: median of {runs} runs each; {os.cpu_count()} cores, load {load:.1f} at the end; "
          f"Python {sys.version.split()[0]}")
    print(table.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
