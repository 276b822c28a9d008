#!/usr/bin/env bash
# What the end-to-end tests (tests/e2e/) need on a Debian host, besides Python:
#   passwd   useradd/chpasswd/userdel for the test user
#   openssl  (the TLS step's self-signed certificate; postfix pulls it in too)
#   iproute2 `ip` to show the loopback addresses when a test fails
# Postfix and Dovecot are NOT installed here: mailwiz installs them in the test
# (and the test removes them again, then puts back what was there before).
set -euo pipefail
[ "$(id -u)" = 0 ] || exit 0
command -v apt-get >/dev/null || exit 0
need=()
for pkg in passwd openssl iproute2; do
  dpkg-query -W -f '${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
