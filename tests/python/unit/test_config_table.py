"""The config-var table is the one list: the README and bin/compile name only what it holds."""

import re
from pathlib import Path

import pytest

from herokuify_buildpack import config
from herokuify_buildpack.errors import HerokuifyError

REPO = Path(__file__).resolve().parents[3]


def readme_config_vars() -> dict[str, str]:
    """Each name in the README's config-var table, and when it is read ("read at")."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Config vars\n\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| `")]
    return {
        name: row[3].strip()
        for row in rows
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)(?:=[^`]*)?`", row[1])
    }


def test_the_readme_lists_exactly_the_tables_names_and_when_they_are_read():
    from_table = {name: row.applies for row in config.CONFIG_VARS for name in row.names}
    assert readme_config_vars() == from_table


def test_the_shell_reads_only_names_from_the_table():
    compile_script = (REPO / "bin" / "compile").read_text()
    read_by_shell = set(re.findall(r'config_var_is "\$\{env_dir\}" ([A-Z_]+)', compile_script))
    assert read_by_shell == {"HEROKUIFY_DISABLE"}
    assert read_by_shell <= set(config.all_names())


def test_every_default_is_what_an_unset_var_gives():
    for row in config.CONFIG_VARS:
        expected = None if row.default is config.REQUIRED else row.default
        assert config.value_of({}, row.key) == expected, row.key


def test_the_first_name_wins_over_its_alias():
    env = {"AWS_S3_REGION_NAME": "eu-west-1", "BUCKETEER_AWS_REGION": "us-west-2"}
    assert config.value_of(env, "region") == "eu-west-1"
    assert config.value_of({"BUCKETEER_AWS_REGION": "us-west-2"}, "region") == "us-west-2"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("AWS_SECRET_ACCESS_KEY", True),
        ("AWS_SESSION_TOKEN", True),
        ("BUCKETEER_AWS_ACCESS_KEY_ID", True),
        ("SECRET_KEY", True),  # the app's own: not in the table, so masked
        ("AWS_STORAGE_BUCKET_NAME", False),
        ("HEROKUIFY_STATIC_MAX_AGE", False),
    ],
)
def test_masking_follows_the_table(name, secret):
    assert config.is_secret(name) is secret


REQUIRED_VARS = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret-value",
    "AWS_STORAGE_BUCKET_NAME": "my-assets",
}


def test_config_is_checked_whole_before_any_work():
    env = {
        **REQUIRED_VARS,
        "HEROKUIFY_VERBOSITY": "loud",
    }
    with pytest.raises(HerokuifyError, match="HEROKUIFY_VERBOSITY must be 0, 1, 2 or 3"):
        config.Config.from_env(env)
    env["HEROKUIFY_VERBOSITY"] = "2"
    parsed = config.Config.from_env(env)
    assert (parsed.verbosity, parsed.s3.bucket, parsed.upload.concurrency) == (2, "my-assets", 32)


def test_a_blank_acl_means_no_acl_and_flags_are_compared_as_given():
    assert config.value_of({"HEROKUIFY_STATIC_ACL": ""}, "static_acl") == ""
    assert config.value_of({"HEROKUIFY_STATIC_ACL": " none "}, "static_acl") == ""
    assert config.value_of({}, "static_acl") is None  # unset: the build asks the bucket
    # As bin/compile compares HEROKUIFY_DISABLE: "1" exactly.
    assert config.value_of({"HEROKUIFY_PRUNE": "1"}, "prune") is True
    assert config.value_of({"HEROKUIFY_PRUNE": " 1"}, "prune") is False


def test_hashed_names_is_three_way_and_checked_before_any_work():
    assert config.value_of({}, "hashed_names") is None  # unset: the app's storage decides
    assert config.value_of({"HEROKUIFY_HASHED_NAMES": "1"}, "hashed_names") is True
    assert config.value_of({"HEROKUIFY_HASHED_NAMES": "0"}, "hashed_names") is False
    env = {
        **REQUIRED_VARS,
        "HEROKUIFY_HASHED_NAMES": "true",
    }
    with pytest.raises(HerokuifyError, match="HEROKUIFY_HASHED_NAMES must be 1 or 0, not 'true'"):
        config.Config.from_env(env)
