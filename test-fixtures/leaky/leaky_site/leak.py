"""Prints the planted secrets in every way app code can reach a build's output.

Each line starts with a marker that names where and how it was written, and which form of a
secret follows, so that a test can tell that the line arrived, masked. Nothing is written to a
file: the build's files are checked for secrets too.

Where they are set, also AWS_SESSION_TOKEN, and with LEAKY_BOTO3_CREDENTIALS=1 the credentials
boto3's own default chain finds, wherever they come from.
"""

import ctypes
import functools
import logging
import os
import subprocess
import sys
import warnings
from urllib.parse import quote, unquote, urlsplit

WAYS = ("print", "stderr", "logging", "warnings", "fd1", "fd2", "subprocess", "libc")


def planted_text(marker: str) -> str:
    """Every planted secret, in every form it is printed in, one marker each."""
    env = os.environ
    password = unquote(urlsplit(env["DATABASE_URL"]).password or "")
    pem = env["APP_PRIVATE_KEY"]
    lines = [
        f"{marker}-secret-key {env['SECRET_KEY']}",
        f"{marker}-db-password {password}",
        f"{marker}-pem-whole {pem}",
        f"{marker}-pem-repr {pem!r}",
        *(f"{marker}-pem-line | {line}" for line in pem.splitlines()),
        f"{marker}-quoted-repr {env['APP_QUOTED_TOKEN']!r}",
        f"{marker}-url-encoded {quote(env['APP_URL_TOKEN'], safe='')}",
    ]
    if env.get("AWS_SESSION_TOKEN"):
        lines.append(f"{marker}-session-token {env['AWS_SESSION_TOKEN']}")
    if env.get("LEAKY_BOTO3_CREDENTIALS") == "1":
        lines += [f"{marker}-boto3-{part} {value}" for part, value in boto3_credentials()]
    return "\n".join(lines) + "\n"


@functools.cache
def boto3_credentials():
    """What boto3 signs with here, as any library of the app may ask: once per process."""
    import boto3

    frozen = boto3.Session().get_credentials().get_frozen_credentials()
    return [
        ("access-key", frozen.access_key),
        ("secret-key", frozen.secret_key),
        ("token", frozen.token),
    ]


def leak_everything(where: str, logger: logging.Logger) -> None:
    """Writes ``planted_text`` once each way, from ``where`` (settings, finder, ...)."""
    text = {way: planted_text(f"{where}-{way}") for way in WAYS}
    print(text["print"], end="")
    print(text["stderr"], end="", file=sys.stderr)
    logger.warning(text["logging"].rstrip("\n"))
    warnings.warn(text["warnings"], stacklevel=2)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, text["fd1"].encode())
    os.write(2, text["fd2"].encode())
    subprocess.run(["sh", "-c", 'printf "%s" "$0"', text["subprocess"]], check=True)
    libc_text = text["libc"].encode()
    ctypes.CDLL(None).write(1, libc_text, len(libc_text))
