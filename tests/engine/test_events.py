"""The engine's events are typed (installer/events.py) and say what the journal says."""
from installer import engine, events, session
from installer.answers import DEFAULTS
from installer.journal import Run


def test_events_are_the_journal_entries_typed(tmp_path):
    import argparse
    target = session.Target(argparse.Namespace(root=str(tmp_path / "sb"), profile="debian-12", sandbox=True))
    plan = session.make_plan(target, dict(DEFAULTS), {})
    seen = []
    result = engine.apply(plan, root=target.root, runner=target.runner, answers_yaml="", sandbox=True,
                          events=seen.append)
    assert result.status == "ok"
    journaled = Run.open(target.root, result.run_id).entries()
    assert [e.entry for e in seen] == journaled
    assert [type(e) for e in seen if type(e) is events.Event] == []       # every kind has its class
    start, end = seen[0], seen[-1]
    assert isinstance(start, events.RunStart) and start.run == result.run_id and start.sandbox is True
    assert isinstance(end, events.RunEnd) and end.status == "ok"
    begins = [e for e in seen if isinstance(e, events.Begin)]
    assert [e.index for e in begins] == list(range(len(plan.actions)))
    assert begins[0].action_kind == plan.actions[0].kind and begins[0].step == plan.actions[0].step
    assert len([e for e in seen if isinstance(e, events.Done)]) == len(plan.actions)


def test_an_unknown_kind_stays_whole():
    event = events.from_entry({"event": "something-new", "seq": 3, "x": 1})
    assert type(event) is events.Event and event.kind == "something-new" and event.seq == 3
    assert event.entry["x"] == 1
