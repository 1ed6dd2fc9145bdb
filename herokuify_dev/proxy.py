"""An HTTP reverse proxy on loopback in front of a local S3 server: adds latency, counts requests.

It runs an asyncio server in a background thread. Each client connection gets its own upstream
connection, so keep-alive and parallel clients behave as they would against S3. Bodies are streamed
in both directions, never held whole.

Forwarding one request is `S3Proxy.forward`, reached through `S3Proxy.handler`: a fault
injector can replace the handler with one that answers 500/503, resets or stalls the connection, or
cuts a body short for the requests it picks, and calls `forward` for the rest.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ipaddress
import logging
import threading
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import TracebackType

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
CHUNK = 256 * 1024
KINDS = ("PUT", "GET", "LIST", "HEAD", "DELETE", "POST")


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]  # as the client sent them: order and case kept

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def kind(self) -> str:
        return classify(self.method, self.target, self.header("host") or "")


@dataclass
class Response:
    status: int
    version: str
    lines: list[bytes]  # the status line and header lines, as they came

    @property
    def headers(self) -> list[tuple[str, str]]:
        return _parse_headers(self.lines[1:])

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def without(self, prefix: bytes) -> Response:
        """The same head without the headers whose names start with ``prefix`` (lower case)."""
        lines = [self.lines[0], *(h for h in self.lines[1:] if not h.lower().startswith(prefix))]
        return Response(self.status, self.version, lines)

    def with_length(self, length: int) -> Response:
        """The same head, for a body of ``length`` bytes."""
        lines = [
            f"Content-Length: {length}".encode()
            if line.lower().startswith(b"content-length:")
            else line
            for line in self.lines
        ]
        return Response(self.status, self.version, lines)

    def head(self, keep_alive: bool) -> bytes:
        """The head to send the client; without the upstream's Connection header when the client
        connection is to stay open even though the upstream one closes."""
        lines = self.lines
        if keep_alive:
            lines = [line for line in lines if not line.lower().startswith(b"connection:")]
        return b"\r\n".join(lines) + b"\r\n\r\n"


def classify(method: str, target: str, host: str) -> str:
    """The S3 operation kind: a GET with no object key is a LIST; UploadPart counts as a PUT."""
    if method != "GET":
        return method
    path = urllib.parse.urlsplit(target).path
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    parts = [p for p in path.split("/") if p]
    # Path-style (/bucket/key) unless the Host names the bucket (bucket.localhost:port).
    key_parts = parts if is_virtual_host(hostname) else parts[1:]
    return "GET" if key_parts else "LIST"


def is_virtual_host(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return "." in hostname
    return False


async def _read_head(reader: asyncio.StreamReader) -> list[bytes]:
    """The start line and header lines of a message, without line ends; [] at a clean EOF."""
    lines: list[bytes] = []
    while True:
        line = await reader.readline()
        if not line:
            if lines:
                raise ConnectionError("connection closed inside a message head")
            return []
        line = line.rstrip(b"\r\n")
        if not line:
            if lines:
                return lines
            continue  # tolerate stray blank lines between messages
        lines.append(line)


def _parse_headers(lines: list[bytes]) -> list[tuple[str, str]]:
    headers = []
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    return headers


async def _copy_exact(src: asyncio.StreamReader, dst: asyncio.StreamWriter, size: int) -> None:
    while size > 0:
        data = await src.read(min(size, CHUNK))
        if not data:
            raise ConnectionError(f"body cut short with {size} bytes to go")
        dst.write(data)
        await dst.drain()
        size -= len(data)


async def _copy_chunked(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Relay a chunked body verbatim, reading the chunk sizes only to find its end."""
    while True:
        size_line = await src.readline()
        if not size_line:
            raise ConnectionError("chunked body cut short")
        dst.write(size_line)
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while True:  # trailers, then the blank line that ends the body
                line = await src.readline()
                dst.write(line)
                if line in (b"\r\n", b"\n", b""):
                    await dst.drain()
                    return
        await _copy_exact(src, dst, size + 2)  # the chunk and its CRLF


