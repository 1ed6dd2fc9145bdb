"""bin/compile's work: settings module, local collect and compress, then one batch upload."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from herokuify_buildpack import output
from herokuify_buildpack.build import generate
from herokuify_buildpack.build.app import DjangoApp, locate_app
from herokuify_buildpack.build.collect import collect, setup_django
from herokuify_buildpack.build.configvars import ConfigVars, read_env_dir
from herokuify_buildpack.config import STATIC_PREFIX, ConfigError, S3Config
from herokuify_buildpack.errors import BuildError
from herokuify_buildpack.upload.lister import ListerAnswers
from herokuify_buildpack.upload.options import UploadSettings
from herokuify_buildpack.upload.publish import PublishResult, publish_static


@dataclass(frozen=True)
class BuildPaths:
    build_dir: Path
    cache_dir: Path
    env_dir: Path


def compile_app(paths: BuildPaths, manage_py: str, lister: ListerAnswers) -> None:
    """``lister``: the answers of the process bin/compile started to check and list the bucket."""
    started = time.monotonic()
    config_vars = read_env_dir(paths.env_dir)
    output.redact.add(config_vars.secret_values())
    for reason in config_vars.ignored:
        output.info(f"Ignoring a config var: {reason}")

    app = locate_app(paths.build_dir, manage_py, config_vars.get("DJANGO_SETTINGS_MODULE"))
    try:
        s3 = S3Config.from_env(config_vars.values)
    except ConfigError as exc:
        raise BuildError(str(exc)) from exc
    upload_settings = UploadSettings.from_env(config_vars.values)
    where = _shown(app.root, paths.build_dir)
    output.info(f"Django app in {where}, settings {app.settings_module}")

    settings_module = _prepare_settings_module(app, config_vars, paths.build_dir)
    _export_for_django(config_vars)
    setup_django(app, settings_module)
    _check_storage_applied(s3, settings_module)
    lister.bucket_check_so_far()

    output.step("Collecting static files locally")
    _explain_earlier_collectstatic(config_vars)
    collected, wait_for_links = collect(app, _verbosity(config_vars))

    output.step(f"Uploading static files to {s3.describe(STATIC_PREFIX)}")
    result = publish_static(lister, s3, collected, paths.cache_dir, upload_settings)
    wait_for_links()  # they are part of the slug
    output.step(_summary(result, s3, time.monotonic() - started))


def _prepare_settings_module(app: DjangoApp, config_vars: ConfigVars, build_dir: Path) -> str:
    if config_vars.get("HEROKUIFY_KEEP_SETTINGS_MODULE") == "1":
        generate.remove_profile_script(build_dir)
        output.info(
            f"HEROKUIFY_KEEP_SETTINGS_MODULE=1: using {app.settings_module} as it is; "
            "it must call apply_storage_settings (see the README)"
        )
        return app.settings_module
    path = generate.write_settings_module(app)
    generate.write_profile_script(build_dir)
    output.info(f"Wrote {_shown(path, build_dir)} over {app.settings_module}")
    output.info(f"Dynos load it through {generate.PROFILE_SCRIPT}")
    return path.stem


def _export_for_django(config_vars: ConfigVars) -> None:
    """The app's settings read their config vars (SECRET_KEY, DATABASE_URL...) from the
    environment, as on a dyno. DYNO stays unset, which keeps storage local while building."""
    os.environ.update(config_vars.values)
    os.environ.pop("DYNO", None)


def _explain_earlier_collectstatic(config_vars: ConfigVars) -> None:
    if config_vars.get("DISABLE_COLLECTSTATIC") == "1":
        output.info("heroku/python skipped its collectstatic (DISABLE_COLLECTSTATIC=1)")
    else:
        output.info(
            "heroku/python ran its own collectstatic to local disk first; "
            "collecting again with the S3 settings (set DISABLE_COLLECTSTATIC=1 to skip its run)"
        )


def _check_storage_applied(s3: S3Config, settings_module: str) -> None:
    from django.conf import settings

    expected = s3.public_url(STATIC_PREFIX)
    if expected != settings.STATIC_URL:
        raise BuildError(
            f"{settings_module} does not apply herokuify's storage settings (STATIC_URL is "
            f"{settings.STATIC_URL}). End it with apply_storage_settings(globals(), "
            "app_root=BASE_DIR), as the README shows."
        )


def _verbosity(config_vars: ConfigVars) -> int:
    """HEROKUIFY_VERBOSITY (0-3) is passed to collectstatic and compress, as --verbosity."""
    value = config_vars.get("HEROKUIFY_VERBOSITY").strip()
    if not value:
        return 1
    if value not in ("0", "1", "2", "3"):
        raise BuildError(f"HEROKUIFY_VERBOSITY must be 0, 1, 2 or 3, not {value!r}")
    return int(value)


def _summary(result: PublishResult, s3: S3Config, seconds: float) -> str:
    return (
        f"Done: {result.uploaded} files uploaded, {result.unchanged} unchanged, "
        f"{_size(result.bytes_uploaded)} sent in {seconds:.1f} s to {s3.describe(STATIC_PREFIX)}"
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
