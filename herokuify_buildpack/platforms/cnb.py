"""The Cloud Native Buildpack API (0.10), Python side: ``bin/build`` hands over here.

    python -I -c BOOTSTRAP HELPER_LAYER APP_DIR LAYERS_DIR PLATFORM_ENV_DIR \
        --manage-py PATH --lister-fd 3 --lister-log FILE

This adapter owns what is the CNB platform's (buildpacks/spec buildpack.md, "Build", "Layer
Types", "Environment"):
- config vars as files in ``$CNB_PLATFORM_DIR/env/``, read as the classic ENV_DIR is;
- the ``helper`` launch layer, which holds this package (bin/build copied it there) and puts it
  on the app's PYTHONPATH at launch, and sets DJANGO_SETTINGS_MODULE there, where the classic
  platform uses .profile.d;
- the ``upload-cache`` cache layer, which keeps the upload cache and the listing cuts between
  builds, as CACHE_DIR does;
- heroku/python (buildpacks-python) before it, which runs collectstatic itself, with the
  settings herokuify/django-s3-prepare (cnb-prepare/) gave it, if that buildpack came first.
Nothing is written into another buildpack's layers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from herokuify_buildpack import __version__
from herokuify_buildpack.bucket.lister import BucketAnswers
from herokuify_buildpack.config import Config
from herokuify_buildpack.core import BuildPaths, compile_app
from herokuify_buildpack.platforms import handover

HELPER_LAYER = "helper"
CACHE_LAYER = "upload-cache"
# What herokuify/django-s3-prepare's layer sets DJANGO_SETTINGS_MODULE to for later buildpacks.
PREPARED_SETTINGS = "herokuify_buildpack.platforms.cnbsettings"
PREPARE_ID = "herokuify/django-s3-prepare"


class CnbPlatform:
    def __init__(
        self, layers_dir: Path, manage_py: str, collectstatic_settings: str | None
    ) -> None:
        """``manage_py``: where bin/detect's rule found it, relative to the app dir.
        ``collectstatic_settings``: DJANGO_SETTINGS_MODULE in the build's environment, as
        heroku/python's collectstatic had it before this buildpack (the same for every later
        buildpack: the lifecycle gives each the env of the build layers before it)."""
        self.helper = layers_dir / HELPER_LAYER
        self.launch_env = self.helper / "env.launch"
        self.manage_py = manage_py
        self.collectstatic_settings = collectstatic_settings

    def launch_with(self, settings_module: str | None) -> str | None:
        if settings_module is None:
            return None  # the helper layer is made anew by every build: nothing to undo
        (self.launch_env / "DJANGO_SETTINGS_MODULE.override").write_text(settings_module)
        return f"Processes load it through the {HELPER_LAYER} layer's launch environment"

    def earlier_collectstatic(self, config: Config) -> str:
        if self.manage_py != "manage.py":  # buildpacks-python src/django.rs
            return "heroku/python skipped its collectstatic: manage.py is not at the app root"
        again = "collecting again, with links, for the upload"
        if self.collectstatic_settings == PREPARED_SETTINGS:
            return (
                f"heroku/python's collectstatic ran with {PREPARED_SETTINGS} ({PREPARE_ID}), "
                f"to local disk; {again}"
            )
        if config.keep_settings_module:
            return f"heroku/python's collectstatic ran with the app's own settings; {again}"
        if config.settings_module:
            return (
                f"heroku/python's collectstatic ran with {config.settings_module}, the "
                f"DJANGO_SETTINGS_MODULE config var; {again}"
            )
        return (
            f"heroku/python's collectstatic ran with the app's own settings; {again}. With "
            f"{PREPARE_ID} before heroku/python, it needs no STATIC_ROOT (docs/platforms.md)"
        )


def write_layers(layers_dir: Path) -> None:
    """The layers' metadata and the helper's launch environment (buildpack.md "Layer Content
    Metadata" and "Environment Variable Modification Rules")."""
    helper = layers_dir / HELPER_LAYER
    (layers_dir / f"{HELPER_LAYER}.toml").write_text(
        f'[types]\nlaunch = true\n\n[metadata]\nversion = "{__version__}"\n'
    )
    launch_env = helper / "env.launch"
    launch_env.mkdir(parents=True, exist_ok=True)
    (launch_env / "PYTHONPATH.prepend").write_text(str(helper))
    (launch_env / "PYTHONPATH.delim").write_text(":")
    (layers_dir / CACHE_LAYER).mkdir(exist_ok=True)
    (layers_dir / f"{CACHE_LAYER}.toml").write_text("[types]\ncache = true\n")


def main(argv: list[str] | None = None) -> int:
    args = handover.parse_args(
        "herokuify_buildpack.platforms.cnb",
        "collect, compress and upload the assets, in a Cloud Native Buildpack build",
        ("app_dir", "layers_dir", "env_dir"),  # env_dir: $CNB_PLATFORM_DIR/env
        argv,
    )
    layers_dir = args.layers_dir.resolve()
    write_layers(layers_dir)
    # Read now: the build sets its own before Django starts.
    platform = CnbPlatform(layers_dir, args.manage_py, os.environ.get("DJANGO_SETTINGS_MODULE"))

    def compile_with(env: dict[str, str], answers: BucketAnswers) -> None:
        # The app's packages: in heroku/python's venv layer, this very Python's prefix.
        packages_dir = Path(sys.prefix)
        paths = BuildPaths(
            args.app_dir.resolve(), layers_dir / CACHE_LAYER, args.manage_py, packages_dir
        )
        compile_app(paths, env, answers, platform)

    return handover.hand_over(args.env_dir, "$CNB_PLATFORM_DIR/env", args, compile_with)


def run(argv: list[str]) -> None:
    """bin/build's entry: the helper layer is not on sys.path under -I, so it comes by -c."""
    handover.exit_now(main(argv))
