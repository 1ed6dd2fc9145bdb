"""Makes the S3 proxy fail the ways S3 does, for the requests a test picks.

    with running_proxy(s3_server.endpoint_url) as proxy:
        faults = FaultInjector(proxy)
        faults.add(Rule(Fault.INTERNAL_ERROR, operation="PutObject", times=3))
        ...  # build against proxy.endpoint_url
        assert faults.injected() == {Fault.INTERNAL_ERROR: 3}

A rule names a fault, which requests it takes (S3 operation, part of the key, part number) and
how many: the first `times` that match, or every one with `times=ALWAYS`. The first rule with
turns left that matches a request decides its fault; requests no rule takes are forwarded as
usual. The injector replaces the proxy's handler (see herokuify_dev/proxy.py); the proxy still
counts every request, faulted or not.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import socket
import struct
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import cast

from herokuify_dev.proxy import (
    Connection,
    Request,
    S3Proxy,
    copy_body,
    is_virtual_host,
    wants_close,
)

ALWAYS = None  # Rule.times for a fault that never lets up
CUT_ANNOUNCED = 512  # the length a cut-short empty body claims


class Fault(enum.Enum):
    INTERNAL_ERROR = "500 InternalError"  # S3's XML error body; the request is not forwarded
    SLOW_DOWN = "503 SlowDown"  # S3's throttling answer; not forwarded
    RESET = "connection reset"  # RST (SO_LINGER 0) as soon as the request head arrives
    STALL = "stall"  # read the request, answer nothing for stall_seconds, then reset
    CUT_BODY = "body cut short"  # forwarded, but the answer's body stops short of its length


_ERRORS = {
    Fault.INTERNAL_ERROR: (
        "500 Internal Server Error",
        "InternalError",
        "We encountered an internal error. Please try again.",
    ),
    Fault.SLOW_DOWN: ("503 Slow Down", "SlowDown", "Please reduce your request rate."),
}


@dataclass(frozen=True)
class Target:
    """A request as rules see it: its S3 operation, bucket, object key and part number."""

    operation: str  # "PutObject", "UploadPart", "CompleteMultipartUpload", "ListObjectsV2"...
    bucket: str
    key: str  # "" for bucket operations
    part: int | None  # UploadPart's partNumber


@dataclass
class Rule:
    fault: Fault
    operation: str | None = None  # the S3 operation (see Target); None takes any
    key_contains: str = ""
    min_part: int | None = None  # only parts numbered this or higher
    times: int | None = 1  # the first N matching requests; ALWAYS (None) for all of them
    injected: int = 0

    def takes(self, target: Target) -> bool:
        if self.times is not None and self.injected >= self.times:
            return False
        if self.operation is not None and target.operation != self.operation:
            return False
        if self.key_contains not in target.key:
            return False
        return self.min_part is None or (target.part or 0) >= self.min_part


class FaultInjector:
    """Serves the proxy's requests: faults for those the rules take, forwarding for the rest."""

    def __init__(self, proxy: S3Proxy, stall_seconds: float = 30.0) -> None:
        self.proxy = proxy
        self.stall_seconds = stall_seconds
        self.rules: list[Rule] = []
        self.requests: list[Target] = []  # every request seen, faulted or not, in order
        self.events: list[tuple[Fault, Target]] = []  # every fault injected, in order
        self._lock = threading.Lock()
        proxy.handler = self.handle

    def add(self, *rules: Rule) -> None:
        with self._lock:
            self.rules.extend(rules)

    def clear(self) -> None:
        """Drop every rule: from now on S3 behaves. The history stays (see reset)."""
        with self._lock:
            self.rules.clear()

    def reset(self) -> None:
        """Forget the requests seen; the faults injected stay counted."""
        with self._lock:
            self.requests.clear()

    def injected(self) -> dict[Fault, int]:
        """How many times each fault was injected."""
        with self._lock:
            return dict(collections.Counter(fault for fault, _ in self.events))

    def detach(self) -> None:
        self.proxy.handler = self.proxy.forward

    def keys(self, operation: str) -> list[str]:
        """The keys of the requests seen for one S3 operation, in order."""
        with self._lock:
            return [target.key for target in self.requests if target.operation == operation]

    def _pick(self, target: Target) -> Fault | None:
        with self._lock:
            self.requests.append(target)
            rule = next((rule for rule in self.rules if rule.takes(target)), None)
            if rule is None:
                return None
            rule.injected += 1
            self.events.append((rule.fault, target))
            return rule.fault

    async def handle(self, conn: Connection, request: Request) -> bool:
        fault = self._pick(describe(request))
        if fault is None:
            return await self.proxy.forward(conn, request)
        if fault in _ERRORS:
            return await answer_error(conn, request, *_ERRORS[fault])
        if fault is Fault.RESET:
            return _reset(conn)
        if fault is Fault.STALL:
            await _discard_body(conn, request)
            await asyncio.sleep(self.stall_seconds)
            return _reset(conn)
        return await _forward_cut_short(conn, request)


