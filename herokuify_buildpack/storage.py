"""The storage backends: django-storages' S3 backend with this buildpack's defaults.

They read django-storages' usual AWS_* Django settings first, and fall back to config vars
(including the Bucketeer add-on's), so naming a class is all the configuration an app needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import django
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage
from django.core.management.base import CommandError
from storages.backends.s3 import S3Storage

from herokuify_buildpack import config, errors
from herokuify_buildpack.bucket.client import PUBLIC_READ, checksum_options, refuses_acl

# Django 4.0 added ManifestFilesMixin's manifest_storage option. Django 3.2 reads the manifest
# through the storage itself, here S3, where the build never puts it.
_HAS_MANIFEST_STORAGE = django.VERSION >= (4, 0)

# django-storages' option name for each value that config vars can supply. Without keys, boto3
# signs with what its default chain finds, as the build does.
_FROM_CONFIG_VARS = {
    "access_key": "access_key",
    "secret_key": "secret_key",
    "security_token": "session_token",
    "bucket_name": "bucket",
    "region_name": "region",
    "endpoint_url": "endpoint_url",
    "custom_domain": "custom_domain",
}


class _ConfigVarDefaults(S3Storage):
    def get_default_settings(self) -> dict[str, Any]:
        defaults = super().get_default_settings()
        from_env = config.partial_values(os.environ)
        for option, value_name in _FROM_CONFIG_VARS.items():
            if not defaults.get(option):
                defaults[option] = from_env[value_name]
        # AWS_S3_CUSTOM_DOMAIN as a Django setting gets the same leniency as the config var.
        defaults["custom_domain"] = config.bare_domain(defaults["custom_domain"])
        return defaults

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # django-storages has made its Config from the app's settings and OPTIONS by now, unless
        # the app gave one of its own (AWS_S3_CLIENT_CONFIG or OPTIONS' client_config).
        if options.get("client_config") or getattr(settings, "AWS_S3_CLIENT_CONFIG", None):
            return
        checksums = config.value_of(os.environ, "checksums")
        mode = config.S3Config.checksum_mode_for(self.endpoint_url, checksums)
        self.client_config = self.client_config.merge(Config(**checksum_options(mode)))

    def _public_defaults(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """Unsigned URLs on the bucket's public host, built without a call to boto3."""
        if defaults["bucket_name"] and not defaults["custom_domain"]:
            scheme, host = config.public_host(
                defaults["bucket_name"],
                defaults["region_name"],
                defaults["endpoint_url"],
                None,
            )
            defaults["custom_domain"] = host
            defaults["url_protocol"] = f"{scheme}:"
        if not defaults["default_acl"]:
            acl = config.value_of(os.environ, "static_acl")
            defaults["default_acl"] = PUBLIC_READ if acl is None else acl or None
        return defaults

    def _save(self, name: str, content: File) -> str:
        """Unless HEROKUIFY_STATIC_ACL says otherwise, a bucket that refuses ACLs gets the
        object without one, as the build found out for its own uploads."""
        try:
            return super()._save(name, content)
        except ClientError as exc:
            chosen = config.value_of(os.environ, "static_acl") is not None
            if not refuses_acl(exc.response) or chosen or not self.default_acl:
                raise
        self.default_acl = None
        if content.seekable():
            content.seek(0)
        return super()._save(name, content)


class _ServingTheRelease(Storage):
    """Static storage on a dyno, whose slug holds every file of the running release: a name
    the slug has collected is never written or deleted there. So `collectstatic` or `compress`
    in a one-off dyno (the usual way to debug assets) stops at once, in one line, before it
    changes what the running release serves, or writes through STATIC_ROOT's links into the
    slug's sources. A new name, such as a bundle that online compression makes, is saved."""

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        named = name if name is not None else getattr(content, "name", None)  # as Storage.save
        if named is not None:
            _refuse_if_served(named)
        return super().save(name, content, max_length=max_length)

    def delete(self, name: str) -> None:
        _refuse_if_served(name, always=True)
        super().delete(name)


