"""bucket/credentials.py: where the S3 clients' credentials come from, said in one line, with
botocore's own default chain where the config vars name no keys. The chain's container and
instance providers are left to the end-to-end tests; here it runs with no server to ask."""

from __future__ import annotations

import os

import pytest

from herokuify_buildpack.bucket import credentials
from herokuify_buildpack.config import S3Config
from herokuify_buildpack.errors import HerokuifyError

BUCKET = {"AWS_STORAGE_BUCKET_NAME": "my-assets"}


@pytest.fixture(autouse=True)
def bare_chain(tmp_path):
    """An environment where the chain finds nothing of this machine's (no AWS_* variable, no
    shared files, no instance metadata), restored afterwards with the chain forgotten: the
    code under test sets variables in os.environ itself."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("AWS_", "BOTO")):
            del os.environ[name]
    os.environ.update(
        {
            "HOME": str(tmp_path),
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
            "BOTO_CONFIG": str(tmp_path / "no-boto"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    credentials._chain.cache_clear()
    yield
    credentials._chain.cache_clear()
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize(
    ("env", "said"),
    [
        (
            {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-value"},
            "config vars AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ),
        (
            {
                "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE",
                "AWS_SECRET_ACCESS_KEY": "secret-value",
                "AWS_SESSION_TOKEN": "token-value",
            },
            "config vars AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with AWS_SESSION_TOKEN",
        ),
        (
            {"BUCKETEER_AWS_ACCESS_KEY_ID": "AKIDB", "BUCKETEER_AWS_SECRET_ACCESS_KEY": "s" * 8},
            "config vars BUCKETEER_AWS_ACCESS_KEY_ID and BUCKETEER_AWS_SECRET_ACCESS_KEY",
        ),
    ],
)
def test_config_var_keys_are_named_and_the_chain_is_never_asked(env, said):
    env = {**BUCKET, **env}
    found = credentials.source(S3Config.from_env(env), env)
    assert found.said == said
    assert set(found.values) == {value for name, value in env.items() if "BUCKET_NAME" not in name}
    assert credentials.chain_values(env) == ()
    assert credentials._chain.cache_info().currsize == 0


def test_the_chain_sees_the_config_vars_as_a_dyno_would(tmp_path):
    """Config vars reach the build in a folder, not in its environment: the chain is given them,
    over the environment's own, here a shared credentials file of its own."""
    shared = tmp_path / "credentials"
    shared.write_text(
        "[default]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = secret-from-file\n"
        "aws_session_token = token-from-file\n"
    )
    env = {**BUCKET, "AWS_SHARED_CREDENTIALS_FILE": str(shared)}
    expected = ("AKIDFROMFILE", "secret-from-file", "token-from-file")
    assert credentials.chain_values(env) == expected
    found = credentials.source(S3Config.from_env(env), env)
    assert found.said == "boto3's default chain: shared-credentials-file"
    assert found.values == expected


def test_a_chain_that_finds_nothing_says_what_to_set():
    assert credentials.chain_values(BUCKET) == ()
    with pytest.raises(HerokuifyError) as error:
        credentials.source(S3Config.from_env(BUCKET), BUCKET)
    message = str(error.value)
    assert message.startswith("no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    assert "Set both, or give the machine or container a role" in message
    with pytest.raises(HerokuifyError, match="no AWS credentials"):
        credentials.chain_session()  # as every client of the process is made: the same error


def test_a_chain_that_fails_says_why():
    """botocore takes container credentials over plain HTTP from loopback and ECS's and EKS's
    addresses only: it refuses this one before any request."""
    env = {**BUCKET, "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://credentials.example/role"}
    assert credentials.chain_values(env) == ()
    with pytest.raises(HerokuifyError) as error:
        credentials.source(S3Config.from_env(env), env)
    message = str(error.value)
    assert message.startswith(
        "boto3's default credential chain failed: ValueError: Unsupported host 'credentials."
    )
    assert "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in message
