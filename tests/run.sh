#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine, then runs it.
# This is the README's test command; .ci/run calls it.
#   - system packages (as root): gettext for catalog extraction, postfix + dovecot for the
#     real-tool config checks, openssl, tmux and openssh-server for the terminal tests,
#     debootstrap, systemd-container (systemd-nspawn) and zstd for the booted Debian
#     machines of tests/targets (images cached under /var/cache/mailwiz-targets);
#   - a private virtual environment (.venv: mailwiz never shares one, since its import names
#     `installer` and `steps` also belong to unrelated PyPI packages);
#   - pytest over tests/ (end-to-end tests last; they need root and MAILWIZ_E2E=1).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  # opendkim, miltertest: the real DKIM signing test; pebble, certbot: the real ACME test.
  for pkg in gettext openssl tmux openssh-server openssh-client iproute2 postfix dovecot-core \
             dovecot-imapd dovecot-pop3d dovecot-lmtpd debootstrap systemd-container zstd util-linux git \
             opendkim opendkim-tools miltertest pebble certbot; do
    dpkg-query -W -f '${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii' || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}" >/dev/null
  fi
  if [ -x tests/e2e/ci-prepare.sh ] || [ -f tests/e2e/ci-prepare.sh ]; then
    bash tests/e2e/ci-prepare.sh
  fi
fi

if ! python3 -c 'import venv, ensurepip' 2>/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq python3-venv >/dev/null
fi
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -c tests/constraints.txt -e '.[test]'

set +e
# -ra: every skip is listed with its reason; with MAILWIZ_E2E=1, tests/conftest.py
# fails the run if any end-to-end, real-tool or SSH test was skipped.
.venv/bin/python -m pytest -q -ra "$@"
rc=$?
set -e
# pytest exits 5 when it collected no test: that is a failure of the suite, not a pass.
if [ $rc -eq 5 ]; then
  echo "no tests were collected" >&2
  exit 1
fi
exit $rc
