"""The storage settings that this buildpack lays over an app's own Django settings.

Both ways of using it call ``apply_storage_settings(globals(), app_root=...)``: the generated
``herokuify_settings.py`` after ``from <app settings> import *``, or the app's own settings module
at its end. Importing this module does not import ``django.conf.settings``, so there is no cycle.

Secrets stay in the environment: nothing here is written to a file.

Hashed names are decided once, by the build, from the app's static storage and
HEROKUIFY_HASHED_NAMES; dynos follow what the build left in the slug (see ``_built_hashed``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django

from herokuify_buildpack import config
from herokuify_buildpack.config import BUILDING_MARKER, HASHED_NAMES_MANIFEST, S3Config

_PACKAGE = "herokuify_buildpack.storage"
_LEGACY_NAMES = ("STATICFILES_STORAGE", "DEFAULT_FILE_STORAGE")
# What the overlay chose over the app's own settings, one line each: the build logs them.
NOTES_SETTING = "HEROKUIFY_NOTES"
# django-compressor's default filters (its conf.py), with CssRelativeFilter in place of
# CssAbsoluteFilter: a bundle's url()s are then relative to the bundle, so its bytes, and the
# content-hashed name they give it, do not name the bucket, and a slug promoted to another
# app's bucket, prefix or domain serves the same bundles.
_BUCKET_FREE_FILTERS = {
    "css": [
        "compressor.filters.css_default.CssRelativeFilter",
        "compressor.filters.cssmin.rCSSMinFilter",
    ],
    "js": ["compressor.filters.jsmin.rJSMinFilter"],
}
# Static backends that need no note when the overlay replaces them.
_DEFAULT_OR_OURS = ("django.contrib.staticfiles.storage.StaticFilesStorage", f"{_PACKAGE}.")


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
    static_url = s3.public_url(s3.static_prefix)
    # Django reads a relative STATIC_ROOT from the current folder. The build collects from the
    # app root, so the dyno must look there too, even if it starts elsewhere (gunicorn
    # --pythonpath backend), or it misses the manifests that hashed names and compressor read.
    static_root = str(app_root / (app_settings.get("STATIC_ROOT") or "staticfiles"))

    notes: list[str] = []
    if at_build:
        hashed = _hashed_names(app_settings, config.value_of(env, "hashed_names"), django_version)
        hashed_on = hashed.on
        if hashed.note:
            notes.append(hashed.note)
    else:
        hashed_on = _built_hashed(Path(static_root))
    static_backend = _static_backend(at_build, hashed_on)
    backends = {"default": f"{_PACKAGE}.S3MediaStorage", "staticfiles": static_backend}
    values: dict[str, Any] = {
        "STATIC_URL": static_url,
        "STATIC_ROOT": static_root,
        "MEDIA_URL": s3.media_url(media_public=bool(config.value_of(env, "media_public"))),
    }

    if "compressor" in app_settings.get("INSTALLED_APPS", ()):
        compress_backend = (
            "compressor.storage.CompressorFileStorage"
            if at_build
            else f"{_PACKAGE}.CachedS3StaticStorage"
        )
        compress_alias = app_settings.get("COMPRESS_STORAGE_ALIAS", "compressor")
        app_choice = _app_compressor_backend(app_settings, compress_alias, django_version)
        if app_choice:
            notes.append(
                f"django-compressor: the app's {app_choice[0]} {app_choice[1]} is replaced: "
                "bundles are written to local disk at build and read from the bucket on dynos"
            )
        backends[compress_alias] = compress_backend
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
        if "COMPRESS_FILTERS" not in app_settings:
            values["COMPRESS_FILTERS"] = _BUCKET_FREE_FILTERS
            if at_build:
                notes.append(
                    "django-compressor: CSS bundles use CssRelativeFilter, not the default "
                    "CssAbsoluteFilter, so they do not name the bucket (COMPRESS_FILTERS chooses)"
                )

    if django_version >= (4, 2):
        storages = dict(app_settings.get("STORAGES", {}))
        storages.update({alias: {"BACKEND": backend} for alias, backend in backends.items()})
        values["STORAGES"] = storages
    else:
        values["STATICFILES_STORAGE"] = backends["staticfiles"]
        values["DEFAULT_FILE_STORAGE"] = backends["default"]
    values[NOTES_SETTING] = tuple(notes)
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


def _built_hashed(static_root: Path) -> bool:
    """Off the build, hashed names are on exactly where the build left their manifest in the
    slug: it clears STATIC_ROOT before collecting, so a build without them leaves none.

    Deciding again here could differ from the build: `heroku config:set HEROKUIFY_HASHED_NAMES`
    restarts dynos without a rebuild, and the app's storage may import differently on a dyno.
    A dyno that disagreed would link to names the bucket lacks, or fail every {% static %} for
    want of a manifest. So dynos neither read the config var nor import the app's storage.
    """
    return (static_root / HASHED_NAMES_MANIFEST).is_file()


@dataclass(frozen=True)
class HashedNames:
    on: bool
    note: str  # one line for the build log, or "" when there is nothing to say


def _hashed_names(
    app_settings: Mapping[str, Any], switch: bool | None, django_version: tuple[int, ...]
) -> HashedNames:
    """At build: HEROKUIFY_HASHED_NAMES if set, else the app's own choice."""
    app_static = _app_static_backend(app_settings, django_version)
    app_hashes = bool(app_static) and _hashes_names(app_static)
    if switch is None:
        if app_static and not app_hashes and not app_static.startswith(_DEFAULT_OR_OURS):
            return HashedNames(
                False,
                f"Static files: the app's static storage {app_static} is replaced by the "
                "bucket's, without hashed names (HEROKUIFY_HASHED_NAMES=1 turns them on)",
            )
        if not app_hashes:
            return HashedNames(False, "")
        return HashedNames(
            True,
            f"Hashed names on: the app's static storage {app_static} hashes names "
            "(HEROKUIFY_HASHED_NAMES=0 turns them off)",
        )
    if switch:
        return HashedNames(True, "Hashed names on: HEROKUIFY_HASHED_NAMES=1")
    though = f", though the app's static storage {app_static} hashes names" if app_hashes else ""
    return HashedNames(False, f"Hashed names off: HEROKUIFY_HASHED_NAMES=0{though}")


