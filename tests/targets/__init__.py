"""Real test machines: clean Debian 11, 12 and 13 booted with systemd in
containers (systemd-nspawn), each with its own address, for the end-to-end
tests of ``tests/targets/`` (and by hand: ``python -m tests.targets --help``).

- ``images``: build and cache each release's root (debootstrap, a tarball
  under /var/cache/mailwiz-targets keyed by a hash of the recipe);
- ``machine``: boot a fresh copy, run commands inside, throw it away;
- ``proxy``: the machines' way to Debian's mirrors and PyPI.

Needs root, debootstrap, systemd-container (systemd-nspawn), util-linux
(nsenter), iproute2 and zstd; ``tests/run.sh`` installs them.
"""
