"""A local HTTP server answering from a thread for the span of a ``with`` block, for the
stand-ins that answer one kind of request: runtime downloads, container credentials, a CDN."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import HTTPServer


@contextmanager
def serving(server: HTTPServer, name: str) -> Iterator[HTTPServer]:
    """Serves ``server`` until the block ends, then shuts it down and closes its socket."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
