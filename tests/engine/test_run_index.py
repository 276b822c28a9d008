"""The run index (var/lib/mailwiz/runs.jsonl): `mailwiz log` lists runs from it
without reading their journals, and falls back to a run's own files whenever
the index does not describe the journal as it is now."""
import json
import os

from installer import cli, journal
from installer.root import TargetRoot

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(PROJECT, "installer", "answers.example.yaml")
ARGS = ["--sandbox", "--profile", "debian-12"]


def applied(tmp_path, capsys):
    root = tmp_path / "root"
    assert cli.main(["apply", "--answers", EXAMPLE, *ARGS, "--root", str(root), "--yes", "--lang", "en"]) == 0
    capsys.readouterr()
    (run_id,) = os.listdir(root / "var/lib/mailwiz/runs")
    return root, run_id


def listed(root, capsys):
    assert cli.main(["log", *ARGS, "--root", str(root), "--lang", "en"]) == 0
    return [line.split() for line in capsys.readouterr().out.splitlines()[1:]]


def test_log_lists_from_the_index_without_reading_journals(tmp_path, capsys, monkeypatch):
    root, run_id = applied(tmp_path, capsys)
    lines = (root / "var/lib/mailwiz/runs.jsonl").read_text().splitlines()
    assert [json.loads(line)["status"] for line in lines] == ["interrupted", "ok"]

    def no_journal(self):
        raise AssertionError("a journal was read")
    monkeypatch.setattr(journal.Run, "entries", no_journal)
    assert listed(root, capsys) == [[run_id, "debian-12", "succeeded"]]


def test_rollback_updates_the_index(tmp_path, capsys):
    root, run_id = applied(tmp_path, capsys)
    assert cli.main(["rollback", *ARGS, "--root", str(root), "--yes"]) == 0
    capsys.readouterr()
    assert listed(root, capsys) == [[run_id, "debian-12", "rolled", "back"]]
    assert journal.summaries(TargetRoot(str(root))) == [(run_id, "debian-12", "rolled-back")]


def test_journal_newer_than_the_index_is_read(tmp_path, capsys):
    """A kill between the journal's last line and the index's: the journal wins."""
    root, run_id = applied(tmp_path, capsys)
    index = root / "var/lib/mailwiz/runs.jsonl"
    index.write_text(index.read_text().splitlines()[0] + "\n")        # only "started" was indexed
    assert journal.summaries(TargetRoot(str(root))) == [(run_id, "debian-12", "ok")]
    with open(root / "var/lib/mailwiz/runs" / run_id / "journal.jsonl", "a") as handle:
        handle.write(json.dumps({"event": "rollback-end", "status": "failed"}) + "\n")
    index.write_text(index.read_text() + '{"run": "torn')               # and a torn last line
    assert journal.summaries(TargetRoot(str(root))) == [(run_id, "debian-12", "failed")]


def test_runs_without_an_index_are_listed(tmp_path, capsys):
    root, run_id = applied(tmp_path, capsys)
    os.remove(root / "var/lib/mailwiz/runs.jsonl")
    assert listed(root, capsys) == [[run_id, "debian-12", "succeeded"]]


def test_interrupted_run_is_found_through_the_index(tmp_path, capsys):
    from installer import engine
    root, run_id = applied(tmp_path, capsys)
    target = TargetRoot(str(root))
    run = journal.Run.create(target, {"profile": "debian-12", "lang": "en"})
    run.append("run-start", run=run.id)
    run.close()
    assert engine.interrupted_runs(target) == [run.id]
