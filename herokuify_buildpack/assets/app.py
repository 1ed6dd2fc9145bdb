"""The Django app inside the build: where manage.py is and which settings module it uses."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from herokuify_buildpack import errors

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


def locate_app(build_dir: Path, manage_py: str, settings_from_config: str | None) -> DjangoApp:
    """``manage_py`` is the path that bin/detect's rule found, relative to ``build_dir``."""
    if not manage_py:
        raise errors.NO_MANAGE_PY()
    manage_path = build_dir / manage_py
    module = settings_from_config or _module_from_manage_py(manage_path)
    if not _DOTTED_PATH.match(module):
        raise errors.SETTINGS_MODULE_NOT_DOTTED(module=module)
    if module == GENERATED_MODULE:
        raise errors.SETTINGS_MODULE_IS_GENERATED(generated=GENERATED_MODULE)
    app = DjangoApp(build_dir=build_dir, root=manage_path.parent, settings_module=module)
    _check_inside_app(app)
    return app


def _module_from_manage_py(manage_path: Path) -> str:
    match = _SETDEFAULT.search(manage_path.read_text(errors="replace"))
    if not match:
        raise errors.SETTINGS_MODULE_NOT_IN_MANAGE_PY(manage_py=manage_path.name)
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
        raise errors.SETTINGS_MODULE_MISSING(module=app.settings_module)
    if not any(_is_app_code(Path(origin).resolve(), build) for origin in origins):
        raise errors.SETTINGS_MODULE_OUTSIDE_APP(module=app.settings_module, origin=origins[0])
