"""A real moto S3 server on loopback, run as a subprocess, for tests and local builds."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from typing import IO, Any

log = logging.getLogger(__name__)

# moto accepts any credentials; these only have to look like AWS ones to botocore.
FAKE_ACCESS_KEY_ID = "AKIAHEROKUIFYLOCAL00"
FAKE_SECRET_ACCESS_KEY = "herokuify-local-secret-not-a-real-key"
HOST = "127.0.0.1"
START_TIMEOUT = 30.0


def free_port() -> int:
    """A port that is free now (a tiny race with other processes is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _tail(stream: IO[bytes], limit: int = 2000) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")[-limit:]


class PortTakenError(RuntimeError):
    """Another process took the chosen port before moto bound it."""


class S3Server:
    """A started moto server; `stop()` (or leaving `running_s3_server()`) ends it."""

    def __init__(
        self,
        port: int | None = None,
        timeout: float = START_TIMEOUT,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`env`: extra environment variables for the moto process, such as
        INITIAL_NO_AUTH_ACTION_COUNT to make it check signatures and IAM policies."""
        self.port = port or free_port()
        self.endpoint_url = f"http://{HOST}:{self.port}"
        # stderr goes to a file, not a pipe: nobody reads it while the server runs, and a full pipe
        # would block moto's request logging.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop)
        cmd = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)]
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            env={**os.environ, **env} if env else None,
            # Its own session: a Ctrl-C meant for a local build must leave the server up, so
            # that what the build wrote can still be saved (localbuild.py); stop() ends it.
            start_new_session=True,
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        log.info("moto S3 server at %s (pid %d)", self.endpoint_url, self._proc.pid)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._proc.poll() is None:
            if self._answers():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"moto server did not answer on {self.endpoint_url} within {timeout:.0f}s:\n"
                    f"{_tail(self._stderr)}"
                )
            time.sleep(0.1)
        tail = _tail(self._stderr)
        error = PortTakenError if "Address already in use" in tail else RuntimeError
        raise error(f"moto server exited with code {self._proc.returncode}:\n{tail}")

    def _answers(self) -> bool:
        # ListBuckets' answer, so that another server that took the port is not mistaken for moto.
        try:
            with urllib.request.urlopen(self.endpoint_url + "/", timeout=1) as response:
                return b"ListAllMyBucketsResult" in response.read()
        except OSError:
            return False

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()

    def client(self, region: str = "us-east-1", **kwargs: Any) -> Any:
        """A boto3 S3 client for this server."""
        return make_client(self.endpoint_url, region, **kwargs)

    def create_bucket(self, name: str, region: str = "us-east-1") -> None:
        kwargs: dict[str, Any] = {"Bucket": name}
        # us-east-1 is the one region S3 rejects as an explicit LocationConstraint.
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.client(region).create_bucket(**kwargs)


def make_client(endpoint_url: str, region: str = "us-east-1", **kwargs: Any) -> Any:
    """A boto3 S3 client with the fake credentials, for a local server or a proxy in front of it."""
    import boto3  # imported late: only tooling that talks to S3 needs it

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_ACCESS_KEY_ID,
        aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
        **kwargs,
    )


@contextlib.contextmanager
def running_s3_server(
    timeout: float = START_TIMEOUT, env: Mapping[str, str] | None = None, port: int | None = None
) -> Iterator[S3Server]:
    """``port``: the one to try first; another free one if it is taken."""
    for attempt in range(3):
        try:
            server = S3Server(timeout=timeout, env=env, port=port if attempt == 0 else None)
            break
        except PortTakenError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.stop()
