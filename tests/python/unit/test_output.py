"""Build output: Heroku's prefixes, and secrets masked on every path."""

import io
import logging
import logging.config

import pytest

from herokuify_buildpack import core, output
from herokuify_buildpack.config import S3Config
from herokuify_buildpack.upload.publish import PublishResult


def test_prefixes_and_masking():
    stream = io.StringIO()
    output.setup(stream)
    output.redact.add(["hunter2-secret"])
    output.step("Step")
    output.info("detail with hunter2-secret inside\nsecond line")
    output.error("failed")
    assert stream.getvalue().splitlines() == [
        "-----> Step",
        "       detail with [hidden] inside",
        "       second line",
        " !     failed",
    ]


def test_app_logging_config_does_not_silence_the_build():
    stream = io.StringIO()
    output.setup(stream)
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": True})
    output.keep_enabled()
    output.info("still here")
    assert "still here" in stream.getvalue()


def test_indented_writer_masks_and_drops_blank_lines():
    target = io.StringIO()
    output.redact.add(["another-secret"])
    writer = output.IndentedWriter(target)
    writer.write("\n12 files copied, another-secret")
    writer.flush()
    assert target.getvalue() == "       12 files copied, [hidden]\n"


@pytest.mark.parametrize(
    ("uploaded", "said"), [(0, "0 files uploaded"), (1, "1 file uploaded"), (2, "2 files uploaded")]
)
def test_the_done_line_counts_in_english(uploaded, said):
    """Issue 22: "Done: 1 files uploaded" read wrong."""
    keys = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    s3 = S3Config.from_env(keys | {"AWS_STORAGE_BUCKET_NAME": "my-assets"})
    result = PublishResult(uploaded, 1, 0, 10, "record")
    assert core._summary(result, s3, 1.0) == (
        f"Done: {said}, 1 unchanged, 10 B sent in 1.0 s to s3://my-assets/static/"
    )
    counts = [output.counted(n, "object") for n in (0, 1, 2)]
    assert counts == ["0 objects", "1 object", "2 objects"]
