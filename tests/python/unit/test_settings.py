"""storage_settings: what the generated settings module lays over the app's settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from herokuify_buildpack.config import BUILDING_MARKER
from herokuify_buildpack.errors import HerokuifyError
from herokuify_buildpack.settings import apply_storage_settings, storage_settings

ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret-value",
    "AWS_STORAGE_BUCKET_NAME": "my-assets",
}
ROOT = Path("/app")
PACKAGE = "herokuify_buildpack.storage"


def test_on_a_dyno_static_and_media_go_to_s3():
    values = storage_settings({}, ROOT, {**ENV, "DYNO": "web.1"})
    assert values["STORAGES"] == {
        "default": {"BACKEND": f"{PACKAGE}.S3MediaStorage"},
        "staticfiles": {"BACKEND": f"{PACKAGE}.CachedS3StaticStorage"},
    }
    assert values["STATIC_URL"] == "https://my-assets.s3.us-east-1.amazonaws.com/static/"
    assert values["MEDIA_URL"] == "https://my-assets.s3.us-east-1.amazonaws.com/media/"
    assert values["STATIC_ROOT"] == "/app/staticfiles"


@pytest.mark.parametrize(
    ("static_root", "expected"),
    [("staticfiles", "/app/backend/staticfiles"), ("/srv/collected", "/srv/collected")],
)
def test_a_relative_static_root_is_the_app_roots(static_root, expected):
    app = {"INSTALLED_APPS": ["compressor"], "STATIC_ROOT": static_root}
    values = storage_settings(app, Path("/app/backend"), {**ENV, "DYNO": "web.1"})
    assert values["STATIC_ROOT"] == values["COMPRESS_ROOT"] == expected


def test_while_building_static_files_are_collected_locally():
    values = storage_settings({}, ROOT, {**ENV, BUILDING_MARKER: "1"})
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )


def test_hashed_names_use_manifest_storages(tmp_path):
    env = {**ENV, "HEROKUIFY_HASHED_NAMES": "1"}
    assert storage_settings({}, ROOT, {**env, BUILDING_MARKER: "1"})["STORAGES"]["staticfiles"] == {
        "BACKEND": "herokuify_buildpack.assets.manifeststorage.LinkingManifestStorage"
    }
    (tmp_path / "staticfiles").mkdir()
    (tmp_path / "staticfiles" / "staticfiles.json").write_text('{"paths": {}}')
    assert storage_settings({}, tmp_path, {**env, "DYNO": "web.1"})["STORAGES"]["staticfiles"] == {
        "BACKEND": f"{PACKAGE}.ManifestS3StaticStorage"
    }


def test_compressor_settings_only_with_compressor_installed():
    assert "COMPRESS_URL" not in storage_settings({}, ROOT, ENV)
    app = {"INSTALLED_APPS": ["compressor"], "STATIC_ROOT": "/app/collected"}
    values = storage_settings(app, ROOT, {**ENV, "DYNO": "web.1"})
    assert values["STORAGES"]["compressor"] == {"BACKEND": f"{PACKAGE}.CachedS3StaticStorage"}
    assert values["COMPRESS_URL"] == values["STATIC_URL"]
    assert values["COMPRESS_ROOT"] == "/app/collected"
    assert values["COMPRESS_OFFLINE"] is True
    assert values["COMPRESS_CSS_HASHING_METHOD"] == "content"
    assert values["COMPRESS_OFFLINE_MANIFEST_STORAGE"].startswith("compressor.storage.")


def test_the_app_keeps_its_compressor_choices():
    app = {
        "INSTALLED_APPS": ["compressor"],
        "COMPRESS_OFFLINE": False,
        "COMPRESS_CSS_HASHING_METHOD": "mtime",
    }
    values = storage_settings(app, ROOT, ENV)
    assert values["COMPRESS_OFFLINE"] is False
    assert values["COMPRESS_CSS_HASHING_METHOD"] == "mtime"


def test_other_storage_aliases_of_the_app_survive():
    app = {"STORAGES": {"backups": {"BACKEND": "myapp.BackupStorage"}}}
    assert "backups" in storage_settings(app, ROOT, ENV)["STORAGES"]


def test_legacy_names_before_django_4_2():
    values = storage_settings({}, ROOT, {**ENV, "DYNO": "web.1"}, django_version=(4, 1))
    assert "STORAGES" not in values
    assert values["STATICFILES_STORAGE"] == f"{PACKAGE}.CachedS3StaticStorage"
    assert values["DEFAULT_FILE_STORAGE"] == f"{PACKAGE}.S3MediaStorage"


def test_apply_drops_legacy_names_that_django_4_2_refuses_beside_storages(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    namespace = {"STATICFILES_STORAGE": "old.Storage", "DEFAULT_FILE_STORAGE": "old.Storage"}
    apply_storage_settings(namespace, app_root="/app")
    assert "STATICFILES_STORAGE" not in namespace
    assert "DEFAULT_FILE_STORAGE" not in namespace
    assert "STORAGES" in namespace


def test_no_secret_in_the_settings():
    values = storage_settings({"INSTALLED_APPS": ["compressor"]}, ROOT, {**ENV, "DYNO": "web.1"})
    assert "secret-value" not in repr(values)


def test_missing_bucket_at_run_time_is_a_clear_error():
    with pytest.raises(HerokuifyError, match="AWS_STORAGE_BUCKET_NAME"):
        storage_settings({}, ROOT, {"DYNO": "web.1"})


def test_without_the_build_marker_the_bucket_is_used_even_off_a_dyno():
    """An image run anywhere (no DYNO) serves the bucket's URLs; only the build collects locally."""
    values = storage_settings({}, ROOT, ENV)
    assert values["STORAGES"]["staticfiles"] == {"BACKEND": f"{PACKAGE}.CachedS3StaticStorage"}
    assert values["STATIC_URL"].startswith("https://my-assets.s3.")


