"""The build clears STATIC_ROOT before collecting, and never deletes what collectstatic did not
make: a STATIC_ROOT that holds the app's own files (a package, its templates, a committed file
whose source is gone) fails the build in one line with every file still there. What
heroku/python's collectstatic wrote, with plain or hashed names, and compressor's committed
bundles are cleared, and the build goes on.

Each case builds a modified copy of a fixture app in tmp_path through bin/* against moto.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "test-fixtures"
ERROR_PREFIX = " !     herokuify: "
RECORDS = "static/.herokuify/"
MINIMAL_SETTINGS = Path("minimal_site") / "settings.py"
STATIC_ROOT_LINE = 'STATIC_ROOT = BASE_DIR / "staticfiles"\n'


def app_copy(tmp_path: Path, fixture: str = "minimal") -> Path:
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / fixture, app, ignore=shutil.ignore_patterns("__pycache__"))
    return app


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"the fixture changed: no {old!r} in {path}"
    path.write_text(text.replace(old, new))


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def refusal(result) -> str:
    """The one herokuify line of a build that failed in compile, after heroku/python passed."""
    shown = result.output[-4000:]
    assert result.returncodes == {"heroku/python": 0, "detect": 0, "compile": 1}, shown
    lines = [line for line in result.output.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1 and "Traceback" not in result.output, shown
    return lines[0]


def named_file(line: str, static_root: Path) -> str:
    """The file the refusal names, checked to be in STATIC_ROOT, with the fix given."""
    found = re.search(rf"STATIC_ROOT \({re.escape(str(static_root))}\) holds (.+?), which", line)
    assert found, line
    assert "BASE_DIR / 'staticfiles'" in line, line
    assert f"collectstatic wrote {found[1]}, heroku config:set DISABLE_COLLECTSTATIC=1" in line
    return found[1]


def cleared_count(result) -> int:
    found = re.findall(r"Cleared STATIC_ROOT of (\d+) files?", result.outputs["compile"])
    assert len(found) == 1, result.outputs["compile"]
    return int(found[0])


def app_keys(s3_client, bucket: str) -> set[str]:
    keys = set()
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return {key for key in keys if not key.startswith(RECORDS)}


def test_static_root_on_an_app_package_is_refused_and_the_package_kept(
    build, tmp_path, config_vars, s3_client, bucket
):
    """The issue's case: STATIC_ROOT = BASE_DIR / "shop", an installed app with models.
    heroku/python's collectstatic writes into it; the build must not clear it."""
    app = app_copy(tmp_path)
    shop = app / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    (shop / "models.py").write_text(
        "from django.db import models\n\n\n"
        "class Product(models.Model):\n"
        "    name = models.CharField(max_length=50)\n"
    )
    (shop / "apps.py").write_text(
        "from django.apps import AppConfig\n\n\nclass ShopConfig(AppConfig):\n    name = 'shop'\n"
    )
    package = {path: path.read_bytes() for path in shop.iterdir()}
    settings = app / MINIMAL_SETTINGS
    edit(settings, STATIC_ROOT_LINE, 'STATIC_ROOT = BASE_DIR / "shop"\n')
    edit(settings, '    "minimal_site",\n', '    "minimal_site",\n    "shop",\n')

    result = build(app, config_vars)
    static_root = result.build_dir / "shop"
    named = named_file(refusal(result), static_root)
    assert (static_root / named).exists() and not named.startswith(("admin/", "minimal/"))
    for path, content in package.items():
        assert (static_root / path.name).read_bytes() == content, path.name
    # What heroku/python's collectstatic wrote there is still there too: nothing was deleted.
    assert "admin/css/base.css" in files_under(static_root)
    assert app_keys(s3_client, bucket) == set()


def test_static_root_on_the_templates_folder_is_refused(
    build, tmp_path, config_vars, s3_client, bucket
):
    app = app_copy(tmp_path)
    templates = files_under(app / "templates")
    edit(app / MINIMAL_SETTINGS, STATIC_ROOT_LINE, 'STATIC_ROOT = BASE_DIR / "templates"\n')

    result = build(app, config_vars)
    static_root = result.build_dir / "templates"
    assert named_file(refusal(result), static_root) == "index.html"
    assert templates <= files_under(static_root)
    assert (static_root / "index.html").read_bytes() == (app / "templates/index.html").read_bytes()
    assert app_keys(s3_client, bucket) == set()