def _app_static_backend(
    app_settings: Mapping[str, Any], django_version: tuple[int, ...]
) -> str | None:
    """The app's static backend as its Django reads it: STORAGES from 4.2 on, the legacy name
    before; Django 4.2 and 5.0 still honour the legacy name when STORAGES leaves it out."""
    legacy = app_settings.get("STATICFILES_STORAGE")
    if django_version < (4, 2):
        return legacy
    backend = _storages_backend(app_settings, "staticfiles")
    return legacy if backend is None and django_version < (5, 1) else backend


def _app_compressor_backend(
    app_settings: Mapping[str, Any], alias: str, django_version: tuple[int, ...]
) -> tuple[str, str] | None:
    """The setting and backend django-compressor would use: its STORAGES alias first, then
    COMPRESS_STORAGE; None if the app chose neither."""
    backend = _storages_backend(app_settings, alias) if django_version >= (4, 2) else None
    if backend:
        return f'STORAGES["{alias}"]', backend
    legacy = app_settings.get("COMPRESS_STORAGE")
    return ("COMPRESS_STORAGE", legacy) if legacy else None


def _storages_backend(app_settings: Mapping[str, Any], alias: str) -> str | None:
    backend = (app_settings.get("STORAGES") or {}).get(alias, {}).get("BACKEND")
    return backend if isinstance(backend, str) else None


def _hashes_names(backend: str) -> bool:
    """Whether the app's static backend builds on Django's ManifestFilesMixin.

    This runs while the build's settings load (never on a dyno), so importing the backend's
    module may fail (it imports models, or a package the app installs only elsewhere) or read
    settings: Django then loads them from the half-run module, and replaces them whole once the
    settings module ends. Where the import fails, the class's name decides: every manifest
    storage in common use (Django's, WhiteNoise's, django-storages') has "Manifest" in it.
    """
    try:
        from django.contrib.staticfiles.storage import ManifestFilesMixin
        from django.utils.module_loading import import_string

        backend_class = import_string(backend)
    except Exception:  # whatever the app's module raised: go by the name
        return "Manifest" in backend.rpartition(".")[2]
    return isinstance(backend_class, type) and issubclass(backend_class, ManifestFilesMixin)
