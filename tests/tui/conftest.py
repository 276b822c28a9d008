"""Sandbox targets under tmp_path and wizard apps built on them."""
from __future__ import annotations

import argparse
import os

import pytest

pytest.importorskip("textual")


def sandbox_args(root, profile: str = "rocky-9", lang: str = "en") -> argparse.Namespace:
    from installer import cli
    args = argparse.Namespace(command=None, root=str(root), profile=profile, sandbox=True, lang=lang,
                              overrides=[], yes=False, no_rollback=False)
    return cli.fill_defaults(args)


@pytest.fixture
def make_wizard(tmp_path, monkeypatch):
    """``make_wizard(profile, lang, failpoint=None)`` -> a WizardApp on a fresh sandbox.

    The current folder is tmp_path, so paths show as ``./sandbox/...``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("TERM", raising=False)

    def build(profile: str = "rocky-9", lang: str = "en", failpoint=None):
        from installer import cli
        from installer.tui.app import make_app
        target = cli.Target(sandbox_args("sandbox", profile, lang))
        return make_app(target, lang=lang, failpoint=failpoint)

    return build


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` tests in a fresh event loop (no pytest-asyncio here)."""
    import asyncio
    import inspect
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True
