"""S3Config: config vars to bucket settings, with clear errors for bad values."""

import pytest

from herokuify_buildpack.config import S3Config, value_of
from herokuify_buildpack.errors import HerokuifyError

BASE = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret-value",
    "AWS_STORAGE_BUCKET_NAME": "my-assets",
}


def test_plain_aws_names():
    s3 = S3Config.from_env(BASE)
    assert (s3.bucket, s3.region, s3.endpoint_url) == ("my-assets", "us-east-1", None)
    assert s3.public_url("static") == "https://my-assets.s3.us-east-1.amazonaws.com/static/"
    assert s3.static_acl is None  # the build asks the bucket
    assert s3.checksum_mode == "when_supported"  # AWS itself: botocore's default
    assert value_of(BASE, "media_public") is False


def test_bucketeer_names_work_alone():
    s3 = S3Config.from_env(
        {
            "BUCKETEER_AWS_ACCESS_KEY_ID": "AKIDBUCKETEER",
            "BUCKETEER_AWS_SECRET_ACCESS_KEY": "bucketeer-secret",
            "BUCKETEER_BUCKET_NAME": "bucketeer-abc",
            "BUCKETEER_AWS_REGION": "eu-west-1",
        }
    )
    assert (s3.access_key, s3.bucket, s3.region) == ("AKIDBUCKETEER", "bucketeer-abc", "eu-west-1")


def test_aws_names_win_over_bucketeer():
    s3 = S3Config.from_env({**BASE, "BUCKETEER_BUCKET_NAME": "other-bucket"})
    assert s3.bucket == "my-assets"


def test_without_keys_boto3s_chain_signs():
    s3 = S3Config.from_env({"AWS_STORAGE_BUCKET_NAME": "my-assets"})
    assert (s3.access_key, s3.secret_key, s3.session_token) == (None, None, None)


def test_the_bucket_alone_is_required():
    with pytest.raises(HerokuifyError) as error:
        S3Config.from_env({"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x" * 8})
    assert str(error.value).startswith(
        "missing config var AWS_STORAGE_BUCKET_NAME (or BUCKETEER_BUCKET_NAME)."
    )


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
        ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
        ("BUCKETEER_AWS_ACCESS_KEY_ID", "BUCKETEER_AWS_SECRET_ACCESS_KEY"),
        ("BUCKETEER_AWS_SECRET_ACCESS_KEY", "BUCKETEER_AWS_ACCESS_KEY_ID"),
    ],
)
def test_one_key_without_the_other_is_named_in_one_line(given, missing):
    with pytest.raises(HerokuifyError) as error:
        S3Config.from_env({"AWS_STORAGE_BUCKET_NAME": "my-assets", given: "value-never-shown"})
    message = str(error.value)
    assert message.startswith(f"{given} is set without {missing}: set both, or neither")
    assert "\n" not in message and "value-never-shown" not in message


def test_a_session_token_comes_with_the_keys():
    s3 = S3Config.from_env({**BASE, "AWS_SESSION_TOKEN": " token-value \n"})
    assert (s3.access_key, s3.session_token) == ("AKIDEXAMPLE", "token-value")
    with pytest.raises(HerokuifyError) as error:
        S3Config.from_env({"AWS_STORAGE_BUCKET_NAME": "my-assets", "AWS_SESSION_TOKEN": "t" * 8})
    assert str(error.value).startswith(
        "AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY:"
    )


@pytest.mark.parametrize("name", ["ab", "My_Bucket", "-lead", "192.168.1.1", "a..b", "x" * 64])
def test_invalid_bucket_names(name):
    with pytest.raises(HerokuifyError, match="not a valid S3 bucket name"):
        S3Config.from_env({**BASE, "AWS_STORAGE_BUCKET_NAME": name})


def test_endpoint_and_path_style_url():
    s3 = S3Config.from_env({**BASE, "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000/"})
    assert s3.endpoint_url == "http://127.0.0.1:9000"
    assert s3.public_url("static") == "http://127.0.0.1:9000/my-assets/static/"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://store.example.com/some/path", "no path"),
        ("https://key:pass@store.example.com", "must not carry credentials"),
        ("store.example.com", "http:// or https://"),
    ],
)
def test_bad_endpoints(url, message):
    with pytest.raises(HerokuifyError, match=message):
        S3Config.from_env({**BASE, "AWS_S3_ENDPOINT_URL": url})


