"""The compile step, whatever the platform: settings module, local collect and compress, then one
batch upload.

A platform adapter (platforms/) hands it plain paths, the config vars as a mapping, the bucket's
answers to wait on (fetched by whatever process the adapter chose), and a ``Platform`` for the
two things only the platform knows: how dynos get their settings module, and what the Python
buildpack before this one did.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import herokuify_buildpack.pythonsigning  # noqa: F401  (first: see the module)
from herokuify_buildpack import errors, output, steptimes
from herokuify_buildpack.assets.app import DjangoApp, locate_app
from herokuify_buildpack.assets.collect import collect, setup_django
from herokuify_buildpack.assets.settingsmodule import write_settings_module
from herokuify_buildpack.assets.slugrecord import SlugRecord
from herokuify_buildpack.bucket import credentials
from herokuify_buildpack.bucket.lister import BucketAnswers
from herokuify_buildpack.config import (
    BUILDING_MARKER,
    Config,
    S3Config,
)
from herokuify_buildpack.releasephase import RELEASE_COMMAND, procfile_release_command
from herokuify_buildpack.steptimes import StepTimes
from herokuify_buildpack.upload.publish import PublishResult, destination, publish_static


@dataclass(frozen=True)
class BuildPaths:
    build_dir: Path
    cache_dir: Path
    manage_py: str  # relative to build_dir, as the platform's detect found it; "" for none
    # Where the Python buildpack installed the app's packages, when that is outside build_dir:
    # static files from there (Django's admin, say) are the app's too.
    packages_dir: Path | None = None


class Platform(Protocol):
    def launch_with(self, settings_module: str | None) -> str | None:
        """Makes the app's processes load ``settings_module`` (None: the app's own, unchanged),
        and may say how, in one line for the log."""

    def earlier_collectstatic(self, config: Config) -> str:
        """One line for the log: what the Python buildpack's own collectstatic did."""


def compile_app(
    paths: BuildPaths, env: Mapping[str, str], answers: BucketAnswers, platform: Platform
) -> None:
    started = time.monotonic()
    times = StepTimes()
    config = Config.from_env(env)
    output.info(f"Credentials: {credentials.source(config.s3, env).said}")
    app = locate_app(paths.build_dir, paths.manage_py, config.settings_module)
    output.info(
        f"Django app in {_shown(app.root, paths.build_dir)}, settings {app.settings_module} "
        f"(named in {app.settings_source})"
    )

    settings_module = _prepare_settings_module(app, config)
    child_env = _export_for_django(env)
    with times.step(steptimes.DJANGO):
        setup_django(app, settings_module)
    _check_storage_applied(config.s3, settings_module)
    _launch_with(app, settings_module, platform)
    answers.bucket_check_so_far()
    if not _uses_static_files():
        _media_only(answers, config.s3, started, times)
        SlugRecord.without_static_files().write(paths.build_dir)
        return
    _say_what_the_overlay_chose()

    output.step("Collecting static files locally")
    output.info(platform.earlier_collectstatic(config))
    with times.step(steptimes.COLLECT):
        collected, wait_for_links = collect(
            app, config.verbosity, child_env, times, paths.packages_dir
        )

    s3 = config.s3
    output.step(f"Uploading static files to {s3.describe(s3.static_prefix)}")
    result = publish_static(
        answers, s3, collected, paths.cache_dir, config.upload, times, build_started=started
    )
    SlugRecord(
        # Resolved both: STATIC_ROOT may reach the build folder through a link, such as /app's.
        static_root=collected.root.resolve().relative_to(paths.build_dir.resolve()).as_posix(),
        immutable=sorted(collected.immutable),
        local_only=sorted(collected.local_only),
        static_url=s3.public_url(s3.static_prefix),
        destination=destination(s3, config.upload),
        release_record=result.release_record,
    ).write(paths.build_dir)
    _say_how_releases_publish(paths.build_dir)
    with times.step(steptimes.COLLECT):
        wait_for_links()  # they are part of the slug
    # Before the summary, which stays the log's last line.
    output.info(times.line())
    output.step(_summary(result, s3, time.monotonic() - started))


