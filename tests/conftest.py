"""Shared test set-up: the project root on sys.path, and e2e tests last.

The end-to-end tests install, run and remove the real mail server on this host;
they run after everything else so that the real-tool config checks (which need
postconf/doveconf installed) are not disturbed.
"""
import os
import sys

import pytest

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PROJECT not in sys.path:
    sys.path.insert(0, PROJECT)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: 1 if item.get_closest_marker("e2e") else 0)


# With MAILWIZ_E2E=1 (CI) these must run: a skip there (a missing tool, sshd, tmux,
# root) would make a green run that proved nothing, so it fails the run.
MUST_RUN_WITH_E2E = ("tests/e2e/", "tests/targets/", "tests/terminal/", "tests/test_realtools.py",
                     "tests/test_postfix_real.py")
_skipped_must_run = []


def _must_run(report) -> bool:
    path = report.nodeid.split("::", 1)[0]
    return path.startswith(MUST_RUN_WITH_E2E) or "e2e" in report.keywords or "realpostfix" in report.keywords


def pytest_runtest_logreport(report):
    if report.skipped and os.environ.get("MAILWIZ_E2E") == "1" and _must_run(report):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped_must_run.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if _skipped_must_run:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _skipped_must_run:
        terminalreporter.section("skipped with MAILWIZ_E2E=1 (this fails the run)", red=True)
        for line in _skipped_must_run:
            terminalreporter.line(line)


@pytest.fixture(autouse=True)
def _english_by_default(monkeypatch):
    """Tests start in English with no failpoint, whatever the developer's shell says."""
    from installer import i18n
    monkeypatch.delenv("MAILWIZ_FAILPOINT", raising=False)
    i18n.set_language("en")
    yield
    i18n.set_language("en")