@pytest.mark.parametrize(
    "domain", ["cdn.example.com", "https://cdn.example.com/", "//cdn.example.com//"]
)
def test_custom_domain_loses_scheme_and_trailing_slash(domain):
    s3 = S3Config.from_env({**BASE, "AWS_S3_CUSTOM_DOMAIN": domain})
    assert s3.public_url("static") == "https://cdn.example.com/static/"


def test_dotted_bucket_uses_path_style():
    s3 = S3Config.from_env({**BASE, "AWS_STORAGE_BUCKET_NAME": "assets.example.com"})
    assert s3.public_url("media") == "https://s3.us-east-1.amazonaws.com/assets.example.com/media/"


def test_acl_none_leaves_access_to_bucket_policy():
    assert S3Config.from_env({**BASE, "HEROKUIFY_STATIC_ACL": "none"}).static_acl == ""
    assert S3Config.from_env({**BASE, "HEROKUIFY_STATIC_ACL": ""}).static_acl == ""


def test_checksums_follow_the_endpoint_unless_set():
    other = {**BASE, "AWS_S3_ENDPOINT_URL": "https://s3.us-west-004.backblazeb2.com"}
    assert S3Config.from_env(other).checksum_mode == "when_required"
    forced = {**other, "HEROKUIFY_S3_CHECKSUMS": "when_supported"}
    assert S3Config.from_env(forced).checksum_mode == "when_supported"
    with pytest.raises(HerokuifyError, match="HEROKUIFY_S3_CHECKSUMS must be when_required"):
        S3Config.from_env({**BASE, "HEROKUIFY_S3_CHECKSUMS": "always"})


@pytest.mark.parametrize(
    ("value", "off"),
    [(None, False), ("", False), ("0", False), ("0\n", False), ("1", True), ("true", True),
     ("false", True), (" 0", True), ("yes\n", True)],
)  # fmt: skip
def test_disable_collectstatic_is_read_as_heroku_python_reads_it(value, off):
    """Its bin/steps/collectstatic: "${DISABLE_COLLECTSTATIC:-0}" != "0", the value read through
    $(cat FILE), which drops trailing newlines; so even "false" turns it off."""
    env = BASE if value is None else {**BASE, "DISABLE_COLLECTSTATIC": value}
    assert value_of(env, "disable_collectstatic") is off


@pytest.mark.parametrize(
    ("value", "static", "media"),
    [
        (None, "static", "media"),
        ("shop-staging", "shop-staging/static", "shop-staging/media"),
        ("/team/shop.v2/", "team/shop.v2/static", "team/shop.v2/media"),
    ],
)
def test_the_prefix_puts_static_and_media_under_it(value, static, media):
    env = BASE if value is None else {**BASE, "HEROKUIFY_PREFIX": value}
    s3 = S3Config.from_env(env)
    assert (s3.static_prefix, s3.media_prefix) == (static, media)
    assert s3.public_url(s3.static_prefix).endswith(f"/{static}/")


@pytest.mark.parametrize("value", ["..", "a/../b", "a//b", "-x", "a b", "é"])
def test_a_prefix_that_is_not_folder_names_fails_in_one_line(value):
    with pytest.raises(HerokuifyError, match="HEROKUIFY_PREFIX must be folder names"):
        S3Config.from_env({**BASE, "HEROKUIFY_PREFIX": value})


@pytest.mark.parametrize("value", ["static", "media", "team/static", "a/media/b"])
def test_a_prefix_inside_another_app_s_folders_fails_in_one_line(value):
    """An app with no prefix keeps static/ and media/ at the root, and one with prefix "team"
    under team/: a prefix through such a folder would be in that app's files, and its prune."""
    with pytest.raises(HerokuifyError, match="has a folder named static or media"):
        S3Config.from_env({**BASE, "HEROKUIFY_PREFIX": value})


def test_private_media_urls_never_take_the_cdn_domain():
    s3 = S3Config.from_env({**BASE, "AWS_S3_CUSTOM_DOMAIN": "cdn.example.com"})
    assert s3.public_url(s3.static_prefix) == "https://cdn.example.com/static/"
    assert s3.media_url(media_public=True) == "https://cdn.example.com/media/"
    assert s3.media_url(media_public=False) == "https://my-assets.s3.us-east-1.amazonaws.com/media/"
