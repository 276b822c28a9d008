"""How long the wizard takes to show its first screen, against a minimal
Textual app on the same machine (a figure to read, not a timed test).

    /work/venv-dev/bin/python tests/tui/bench_startup.py [--runs N]

Each sample is a fresh process: start Python, import, build the app, run it
headless until the first screen has been drawn.  The figure is the wall time
from starting the process to that first drawing (the child prints the clock
then; shutting down is not counted).  Prints the medians and the ratio
(target: at most 1.3).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MINIMAL = """
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("Hello")
    def on_mount(self):
        self.call_after_refresh(self.drawn)
    def drawn(self):
        import time
        print(time.time(), flush=True)
        self.exit()

Minimal().run(headless=True, size=(80, 24))
"""

WIZARD = """
import sys
sys.path.insert(0, {project!r})
from installer import cli
from installer.tui.app import make_app
from installer.tui.language import LanguagePage

args = cli.fill_defaults(cli.build_parser().parse_args(
    ["--sandbox", "--root", {root!r}, "--profile", "rocky-9", "--lang", "ja"]))
app = make_app(cli.Target(args), lang="ja")

original = LanguagePage.on_mount

def drawn(app):
    import time
    print(time.time(), flush=True)
    app.exit()

def on_mount(self):   # exit once the first page has been drawn
    original(self)
    self.app.call_after_refresh(drawn, self.app)

LanguagePage.on_mount = on_mount
app.run(headless=True, size=(80, 24))
"""


# An installed mailwiz has its bytecode compiled (pip does it), as textual has:
# measure the same, whatever PYTHONDONTWRITEBYTECODE says in this shell.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def sample(code: str) -> float:
    start = time.time()
    done = subprocess.run([sys.executable, "-c", code], check=True, cwd=PROJECT, env=CHILD_ENV,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    drawn = float(done.stdout.strip().splitlines()[-1])
    return drawn - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "installer", "steps"], cwd=PROJECT,
                   env=CHILD_ENV, stdout=subprocess.DEVNULL, check=True)
    with tempfile.TemporaryDirectory() as folder:
        wizard = WIZARD.format(project=PROJECT, root=os.path.join(folder, "sandbox"))
        sample(MINIMAL), sample(wizard)          # warm the file cache
        minimal = [sample(MINIMAL) for _ in range(options.runs)]
        wizard_times = [sample(wizard) for _ in range(options.runs)]
    m, w = statistics.median(minimal), statistics.median(wizard_times)
    print(f"minimal Textual app: median {m * 1000:.0f} ms over {options.runs} runs")
    print(f"mailwiz first screen: median {w * 1000:.0f} ms over {options.runs} runs")
    print(f"ratio: {w / m:.2f} (target <= 1.30)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
