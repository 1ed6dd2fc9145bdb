"""Builds that must fail, and fail well: one line that says what is wrong and how to fix it, no
traceback, no secret in the output or the slug, and nothing written to the bucket.

Each build goes through bin/* after the stand-in for heroku/python, against a real moto server.
Access checks need a second moto server that enforces signatures and IAM policies.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from herokuify_dev.envdir import write_env_dir
from herokuify_dev.localbuild import next_compile, platform_step
from herokuify_dev.s3server import free_port, running_s3_server
from herokuify_dev.transcript import Transcript

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "test-fixtures"
ERROR_PREFIX = " !     herokuify: "
# Requests moto serves before it starts checking signatures and policies: enough for the start-up
# probe and the set-up below; whatever is left is used up before any test runs.
NO_AUTH_REQUESTS = 12
# heroku/python's collectstatic runs with the config vars too, and would fail first on a bad
# DJANGO_SETTINGS_MODULE; this leaves the settings to herokuify.
QUIET_PYTHON = {"DISABLE_COLLECTSTATIC": "1"}
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@pytest.fixture
def secret() -> str:
    """A secret access key that no output or slug file may ever contain."""
    return f"sekrit-{uuid.uuid4().hex}"


@pytest.fixture
def planted(config_vars, secret) -> dict[str, str]:
    """The session server's config vars, with the distinctive secret as the secret key."""
    return {**config_vars, "AWS_SECRET_ACCESS_KEY": secret}


