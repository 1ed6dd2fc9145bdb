"""Static sources must come from the app: a symlink out of the build (say, to /etc/passwd) would
otherwise be copied by collectstatic and published to the world."""

from __future__ import annotations

from pathlib import Path

from herokuify_buildpack.errors import BuildError


def refuse_sources_outside(build_dir: Path) -> None:
    from django.apps import apps
    from django.contrib.staticfiles import finders

    root = build_dir.resolve()
    ignore_patterns = apps.get_app_config("staticfiles").ignore_patterns
    for finder in finders.get_finders():
        for name, storage in finder.list(ignore_patterns):
            source = Path(storage.path(name))
            target = source.resolve()
            if not target.is_relative_to(root):
                raise BuildError(
                    f"static file {name} is a link to {target}, outside the app, and herokuify "
                    "never publishes files from outside the app. Copy the file in, or remove "
                    "the link."
                )
