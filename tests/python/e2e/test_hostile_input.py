"""Static file names whose keys would leave static/ or carry control characters, and config vars
too large to pass to a new program: each is stopped or carried before anything is uploaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "test-fixtures"
STATIC = Path("minimal_site") / "static" / "minimal"
ERROR_PREFIX = " !     herokuify: "


def minimal_copy(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "minimal", app, ignore=shutil.ignore_patterns("__pycache__"))
    return app


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("a\\..\\..\\media\\evil.txt", "would be the key static/minimal/a/../../media/evil.txt"),
        ("a\\.\\hidden.txt", "would be the key static/minimal/a/./hidden.txt"),
        ("line\nbreak.css", "static file minimal/line\\x0abreak.css has a control character"),
        ("bell\x07.css", "static file minimal/bell\\x07.css has a control character"),
    ],
    ids=["dot-dot", "dot", "newline", "bell"],
)
def test_a_key_that_leaves_static_or_carries_a_control_character_stops_the_build(
    build, tmp_path, config_vars, s3_client, bucket, name, words
):
    app = minimal_copy(tmp_path)
    (app / STATIC / name).write_bytes(b"x\n")

    result = build(app, {**config_vars, "DISABLE_COLLECTSTATIC": "1"})
    assert result.returncodes["compile"] == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1 and words in errors[0], result.output
    assert s3_client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_config_var_of_200_kib_reaches_django_and_the_build_lands(build, tmp_path, config_vars):
    """Past the kernel's 128 KiB limit on one variable, a new program could not start with it
    in its environment; the build's hashing process does not need it."""
    app = minimal_copy(tmp_path)
    settings = app / "minimal_site" / "settings.py"
    settings.write_text(
        settings.read_text()
        + '\nassert len(os.environ["BIG_PEM"]) == 200 * 1024, "BIG_PEM did not arrive"\n'
    )
    big = {"BIG_PEM": "k" * (200 * 1024), "DISABLE_COLLECTSTATIC": "1"}

    result = build(app, {**config_vars, **big})
    assert result.ok, result.output[-3000:]
    assert "Done: 131 files uploaded" in result.output