def herokuify_error(result, step: str = "compile") -> str:
    """The build failed at `step` with exit code 1, said why in exactly one herokuify error
    line, and printed no traceback. Returns that line."""
    assert not result.ok, result.output
    assert result.returncodes[step] == 1, result.returncodes
    assert list(result.returncodes)[-1] == step  # nothing ran after the failed step
    lines = [line for line in result.output.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output, result.output
    print(f"\n[{step}] {lines[0]}")  # shown with -s: what users read
    return lines[0]


def files_holding(root: Path, needle: str, skip: tuple[str, ...] = ()) -> list[str]:
    """Files under `root` (except those under the `skip` folders) whose bytes contain `needle`."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if any(rel == s or rel.startswith(s + "/") for s in skip) or not path.is_file():
            continue
        if needle.encode() in path.read_bytes():
            found.append(rel)
    return found


def assert_no_secret(result, *secrets: str) -> None:
    """No secret in the output, the slug (bar the Python heroku/python installed) or the cache."""
    for value in secrets:
        assert value in "".join(p.read_text() for p in result.env_dir.iterdir())  # it was planted
        assert value not in result.output
        assert files_holding(result.build_dir, value, skip=(".heroku/python",)) == []
        assert files_holding(result.cache_dir, value) == []


def objects(client, bucket: str) -> dict[str, tuple[str, object]]:
    """Every object in the bucket: key -> (ETag, LastModified)."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = (item["ETag"], item["LastModified"])
    return found


def assert_fails_cleanly(result, secret: str, client, bucket: str, *words: str) -> str:
    line = herokuify_error(result)
    for word in words:
        assert word in line, line
    assert_no_secret(result, secret)
    assert objects(client, bucket) == {}
    return line


# 1. No manage.py -----------------------------------------------------------------------------


def test_not_django_fails_detect_with_one_line(build, planted, secret, s3_client, bucket):
    """The platform runs detect first: a plain WSGI app is not ours, and detect says why."""
    result = build("not-django", planted)
    assert not result.ok
    assert result.returncodes == {"heroku/python": 0, "detect": 1}
    said = [line for line in result.outputs["detect"].splitlines() if "herokuify:" in line]
    assert len(said) == 1, result.output
    assert said[0].startswith(ERROR_PREFIX), said[0]  # Heroku's form for an error
    assert "no manage.py" in said[0] and "not a Django app" in said[0]
    assert "Traceback" not in result.output
    assert_no_secret(result, secret)
    assert objects(s3_client, bucket) == {}


def test_compile_without_manage_py_says_so(tmp_path, standins, planted, secret, s3_client, bucket):
    """bin/compile run on its own (a buildpack list that skips detect) must still refuse."""
    build_dir, cache_dir, env_dir = tmp_path / "build", tmp_path / "cache", tmp_path / "env"
    shutil.copytree(FIXTURES / "not-django", build_dir)
    step = platform_step(tmp_path, build_dir, cache_dir, env_dir, Transcript())
    standins("minimal").install_into(step)
    write_env_dir(env_dir, planted)
    command, env = next_compile(step)
    proc = subprocess.run(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout
    lines = [line for line in proc.stdout.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1, proc.stdout
    print(f"\n[bin/compile] {lines[0]}")
    assert "no manage.py" in lines[0] and "remove this buildpack" in lines[0]
    assert "Traceback" not in proc.stdout
    assert secret not in proc.stdout
    assert files_holding(build_dir, secret, skip=(".heroku/python",)) == []
    assert objects(s3_client, bucket) == {}


# 2. Settings that do not import ---------------------------------------------------------------


def test_broken_settings_names_the_module_and_the_line(build, planted, secret, s3_client, bucket):
    """With heroku/python's collectstatic off, herokuify is first to load the settings."""
    result = build("broken-settings", {**planted, "DISABLE_COLLECTSTATIC": "1"})
    line = assert_fails_cleanly(
        result, secret, s3_client, bucket, "broken_site.settings", "ModuleNotFoundError"
    )
    assert "local_settings" in line
    source = (FIXTURES / "broken-settings" / "broken_site" / "settings.py").read_text()
    lineno = next(
        n for n, text in enumerate(source.splitlines(), 1) if "local_settings import" in text
    )
    assert f"(broken_site/settings.py, line {lineno})" in line


@pytest.mark.parametrize("named_in", ["manage.py", "config var"])
def test_misspelt_settings_module_blames_where_it_is_named(
    build, planted, secret, s3_client, bucket, tmp_path, named_in
):
    """A typo is caught before anything is written, and the line says which file or config var
    holds it, not the generated module's import line."""
    app = tmp_path / "minimal"
    shutil.copytree(FIXTURES / "minimal", app)
    typo = "minimal_site.setings"
    overrides = {**planted, **QUIET_PYTHON}
    if named_in == "manage.py":
        manage = app / "manage.py"
        manage.write_text(manage.read_text().replace("minimal_site.settings", typo))
        source = "(named in manage.py)"
    else:
        overrides["DJANGO_SETTINGS_MODULE"] = typo
        source = "(named in the DJANGO_SETTINGS_MODULE config var)"
    result = build(app, overrides)
    line = assert_fails_cleanly(result, secret, s3_client, bucket, typo, source)
    assert "there is no minimal_site/setings.py" in line
    assert "herokuify_settings" not in result.outputs["compile"]
    assert not (result.build_dir / "herokuify_settings.py").exists()


def test_broken_settings_fail_in_heroku_python_first(build, planted, secret, s3_client, bucket):
    """Without DISABLE_COLLECTSTATIC, heroku/python's own collectstatic fails before herokuify
    runs at all (that is heroku/python's behaviour, traceback included)."""
    result = build("broken-settings", planted)
    assert not result.ok
    assert result.returncodes == {"heroku/python": 1}
    shown = result.outputs["heroku/python"]
    assert "ModuleNotFoundError" in shown and "local_settings" in shown
    assert " !     Error: Unable to generate Django static files." in shown
    assert ERROR_PREFIX not in result.output
    assert_no_secret(result, secret)
    assert objects(s3_client, bucket) == {}


# A Django older than the supported floor ---------------------------------------------------------


def test_django_older_than_3_2_fails_in_one_line(
    build, tmp_path, planted, secret, s3_client, bucket
):
    """Django 3.1 installs on Python 3.11, and the build refuses it before starting Django:
    one line with the installed version and the supported range. (django-storages 1.14 needs
    Django 3.2, so such an app has an older django-storages too.)"""
    app = tmp_path / "minimal"
    shutil.copytree(FIXTURES / "minimal", app)
    (app / "requirements.txt").write_text(
        "Django>=3.1,<3.2\ndjango-storages[s3]\nboto3\ngunicorn\n"
    )
    result = build(app, {**planted, **QUIET_PYTHON}, series="3.1")
    line = assert_fails_cleanly(result, secret, s3_client, bucket, "Django 3.1.", "3.2 LTS to 6.x")
    assert "require Django>=3.2 in requirements.txt" in line


def test_django_3_2_on_python_3_13_names_the_python_to_pin(
    build, planted, secret, s3_client, bucket
):
    """Django 3.2 imports cgi, gone from Python 3.13: without a .python-version, heroku/python's
    newer default Python installs it, and django.setup() would fail as if the settings were
    wrong. The build says which Python to pin before starting Django."""
    result = build("minimal", {**planted, **QUIET_PYTHON}, series="3.2-on-3.13")
    line = assert_fails_cleanly(
        result, secret, s3_client, bucket, "Django 3.2.", "Python 3.13.", "Python 3.12 at"
    )
    assert "pin Python 3.12 with a .python-version file" in line
    assert "settings" not in line


# 3-4. Credentials and bucket ------------------------------------------------------------------


def test_no_credentials_anywhere_says_what_to_set(build, config_vars, s3_client, bucket):
    """No keys, and nothing for boto3's chain to find: a platform off AWS (its instance
    metadata off, so that the chain never reaches this machine's own)."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    cut = {name: value for name, value in config_vars.items() if name not in keys}
    # A secret elsewhere in the config vars still must not show.
    password = f"dbpass-{uuid.uuid4().hex}"
    cut["DATABASE_URL"] = f"postgres://shop:{password}@db.internal:5432/shop"
    result = build("minimal", cut, platform_env={"AWS_EC2_METADATA_DISABLED": "true"})
    line = assert_fails_cleanly(
        result, password, s3_client, bucket, "no AWS credentials", "boto3's default chain"
    )
    assert "Set both, or give the machine or container a role" in line


def test_a_failing_credential_chain_says_why(build, config_vars, s3_client, bucket):
    """The platform points boto3's chain at a container credentials endpoint that is down."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    cut = {name: value for name, value in config_vars.items() if name not in keys}
    password = f"dbpass-{uuid.uuid4().hex}"
    cut["DATABASE_URL"] = f"postgres://shop:{password}@db.internal:5432/shop"
    down = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/v2/credentials/gone"}
    result = build("minimal", cut, platform_env=down)
    line = assert_fails_cleanly(
        result,
        password,
        s3_client,
        bucket,
        "boto3's default credential chain failed: CredentialRetrievalError",
        "container-role",
    )
    assert "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in line


@pytest.mark.parametrize("kept", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])
def test_one_key_without_the_other_fails_in_one_line(
    build, planted, secret, s3_client, bucket, kept
):
    """Never boto3's chain then: the one key given says which credentials were meant."""
    other = ({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} - {kept}).pop()
    cut = {name: value for name, value in planted.items() if name != other}
    # The secret stays planted in DATABASE_URL where the secret key is the one cut.
    cut["DATABASE_URL"] = f"postgres://shop:{secret}@db.internal:5432/shop"
    result = build("minimal", cut)
    line = assert_fails_cleanly(result, secret, s3_client, bucket, f"{kept} is set without {other}")
    assert "set both, or neither to use boto3's default credential chain" in line


def test_missing_bucket_says_create_it(build, planted, secret, s3_client, s3_server):
    name = f"absent-{uuid.uuid4().hex[:12]}"
    result = build("minimal", {**planted, "AWS_STORAGE_BUCKET_NAME": name})
    line = herokuify_error(result)
    assert f"bucket {name} does not exist at {s3_server.endpoint_url}" in line
    assert "Create it" in line and "AWS_STORAGE_BUCKET_NAME" in line
    assert_no_secret(result, secret)
    with pytest.raises(ClientError, match="404"):
        s3_client.head_bucket(Bucket=name)  # the build did not create it either


# 5. Access denied, on a server that checks signatures and policies ----------------------------


def _client(service: str, endpoint_url: str, key_id: str, secret_key: str):
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def auth_s3():
    """A moto server that enforces IAM: an owner with an allow-all policy owns a bucket; a second
    user has keys but no policy at all."""
    env = {"INITIAL_NO_AUTH_ACTION_COUNT": str(NO_AUTH_REQUESTS)}
    with running_s3_server(env=env) as server:
        url = server.endpoint_url
        # Unchecked requests: create the owner. Credentials are only for botocore's signing.
        iam = _client("iam", url, "AKIAUNCHECKED0000000", "unchecked")
        iam.create_user(UserName="owner")
        iam.put_user_policy(
            UserName="owner", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL)
        )
        owner = iam.create_access_key(UserName="owner")["AccessKey"]
        # Use up the rest of the unchecked requests: an unknown key works until checks start.
        unknown = _client("s3", url, "AKIAUNKNOWN000000000", "unknown")
        for _ in range(NO_AUTH_REQUESTS + 1):
            try:
                unknown.list_buckets()
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "InvalidAccessKeyId"
                break
        else:
            pytest.fail("moto never started checking credentials")
        # From here on, every request is checked: the owner sets the rest up.
        owner_s3 = _client("s3", url, owner["AccessKeyId"], owner["SecretAccessKey"])
        bucket = f"owned-{uuid.uuid4().hex[:12]}"
        owner_s3.create_bucket(Bucket=bucket)
        owner_iam = _client("iam", url, owner["AccessKeyId"], owner["SecretAccessKey"])
        owner_iam.create_user(UserName="nobody")
        nobody = owner_iam.create_access_key(UserName="nobody")["AccessKey"]
        yield SimpleNamespace(
            endpoint_url=url, bucket=bucket, owner=owner, nobody=nobody, owner_s3=owner_s3
        )


def auth_vars(auth_s3, key_id: str, secret_key: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_STORAGE_BUCKET_NAME": auth_s3.bucket,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ENDPOINT_URL": auth_s3.endpoint_url,
    }


def test_keys_without_permission_are_denied(build, auth_s3):
    """Keys of a user with no policy: GetBucketLocation may be denied to working keys, so the
    build goes on and the listing is what fails."""
    secret = auth_s3.nobody["SecretAccessKey"]
    result = build("minimal", auth_vars(auth_s3, auth_s3.nobody["AccessKeyId"], secret))
    line = assert_fails_cleanly(
        result,
        secret,
        auth_s3.owner_s3,
        auth_s3.bucket,
        f"access denied to bucket {auth_s3.bucket}",
    )
    assert "AccessDenied" in line
    assert "AWS_ACCESS_KEY_ID" in line and "AWS_SECRET_ACCESS_KEY" in line


def test_wrong_secret_is_denied(build, auth_s3, secret):
    result = build("minimal", auth_vars(auth_s3, auth_s3.owner["AccessKeyId"], secret))
    line = assert_fails_cleanly(
        result,
        secret,
        auth_s3.owner_s3,
        auth_s3.bucket,
        f"access denied to bucket {auth_s3.bucket}",
    )
    assert "SignatureDoesNotMatch" in line and "checking the bucket" in line


# 6-7. Region and endpoint ---------------------------------------------------------------------


def test_region_mismatch_names_the_right_region(build, planted, secret, s3_server, s3_client):
    name = f"eu-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(name, region="eu-west-1")
    result = build("minimal", {**planted, "AWS_STORAGE_BUCKET_NAME": name})
    line = assert_fails_cleanly(result, secret, s3_client, name, f"bucket {name} is in eu-west-1")
    assert "AWS_S3_REGION_NAME is us-east-1" in line
    assert "Set AWS_S3_REGION_NAME=eu-west-1" in line


def test_endpoint_down_says_it_could_not_reach_s3(build, planted, secret, s3_client, bucket):
    """Nothing listens on the port: botocore retries, then the build gives up with one line."""
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = build("minimal", {**planted, "AWS_S3_ENDPOINT_URL": dead})
    seconds = time.monotonic() - started
    print(f"\nendpoint-down build took {seconds:.1f} s")
    line = assert_fails_cleanly(result, secret, s3_client, bucket, "could not reach S3", dead)
    assert "AWS_S3_ENDPOINT_URL" in line and bucket in line
    assert seconds < 60  # retries are bounded: a dead endpoint must not stall the build


# 8. Malformed config vars ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        pytest.param(
            {"AWS_STORAGE_BUCKET_NAME": "Bad_Bucket"},
            ["AWS_STORAGE_BUCKET_NAME", "'Bad_Bucket'", "not a valid S3 bucket name"],
            id="bucket-name",
        ),
        pytest.param(
            {"AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9/some/path"},
            ["AWS_S3_ENDPOINT_URL", "no path", "http://127.0.0.1:9", "AWS_STORAGE_BUCKET_NAME"],
            id="endpoint-path",
        ),
        pytest.param(
            {"DJANGO_SETTINGS_MODULE": "my-site/settings", **QUIET_PYTHON},
            ["DJANGO_SETTINGS_MODULE", "'my-site/settings'", "not a dotted Python module path"],
            id="settings-not-dotted",
        ),
        pytest.param(
            {"DJANGO_SETTINGS_MODULE": "django.conf.global_settings", **QUIET_PYTHON},
            ["django.conf.global_settings", "not part of the app", "DJANGO_SETTINGS_MODULE"],
            id="settings-outside-app",
        ),
        pytest.param(
            {"HEROKUIFY_STATIC_MAX_AGE": "5m"},
            ["HEROKUIFY_STATIC_MAX_AGE must be a whole number above 0, not '5m'"],
            id="max-age",
        ),
    ],
)
def test_malformed_config_var_is_one_line(
    build, planted, secret, s3_client, bucket, overrides, words
):
    result = build("minimal", {**planted, **overrides})
    assert_fails_cleanly(result, secret, s3_client, bucket, *words)
    assert "Collecting static files" not in result.outputs["compile"]  # before any Django work
    if "AWS_STORAGE_BUCKET_NAME" in overrides:
        names = [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
        assert overrides["AWS_STORAGE_BUCKET_NAME"] not in names


# 9. A failed build leaves the running release's assets alone ----------------------------------


def test_failed_builds_leave_the_bucket_as_it_was(build, planted, secret, s3_client, bucket):
    first = build("minimal", planted)
    assert first.ok, first.output
    before = objects(s3_client, bucket)
    assert any(key.startswith("static/minimal/") for key in before)

    # Fails after the bucket check passed, while loading the settings.
    broken = build("broken-settings", {**planted, "DISABLE_COLLECTSTATIC": "1"})
    assert "failed to load" in herokuify_error(broken)
    assert objects(s3_client, bucket) == before

    # Fails at the bucket check, on the next deploy of the same app.
    moved = build(
        "minimal", {**planted, "AWS_S3_REGION_NAME": "eu-west-1"}, cache_dir=first.cache_dir
    )
    assert "Set AWS_S3_REGION_NAME=us-east-1" in herokuify_error(moved)
    assert objects(s3_client, bucket) == before
    for result in (first, broken, moved):
        assert_no_secret(result, secret)


# Secrets ---------------------------------------------------------------------------------------


def test_no_secret_in_any_output_or_slug(build, planted, secret, s3_client, bucket, auth_s3):
    """Secrets planted in config vars reach neither the output nor any file of the slug (the
    generated settings and .profile.d script included) nor the cache, whether the build
    succeeds or fails late, after collecting."""
    password = f"dbpass-{uuid.uuid4().hex}"
    database_url = f"postgres://shop:{password}@db.internal:5432/shop"
    django_key = f"django-{uuid.uuid4().hex}"
    extra = {"DATABASE_URL": database_url, "SECRET_KEY": django_key}

    ok = build("compressor", {**planted, **extra, "HEROKUIFY_VERBOSITY": "3"})
    assert ok.ok, ok.output
    assert "Linking '" in ok.output  # verbosity 3 reached collectstatic
    for generated in ("herokuify_settings.py", ".profile.d/herokuify.sh"):
        assert (ok.build_dir / generated).is_file()
    assert (ok.build_dir / "staticfiles" / "CACHE").is_dir()  # compress ran and wrote its files
    assert_no_secret(ok, secret, password, django_key)
    for key in objects(s3_client, bucket):
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        for value in (secret, password, django_key):
            assert value.encode() not in body, key

    # Denied only at the listing, so collect and compress ran and wrote everything first.
    nobody = auth_vars(auth_s3, auth_s3.nobody["AccessKeyId"], auth_s3.nobody["SecretAccessKey"])
    denied = build("compressor", {**nobody, **extra})
    assert "access denied" in herokuify_error(denied)
    assert (denied.build_dir / "staticfiles" / "CACHE").is_dir()
    assert_no_secret(denied, auth_s3.nobody["SecretAccessKey"], password, django_key)

    broken = build("broken-settings", {**planted, **extra, "DISABLE_COLLECTSTATIC": "1"})
    herokuify_error(broken)
    assert_no_secret(broken, secret, password, django_key)
