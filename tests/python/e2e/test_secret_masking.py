"""An app whose settings, staticfiles finder and storage print their secrets in every way app
code can: none of it reaches the build's output unmasked, and all of it reaches it."""

from __future__ import annotations

import base64
import os
import runpy
import uuid
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from herokuify_buildpack import __version__
from herokuify_dev.cnbbuild import build_app_cnb

FIXTURES = Path(__file__).resolve().parents[3] / "test-fixtures"
# How the app writes: print, stderr, logging, warnings, fds 1 and 2, a subprocess, libc.
WAYS = runpy.run_path(str(FIXTURES / "leaky" / "leaky_site" / "leak.py"))["WAYS"]
OUR_HEADER = f"-----> herokuify-buildpack {__version__}: static and media files on S3"

# Where the app prints from: its settings, its finder, and its static storage's module, which
# the build imports to learn whether it hashes names.
PLACES = ("settings", "finder", "storage")
FORMS = ("secret-key", "db-password", "pem-whole", "pem-repr", "pem-line", "quoted-repr")
FORMS += ("url-encoded",)


def planted() -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    pem_lines = [base64.b64encode(os.urandom(48)).decode() for _ in range(4)]
    return {
        "SECRET_KEY": f"django-insecure-leaky-{tag}",
        "DATABASE_URL": f"postgres://leaky:p%40ss%2Fw0rd-{tag}@db.example.com:5432/leaky",
        "APP_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\n"
        + "\n".join(pem_lines)
        + "\n-----END PRIVATE KEY-----\n",
        "APP_QUOTED_TOKEN": f'it\'s a "quoted" back\\slash-{tag}',
        "APP_URL_TOKEN": f"tok/en+with space&more-{tag}",
    }


def planted_forms(secrets: dict[str, str]) -> list[str]:
    """Each form the app prints a secret in."""
    pem = secrets["APP_PRIVATE_KEY"]
    quoted = secrets["APP_QUOTED_TOKEN"]
    password = urlsplit(secrets["DATABASE_URL"]).password or ""
    return [
        secrets["SECRET_KEY"],
        password,
        unquote(password),
        pem,
        repr(pem)[1:-1],
        *(line for line in pem.splitlines() if len(line) >= 8),
        quoted,
        repr(quoted)[1:-1],
        secrets["APP_URL_TOKEN"],
        quote(secrets["APP_URL_TOKEN"], safe=""),
    ]


def test_what_the_app_prints_reaches_the_output_with_every_secret_masked(build, config_vars):
    """After Heroku's own heroku/python, whose collectstatic is off: what it would print of the
    app's settings is not this buildpack's to mask (the README says so)."""
    secrets = planted()
    build_vars = {**config_vars, **secrets, "DISABLE_COLLECTSTATIC": "1"}
    result = build("leaky", build_vars, series="5.2", python="heroku")
    assert result.ok, result.output[-3000:]
    assert_masked_and_arrived(result.output, secrets)


def test_a_cnb_build_masks_as_the_classic_one_does(tmp_path, config_vars, standins):
    secrets = planted()
    result = build_app_cnb(
        FIXTURES / "leaky", {**config_vars, **secrets}, standins("leaky"), tmp_path / "cnb"
    )
    assert result.ok, result.output[-3000:]
    # heroku/python's own collectstatic runs the app's settings first: its output is not ours.
    ours = result.output.split(OUR_HEADER, 1)[1]
    assert_masked_and_arrived(ours, secrets)


def assert_masked_and_arrived(output: str, secrets: dict[str, str]) -> None:
    for form in planted_forms(secrets):
        assert form not in output, f"planted form {form!r} is in the build output"
    lines = output.splitlines()
    for place in PLACES:
        for way in WAYS:
            for form in FORMS:
                marker = f"{place}-{way}-{form} "
                found = [line for line in lines if marker in line]
                assert found, f"{marker!r} never reached the output"
                assert all("[hidden]" in line for line in found), found
