"""No import cycle among the modules of installer/ and steps/, and the layers
point one way: the TUI never imports the CLI, the engine never imports a face."""
from tests.arch.imports import cycles, graph


def test_cycles_are_found():
    # The checker itself: a made-up graph with one cycle of three and a self-free chain.
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(edges) == [["a", "b", "c"]]


def test_the_graph_is_read():
    edges = graph()
    assert "installer.engine" in edges["installer.cli"] or "installer.session" in edges["installer.cli"]
    assert "installer.actions" in edges["steps.postfix"]


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_the_tui_never_imports_the_cli():
    edges = graph()
    offenders = sorted(name for name, targets in edges.items()
                       if name.startswith("installer.tui") and "installer.cli" in targets)
    assert offenders == []


def test_below_the_faces_nothing_imports_a_face():
    faces = {"installer.cli"} | {name for name in graph() if name.startswith("installer.tui")}
    edges = graph()
    offenders = sorted((name, target) for name, targets in edges.items() if name not in faces
                       for target in targets if target in faces)
    assert offenders == []


def test_only_the_target_chooses_the_sandbox():
    # Real planning reads the stock files from installer/stockfiles.py, never from the sandbox.
    importers = sorted(name for name, targets in graph().items() if "installer.sandbox" in targets)
    assert importers == ["installer.session"]
