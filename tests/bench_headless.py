"""Benchmark: how fast the headless path starts and plans (prints figures; not a test).

    .venv/bin/python tests/bench_headless.py [--runs N]

Measures, as the median of N runs of a fresh interpreter: bare Python, importing
the CLI, `mailwiz validate` on the example, and `mailwiz plan` in a seeded sandbox
for two profiles; and whether textual was imported on the way (it must not be).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(PROJECT, "installer", "answers.example.yaml")


def timed(argv, runs):
    samples = []
    env = dict(os.environ, PYTHONPATH=PROJECT)
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=PROJECT, env=env, capture_output=True, text=True)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{argv} failed: {proc.stderr}")
    return statistics.median(samples) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        rows = [("python -c pass", timed([py, "-c", "pass"], runs)),
                ("import installer.cli", timed([py, "-c", "import installer.cli"], runs)),
                ("mailwiz validate example", timed([py, "-m", "installer.cli", "validate", EXAMPLE], runs))]
        for profile in ("rocky-9", "debian-12"):
            root = os.path.join(tmp, profile)
            args = [py, "-m", "installer.cli", "plan", "--answers", EXAMPLE, "--sandbox", "--profile", profile,
                    "--root", root]
            subprocess.run(args, cwd=PROJECT, capture_output=True, env=dict(os.environ, PYTHONPATH=PROJECT))
            rows.append((f"mailwiz plan --sandbox ({profile})", timed(args, runs)))
        check = subprocess.run(
            [py, "-c", "import sys; from installer import cli; cli.main(['plan', '--answers', %r, '--sandbox', "
                       "'--profile', 'rocky-9', '--root', %r]); print(any(m.startswith('textual') for m in "
                       "sys.modules))" % (EXAMPLE, os.path.join(tmp, "rocky-9"))],
            cwd=PROJECT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=PROJECT))
    width = max(len(name) for name, _ in rows)
    print(f"median of {runs} runs, fresh interpreter each")
    for name, ms in rows:
        print(f"  {name:{width}}  {ms:7.1f} ms")
    print(f"  textual imported by the headless plan: {check.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
