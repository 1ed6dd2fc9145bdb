"""The lister process that bin/compile and bin/build start first (see bucket/lister.py):

    python -I -c BOOTSTRAP CACHE_DIR ENV_DIR    (answers on stdout, two JSON lines)

It reads the config vars from the platform's folder of one file each, as the build does, and
exits as soon as the build has closed its end of the pipe, however the build ended.
"""

from __future__ import annotations

import argparse
import gc
import os
import select
import stat
import sys
import threading
from pathlib import Path

from herokuify_buildpack.bucket import credentials, lister
from herokuify_buildpack.bucket.cuts import ListingCuts
from herokuify_buildpack.config import S3Config, UploadSettings
from herokuify_buildpack.errors import HerokuifyError
from herokuify_buildpack.platforms.envdir import read_env_dir


def main(argv: list[str] | None = None) -> int:
    # A process of seconds at most, whose objects nearly all live to its end: botocore's
    # start-up is measurably faster without the collector.
    gc.disable()
    parser = argparse.ArgumentParser(
        prog="herokuify_buildpack.platforms.listerprocess",
        description="check the bucket and list static/, answering in JSON lines",
    )
    parser.add_argument("cache_dir", type=Path)
    parser.add_argument("env_dir", type=Path, help="config vars, one file each")
    args = parser.parse_args(argv)
    _exit_with_the_build(sys.stdout.fileno())
    try:
        env = read_env_dir(args.env_dir).values
        s3, settings = S3Config.from_env(env), UploadSettings.from_env(env)
        credentials.use_config_vars(env)
    except HerokuifyError as exc:
        lister.refuse(sys.stdout, exc)
        return 1
    cuts = ListingCuts.load(args.cache_dir, s3.cache_key(s3.static_prefix))
    lister.serve(s3, settings, cuts, sys.stdout)
    return 0


def _exit_with_the_build(answers_fd: int) -> None:
    """Once no one reads the answers, whether the build failed, was stopped or was killed, the
    lister exits: a store that never answers would otherwise keep it alive, orphaned, for as
    long as botocore's retries last."""
    if not stat.S_ISFIFO(os.fstat(answers_fd).st_mode):
        return

    def watch() -> None:
        poller = select.poll()
        poller.register(answers_fd, 0)  # a pipe's writer gets POLLERR once it has no reader
        poller.poll()
        os._exit(0)

    threading.Thread(target=watch, name="herokuify-watch-build", daemon=True).start()
