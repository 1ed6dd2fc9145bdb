"""A container credentials endpoint on loopback, as ECS gives a task its role: botocore's
ContainerProvider GETs AWS_CONTAINER_CREDENTIALS_FULL_URI and signs with the JSON it answers
(AccessKeyId, SecretAccessKey, Token, Expiration: the ECS developer guide, "Task IAM role").
Over plain HTTP, botocore takes such a URL only on a loopback address or ECS's and EKS's own
(botocore/utils.py, ContainerMetadataFetcher), so the real provider runs here unchanged.

Each endpoint serves credentials of its own, new random values, so that a test can look for
them in what a build printed and in how requests were signed.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from herokuify_dev.httpthread import serving

HOST = "127.0.0.1"
PATH = "/v2/credentials/herokuify-test"
# What botocore calls credentials from a container's endpoint (Credentials.method).
METHOD = "container-role"


@dataclass
class ContainerRole:
    url: str  # for AWS_CONTAINER_CREDENTIALS_FULL_URI
    access_key: str
    secret_key: str
    token: str
    fetched: int = 0  # how many times a client asked

    @property
    def env(self) -> dict[str, str]:
        """What a platform on ECS puts in the environment of what it runs, pointed here. With
        the instance metadata off: the chain must not go on to this machine's own."""
        return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url, "AWS_EC2_METADATA_DISABLED": "true"}


@contextmanager
def serving_container_role() -> Iterator[ContainerRole]:
    role = ContainerRole(
        url="",
        access_key=f"ASIA{secrets.token_hex(8).upper()}",
        secret_key=f"container-secret-{secrets.token_hex(16)}",
        token=f"container-token-{secrets.token_hex(24)}",
    )
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != PATH:
                self.send_error(404)
                return
            with lock:
                role.fetched += 1
            expires = datetime.now(timezone.utc) + timedelta(hours=6)
            body = json.dumps(
                {
                    "AccessKeyId": role.access_key,
                    "SecretAccessKey": role.secret_key,
                    "Token": role.token,
                    "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "RoleArn": "arn:aws:iam::123456789012:role/herokuify-test",
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest shows what a failing test printed, and this would be noise."""

    server = ThreadingHTTPServer((HOST, 0), Handler)
    role.url = f"http://{HOST}:{server.server_address[1]}{PATH}"
    with serving(server, "container-role"):
        yield role
