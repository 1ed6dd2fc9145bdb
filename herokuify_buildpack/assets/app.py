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
    settings_source: str  # where the name came from, for messages that blame it


def locate_app(build_dir: Path, manage_py: str, settings_from_config: str | None) -> DjangoApp:
    """``manage_py`` is the path that bin/detect's rule found, relative to ``build_dir``."""
    if not manage_py:
        raise errors.NO_MANAGE_PY()
    manage_path = build_dir / manage_py
    if settings_from_config:
        module, source = settings_from_config, "the DJANGO_SETTINGS_MODULE config var"
    else:
        module, source = _module_from_manage_py(manage_path), manage_py
    if not _DOTTED_PATH.match(module):
        raise errors.SETTINGS_MODULE_NOT_DOTTED(module=module)
    if module == GENERATED_MODULE:
        raise errors.SETTINGS_MODULE_IS_GENERATED(generated=GENERATED_MODULE)
    app = DjangoApp(build_dir, manage_path.parent, module, source)
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
    """The settings must come from the app's code, not from an installed package, and must
    exist: a misspelt name is caught here, before anything is written or imported."""
    sys.path.insert(0, str(app.root))
    top_level, *inner = app.settings_module.split(".")
    expected = "/".join([top_level, *inner]) + ".py"
    # find_spec of the top level only: it runs no code of the app, unlike a dotted name's.
    spec = importlib.util.find_spec(top_level)
    origins = [spec.origin] if spec and spec.origin else []
    if spec and spec.submodule_search_locations:
        origins = list(spec.submodule_search_locations)
    if not origins or (inner and not any(_has_module(Path(o), inner) for o in origins)):
        raise errors.SETTINGS_MODULE_MISSING(
            module=app.settings_module, source=app.settings_source, expected=expected
        )
    build = app.build_dir.resolve()
    if not any(_is_app_code(Path(origin).resolve(), build) for origin in origins):
        raise errors.SETTINGS_MODULE_OUTSIDE_APP(module=app.settings_module, origin=origins[0])


def _has_module(package_dir: Path, inner: list[str]) -> bool:
    """Whether package_dir holds the module inner[0].inner[1]..., as a file or a package."""
    path = package_dir.joinpath(*inner)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
