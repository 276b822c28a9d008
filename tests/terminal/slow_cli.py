"""``mailwiz`` with every sandbox command taking MAILWIZ_TEST_COMMAND_DELAY
seconds (default 0.3): a run long enough to cut its terminal off halfway.

Run as a script (``python tests/terminal/slow_cli.py --sandbox ...``); used by
tests/terminal/test_ssh_wizard.py, nowhere else.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from installer import cli, runner  # noqa: E402  (after the project is on the path)

DELAY = float(os.environ.get("MAILWIZ_TEST_COMMAND_DELAY", "0.3"))
_recorded_run = runner.SandboxRunner.run


def _slow_run(self, argv, **kwargs):
    time.sleep(DELAY)
    return _recorded_run(self, argv, **kwargs)


runner.SandboxRunner.run = _slow_run

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
