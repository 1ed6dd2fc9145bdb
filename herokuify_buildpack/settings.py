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

from herokuify_buildpack.config import MEDIA_PREFIX, STATIC_PREFIX, S3Config

_PACKAGE = "herokuify_buildpack.storage"
_LEGACY_NAMES = ("STATICFILES_STORAGE", "DEFAULT_FILE_STORAGE")


def runs_on_dyno(env: Mapping[str, str]) -> bool:
    """Dynos (web, worker, one-off, release) have DYNO set; builds do not.

    Off a dyno, static files are collected to local disk and this buildpack uploads them in one
    batch, so no build step (ours, or heroku/python's collectstatic) makes per-file S3 calls.
    """
    return bool(env.get("DYNO"))


def hashed_names(env: Mapping[str, str]) -> bool:
    return env.get("HEROKUIFY_HASHED_NAMES", "") == "1"


def storage_settings(
    app_settings: Mapping[str, Any],
    app_root: Path,
    env: Mapping[str, str] | None = None,
    django_version: tuple[int, ...] = tuple(django.VERSION[:2]),
) -> dict[str, Any]:
    """The settings to set over ``app_settings``, for this environment."""
    env = os.environ if env is None else env
    s3 = S3Config.from_env(env)
    on_dyno = runs_on_dyno(env)
    static_url = s3.public_url(STATIC_PREFIX)
    # Django reads a relative STATIC_ROOT from the current folder. The build collects from the
    # app root, so the dyno must look there too, even if it starts elsewhere (gunicorn
    # --pythonpath backend), or it misses the manifests that hashed names and compressor read.
    static_root = str(app_root / (app_settings.get("STATIC_ROOT") or "staticfiles"))

    static_backend = _static_backend(on_dyno, hashed_names(env))
    backends = {"default": f"{_PACKAGE}.S3MediaStorage", "staticfiles": static_backend}
    values: dict[str, Any] = {
        "STATIC_URL": static_url,
        "STATIC_ROOT": static_root,
        "MEDIA_URL": s3.public_url(MEDIA_PREFIX),
    }

    if "compressor" in app_settings.get("INSTALLED_APPS", ()):
        compress_backend = (
            f"{_PACKAGE}.CachedS3StaticStorage"
            if on_dyno
            else "compressor.storage.CompressorFileStorage"
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


def _static_backend(on_dyno: bool, hashed: bool) -> str:
    if on_dyno:
        name = "ManifestS3StaticStorage" if hashed else "CachedS3StaticStorage"
        return f"{_PACKAGE}.{name}"
    if hashed:
        return "herokuify_buildpack.build.manifeststorage.LinkingManifestStorage"
    return "django.contrib.staticfiles.storage.StaticFilesStorage"
