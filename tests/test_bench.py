"""The benchmark (tests/bench.py) keeps working: a quick run prints its one table
with every row, and its pieces (the playbook it compares against, the journal
arithmetic of row 5) do what they say.  Figures are not checked: this is not
a timed test."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def test_quick_run_prints_the_whole_table(tmp_path):
    done = subprocess.run([sys.executable, str(bench.PROJECT / "tests" / "bench.py"), "--quick"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout[done.stdout.index("| # |"):]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| # ")]
    assert {row.split("|")[1].strip() for row in rows} == {"1", "2", "3", "4", "5", "6"}
    for measure in ("plan --sandbox", "validate", "--help", "first screen", "peak RSS", "keystroke",
                    "page change", "main.cf size", "access map", "aliases", "log after"):
        line = next((row for row in rows if measure in row), None)
        assert line is not None, measure
        assert " ms" in line or "MiB" in line, line


def _tree(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_playbook_makes_the_same_kinds_of_edit(tmp_path):
    before = _tree(tmp_path / "a", {"etc/main.cf": "# c\nx = 1\nold = 2\nsame=3\n", "etc/master.cf": "a\nb\n",
                                    "etc/aliases": "postmaster: root\n", "etc/mailname": "debian\n"})
    after = _tree(tmp_path / "b", {"etc/main.cf": "# c\nx = 5\nsame = 3\nnew = 4\n", "etc/master.cf": "a\nsub\nb\n",
                                   "etc/aliases": "postmaster: root\nroot: admin@example.org\n",
                                   "etc/mailname": "example.com\n", "etc/new/99.conf": "k = v\n"})
    text, count = bench.ansible_playbook(before, after)
    tasks = json.loads(text)[0]["tasks"]
    assert count == len(tasks)
    by_name = {task["name"]: task for task in tasks}
    assert by_name["etc/main.cf: x"]["ansible.builtin.lineinfile"]["line"] == "x = 5"
    assert by_name["etc/main.cf: same"]["ansible.builtin.lineinfile"]["line"] == "same = 3"   # rewritten line
    assert by_name["etc/main.cf: no old"]["ansible.builtin.lineinfile"]["state"] == "absent"
    assert by_name["etc/aliases: root"]["ansible.builtin.lineinfile"]["line"] == "root: admin@example.org"
    assert "sub" == next(t for t in tasks if "blockinfile" in str(t))["ansible.builtin.blockinfile"]["block"]
    assert by_name["write etc/mailname"]["ansible.builtin.copy"]["content"] == "example.com\n"
    assert by_name["folder etc/new"]["ansible.builtin.file"]["state"] == "directory"
    with pytest.raises(SystemExit):
        bench.same_edits(after, before)


def test_journal_share_counts_commands_by_tool(tmp_path):
    lines = [
        {"t": "2026-01-01T00:00:00.000+00:00", "event": "run-start"},
        {"t": "2026-01-01T00:00:00.100+00:00", "event": "begin"},
        {"t": "2026-01-01T00:00:00.200+00:00", "event": "command", "command": "apt-get install -y postfix"},
        {"t": "2026-01-01T00:00:30.200+00:00", "event": "output", "line": "ok"},
        {"t": "2026-01-01T00:00:30.300+00:00", "event": "done"},
        {"t": "2026-01-01T00:00:30.400+00:00", "event": "begin"},
        {"t": "2026-01-01T00:00:30.500+00:00", "event": "command", "command": "systemctl enable postfix"},
        {"t": "2026-01-01T00:00:31.500+00:00", "event": "command", "command": "/usr/bin/systemctl start postfix"},
        {"t": "2026-01-01T00:00:33.500+00:00", "event": "done"},
        {"t": "2026-01-01T00:00:33.600+00:00", "event": "command", "command": "postmap hash:/etc/postfix/access"},
        {"t": "2026-01-01T00:00:33.700+00:00", "event": "done"},
        {"t": "2026-01-01T00:00:34.500+00:00", "event": "check", "result": "pass"},
        {"t": "2026-01-01T00:00:36.700+00:00", "event": "check", "result": "pass"},
        {"t": "2026-01-01T00:00:37.700+00:00", "event": "run-end", "status": "ok"},
    ]
    journal = tmp_path / "journal.jsonl"
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines))
    share = bench.journal_share(journal)
    assert share["total"] == pytest.approx(37.7, abs=1e-3)
    assert share["self-test"] == pytest.approx(4.0, abs=1e-3)
    assert share["package manager"] == pytest.approx(30.1, abs=1e-3)
    assert share["services"] == pytest.approx(3.0, abs=1e-3)
    assert share["other commands"] == pytest.approx(0.1, abs=1e-3)
    assert share["mailwiz"] == pytest.approx(0.5, abs=1e-3)   # before each command: 0.2 + 0.2 + 0.1