# Hashed names follow the app unless HEROKUIFY_HASHED_NAMES says otherwise: the build decides --

MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
DYNO = {**ENV, "DYNO": "web.1"}
BUILD = {**ENV, BUILDING_MARKER: "1"}
# The build's static storages, with and without hashed names.
LINKING = "herokuify_buildpack.assets.manifeststorage.LinkingManifestStorage"
PLAIN = "django.contrib.staticfiles.storage.StaticFilesStorage"
# Importable from settings_test_storages.py, beside this file.
TEST_STORAGES = "settings_test_storages"


def static_backend(values: Mapping[str, Any]) -> str | None:
    return values.get("STORAGES", {}).get("staticfiles", {}).get("BACKEND") or values.get(
        "STATICFILES_STORAGE"
    )


def staticfiles(backend: str) -> dict[str, Any]:
    """An app's settings whose static storage is ``backend``."""
    return {"STORAGES": {"staticfiles": {"BACKEND": backend}}}


S3_MANIFEST = "nowhere.S3ManifestStaticStorage"  # not importable here: its name decides


@pytest.mark.parametrize(
    ("app", "django_version", "backend"),
    [
        (staticfiles(MANIFEST), (5, 2), MANIFEST),
        # Django 4.2 and 5.0 still read the legacy name; before 4.2 it is the only one.
        ({"STATICFILES_STORAGE": MANIFEST}, (4, 2), MANIFEST),
        ({"STATICFILES_STORAGE": MANIFEST}, (3, 2), MANIFEST),
        (staticfiles(S3_MANIFEST), (5, 2), S3_MANIFEST),
    ],
)
def test_an_app_whose_static_storage_hashes_names_gets_hashed_names(app, django_version, backend):
    values = storage_settings(app, ROOT, BUILD, django_version=django_version)
    assert static_backend(values) == LINKING
    assert values["HEROKUIFY_NOTES"] == (
        f"Hashed names on: the app's static storage {backend} hashes names "
        "(HEROKUIFY_HASHED_NAMES=0 turns them off)",
    )


