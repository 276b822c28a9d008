"""fsync on a real target, none in the sandbox: an action's journal entry is
on disk before the action runs; a sandbox root (a scratch copy) only flushes."""
import json
import os

from installer import cli, journal, root as root_mod

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(PROJECT, "installer", "answers.example.yaml")


def apply(tmp_path, monkeypatch, durable: bool):
    """Apply the example in a sandbox root, made durable or not; the journal text at each fsync."""
    target_dir = tmp_path / "root"
    args = cli.fill_defaults(cli.build_parser().parse_args(
        ["apply", "--answers", EXAMPLE, "--sandbox", "--profile", "debian-12", "--root", str(target_dir), "--yes"]))
    target = cli.Target(args)
    assert target.root.durable is False         # what the CLI makes for a sandbox
    target.root.durable = durable
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)
    monkeypatch.setattr(root_mod.os, "fsync", fsync)
    journal_lines = []
    real_append = journal.Run.append

    def append(self, event, **data):
        entry = real_append(self, event, **data)
        journal_lines.append((event, len(synced)))
        return entry
    monkeypatch.setattr(journal.Run, "append", append)
    assert cli.cmd_apply(args, target) == 0
    return synced, journal_lines


def test_sandbox_never_fsyncs(tmp_path, monkeypatch, capsys):
    synced, lines = apply(tmp_path, monkeypatch, durable=False)
    assert synced == []
    assert any(event == "begin" for event, _ in lines)


def test_durable_root_fsyncs_each_begin_before_the_action(tmp_path, monkeypatch, capsys):
    synced, lines = apply(tmp_path, monkeypatch, durable=True)
    journal_syncs = [i for i, path in enumerate(synced) if path.endswith("journal.jsonl")]
    # every state change was fsync'd as it was written (the fsync count grew within append)
    previous = 0
    for event, count in lines:
        if event in journal.DURABLE_EVENTS:
            assert count > previous and synced[count - 1].endswith("journal.jsonl"), event
        previous = count
    assert len(journal_syncs) == sum(1 for event, _ in lines if event in journal.DURABLE_EVENTS)
    # files written under the root were fsync'd too (content, then their folder)
    assert any(path.endswith("/etc/postfix/main.cf") or ".main.cf.mailwiz-tmp" in path for path in synced)
    run_dir = tmp_path / "root/var/lib/mailwiz/runs"
    (run_id,) = os.listdir(run_dir)
    events = [json.loads(line)["event"] for line in (run_dir / run_id / "journal.jsonl").read_text().splitlines()]
    assert events == [event for event, _ in lines]
