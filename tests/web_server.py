"""A real HTTP server on loopback for the web tools' tests: pages, redirects, a huge page, a binary."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARTICLE = """<!doctype html>
<html><head><title>Kites</title><style>body { color: red }</style><script>track()</script></head>
<body><h1>Flying kites</h1><p>A kite needs <b>steady wind</b> of 10 to 25 km/h.</p>
<ul><li>Diamond kites are easy</li><li>Box kites are stable</li></ul>
<p>See <a href="/guide">the guide</a>.</p></body></html>"""
HUGE_BYTES = 3_000_000


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        port = self.server.server_address[1]
        routes = {
            "/article": (200, "text/html; charset=utf-8", ARTICLE.encode()),
            "/notes.txt": (200, "text/plain", b"plain notes\nline two\n"),
            "/moved": (302, "", b"/article"),
            "/elsewhere": (302, "", f"http://localhost:{port}/article".encode()),
            "/loop": (302, "", b"/loop"),
            "/huge": (200, "text/html", b"<html><body><p>" + b"kite " * (HUGE_BYTES // 5) + b"</p></body></html>"),
            "/logo.png": (200, "image/png", b"\x89PNG\r\n\x1a\n"),
            "/missing": (404, "text/plain", b"no such page"),
        }
        status, content_type, body = routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", body.decode())
            body = b""
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def web_server() -> Iterator[str]:
    """The server's base URL (http://127.0.0.1:PORT), serving until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