class S3StaticStorage(_ServingTheRelease, _ConfigVarDefaults):
    """Static files under ``static/`` in the bucket (under HEROKUIFY_PREFIX, if set), public,
    with stable unsigned URLs."""

    querystring_auth = False

    def get_default_settings(self) -> dict[str, Any]:
        defaults = self._public_defaults(super().get_default_settings())
        defaults["location"] = _in_app_prefix(config.STATIC_FOLDER)
        return defaults


class S3MediaStorage(_ConfigVarDefaults):
    """Uploads under ``media/`` (under HEROKUIFY_PREFIX, if set): private, behind URLs the
    bucket signs, unless HEROKUIFY_MEDIA_PUBLIC=1. Private URLs never take
    AWS_S3_CUSTOM_DOMAIN: a CDN's unsigned URL would be refused, or would serve a private file
    to anyone."""

    def get_default_settings(self) -> dict[str, Any]:
        defaults = super().get_default_settings()
        defaults["location"] = _in_app_prefix(config.MEDIA_FOLDER)
        if config.value_of(os.environ, "media_public"):
            defaults["querystring_auth"] = False
            return self._public_defaults(defaults)
        defaults["custom_domain"] = None
        return defaults


class _LocalCopyMixin:
    """Also keeps each saved file on local disk, so django-compressor reads sources locally.

    The local copy is written first and the upload reads from it, so gzip (AWS_IS_GZIPPED)
    compresses its own stream and the local file keeps the original bytes.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.local_storage = FileSystemStorage(location=_local_root())

    def _save(self, name: str, content: File) -> str:
        local_path = Path(self.local_storage.path(name))
        local_path.parent.mkdir(parents=True, exist_ok=True)
        if content.seekable():
            content.seek(0)
        with local_path.open("wb") as local_file:
            for chunk in content.chunks():
                local_file.write(chunk.encode() if isinstance(chunk, str) else chunk)
        with local_path.open("rb") as local_file:
            return super()._save(name, File(local_file, name))  # type: ignore[misc]


class CachedS3BotoStorage(_LocalCopyMixin, _ConfigVarDefaults):
    """The whole bucket (or AWS_LOCATION), with a local copy of each file for django-compressor."""


class CachedS3StaticStorage(_LocalCopyMixin, S3StaticStorage):
    """S3StaticStorage with a local copy of each file: for django-compressor and collectstatic."""


class ManifestS3StaticStorage(ManifestFilesMixin, S3StaticStorage):
    """Hashed names, as ManifestStaticFilesStorage; the manifest is read from STATIC_ROOT in the
    slug, never fetched from S3."""

    def __init__(self, **kwargs: Any) -> None:
        if _HAS_MANIFEST_STORAGE:
            kwargs.setdefault("manifest_storage", _slug_storage())
        super().__init__(**kwargs)

    def read_manifest(self) -> str | None:
        if _HAS_MANIFEST_STORAGE:
            return super().read_manifest()
        try:
            with _slug_storage().open(self.manifest_name) as manifest:
                return manifest.read().decode()
        except FileNotFoundError:
            return None


def _refuse_if_served(name: str, always: bool = False) -> None:
    """``always``: whether or not the slug holds the name (a dyno deletes no static object)."""
    if always or os.path.lexists(os.path.join(settings.STATIC_ROOT, name)):
        raise CommandError(f"herokuify: {errors.RUNNING_RELEASE_FILE(name=name)}")


def _in_app_prefix(folder: str) -> str:
    return config.under_prefix(config.value_of(os.environ, "prefix"), folder)


def _slug_storage() -> FileSystemStorage:
    return FileSystemStorage(location=settings.STATIC_ROOT)


def _local_root() -> str:
    return str(getattr(settings, "COMPRESS_ROOT", None) or settings.STATIC_ROOT)