def _prepare_settings_module(app: DjangoApp, config: Config) -> str:
    if config.keep_settings_module:
        output.info(
            f"HEROKUIFY_KEEP_SETTINGS_MODULE=1: using {app.settings_module} as it is; "
            "it must call apply_storage_settings (see docs/how-it-works.md#the-settings-module)"
        )
        return app.settings_module
    return write_settings_module(app)


def _launch_with(app: DjangoApp, settings_module: str, platform: Platform) -> None:
    """Said once the settings have loaded: before that, the build cannot claim they work."""
    if settings_module == app.settings_module:
        platform.launch_with(None)
        return
    output.info(
        f"Wrote {_shown(app.root / f'{settings_module}.py', app.build_dir)} "
        f"over {app.settings_module}"
    )
    said = platform.launch_with(settings_module)
    if said:
        output.info(said)


def _export_for_django(env: Mapping[str, str]) -> dict[str, str]:
    """The app's settings read their config vars (SECRET_KEY, DATABASE_URL...) from the
    environment, as on a dyno. The marker keeps the storages on local disk while building.

    Returns the environment for the processes the build starts: the one it was given, less the
    config vars. The Python buildpack's runtime may need it to start at all (Heroku's finds
    libpython through LD_LIBRARY_PATH), and a config var of 128 KiB or more is more than the
    kernel lets a new program start with."""
    child_env = {name: value for name, value in os.environ.items() if name not in env}
    os.environ.update(env)
    os.environ[BUILDING_MARKER] = "1"
    return child_env


def _check_storage_applied(s3: S3Config, settings_module: str) -> None:
    from django.conf import settings

    if s3.public_url(s3.static_prefix) != settings.STATIC_URL:
        raise errors.STORAGE_SETTINGS_NOT_APPLIED(
            module=settings_module, static_url=settings.STATIC_URL
        )


def _uses_static_files() -> bool:
    from django.apps import apps

    return apps.is_installed("django.contrib.staticfiles")


def _media_only(answers: BucketAnswers, s3: S3Config, started: float, times: StepTimes) -> None:
    """No staticfiles app, so no collectstatic: media files alone go to the bucket, which must
    still be there. The listing of static/ is not needed; the lister ends with the build."""
    output.info(
        "Static files skipped: django.contrib.staticfiles is not in INSTALLED_APPS; "
        f"media files go to {s3.describe(s3.media_prefix)}"
    )
    with times.step(steptimes.LISTING_WAIT):
        answers.bucket_facts()
    output.info(times.line())
    seconds = time.monotonic() - started
    output.step(f"Done: bucket {s3.bucket} checked, no static files to upload ({seconds:.1f} s)")


def _say_what_the_overlay_chose() -> None:
    """Where the storage settings depart from the app's own choices, or follow them past the
    defaults (hashed names), one line each, as the settings overlay decided them."""
    from django.conf import settings

    # Imported here: the settings overlay imports Django, which the build checks for first.
    from herokuify_buildpack.settings import NOTES_SETTING

    for note in getattr(settings, NOTES_SETTING, ()):
        output.info(note)


def _say_how_releases_publish(slug_root: Path) -> None:
    """Promotions, rollbacks and config changes make releases without a build: only a release
    phase that runs the release command publishes the slug for them."""
    release = procfile_release_command(slug_root)
    if release is not None and RELEASE_COMMAND in release:
        return
    output.info(
        "No release phase publishes this slug after a promotion, rollback or config change: "
        + (
            f"start the Procfile's release: line with `{RELEASE_COMMAND} && `"
            if release
            else f"add `release: {RELEASE_COMMAND}` to the Procfile"
        )
        + " (see docs/heroku-flow.md#release-phase)"
    )


def _summary(result: PublishResult, s3: S3Config, seconds: float) -> str:
    return (
        f"Done: {output.counted(result.uploaded, 'file')} uploaded, {result.unchanged} unchanged, "
        + (
            f"{result.headers_updated} of them given new headers, "
            if result.headers_updated
            else ""
        )
        + f"{_size(result.bytes_uploaded)} sent in {seconds:.1f} s to "
        + s3.describe(s3.static_prefix)
    )


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _shown(path: Path, build_dir: Path) -> str:
    relative = path.relative_to(build_dir).as_posix()
    return "the app root" if relative == "." else relative