@pytest.fixture
def test_storages(monkeypatch: pytest.MonkeyPatch) -> str:
    """The dotted path of settings_test_storages, importable as an app's own module would be."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    return TEST_STORAGES


def test_a_subclass_of_the_manifest_mixin_counts_whatever_its_name(test_storages):
    """The class decides where it imports, not its name: a ManifestFilesMixin subclass without
    "Manifest" in its name hashes names, a class with the word that is no subclass does not."""
    fingerprinted = f"{test_storages}.FingerprintedStorage"
    assert static_backend(storage_settings(staticfiles(fingerprinted), ROOT, BUILD)) == LINKING
    lookalike = f"{test_storages}.ManifestlessLookalikeStorage"
    values = storage_settings(staticfiles(lookalike), ROOT, BUILD)
    assert static_backend(values) == PLAIN
    (note,) = values["HEROKUIFY_NOTES"]
    assert note.startswith(f"Static files: the app's static storage {lookalike} is replaced")
    s3_static = "storages.backends.s3.S3StaticStorage"
    assert static_backend(storage_settings(staticfiles(s3_static), ROOT, BUILD)) == PLAIN


def test_django_5_1_reads_only_storages():
    app = {"STATICFILES_STORAGE": MANIFEST}
    values = storage_settings(app, ROOT, BUILD, django_version=(5, 1))
    assert static_backend(values) == PLAIN


def test_the_config_var_wins_over_the_app():
    off = storage_settings(staticfiles(MANIFEST), ROOT, {**BUILD, "HEROKUIFY_HASHED_NAMES": "0"})
    assert static_backend(off) == PLAIN
    assert off["HEROKUIFY_NOTES"] == (
        f"Hashed names off: HEROKUIFY_HASHED_NAMES=0, though the app's static storage {MANIFEST} "
        "hashes names",
    )
    on = storage_settings({}, ROOT, {**BUILD, "HEROKUIFY_HASHED_NAMES": "1"})
    assert static_backend(on) == LINKING
    assert on["HEROKUIFY_NOTES"] == ("Hashed names on: HEROKUIFY_HASHED_NAMES=1",)


def test_a_plain_app_gets_no_note_and_a_replaced_storage_one():
    assert storage_settings({}, ROOT, BUILD)["HEROKUIFY_NOTES"] == ()
    app = staticfiles("whitenoise.storage.CompressedStorage")
    (note,) = storage_settings(app, ROOT, BUILD)["HEROKUIFY_NOTES"]
    assert note.startswith("Static files: the app's static storage whitenoise.storage.")


def test_a_bad_switch_is_a_clear_error_at_build():
    with pytest.raises(HerokuifyError, match="HEROKUIFY_HASHED_NAMES must be 1 or 0, not 'yes'"):
        storage_settings({}, ROOT, {**BUILD, "HEROKUIFY_HASHED_NAMES": "yes"})


# On a dyno, hashed names follow the slug: on exactly where the build left their manifest -------


def slug(app_root: Path, manifest: bool) -> Path:
    """An app root whose STATIC_ROOT (the default, staticfiles/) holds what a build left."""
    static_root = app_root / "staticfiles"
    static_root.mkdir()
    (static_root / "site.css").write_text("body {}\n")
    if manifest:
        (static_root / "staticfiles.json").write_text('{"paths": {"site.css": "site.1.css"}}')
    return app_root


@pytest.mark.parametrize(
    ("manifest", "backend"),
    [(True, f"{PACKAGE}.ManifestS3StaticStorage"), (False, f"{PACKAGE}.CachedS3StaticStorage")],
)
@pytest.mark.parametrize("django_version", [(5, 2), (3, 2)])
def test_a_dyno_has_hashed_names_where_the_build_left_their_manifest(
    tmp_path, manifest, backend, django_version
):
    values = storage_settings({}, slug(tmp_path, manifest), DYNO, django_version=django_version)
    assert static_backend(values) == backend
    assert values["HEROKUIFY_NOTES"] == ()  # the build logged its choice; a dyno has none


def test_an_absolute_static_root_is_where_a_dyno_looks(tmp_path):
    collected = slug(tmp_path, manifest=True) / "staticfiles"
    values = storage_settings({"STATIC_ROOT": str(collected)}, ROOT, DYNO)
    assert static_backend(values) == f"{PACKAGE}.ManifestS3StaticStorage"


@pytest.mark.parametrize(
    ("manifest", "switch", "backend"),
    [
        # heroku config:set restarts dynos without a rebuild: the slug still decides.
        (True, "0", f"{PACKAGE}.ManifestS3StaticStorage"),
        (False, "1", f"{PACKAGE}.CachedS3StaticStorage"),
        # Not read at all, so not even checked.
        (False, "yes", f"{PACKAGE}.CachedS3StaticStorage"),
    ],
)
def test_a_dyno_ignores_the_config_var(tmp_path, manifest, switch, backend):
    env = {**DYNO, "HEROKUIFY_HASHED_NAMES": switch}
    assert static_backend(storage_settings({}, slug(tmp_path, manifest), env)) == backend


@pytest.mark.parametrize("manifest", [True, False])
def test_a_dyno_never_imports_the_apps_static_storage(tmp_path, monkeypatch, manifest):
    def no_import(backend: str) -> bool:
        raise AssertionError(f"imported {backend} on a dyno")

    monkeypatch.setattr("herokuify_buildpack.settings._hashes_names", no_import)
    app_root = slug(tmp_path, manifest)
    expected = f"{PACKAGE}.{'ManifestS3StaticStorage' if manifest else 'CachedS3StaticStorage'}"
    for app in (staticfiles(MANIFEST), staticfiles("storages.backends.s3.S3StaticStorage")):
        assert static_backend(storage_settings(app, app_root, DYNO)) == expected


@pytest.mark.parametrize(
    ("app", "named"),
    [
        ({"COMPRESS_STORAGE": "compressor.storage.GzipCompressorFileStorage"}, "COMPRESS_STORAGE"),
        (
            {
                "STORAGES": {
                    "compressor": {"BACKEND": "compressor.storage.BrotliCompressorFileStorage"}
                }
            },
            'STORAGES["compressor"]',
        ),
    ],
)
def test_a_replaced_compressor_storage_is_named(app, named):
    values = storage_settings({**app, "INSTALLED_APPS": ["compressor"]}, ROOT, DYNO)
    (note,) = values["HEROKUIFY_NOTES"]
    assert note.startswith(f"django-compressor: the app's {named} compressor.storage.")
    assert values["COMPRESS_STORAGE"] == f"{PACKAGE}.CachedS3StaticStorage"


def test_the_apps_compressor_alias_is_the_one_set():
    app = {"INSTALLED_APPS": ["compressor"], "COMPRESS_STORAGE_ALIAS": "bundles"}
    values = storage_settings(app, ROOT, DYNO)
    assert values["STORAGES"]["bundles"] == {"BACKEND": f"{PACKAGE}.CachedS3StaticStorage"}
    assert "compressor" not in values["STORAGES"]
