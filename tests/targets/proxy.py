"""The containers' only way out: a small HTTP proxy on the host side of their
veth, for Debian's mirrors (plain HTTP, apt) and PyPI (CONNECT, pip).

Why a proxy and not NAT: the host may have no iptables/nft, forwarding is a
host-wide setting, and a proxy lets through exactly the package hosts below and
nothing else, so a test cannot reach anything but the mirrors (and the tests
themselves only talk to the containers' own addresses).

Run as ``python -m tests.targets.proxy ADDRESS PORT`` (the harness starts one
per container, bound to the host end of that container's veth, and stops it
with the container).  Standard library only.
"""
from __future__ import annotations

import select
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

ALLOWED_HOSTS = {"deb.debian.org", "security.debian.org", "pypi.org", "files.pythonhosted.org"}
TIMEOUT = 60


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = TIMEOUT

    def log_message(self, fmt, *args):      # quiet: apt makes hundreds of requests
        pass

    def _refuse(self, code: int, why: str) -> None:
        body = why.encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        if host not in ALLOWED_HOSTS or port != "443":
            return self._refuse(403, "not a package host: " + self.path)
        try:
            upstream = socket.create_connection((host, 443), timeout=TIMEOUT)
        except OSError as exc:
            return self._refuse(502, str(exc))
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        _pipe(self.connection, upstream)

    def _forward(self):
        url = urlsplit(self.path)
        if url.scheme != "http" or url.hostname not in ALLOWED_HOSTS:
            return self._refuse(403, "not a package host: " + self.path)
        try:
            upstream = socket.create_connection((url.hostname, url.port or 80), timeout=TIMEOUT)
        except OSError as exc:
            return self._refuse(502, str(exc))
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in ("proxy-connection", "connection", "keep-alive")]
        head = "{} {} HTTP/1.1\r\n".format(self.command, path)
        head += "".join("{}: {}\r\n".format(k, v) for k, v in headers) + "Connection: close\r\n\r\n"
        upstream.sendall(head.encode("latin-1"))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            upstream.sendall(self.rfile.read(length))
        # The answer goes back as it comes, then both ends close (one request a connection).
        self.close_connection = True
        try:
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                self.wfile.write(chunk)
        finally:
            upstream.close()

    do_GET = do_HEAD = do_POST = _forward


def _pipe(a: socket.socket, b: socket.socket) -> None:
    sockets = [a, b]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, TIMEOUT)
            if broken or not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)
    except OSError:
        return
    finally:
        b.close()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(address: str, port: int, ready=None) -> None:
    with Server((address, port), Handler) as server:
        if ready is not None:
            ready.set()
        server.serve_forever()


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    address, port = args[0], int(args[1])
    ready = threading.Event()
    serve(address, port, ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