async def _copy_to_eof(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    while data := await src.read(CHUNK):
        dst.write(data)
        await dst.drain()


async def copy_body(
    headers: list[tuple[str, str]],
    src: asyncio.StreamReader,
    dst: asyncio.StreamWriter,
    until_eof: bool,
) -> None:
    values = {k.lower(): v for k, v in headers}
    if "chunked" in values.get("transfer-encoding", "").lower():
        await _copy_chunked(src, dst)
    elif "content-length" in values:
        await _copy_exact(src, dst, int(values["content-length"]))
    elif until_eof:
        await _copy_to_eof(src, dst)


def wants_close(version: str, headers: list[tuple[str, str]]) -> bool:
    connection = next((v for k, v in headers if k.lower() == "connection"), "").lower()
    return "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)


class Connection:
    """One client connection (`reader`, `writer`) and the upstream connection that serves it."""

    def __init__(
        self, proxy: S3Proxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.proxy = proxy
        self.reader = reader
        self.writer = writer
        self.up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def serve(self) -> None:
        try:
            while True:
                head = await _read_head(self.reader)
                if not head:
                    return
                method, target, version = head[0].decode("latin-1").split(" ", 2)
                request = Request(method, target, version, _parse_headers(head[1:]))
                if not await self.proxy.dispatch(self, request):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            log.debug("proxy connection ended: %r", exc)
        finally:
            await self.close_upstream()
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()

    async def upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.up is None:
            proxy = self.proxy
            self.up = await asyncio.open_connection(proxy.upstream_host, proxy.upstream_port)
        return self.up

    async def close_upstream(self) -> None:
        if self.up is not None:
            self.up[1].close()
            with contextlib.suppress(ConnectionError):
                await self.up[1].wait_closed()
            self.up = None

    async def send_request_head(self, request: Request) -> None:
        lines = [f"{request.method} {request.target} {request.version}"]
        # Expect is answered by the proxy rather than passed on; botocore never signs it.
        lines += [f"{k}: {v}" for k, v in request.headers if k.lower() != "expect"]
        _, up_writer = await self.upstream()
        up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await up_writer.drain()

    async def read_response_head(self) -> Response:
        up_reader, _ = await self.upstream()
        head = await _read_head(up_reader)
        if not head:
            raise ConnectionError("upstream closed without answering")
        version, status, _ = head[0].decode("latin-1").split(" ", 2)
        return Response(int(status), version, head)


# Serves one request on a client connection; returns False when that connection must end.
Handler = Callable[[Connection, Request], Awaitable[bool]]


class S3Proxy:
    """Reverse proxy to `upstream_url` (http only) with per-request latency and request counts."""

    def __init__(self, upstream_url: str, latency_ms: float = 0.0) -> None:
        parts = urllib.parse.urlsplit(upstream_url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"need an http://host:port upstream, not {upstream_url!r}")
        self.upstream_host: str = parts.hostname
        self.upstream_port: int = parts.port
        self.latency = latency_ms / 1000.0
        self.handler: Handler = self.forward
        # Applied to each listing's body before it is relayed (see herokuify_dev/aging.py).
        self.rewrite_listing: Callable[[bytes], bytes] | None = None
        # Applied to each answer's head before it is relayed (see herokuify_dev/stores.py).
        self.rewrite_head: Callable[[Request, Response], Response] | None = None
        self.endpoint_url = ""
        self._counts: collections.Counter[str] = collections.Counter()
        self._methods: collections.Counter[str] = collections.Counter()
        self._delayed_now = 0
        self._delayed_peak = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None

    # Counting ------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Requests by S3 operation kind (every kind present, zero if unseen)."""
        with self._lock:
            return {kind: self._counts[kind] for kind in KINDS} | dict(self._counts)

    def method_counts(self) -> dict[str, int]:
        """Requests by raw HTTP method."""
        with self._lock:
            return dict(self._methods)

    def peak_concurrency(self) -> int:
        """The most requests that were held in their latency at one time."""
        with self._lock:
            return self._delayed_peak

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._methods.clear()
            self._delayed_peak = 0

    # Request handling ----------------------------------------------------------------------

    async def dispatch(self, conn: Connection, request: Request) -> bool:
        """Count the request and delay it, then let the handler serve it."""
        with self._lock:
            self._counts[request.kind] += 1
            self._methods[request.method] += 1
        if self.latency:
            with self._lock:
                self._delayed_now += 1
                self._delayed_peak = max(self._delayed_peak, self._delayed_now)
            try:
                await asyncio.sleep(self.latency)
            finally:
                with self._lock:
                    self._delayed_now -= 1
        return await self.handler(conn, request)

    async def forward(self, conn: Connection, request: Request) -> bool:
        """Serve one request: forward it, relay the answer. False when the connection must end."""
        if (request.header("expect") or "").lower() == "100-continue":
            conn.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await conn.writer.drain()
        try:
            await conn.send_request_head(request)
            up_reader, up_writer = await conn.upstream()
            await copy_body(request.headers, conn.reader, up_writer, until_eof=False)
            response = await conn.read_response_head()
            if self.rewrite_head is not None:
                response = await asyncio.to_thread(self.rewrite_head, request, response)
        except OSError as exc:
            log.warning("S3 proxy: upstream failed before answering: %r", exc)
            conn.writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await conn.writer.drain()
            return False
        keep_client = not wants_close(request.version, request.headers)
        has_body = request.method != "HEAD" and response.status not in (204, 304)
        if has_body and not (
            response.header("content-length") or response.header("transfer-encoding")
        ):
            keep_client = False  # the body ends where the connection does
        length = response.header("content-length")
        if has_body and length and request.kind == "LIST" and self.rewrite_listing:
            body = self.rewrite_listing(await up_reader.readexactly(int(length)))
            conn.writer.write(response.with_length(len(body)).head(keep_alive=keep_client) + body)
        else:
            conn.writer.write(response.head(keep_alive=keep_client))
            if has_body:
                await copy_body(response.headers, up_reader, conn.writer, until_eof=True)
        await conn.writer.drain()
        # moto's server (werkzeug) closes after every response; clients still keep their connection
        # to the proxy, as they would with S3, and the next request opens a new upstream one.
        if wants_close(response.version, response.headers) or not keep_client:
            await conn.close_upstream()
        return keep_client

    # Lifecycle -----------------------------------------------------------------------------

    async def _main(self, started: threading.Event) -> None:
        self._stopping = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                # Swallowed so that stop() cancelling a connection is not logged as an error.
                with contextlib.suppress(asyncio.CancelledError):
                    await Connection(self, reader, writer).serve()
            finally:
                tasks.discard(task)

        server = await asyncio.start_server(on_connect, HOST, 0, limit=CHUNK)
        port = server.sockets[0].getsockname()[1]
        self.endpoint_url = f"http://{HOST}:{port}"
        started.set()
        async with server:
            await self._stopping.wait()
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def start(self) -> S3Proxy:
        started = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete,
            args=(self._main(started),),
            name="s3-proxy",
            daemon=True,
        )
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("S3 proxy did not start")
        log.info("S3 proxy at %s -> port %d", self.endpoint_url, self.upstream_port)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None or self._stopping is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = self._stopping = None

    def __enter__(self) -> S3Proxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def running_proxy(upstream_url: str, latency_ms: float = 0.0) -> Iterator[S3Proxy]:
    with S3Proxy(upstream_url, latency_ms) as proxy:
        yield proxy


def recording_signed_requests(proxy: S3Proxy) -> list[tuple[str, str | None]]:
    """Filled as ``proxy`` passes requests on: each signed one's Authorization and
    X-Amz-Security-Token headers, to tell which credentials signed them. Anonymous reads, such
    as the public-read check's, carry neither and are left out."""
    sent: list[tuple[str, str | None]] = []

    async def note(conn: Connection, request: Request) -> bool:
        signed = request.header("authorization")
        if signed:
            sent.append((signed, request.header("x-amz-security-token")))
        return await proxy.forward(conn, request)

    proxy.handler = note
    return sent
