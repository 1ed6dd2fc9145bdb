"""How a CNB lifecycle turns layers into an environment: layer paths and env files.

Buildpack API 0.10 (buildpacks/spec, buildpack.md), section "Environment":
- "Layer Paths": each layer's bin/ goes on PATH (build and launch), lib/ on LD_LIBRARY_PATH
  (both) and LIBRARY_PATH (build), include/ on CPATH and pkgconfig/ on PKG_CONFIG_PATH (build).
  Each is prepended, buildpack by buildpack and each buildpack's layers in name order, so later
  buildpacks' layers come first, and within one buildpack the layer whose name sorts last: as
  the lifecycle does, and as heroku/python counts on (its "venv" layer's python comes before
  its "python" layer's).
- "Provided by the Buildpacks": env/ applies to both, env.build/ to later buildpacks' builds,
  env.launch/ and env.launch/<process>/ to launch.
- "Environment Variable Modification Rules": a file's name up to the first "." names the
  variable; the suffix (none, .override, .default, .append, .prepend, .delim) says how. Contents
  are never evaluated. All of one layer's operations are applied before the next layer's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping
from pathlib import Path

BUILD, LAUNCH = "build", "launch"

_LAYER_PATHS = {
    BUILD: (
        ("bin", "PATH"),
        ("lib", "LD_LIBRARY_PATH"),
        ("lib", "LIBRARY_PATH"),
        ("include", "CPATH"),
        ("pkgconfig", "PKG_CONFIG_PATH"),
    ),
    LAUNCH: (("bin", "PATH"), ("lib", "LD_LIBRARY_PATH")),
}


def env_dirs(layer: Path, scope: str, process: str | None = None) -> list[Path]:
    """The env folders of ``layer`` that apply to ``scope``, in the order they apply."""
    dirs = [layer / "env", layer / f"env.{scope}"]
    if scope == LAUNCH and process:
        dirs.append(layer / "env.launch" / process)
    return [folder for folder in dirs if folder.is_dir()]


def apply_layers(
    env: MutableMapping[str, str],
    layers: Iterable[Path],
    scope: str,
    process: str | None = None,
) -> None:
    """Applies ``layers`` (in group order, each buildpack's in name order) to ``env``: each
    layer's paths, then its env files."""
    for layer in layers:
        for sub_dir, name in _LAYER_PATHS[scope]:
            if (layer / sub_dir).is_dir():
                _concatenate(env, name, str(layer / sub_dir), os.pathsep, prepend=True)
        folders = env_dirs(layer, scope, process)
        delims = _delimiters(folders)
        for folder in folders:
            for file in sorted(folder.iterdir()):
                if file.is_file():
                    _apply_file(env, file, delims)


def _delimiters(folders: list[Path]) -> dict[str, str]:
    """The .delim files of one layer: each delimits that variable's concatenations there."""
    found: dict[str, str] = {}
    for folder in folders:
        for file in folder.glob("*.delim"):
            found[file.name.split(".", 1)[0]] = file.read_text()
    return found


def _apply_file(env: MutableMapping[str, str], file: Path, delims: dict[str, str]) -> None:
    name, _, suffix = file.name.partition(".")
    value = file.read_text()
    if suffix in ("", "override"):
        env[name] = value
    elif suffix == "default":
        if not env.get(name):
            env[name] = value
    elif suffix in ("append", "prepend"):
        _concatenate(env, name, value, delims.get(name, ""), prepend=suffix == "prepend")
    elif suffix != "delim":
        raise ValueError(f"{file}: unknown env file suffix {suffix!r}")


def _concatenate(
    env: MutableMapping[str, str], name: str, value: str, delim: str, *, prepend: bool
) -> None:
    current = env.get(name, "")
    if not current:
        env[name] = value
    elif prepend:
        env[name] = value + delim + current
    else:
        env[name] = current + delim + value
