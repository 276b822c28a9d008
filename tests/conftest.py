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


@pytest.fixture(autouse=True)
def _english_by_default(monkeypatch):
    """Tests start in English with no failpoint, whatever the developer's shell says."""
    from installer import i18n
    monkeypatch.delenv("MAILWIZ_FAILPOINT", raising=False)
    i18n.set_language("en")
    yield
    i18n.set_language("en")
