"""What every platform adapter does around the core: read the config vars, mask their secrets
in all that reaches the build's stdout and stderr, check the app's packages, wait on the
lister's answers, and report how the build ended.

Each adapter's entry point (``bin/compile``, ``bin/build``) starts the lister process and hands
over with the same three options, which ``parse_args`` reads.
"""

from __future__ import annotations

import argparse
import os
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from herokuify_buildpack import errors, masking, output
from herokuify_buildpack.bucket import credentials
from herokuify_buildpack.bucket.lister import BucketAnswers, ListerAnswers
from herokuify_buildpack.errors import HerokuifyError
from herokuify_buildpack.platforms.envdir import read_env_dir

Compile = Callable[[dict[str, str], BucketAnswers], None]


def parse_args(
    prog: str, description: str, folders: Sequence[str], argv: list[str] | None
) -> argparse.Namespace:
    """The adapter's folders, in order, then the options every entry point passes."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    for folder in folders:
        parser.add_argument(folder, type=Path)
    parser.add_argument(
        "--manage-py", default="", help="manage.py's path in the app, as bin/detect found it"
    )
    parser.add_argument(
        "--lister-fd", type=int, required=True, help="where the lister process's answers arrive"
    )
    parser.add_argument("--lister-log", type=Path, help="the lister process's stderr")
    return parser.parse_args(argv)


def hand_over(env_dir: Path, shown_as: str, args: argparse.Namespace, compile_app: Compile) -> int:
    """Runs ``compile_app(config_vars, answers)``; the exit code of the build. ``shown_as``:
    what the platform calls ``env_dir``."""
    output.setup()
    config_vars = read_env_dir(env_dir, shown_as)
    output.redact.add(config_vars.secret_values())
    # Asked now, for the masker forked next to know them: what boto3's chain finds where the
    # config vars name no keys. The app's code may ask the same chain and print its answer.
    output.redact.add(credentials.chain_values(config_vars.values))
    # Before anything else prints or the app's code runs.
    masking.mask_descriptors(output.redact)
    try:
        _check_requirements()
        for reason in config_vars.ignored:
            output.info(f"Ignoring a config var: {reason}")
        # Left open to the end: when a build fails early, a thread may still be reading it.
        answers = ListerAnswers(open(args.lister_fd, "rb"), args.lister_log)  # noqa: SIM115
        compile_app(config_vars.values, answers)
    except HerokuifyError as exc:
        output.error(f"herokuify: {exc}")
        return 1
    except Exception as exc:
        # A bug, not bad input: the traceback helps a report, and is masked like all output.
        output.error(traceback.format_exc())
        # Its first line: the traceback above holds the rest.
        summary = str(exc).split("\n", 1)[0]
        output.error(f"herokuify: {errors.UNEXPECTED(failure=type(exc).__name__, exc=summary)}")
        return 1
    finally:
        if args.lister_log:
            args.lister_log.unlink(missing_ok=True)
    return 0


def exit_now(code: int) -> NoReturn:
    """The build is over, and every file it wrote is closed. Skips the interpreter's teardown,
    which frees every object Django made, one by one: a noticeable part of an unchanged
    redeploy. What the masking pipes still hold is written first."""
    masking.restore_descriptors()
    os._exit(code)


def _check_requirements() -> None:
    from herokuify_buildpack.assets import requirements

    missing = requirements.missing_lines()
    if missing:
        raise errors.MISSING_PACKAGES(lines="\n".join(missing))
    django = requirements.installed_django()
    if django is None:
        return
    if requirements.too_old_django(django):
        raise errors.DJANGO_TOO_OLD(
            version=django, supported=requirements.SUPPORTED_DJANGO, line=requirements.DJANGO_LINE
        )
    mismatch = requirements.python_too_new_for_django(django)
    if mismatch:
        raise errors.PYTHON_TOO_NEW_FOR_DJANGO(
            django=mismatch.django, python=mismatch.python, newest=mismatch.newest
        )