def describe(request: Request) -> Target:
    """Which S3 operation a request is, from its method, path and query."""
    url = urllib.parse.urlsplit(request.target)
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    parts = [urllib.parse.unquote(p) for p in url.path.split("/")]
    host = (request.header("host") or "").rsplit(":", 1)[0]
    if is_virtual_host(host):
        bucket, key = host.split(".", 1)[0], "/".join(parts[1:])
    else:
        bucket, key = (parts[1] if len(parts) > 1 else ""), "/".join(parts[2:])
    part = int(query["partNumber"][0]) if "partNumber" in query else None
    copies = request.header("x-amz-copy-source") is not None
    return Target(_operation(request.method, key, query, copies), bucket, key, part)


def _operation(method: str, key: str, query: dict[str, list[str]], copies: bool) -> str:
    if method == "PUT":
        if "partNumber" in query:
            return "UploadPart"
        if copies:
            return "CopyObject"
        return "PutObject" if key else "PutBucket"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return "DeleteObjects" if "delete" in query else "Post"
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload"
        return "DeleteObject" if key else "DeleteBucket"
    if method == "HEAD":
        return "HeadObject" if key else "HeadBucket"
    if key:
        return "GetObject"
    if "location" in query:
        return "GetBucketLocation"
    if "ownershipControls" in query:
        return "GetBucketOwnershipControls"
    if "publicAccessBlock" in query:
        return "GetPublicAccessBlock"
    if "cors" in query:
        return "GetBucketCors"
    if "uploads" in query:
        return "ListMultipartUploads"
    return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"


class _Discard:
    """A sink for request bodies the proxy answers itself."""

    def write(self, data: bytes) -> None:
        pass

    async def drain(self) -> None:
        pass


async def _discard_body(conn: Connection, request: Request) -> None:
    if (request.header("expect") or "").lower() == "100-continue":
        return  # the client waits for a 100 Continue that never comes, and sends no body
    sink = cast(asyncio.StreamWriter, _Discard())
    await copy_body(request.headers, conn.reader, sink, until_eof=False)


async def answer_error(
    conn: Connection, request: Request, status: str, code: str, message: str
) -> bool:
    """Answers the request, unforwarded, with S3's XML error body."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    return await answer(conn, request, status, body)


async def answer(conn: Connection, request: Request, status: str, body: bytes) -> bool:
    """Answers the request, unforwarded, with an XML body; whether the connection stays open."""
    request_id = uuid.uuid4().hex[:16].upper()
    # A client that waits for 100 Continue gets the error instead and never sends its body, so
    # the connection cannot tell where the next request starts: close it, as S3 does.
    expects = (request.header("expect") or "").lower() == "100-continue"
    await _discard_body(conn, request)
    keep = not expects and not wants_close(request.version, request.headers)
    head = [
        f"HTTP/1.1 {status}",
        "Content-Type: application/xml",
        f"Content-Length: {len(body)}",
        f"x-amz-request-id: {request_id}",
    ]
    if not keep:
        head.append("Connection: close")
    conn.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await conn.writer.drain()
    return keep


def _reset(conn: Connection) -> bool:
    """Drop the client connection with an RST: no answer, not even a FIN."""
    sock = conn.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.writer.transport.abort()
    return False


async def _forward_cut_short(conn: Connection, request: Request) -> bool:
    """Forward the request, so S3 acts on it, then send its answer with half the body it
    announces (an empty body announces CUT_ANNOUNCED bytes) and close the connection."""
    if (request.header("expect") or "").lower() == "100-continue":
        conn.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await conn.writer.drain()
    await conn.send_request_head(request)
    up_reader, up_writer = await conn.upstream()
    await copy_body(request.headers, conn.reader, up_writer, until_eof=False)
    response = await conn.read_response_head()
    length = response.header("content-length")
    if request.method == "HEAD" or response.status in (204, 304):
        body = b""
    elif length is not None:
        body = await up_reader.readexactly(int(length))
    else:
        body = await up_reader.read()  # moto closes after each answer
    await conn.close_upstream()
    skipped = (b"content-length:", b"transfer-encoding:", b"connection:")
    lines = [line for line in response.lines if not line.lower().startswith(skipped)]
    lines += [f"Content-Length: {len(body) or CUT_ANNOUNCED}".encode(), b"Connection: close"]
    conn.writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body[: len(body) // 2])
    await conn.writer.drain()
    return False
