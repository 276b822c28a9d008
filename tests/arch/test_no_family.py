"""Steps, the engine and the platform code read what a profile names (its
package manager, init, firewall, alternatives, SELinux, certificate paths,
mailname, packages ...), never which family it belongs to: a third family
must not silently take one family's branch."""
import ast

from tests.arch.imports import module_files

# The one place that may speak of families: where profiles are defined.
ALLOWED = {"installer.profiles"}


def family_tests(path) -> list:
    """Lines where *path* reads a ``family`` attribute (``profile.family``, ``getattr(p, "family")``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "family":
            found.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "family"):
            found.append(node.lineno)
    return found


def test_the_checker_sees_a_family_test(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('def f(profile):\n    if profile.family == "debian":\n        return getattr(profile, "family")\n')
    assert family_tests(sample) == [2, 3]


def test_no_step_engine_or_platform_code_tests_the_family():
    offenders = {name: lines for name, path in module_files().items()
                 if name not in ALLOWED for lines in [family_tests(path)] if lines}
    assert offenders == {}
