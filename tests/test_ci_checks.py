"""The suite's own guarantees: with MAILWIZ_E2E=1 a skipped end-to-end,
real-tool or SSH test fails the run (tests/conftest.py), and the test
dependencies are pinned (tests/constraints.txt, used by tests/run.sh)."""
import os
import re
import subprocess
import sys
from importlib import metadata

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_pytest(folder, e2e):
    env = dict(os.environ, PYTHONPATH=PROJECT, MAILWIZ_E2E=e2e)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider",
                           "-p", "tests.conftest", "tests"], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_skipped_e2e_test_fails_the_run_only_with_mailwiz_e2e(tmp_path):
    (tmp_path / "tests/e2e").mkdir(parents=True)
    (tmp_path / "tests/e2e/test_needs_a_server.py").write_text(
        "import pytest\n\ndef test_needs_a_server():\n    pytest.skip('no server here')\n\n"
        "def test_fine():\n    pass\n")
    (tmp_path / "tests/test_unit.py").write_text(
        "import pytest\n\ndef test_may_skip():\n    pytest.skip('optional')\n")
    strict = _run_pytest(tmp_path, "1")
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "skipped with MAILWIZ_E2E=1" in strict.stdout and "no server here" in strict.stdout
    assert "test_may_skip" not in strict.stdout.split("skipped with MAILWIZ_E2E=1")[1]
    relaxed = _run_pytest(tmp_path, "")
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr


def test_run_sh_installs_with_the_constraints_and_lists_skips():
    script = open(os.path.join(PROJECT, "tests", "run.sh")).read()
    assert "-c tests/constraints.txt" in script
    assert re.search(r"pytest -q -ra", script)


def test_the_constraints_pin_every_test_dependency_exactly():
    pins = {}
    for line in open(os.path.join(PROJECT, "tests", "constraints.txt")):
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not pinned exactly: {line}"
            pins[name.lower().replace("_", "-")] = version
    for needed in ("textual", "rich", "pytest", "pytest-textual-snapshot", "syrupy", "hypothesis", "sh",
                   "pyyaml", "distro"):
        assert needed in pins, needed
    # the environment running this suite is the pinned one (run.sh made it)
    for name in ("textual", "pytest", "hypothesis"):
        assert metadata.version(name) == pins[name], (name, metadata.version(name), pins[name])


def test_no_shell_strings_and_no_unsafe_yaml_in_the_program():
    """Commands are argument lists; YAML is loaded safely (a static check)."""
    import ast
    bad = []
    for top in ("installer", "steps"):
        for folder, _, files in os.walk(os.path.join(PROJECT, top)):
            for name in files:
                if not name.endswith(".py"):
                    continue
                path = os.path.join(folder, name)
                tree = ast.parse(open(path, encoding="utf-8").read(), path)
                for node in ast.walk(tree):
                    if not isinstance(node, ast.Call):
                        continue
                    func = ast.unparse(node.func)
                    if func in ("os.system", "os.popen", "yaml.load", "yaml.unsafe_load", "yaml.full_load",
                                "eval", "exec"):
                        bad.append(f"{path}:{node.lineno}: {func}")
                    for keyword in node.keywords:
                        if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant)
                                                           and keyword.value.value is False):
                            bad.append(f"{path}:{node.lineno}: shell=")
    assert not bad, bad
