"""The Django app inside the build: where manage.py is and which settings module it uses."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from herokuify_buildpack.errors import BuildError

_DOTTED_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
# The line startproject writes: os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x.settings")
_SETDEFAULT = re.compile(
    r"""setdefault\(\s*["']DJANGO_SETTINGS_MODULE["']\s*,\s*["']([^"']+)["']"""
)
GENERATED_MODULE = "herokuify_settings"


@dataclass(frozen=True)
class DjangoApp:
    build_dir: Path
    root: Path  # the folder that holds manage.py, and so the project's import root
    settings_module: str


def locate_app(build_dir: Path, manage_py: str, settings_from_config: str) -> DjangoApp:
    """``manage_py`` is the path that bin/detect's rule found, relative to ``build_dir``."""
    if not manage_py:
        raise BuildError(
            "no manage.py within 3 levels of the app root. "
            "herokuify only builds Django apps; commit manage.py or remove this buildpack."
        )
    manage_path = build_dir / manage_py
    module = settings_from_config.strip() or _module_from_manage_py(manage_path)
    if not _DOTTED_PATH.match(module):
        raise BuildError(
            f"DJANGO_SETTINGS_MODULE {module!r} is not a dotted Python module path "
            "such as mysite.settings"
        )
    if module == GENERATED_MODULE:
        raise BuildError(
            f"DJANGO_SETTINGS_MODULE names the generated {GENERATED_MODULE}; set it to the app's "
            f"own settings module (herokuify switches dynos to {GENERATED_MODULE} itself)"
        )
    app = DjangoApp(build_dir=build_dir, root=manage_path.parent, settings_module=module)
    _check_inside_app(app)
    return app


def _module_from_manage_py(manage_path: Path) -> str:
    match = _SETDEFAULT.search(manage_path.read_text(errors="replace"))
    if not match:
        raise BuildError(
            f"could not tell the settings module from {manage_path.name}: "
            "set it with heroku config:set DJANGO_SETTINGS_MODULE=mysite.settings"
        )
    return match.group(1)


def _is_app_code(path: Path, build: Path) -> bool:
    """Inside the build, but not among the packages heroku/python installed into it."""
    installed = path.is_relative_to(build / ".heroku") or "site-packages" in path.parts
    return path.is_relative_to(build) and not installed


def _check_inside_app(app: DjangoApp) -> None:
    """The settings must come from the app's code, not from an installed package."""
    sys.path.insert(0, str(app.root))
    top_level = app.settings_module.split(".")[0]
    spec = importlib.util.find_spec(top_level)
    origins = [spec.origin] if spec and spec.origin else []
    if spec and spec.submodule_search_locations:
        origins = list(spec.submodule_search_locations)
    build = app.build_dir.resolve()
    if not origins:
        raise BuildError(
            f"settings module {app.settings_module} (from DJANGO_SETTINGS_MODULE or manage.py) "
            "is not in the app: check its spelling"
        )
    if not any(_is_app_code(Path(origin).resolve(), build) for origin in origins):
        raise BuildError(
            f"settings module {app.settings_module} is not part of the app: it imports from "
            f"{origins[0]}. Point DJANGO_SETTINGS_MODULE at the app's own settings."
        )