def test_a_committed_file_whose_source_is_gone_is_refused(
    build, tmp_path, config_vars, s3_client, bucket
):
    """Collected files committed to git are fine while their sources exist (see the next test);
    one left from a deleted source is a file the build cannot tell from the app's own."""
    app = app_copy(tmp_path)
    edit(app / MINIMAL_SETTINGS, STATIC_ROOT_LINE, 'STATIC_ROOT = BASE_DIR / "public"\n')
    (app / "public" / "minimal").mkdir(parents=True)
    (app / "public" / "minimal" / "removed.css").write_text("from an old deploy\n")

    result = build(app, config_vars)
    static_root = result.build_dir / "public"
    assert named_file(refusal(result), static_root) == "minimal/removed.css"
    assert (static_root / "minimal" / "removed.css").is_file()
    assert app_keys(s3_client, bucket) == set()


def test_heroku_pythons_hashed_output_is_cleared(build, tmp_path, config_vars, s3_client, bucket):
    """The app's own ManifestStaticFilesStorage: heroku/python's collectstatic leaves hashed
    copies and staticfiles.json. They are collectstatic's, so the build clears them all and
    collects again, here with hashed names of its own."""
    app = app_copy(tmp_path)
    edit(
        app / MINIMAL_SETTINGS,
        STATIC_ROOT_LINE,
        STATIC_ROOT_LINE + "STORAGES = {\n"
        '    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},\n'
        '    "staticfiles": {\n'
        '        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"\n'
        "    },\n"
        "}\n",
    )

    result = build(app, {**config_vars, "HEROKUIFY_HASHED_NAMES": "1"})
    assert result.ok, result.output[-4000:]
    copied = re.search(r"(\d+) static files copied", result.outputs["heroku/python"])
    assert copied, result.outputs["heroku/python"]
    # Each source, its hashed copy, and the manifest.
    assert cleared_count(result) == 2 * int(copied[1]) + 1
    collected = files_under(result.build_dir / "staticfiles")
    assert "staticfiles.json" in collected
    assert any(re.fullmatch(r"minimal/site\.[0-9a-f]{12}\.css", name) for name in collected)


def test_a_manifest_the_apps_storage_names_is_cleared(
    build, tmp_path, config_vars, s3_client, bucket
):
    """A ManifestStaticFilesStorage subclass with a manifest_name of its own: heroku/python's
    collectstatic (DISABLE_COLLECTSTATIC unset) leaves assets-manifest.json beside the hashed
    copies. It is a manifest by its content, so the build clears it and collects again."""
    app = app_copy(tmp_path)
    (app / "minimal_site" / "storage.py").write_text(
        "from django.contrib.staticfiles.storage import ManifestStaticFilesStorage\n\n\n"
        "class AssetsStorage(ManifestStaticFilesStorage):\n"
        '    manifest_name = "assets-manifest.json"\n'
    )
    edit(
        app / MINIMAL_SETTINGS,
        STATIC_ROOT_LINE,
        STATIC_ROOT_LINE + "STORAGES = {\n"
        '    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},\n'
        '    "staticfiles": {"BACKEND": "minimal_site.storage.AssetsStorage"},\n'
        "}\n",
    )

    result = build(app, config_vars)
    assert result.ok, result.output[-4000:]
    copied = re.search(r"(\d+) static files copied", result.outputs["heroku/python"])
    assert copied, result.outputs["heroku/python"]
    assert cleared_count(result) == 2 * int(copied[1]) + 1  # sources, hashed copies, manifest
    collected = files_under(result.build_dir / "staticfiles")
    assert "assets-manifest.json" not in collected
    assert "static/assets-manifest.json" not in app_keys(s3_client, bucket)
    assert any(re.fullmatch(r"minimal/site\.[0-9a-f]{12}\.css", name) for name in collected)


def test_committed_collected_files_and_compressor_bundles_are_cleared(
    build, tmp_path, config_vars, s3_client, bucket
):
    """An app that commits what collectstatic and compress made (with compressor's offline
    manifest and bundles): all of it is from the current sources, so the build clears it with
    heroku/python's output and publishes exactly its own."""
    app = app_copy(tmp_path, "compressor")
    settings = app / "shop_site" / "settings.py"
    edit(settings, STATIC_ROOT_LINE, 'STATIC_ROOT = BASE_DIR / "public"\n')
    first = build(app, {**config_vars, "DISABLE_COLLECTSTATIC": "1"})
    assert first.ok, first.output[-4000:]
    committed = app / "public"
    shutil.copytree(first.build_dir / "public", committed)  # files, not links, as git has them
    assert any(name.startswith("CACHE/css/") for name in files_under(committed))
    assert "CACHE/manifest.json" in files_under(committed)

    result = build(app, config_vars)
    assert result.ok, result.output[-4000:]
    assert cleared_count(result) >= len(files_under(committed))
    collected = files_under(result.build_dir / "public")
    manifests = {"CACHE/manifest.json"}
    assert app_keys(s3_client, bucket) == {f"static/{name}" for name in collected - manifests}
