"""The config vars that tune the upload: defaults, values, and one clear error for a bad one."""

import pytest

from herokuify_buildpack.config import UploadSettings
from herokuify_buildpack.errors import HerokuifyError


def test_defaults():
    settings = UploadSettings.from_env({})
    assert settings == UploadSettings(
        concurrency=32,
        upload_client=None,
        read_timeout=30,
        max_age=300,
        prune=False,
        keep_releases=3,
        app_name=None,
    )


def test_values_are_read():
    settings = UploadSettings.from_env(
        {
            "HEROKUIFY_UPLOAD_CONCURRENCY": "8",
            "HEROKUIFY_UPLOAD_CLIENT": "botocore",
            "HEROKUIFY_S3_READ_TIMEOUT": " 5 ",
            "HEROKUIFY_STATIC_MAX_AGE": "60",
            "HEROKUIFY_PRUNE": "1",
            "HEROKUIFY_KEEP_RELEASES": "2",
            "HEROKU_APP_NAME": "shop-production",
        }
    )
    assert settings == UploadSettings(
        concurrency=8,
        upload_client="botocore",
        read_timeout=5,
        max_age=60,
        prune=True,
        keep_releases=2,
        app_name="shop-production",
    )


@pytest.mark.parametrize("value", ["true", "yes", "0", ""])
def test_only_1_turns_pruning_on(value):
    assert not UploadSettings.from_env({"HEROKUIFY_PRUNE": value}).prune


@pytest.mark.parametrize(
    "name",
    [
        "HEROKUIFY_UPLOAD_CONCURRENCY",
        "HEROKUIFY_S3_READ_TIMEOUT",
        "HEROKUIFY_STATIC_MAX_AGE",
        "HEROKUIFY_KEEP_RELEASES",
    ],
)
@pytest.mark.parametrize("value", ["0", "-1", "ten", "1.5"])
def test_a_bad_value_is_named_with_what_it_must_be(name, value):
    with pytest.raises(HerokuifyError) as raised:
        UploadSettings.from_env({name: value})
    assert str(raised.value) == f"{name} must be a whole number above 0, not {value!r}"


def test_the_upload_client_is_crt_or_botocore():
    with pytest.raises(HerokuifyError, match="HEROKUIFY_UPLOAD_CLIENT must be crt or botocore"):
        UploadSettings.from_env({"HEROKUIFY_UPLOAD_CLIENT": "curl"})
