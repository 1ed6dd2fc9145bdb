"""ENV_DIR reading: values arrive byte for byte; odd entries are ignored with a reason."""

import os

from herokuify_buildpack.platforms.envdir import read_env_dir

HOSTILE = {
    "QUOTES": b'it\'s "quoted"',
    "SPACES": b"  two  spaces  ",
    "SUBSHELL": b"$(touch /tmp/herokuify-pwned)",
    "BACKTICKS": b"`id`",
    "NEWLINES": b"line one\nline two\n",
    "LEADING_DASH": b"-e --help",
    "NOT_UTF8": b"caf\xe9 \xff",
}


def test_values_arrive_unchanged(tmp_path):
    for name, value in HOSTILE.items():
        (tmp_path / name).write_bytes(value)
    found = read_env_dir(tmp_path)
    for name, value in HOSTILE.items():
        assert os.fsencode(found.values[name]) == value
    assert found.ignored == []


def test_invalid_names_reserved_names_dirs_and_symlinks_are_ignored(tmp_path):
    (tmp_path / "1BAD").write_text("x")
    (tmp_path / "HAS-DASH").write_text("x")
    (tmp_path / "PATH").write_text("/evil")
    (tmp_path / "LD_PRELOAD").write_text("/evil.so")
    (tmp_path / "A_DIRECTORY").mkdir()
    (tmp_path / "A_LINK").symlink_to("/etc/passwd")
    (tmp_path / "GOOD").write_text("yes")
    found = read_env_dir(tmp_path)
    assert found.values == {"GOOD": "yes"}
    assert len(found.ignored) == 6


def test_secret_values_include_urls_but_not_bucket_names(tmp_path):
    (tmp_path / "AWS_SECRET_ACCESS_KEY").write_text("s3cr3t-value")
    (tmp_path / "DATABASE_URL").write_text("postgres://user:pa55word@db.example.com/app")
    (tmp_path / "AWS_STORAGE_BUCKET_NAME").write_text("my-assets")
    secrets = read_env_dir(tmp_path).secret_values()
    assert "s3cr3t-value" in secrets
    assert "postgres://user:pa55word@db.example.com/app" in secrets  # its password: redaction.py
    assert "my-assets" not in secrets
