"""Fixtures for the booted Debian machines.

With MAILWIZ_E2E=1 (``.ci/run``) these tests must run: a machine that cannot
be built or booted (not root, a tool missing, no network to the mirrors) is a
FAILURE, not a skip.  Without it they are skipped.

- ``target_images``: every release's image, built (in parallel) or found in
  the cache, once a session;
- ``boot``: ``boot("13")`` -> a fresh :class:`Machine`; each one is destroyed
  after its test;
- ``figures``: what a test measured (printed at the end of the session).
"""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

import pytest

from tests.targets import images
from tests.targets.machine import Machine

TOOLS = ["debootstrap", "systemd-nspawn", "nsenter", "ip", "tar", "zstd", "git"]

_FIGURES: List[str] = []


def _cannot_run() -> str:
    if os.geteuid() != 0:
        return "booted-machine tests need root"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return "missing tools: {} (tests/run.sh installs them)".format(", ".join(missing))
    return ""


@pytest.fixture(scope="session")
def target_images() -> Dict[str, str]:
    problem = _cannot_run()
    if problem:
        pytest.fail(problem + "; MAILWIZ_E2E=1 asks for these tests to run", pytrace=False)
    # debootstrap waits on the network most of the time: the three at once.
    with ThreadPoolExecutor(max_workers=len(images.RELEASES)) as pool:
        built = dict(zip(images.RELEASES, pool.map(images.build, images.RELEASES)))
    return {release: str(path) for release, path in built.items()}


@pytest.fixture
def boot(target_images):
    made: List[Machine] = []

    def make(release: str, **kwargs) -> Machine:
        machine = Machine.boot(release, **kwargs)
        made.append(machine)
        return machine

    yield make
    for machine in made:
        machine.destroy()


@pytest.fixture
def figures():
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("booted Debian machines: figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
