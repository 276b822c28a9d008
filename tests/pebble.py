"""Pebble (Debian's ``pebble``, an ACME test CA) and its challenge test server
for tests: both on the given address, on free ports, with
``PEBBLE_VA_NOSLEEP=1`` (no random waits) and no nonce rejections.  The
challenge server answers Pebble's DNS questions: every name is
*answer_ipv4*.  Pebble's validation connects to *http_port* there (80 for a
real machine; a free loopback port when certbot runs on this host)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time

TOOLS = ("pebble", "pebble-challtestsrv", "openssl")


def missing() -> list:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def free_ports(count, address="127.0.0.1"):
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind((address, 0))
        socks.append(sock)
    ports = [s.getsockname()[1] for s in socks]
    for sock in socks:
        sock.close()
    return ports


def wait_tcp(address, port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} exited: {proc.stdout.read()}")
        try:
            socket.create_connection((address, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {address}:{port}")


def tls_for_pebble(folder, address="127.0.0.1"):
    """A CA and a certificate for *address*/localhost: Pebble's HTTPS listener."""
    def run(*argv):
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
    ca_key, ca, key, csr, cert = (os.path.join(folder, n) for n in ("ca.key", "ca.pem", "key.pem", "req.csr",
                                                                     "cert.pem"))
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
        "-keyout", ca_key, "-out", ca)
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", csr)
    ext = os.path.join(folder, "ext.cnf")
    with open(ext, "w") as handle:
        handle.write(f"subjectAltName=DNS:localhost,IP:{address}\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
        "-extfile", ext, "-out", cert)
    return ca, cert, key


@contextlib.contextmanager
def running(folder, *, address="127.0.0.1", answer_ipv4="127.0.0.1", http_port=None):
    """Yields {"directory", "http_port", "ca"} while Pebble and its DNS run."""
    ca, cert, key = tls_for_pebble(str(folder), address)
    acme_port, mgmt_port, free_http, tls_port, dns_port, chall_mgmt = free_ports(6, address)
    http_port = http_port or free_http
    config = os.path.join(str(folder), "pebble.json")
    with open(config, "w") as handle:
        json.dump({"pebble": {
            "listenAddress": f"{address}:{acme_port}", "managementListenAddress": f"{address}:{mgmt_port}",
            "certificate": cert, "privateKey": key, "httpPort": http_port, "tlsPort": tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": False}}, handle)
    env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0")
    chall = subprocess.Popen(["pebble-challtestsrv", "-dns01", f"{address}:{dns_port}", "-http01", "",
                              "-https01", "", "-tlsalpn01", "", "-management", f"{address}:{chall_mgmt}",
                              "-defaultIPv4", answer_ipv4, "-defaultIPv6", ""],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server = subprocess.Popen(["pebble", "-config", config, "-dnsserver", f"{address}:{dns_port}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_tcp(address, chall_mgmt, chall)
        wait_tcp(address, acme_port, server)
        yield {"directory": f"https://{address}:{acme_port}/dir", "http_port": http_port, "ca": ca}
    finally:
        for proc in (server, chall):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
