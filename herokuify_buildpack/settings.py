"""The storage settings that this buildpack lays over an app's own Django settings.

Both ways of using it call ``apply_storage_settings(globals(), app_root=...)``: the generated
``herokuify_settings.py`` after ``from <app settings> import *``, or the app's own settings module
at its end. Importing this module does not import ``django.conf.settings``, so there is no cycle.

Secrets stay in the environment: nothing here is written to a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import django

from herokuify_buildpack import config
from herokuify_buildpack.config import BUILDING_MARKER, MEDIA_PREFIX, STATIC_PREFIX, S3Config

_PACKAGE = "herokuify_buildpack.storage"
_LEGACY_NAMES = ("STATICFILES_STORAGE", "DEFAULT_FILE_STORAGE")


def building(env: Mapping[str, str]) -> bool:
    """Only the build sets the marker, for the Django code it runs: there, static files are
    collected to local disk and uploaded in one batch afterwards, so no build step makes per-file
    S3 calls. Anywhere else (a dyno, an image run by any platform) the storages use the bucket.
    """
    return env.get(BUILDING_MARKER) == "1"


def storage_settings(
    app_settings: Mapping[str, Any],
    app_root: Path,
    env: Mapping[str, str] | None = None,
    django_version: tuple[int, ...] = tuple(django.VERSION[:2]),
) -> dict[str, Any]:
    """The settings to set over ``app_settings``, for this environment."""
    env = os.environ if env is None else env
    s3 = S3Config.from_env(env)
    at_build = building(env)
    static_url = s3.public_url(STATIC_PREFIX)
    # Django reads a relative STATIC_ROOT from the current folder. The build collects from the
    # app root, so the dyno must look there too, even if it starts elsewhere (gunicorn
    # --pythonpath backend), or it misses the manifests that hashed names and compressor read.
    static_root = str(app_root / (app_settings.get("STATIC_ROOT") or "staticfiles"))

    static_backend = _static_backend(at_build, config.value_of(env, "hashed_names"))
    backends = {"default": f"{_PACKAGE}.S3MediaStorage", "staticfiles": static_backend}
    values: dict[str, Any] = {
        "STATIC_URL": static_url,
        "STATIC_ROOT": static_root,
        "MEDIA_URL": s3.public_url(MEDIA_PREFIX),
    }

    if "compressor" in app_settings.get("INSTALLED_APPS", ()):
        compress_backend = (
            "compressor.storage.CompressorFileStorage"
            if at_build
            else f"{_PACKAGE}.CachedS3StaticStorage"
        )
        backends["compressor"] = compress_backend
        values.update(
            COMPRESS_STORAGE=compress_backend,
            COMPRESS_URL=static_url,
            COMPRESS_ROOT=static_root,
            # The offline manifest stays on local disk under STATIC_ROOT, inside the slug.
            COMPRESS_OFFLINE_MANIFEST_STORAGE="compressor.storage.OfflineManifestFileStorage",
        )
        # Defaults the app may override: offline bundles, and CSS hashes from content, since
        # every Heroku build checks files out with new mtimes.
        values["COMPRESS_OFFLINE"] = app_settings.get("COMPRESS_OFFLINE", True)
        values["COMPRESS_CSS_HASHING_METHOD"] = app_settings.get(
            "COMPRESS_CSS_HASHING_METHOD", "content"
        )

    if django_version >= (4, 2):
        storages = dict(app_settings.get("STORAGES", {}))
        storages.update({alias: {"BACKEND": backend} for alias, backend in backends.items()})
        values["STORAGES"] = storages
    else:
        values["STATICFILES_STORAGE"] = backends["staticfiles"]
        values["DEFAULT_FILE_STORAGE"] = backends["default"]
    return values


def apply_storage_settings(namespace: MutableMapping[str, Any], app_root: Path | str) -> None:
    """Lay the storage settings over a settings module's namespace (pass ``globals()``)."""
    values = storage_settings(namespace, Path(app_root))
    if "STORAGES" in values:
        # Django 4.2 refuses STORAGES next to the legacy names.
        for name in _LEGACY_NAMES:
            namespace.pop(name, None)
    namespace.update(values)


def _static_backend(at_build: bool, hashed: bool) -> str:
    if at_build and hashed:
        return "herokuify_buildpack.assets.manifeststorage.LinkingManifestStorage"
    if at_build:
        return "django.contrib.staticfiles.storage.StaticFilesStorage"
    return f"{_PACKAGE}.{'ManifestS3StaticStorage' if hashed else 'CachedS3StaticStorage'}"
