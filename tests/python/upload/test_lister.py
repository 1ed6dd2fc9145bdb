"""The lister's two answers: written by serve() against the real moto server, read by the build.

bin/compile runs the lister as a process of its own; the end-to-end tests cover that. Here both
ends of its pipe run in this process, so each kind of answer can be checked on its own.
"""

from __future__ import annotations

import io
import json
import os

import pytest

from herokuify_buildpack.bucket.cuts import NO_CUTS
from herokuify_buildpack.bucket.lister import ListerAnswers, fetch, serve
from herokuify_buildpack.bucket.listing import list_prefix
from herokuify_buildpack.config import S3Config, UploadSettings
from herokuify_buildpack.errors import HerokuifyError


def answers_of(config_vars: dict[str, str]) -> ListerAnswers:
    sent = io.StringIO()
    serve(S3Config.from_env(config_vars), UploadSettings.from_env({}), NO_CUTS, sent)
    return ListerAnswers(io.BytesIO(sent.getvalue().encode()))


def answers_from(*lines: dict[str, object]) -> ListerAnswers:
    return ListerAnswers(io.BytesIO(b"".join(json.dumps(line).encode() + b"\n" for line in lines)))


def test_the_listing_arrives_as_listed(s3_client, bucket, config_vars):
    for index in range(3):
        s3_client.put_object(Bucket=bucket, Key=f"static/file-{index}.css", Body=b"x" * index)
    s3_client.put_object(Bucket=bucket, Key="media/not-listed.png", Body=b"media")

    answers = answers_of(config_vars)
    assert answers.listing() == list_prefix(s3_client, bucket, "static")
    assert sorted(answers.listing()) == [f"static/file-{index}.css" for index in range(3)]
    # How long the lister took to list, for the build's Steps line, came with it.
    assert answers.listed_in is not None and answers.listed_in > 0


def test_a_missing_bucket_is_the_first_answer(config_vars):
    answers = answers_of({**config_vars, "AWS_STORAGE_BUCKET_NAME": "no-such-bucket-here"})
    for read in (answers.listing, answers.bucket_check_so_far):  # the second once it has come
        with pytest.raises(HerokuifyError, match="bucket no-such-bucket-here does not exist"):
            read()


def test_the_early_check_waits_for_nothing():
    """Before collecting, the build looks at the check only if it has come."""
    read_end, write_end = os.pipe()
    answers = ListerAnswers(os.fdopen(read_end, "rb"))
    answers.bucket_check_so_far()  # nothing has come: no wait, no error
    os.write(write_end, json.dumps({"error": "bucket b does not exist"}).encode() + b"\n")
    os.close(write_end)
    with pytest.raises(HerokuifyError, match="bucket b does not exist"):
        answers.listing()


def test_a_failure_in_the_lister_is_reported_with_its_traceback():
    answers = answers_from(
        {"ok": {"static_acl": "public-read", "fonts_allowed": True}},
        {"bug": "Traceback (most recent call last):\n  boom"},
    )
    with pytest.raises(RuntimeError, match="the listing process failed:\nTraceback"):
        answers.listing()
    assert answers.listed_in is None


def test_a_lister_that_ends_without_answering_is_reported():
    answers = answers_from({"ok": {"static_acl": "public-read", "fonts_allowed": True}})
    with pytest.raises(RuntimeError, match="ended without answering"):
        answers.listing()


def test_a_lister_that_dies_shows_the_last_lines_it_wrote(tmp_path):
    log = tmp_path / "lister.log"
    log.write_text("".join(f"line {number}\n" for number in range(30)) + "MemoryError: boom\n")
    answers = ListerAnswers(io.BytesIO(b""), log)
    with pytest.raises(RuntimeError) as raised:
        answers.listing()
    message = str(raised.value)
    assert message.startswith("the listing process ended without answering; the last lines")
    assert message.endswith("line 29\nMemoryError: boom")
    assert "line 20\n" not in message  # only the last lines


def test_fetched_in_this_process_the_answers_are_the_same(s3_client, bucket, config_vars):
    """The compile step waits on BucketAnswers, whichever process fetched them."""
    s3_client.put_object(Bucket=bucket, Key="static/app.css", Body=b"body {}")
    in_process = fetch(S3Config.from_env(config_vars), UploadSettings.from_env({}), NO_CUTS)
    assert in_process.listing() == answers_of(config_vars).listing()
    assert list(in_process.listing()) == ["static/app.css"]
    assert in_process.listed_in is not None and in_process.listed_in > 0
