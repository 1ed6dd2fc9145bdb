"""Build output: Heroku's prefixes, and secrets masked on every path."""

import io
import logging
import logging.config

from herokuify_buildpack import output


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
