"""Runs Django's collectstatic, then django-compressor's offline compress, to local disk.

They run in this process, with the app's settings, so Django starts once. Files land in
STATIC_ROOT (inside the slug); the upload step sends them to S3 in one batch afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from herokuify_buildpack import errors, output, steptimes
from herokuify_buildpack.assets.app import GENERATED_MODULE, DjangoApp
from herokuify_buildpack.assets.collected import StaticSource
from herokuify_buildpack.assets.links import BackgroundLinks
from herokuify_buildpack.assets.prehash import SourceEtags
from herokuify_buildpack.assets.sources import check_sources
from herokuify_buildpack.assets.staticroot import (
    MANIFEST,
    CollectedNames,
    CompressorOutput,
    clear,
)
from herokuify_buildpack.steptimes import StepTimes


def setup_django(app: DjangoApp, settings_module: str) -> None:
    os.chdir(app.root)
    if str(app.root) not in sys.path:
        sys.path.insert(0, str(app.root))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    try:
        django.setup()
    except Exception as exc:
        raise errors.SETTINGS_FAILED_TO_LOAD(
            module=app.settings_module,
            source=app.settings_source,
            failure=type(exc).__name__,
            exc=exc,
            where=_where(exc, app.root),
        ) from exc
    finally:
        output.keep_enabled()


def collect(
    app: DjangoApp,
    verbosity: int,
    child_env: Mapping[str, str],
    times: StepTimes,
    packages_dir: Path | None = None,
) -> tuple[StaticSource, Callable[[], None]]:
    """What STATIC_ROOT holds once collected (and compressed), and a function that waits for
    the links collectstatic may still be making there: the build calls it before it ends.
    ``child_env``: the environment of the processes it starts. ``times`` gets the compress
    step, and the hashing once its answer is read."""
    from django.conf import settings
    from django.core.management import call_command

    from herokuify_buildpack.assets.collectstatic import collectstatic_command

    static_root = Path(settings.STATIC_ROOT)
    sources = check_sources(app.build_dir, app.root, static_root, packages_dir)
    compressor = _compressor_output()
    clear(static_root, CollectedNames(sources.collected_names, compressor))
    # Hashed in a second process while collectstatic links.
    etags = SourceEtags(sources.paths, child_env, times)
    _share_etags_with_storage(etags)
    links = BackgroundLinks()
    writer = output.IndentedWriter(sys.stdout)
    # Some commands print to sys.stdout directly rather than to their stdout argument.
    with contextlib.redirect_stdout(writer):  # type: ignore[type-var]
        try:
            # Links, not copies: only the manifests are read from the slug at run time, so the
            # slug need not carry every asset twice, and a redeploy copies nothing.
            command = collectstatic_command(links)
            call_command(command, interactive=False, link=True, verbosity=verbosity)
        except Exception as exc:
            raise errors.COLLECTSTATIC_FAILED(failure=type(exc).__name__, exc=exc) from exc
        offline = compressor if compressor is not None and _compresses_offline() else None
        if offline is not None:
            links.wait()  # compress reads the collected files through STATIC_ROOT
            with times.step(steptimes.COMPRESS):
                _compress(verbosity)
    writer.flush()

    immutable: set[str] = set()
    local_only: set[str] = set()
    manifest = static_root / MANIFEST
    if manifest.is_file():
        immutable.update(json.loads(manifest.read_text())["paths"].values())
        local_only.add(MANIFEST)
    if offline is not None:
        local_only.add(offline.manifest_name)
        # What compress wrote, compressed siblings included; not collected files beside it.
        bundles = CollectedNames(frozenset(), offline)
        for path in (static_root / offline.folder).rglob("*"):
            name = path.relative_to(static_root).as_posix()
            if path.is_file() and bundles.made(name):
                immutable.add(name)
    static = StaticSource(
        static_root,
        frozenset(immutable - local_only),
        frozenset(local_only),
        etags.etag,
        pending_links=links.sources,
    )
    return static, links.wait


def _share_etags_with_storage(etags: SourceEtags) -> None:
    # The instance collectstatic uses, on every Django: from 4.2 it wraps storages["staticfiles"],
    # before that the STATICFILES_STORAGE class. A LazyObject, which isinstance and setattr see
    # through to the storage it wraps.
    from django.contrib.staticfiles.storage import staticfiles_storage

    from herokuify_buildpack.assets.manifeststorage import LinkingManifestStorage

    if isinstance(staticfiles_storage, LinkingManifestStorage):
        staticfiles_storage.source_etags = etags


def _compressor_output() -> CompressorOutput | None:
    """Where django-compressor writes its bundles, if the app has it."""
    from django.conf import settings

    if "compressor" not in settings.INSTALLED_APPS:
        return None
    return CompressorOutput(
        settings.COMPRESS_OUTPUT_DIR.strip("/"), settings.COMPRESS_OFFLINE_MANIFEST
    )


def _compresses_offline() -> bool:
    """Whether the app, which has django-compressor, builds its bundles offline."""
    from django.conf import settings

    if not getattr(settings, "COMPRESS_OFFLINE", False):
        output.info("django-compressor: COMPRESS_OFFLINE is off, so no offline bundles to build")
        return False
    return True


def _compress(verbosity: int) -> None:
    from django.core.management import call_command

    output.step("Compressing offline (django-compressor)")
    try:
        call_command("compress", force=True, verbosity=verbosity)
    except Exception as exc:
        raise errors.COMPRESS_FAILED(failure=type(exc).__name__, exc=exc) from exc


def _where(exc: BaseException, app_root: Path) -> str:
    """The innermost line of the app's own code in the traceback: where to look first. The
    generated module is not the app's: its one import line would hide the real culprit."""
    generated = app_root / f"{GENERATED_MODULE}.py"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if path.is_relative_to(app_root) and path != generated:
            return f" ({path.relative_to(app_root)}, line {frame.lineno})"
    return ""
