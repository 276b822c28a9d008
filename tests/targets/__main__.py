"""By hand: ``python -m tests.targets COMMAND`` from the project folder, as root.

  build RELEASE|all [--force]   build (or find cached) the image(s)
  boot RELEASE [--mailwiz]      boot a fresh machine and leave it running
                                (--mailwiz: also install this checkout into
                                /opt/mailwiz as the README says)
  shell NAME [COMMAND...]       a shell (or COMMAND) inside NAME
  list                          the machines running now
  destroy NAME|all              power off and remove

RELEASE is 11, 12, 13 or bullseye, bookworm, trixie.
"""
from __future__ import annotations

import argparse
import os
import sys

from tests.targets import images
from tests.targets.machine import Machine


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.targets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build")
    build.add_argument("release")
    build.add_argument("--force", action="store_true")
    boot = sub.add_parser("boot")
    boot.add_argument("release")
    boot.add_argument("--mailwiz", action="store_true")
    shell = sub.add_parser("shell")
    shell.add_argument("name")
    shell.add_argument("argv", nargs=argparse.REMAINDER)
    sub.add_parser("list")
    destroy = sub.add_parser("destroy")
    destroy.add_argument("name")
    args = parser.parse_args(argv)

    if args.command == "build":
        releases = list(images.RELEASES) if args.release == "all" else [args.release]
        for release in releases:
            print(images.build(release, force=args.force))
    elif args.command == "boot":
        machine = Machine.boot(args.release)
        if args.mailwiz:
            print("mailwiz installed in {:.0f} s".format(machine.install_mailwiz()))
        print("{}  {}  booted in {:.1f} s ({}); from here it is {}".format(
            machine.name, machine.release, machine.boot_seconds, machine.boot_state, machine.address))
    elif args.command == "shell":
        machine = Machine.load(args.name)
        argv = machine.enter_argv(args.argv or ["bash", "-l"])
        os.execvp(argv[0], argv)
    elif args.command == "list":
        for name in Machine.names():
            machine = Machine.load(name)
            print("{}  {}  {}".format(name, machine.release, machine.address))
    elif args.command == "destroy":
        names = Machine.names() if args.name == "all" else [args.name]
        for name in names:
            Machine.load(name).destroy()
            print("destroyed", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
