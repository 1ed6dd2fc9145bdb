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
from herokuify_buildpack.releasephase import RELEASE_COMMAND
from herokuify_dev.cnbbuild import build_app_cnb
from herokuify_dev.containercreds import METHOD, serving_container_role
from herokuify_dev.dyno import run_one_off
from herokuify_dev.proxy import recording_signed_requests, running_proxy

FIXTURES = Path(__file__).resolve().parents[3] / "test-fixtures"
# How the app writes: print, stderr, logging, warnings, fds 1 and 2, a subprocess, libc.
WAYS = runpy.run_path(str(FIXTURES / "leaky" / "leaky_site" / "leak.py"))["WAYS"]
OUR_HEADER = f"-----> herokuify-buildpack {__version__}: static and media files on S3"

# Where the app prints from: its settings, its finder, and its static storage's module, which
# the build imports to learn whether it hashes names.
PLACES = ("settings", "finder", "storage")
FORMS = ("secret-key", "db-password", "pem-whole", "pem-repr", "pem-line", "quoted-repr")
FORMS += ("url-encoded",)
# What the app prints of its credentials: AWS_SESSION_TOKEN, and what boto3 finds.
CREDENTIAL_FORMS = ("session-token", "boto3-access-key", "boto3-secret-key", "boto3-token")


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


def test_a_session_token_signs_and_is_masked_wherever_the_app_prints_it(
    build, config_vars, s3_server
):
    """AWS_SESSION_TOKEN in ENV_DIR: the build says it signs with it, every signed request of
    the lister and the upload carries it, and the app, which prints it and what boto3 finds,
    never shows it."""
    secrets = planted()
    token = f"session-token-{uuid.uuid4().hex}"
    with running_proxy(s3_server.endpoint_url) as proxy:
        sent = recording_signed_requests(proxy)
        build_vars = {
            **config_vars,
            **secrets,
            "AWS_S3_ENDPOINT_URL": proxy.endpoint_url,
            "AWS_SESSION_TOKEN": token,
            "LEAKY_BOTO3_CREDENTIALS": "1",
            "DISABLE_COLLECTSTATIC": "1",
        }
        result = build("leaky", build_vars)
    assert result.ok, result.output[-3000:]
    said = "Credentials: config vars AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with "
    assert f"       {said}AWS_SESSION_TOKEN" in result.output.splitlines()
    assert sent and {token_sent for _, token_sent in sent} == {token}
    assert_masked_and_arrived(result.output, secrets)
    assert_masked_and_arrived(result.output, {}, CREDENTIAL_FORMS)


def test_without_keys_a_container_role_signs_and_is_masked_wherever_the_app_prints_it(
    build, config_vars, s3_server, s3_client, bucket
):
    """No keys in ENV_DIR, and the platform's environment points boto3's chain at a container
    role, as a Dokku host or a CNB platform on ECS does: the build says so, signs every request
    of the lister and the upload with what the role serves, and masks it wherever the app
    prints it; the release phase, on a dyno with the same role, signs with it too."""
    secrets = planted()
    keyless = {
        name: value
        for name, value in config_vars.items()
        if name not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    with serving_container_role() as role, running_proxy(s3_server.endpoint_url) as proxy:
        sent = recording_signed_requests(proxy)
        app_vars = {**keyless, "AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        build_vars = {
            **app_vars,
            **secrets,
            "LEAKY_BOTO3_CREDENTIALS": "1",
            "DISABLE_COLLECTSTATIC": "1",
        }
        result = build("leaky", build_vars, platform_env=role.env)
        assert result.ok, result.output[-3000:]
        signed_by_the_build = len(sent)
        # With the build's release record in place, the release phase lists once and is done.
        released = run_one_off(
            result.build_dir, {**app_vars, **secrets, **role.env}, RELEASE_COMMAND
        )
    assert released.returncode == 0, released.stdout + released.stderr
    assert "the build published this slug" in released.stdout
    assert f"       Credentials: boto3's default chain: {METHOD}" in result.output.splitlines()
    assert "static/leaky/site.css" in {
        item["Key"] for item in s3_client.list_objects_v2(Bucket=bucket)["Contents"]
    }
    assert signed_by_the_build and len(sent) > signed_by_the_build
    for authorization, token in sent:
        assert f"Credential={role.access_key}/" in authorization and token == role.token
    served = (role.access_key, role.secret_key, role.token)
    for value in served:
        assert value not in result.output
        assert value not in released.stdout + released.stderr
    for root in (result.build_dir, result.cache_dir):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and ".heroku" not in path.parts:
                assert not any(value.encode() in path.read_bytes() for value in served), path
    assert_masked_and_arrived(result.output, secrets)
    assert_masked_and_arrived(result.output, {}, CREDENTIAL_FORMS[1:])


def assert_masked_and_arrived(
    output: str, secrets: dict[str, str], forms: tuple[str, ...] = FORMS
) -> None:
    """No planted form of ``secrets`` is in ``output``, and each line the app printed in
    ``forms`` arrived, masked."""
    for form in planted_forms(secrets) if secrets else ():
        assert form not in output, f"planted form {form!r} is in the build output"
    lines = output.splitlines()
    for place in PLACES:
        for way in WAYS:
            for form in forms:
                marker = f"{place}-{way}-{form} "
                found = [line for line in lines if marker in line]
                assert found, f"{marker!r} never reached the output"
                assert all("[hidden]" in line for line in found), found
