"""A stand-in for heroku/buildpacks-python (6.x) as a Cloud Native Buildpack: what a buildpack
after it sees. From that buildpack's source (src/main.rs, src/layers/python.rs,
src/layers/pip_dependencies.rs, src/django.rs):
- detect passes for an app with requirements.txt, and writes no build plan;
- a "python" layer (build, launch, cache) holds Heroku's runtime (pyruntime.py: libpython
  shared, no RUNPATH), and sets LANG=C.UTF-8, PYTHONHOME and PYTHONUNBUFFERED; the lifecycle
  puts its lib/ on LD_LIBRARY_PATH, which is how its Python finds libpython, in later
  buildpacks' builds and at launch (buildpack.md "Layer Paths");
- a "venv" layer (build, launch) holds the app's requirements in a virtual environment of that
  Python, with VIRTUAL_ENV set, and its bin/ on PATH by the same rule;
- then, when Django is installed, manage.py is at the app root and `manage.py help
  collectstatic` succeeds, it runs `python manage.py collectstatic --noinput` with the build's
  environment, without --link, and with no way to turn it off (buildpacks-python #109).

The packages come from the classic stand-in's cached install (standin.py), so they are
installed once per inputs; here they are copied into the venv, whose scripts then name it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from herokuify_dev.pyruntime import unpacked_runtime
from herokuify_dev.standin import StandIn, copy_tree

BUILDPACK_ID = "heroku/python"
_REPO = Path(__file__).resolve().parents[1]
# A console script's first line, as pip writes it: the absolute path of a python.
_SHEBANG = re.compile(rb"#!(/\S*)?/bin/python[0-9.]*[ \t]*\r?\n")


def write_buildpack(folder: Path, standin: StandIn) -> Path:
    """Writes the stand-in buildpack into ``folder`` and returns it. Its bin/build uses the
    install that ``standin`` makes (now, if it is not cached yet)."""
    installed = standin.installed()
    runtime = unpacked_runtime(standin.runtime())
    (folder / "bin").mkdir(parents=True, exist_ok=True)
    (folder / "buildpack.toml").write_text(
        'api = "0.10"\n\n[buildpack]\n'
        f'id = "{BUILDPACK_ID}"\nversion = "6.0.0"\nname = "stand-in for heroku/python"\n\n'
        '[[targets]]\nos = "linux"\n'
    )
    (folder / "bin" / "detect").write_text(
        "#!/bin/sh\n# Passes for a Python app, with no build plan.\n"
        "if [ -f requirements.txt ]; then exit 0; fi\nexit 100\n"
    )
    code = (
        f"import sys; sys.path.insert(0, {str(_REPO)!r}); "
        f"from herokuify_dev.cnbpython import build; build({str(runtime)!r}, {str(installed)!r})"
    )
    (folder / "bin" / "build").write_text(f'#!/bin/sh\nexec {sys.executable} -c "{code}"\n')
    for script in ("detect", "build"):
        (folder / "bin" / script).chmod(0o755)
    return folder


def build(runtime: str, installed: str) -> None:
    """bin/build: the python and venv layers, then Django's collectstatic."""
    layers = Path(os.environ["CNB_LAYERS_DIR"])
    python_layer, venv = layers / "python", layers / "venv"
    for layer in (python_layer, venv):
        shutil.rmtree(layer, ignore_errors=True)
    print(f"[Installing Python] (stand-in: {Path(runtime).name})", flush=True)
    copy_tree(Path(runtime), python_layer)
    _write_layer(python_layer, cache=True, env={
        "LANG.override": "C.UTF-8",
        "PYTHONHOME.override": str(python_layer),
        "PYTHONUNBUFFERED.override": "1",
    })  # fmt: skip
    # Within its own build, the buildpack sets LD_LIBRARY_PATH itself, as buildpacks-python
    # does: the lifecycle applies a layer's paths only to later buildpacks.
    env = {
        **os.environ,
        "LD_LIBRARY_PATH": str(python_layer / "lib"),
        "PYTHONHOME": str(python_layer),
        "LANG": "C.UTF-8",
    }
    print("[Installing dependencies using pip] (stand-in: the cached install)", flush=True)
    python = python_layer / "bin" / "python"
    subprocess.run([python, "-m", "venv", "--without-pip", venv], env=env, check=True)
    _fill_venv(Path(installed), venv)
    _write_layer(venv, cache=False, env={"VIRTUAL_ENV.override": str(venv)})

    env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}:{python_layer / 'bin'}:{env['PATH']}")
    app = Path.cwd()
    if not (venv / "bin" / "django-admin").exists() or not (app / "manage.py").is_file():
        return
    probe = subprocess.run(
        ["python", "manage.py", "help", "collectstatic"], env=env, capture_output=True
    )
    if probe.returncode != 0:
        print("Skipping automatic static file generation", flush=True)
        return
    print("[Generating Django static files] Running 'manage.py collectstatic'", flush=True)
    done = subprocess.run(["python", "manage.py", "collectstatic", "--noinput"], env=env)
    if done.returncode != 0:
        sys.exit(done.returncode)


def _write_layer(layer: Path, *, cache: bool, env: dict[str, str]) -> None:
    types = f"[types]\nbuild = true\nlaunch = true\ncache = {str(cache).lower()}\n"
    layer.with_name(f"{layer.name}.toml").write_text(types)
    (layer / "env").mkdir(exist_ok=True)
    for name, value in env.items():
        (layer / "env" / name).write_text(value)


def _fill_venv(installed: Path, venv: Path) -> None:
    """The installed packages, and their console scripts pointed at the venv's python."""
    [packages] = installed.glob("lib/python*/site-packages")
    [target] = venv.glob("lib/python*/site-packages")
    shutil.rmtree(target)
    copy_tree(packages, target)
    shebang = f"#!{venv / 'bin' / 'python'}\n".encode()
    for script in (installed / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        match = _SHEBANG.match(data)
        if match is None or (venv / "bin" / script.name).exists():
            continue
        (venv / "bin" / script.name).write_bytes(shebang + data[match.end() :])
        shutil.copymode(script, venv / "bin" / script.name)
