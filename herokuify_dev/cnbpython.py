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
- then, when Django is installed (the venv has bin/django-admin) and manage.py is at the app
  root, it runs `python manage.py help collectstatic`: "Unknown command" on its stderr skips the
  step, any other failure fails the build. Else it runs `python manage.py collectstatic
  --noinput` from the app root, without --link and with no way to turn it off
  (buildpacks-python #109). Both run with the build's environment (main.rs: Env::from_current(),
  so an earlier buildpack's env.build reaches them, and the user's env/ files on top) and its
  own layers' env. Their messages and errors are its own (django.rs, errors.rs), printed as
  libherokubuildpack's log_header and log_error print them; an error exits 1 (libcnb).

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
from typing import NoReturn

from herokuify_dev.linkedcopy import linked_copy
from herokuify_dev.pyruntime import unpacked_runtime
from herokuify_dev.standin import StandIn

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
    linked_copy(Path(runtime), python_layer)
    _write_layer(python_layer, cache=True, env={
        "LANG.override": "C.UTF-8",
        "PYTHONHOME.override": str(python_layer),
        "PYTHONUNBUFFERED.override": "1",
    })  # fmt: skip
    # Within its own build, the buildpack applies its layers' env itself, as buildpacks-python
    # does (python.rs: layer_env.apply): the lifecycle applies it only to later buildpacks.
    env = {
        **os.environ,
        "LD_LIBRARY_PATH": _prepended(python_layer / "lib", os.environ.get("LD_LIBRARY_PATH")),
        "PYTHONHOME": str(python_layer),
        "LANG": "C.UTF-8",
    }
    print("[Installing dependencies using pip] (stand-in: the cached install)", flush=True)
    python = python_layer / "bin" / "python"
    subprocess.run([python, "-m", "venv", "--without-pip", venv], env=env, check=True)
    _fill_venv(Path(installed), venv)
    _write_layer(venv, cache=False, env={"VIRTUAL_ENV.override": str(venv)})

    env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}:{python_layer / 'bin'}:{env['PATH']}")
    if (venv / "bin" / "django-admin").exists():
        _log_header("Generating Django static files")
        _collectstatic(Path.cwd(), env)


def _collectstatic(app: Path, env: dict[str, str]) -> None:
    """django.rs: run_django_collectstatic, with errors.rs's messages."""
    if not (app / "manage.py").is_file():
        print(_SKIPPED_NO_MANAGE_PY, flush=True)
        return
    probe = subprocess.run(
        ["python", "manage.py", "help", "collectstatic"], env=env, cwd=app, capture_output=True
    )
    if probe.returncode != 0:
        stderr = probe.stderr.decode(errors="replace")
        if "Unknown command" in stderr:
            print(_SKIPPED_NO_STATICFILES, flush=True)
            return
        _fail("Unable to inspect Django configuration", _INSPECT_FAILED.format(
            status=_exit_status(probe.returncode), stderr=stderr
        ))  # fmt: skip
    print("Running 'manage.py collectstatic'", flush=True)
    done = subprocess.run(["python", "manage.py", "collectstatic", "--noinput"], env=env, cwd=app)
    if done.returncode != 0:
        _fail(
            "Unable to generate Django static files",
            _COLLECTSTATIC_FAILED.format(status=_exit_status(done.returncode)),
        )


def _log_header(title: str) -> None:
    print(f"\n[{title}]", flush=True)


def _fail(header: str, body: str) -> NoReturn:
    """log_error (to stderr), then libcnb's exit code for a buildpack error."""
    print(f"\n[Error: {header}]\n{body}", file=sys.stderr, flush=True)
    sys.exit(1)


def _exit_status(returncode: int) -> str:
    """Rust's ExitStatus, as errors.rs formats it."""
    if returncode < 0:
        return f"signal: {-returncode}"
    return f"exit status: {returncode}"


def _prepended(path: Path, current: str | None) -> str:
    return f"{path}:{current}" if current else str(path)


# buildpacks-python's own words (src/django.rs, src/errors.rs), so that what a user meets here is
# what heroku/python prints.
_SKIPPED_NO_MANAGE_PY = """\
Skipping automatic static file generation since no Django 'manage.py'
script (or symlink to one) was found in the root directory of your
application."""
_SKIPPED_NO_STATICFILES = """\
Skipping automatic static file generation since the 'django.contrib.staticfiles'
feature isn't enabled in your app's Django configuration."""
_INSPECT_FAILED = """\
The 'python manage.py help collectstatic' Django management command
(used to check whether Django's static files feature is enabled)
failed ({status}).

Details:

{stderr}

This indicates there is a problem with your application code or Django
configuration. Try running the 'manage.py' script locally to see if the
same error occurs.
"""
_COLLECTSTATIC_FAILED = """\
The 'python manage.py collectstatic --noinput' Django management
command to generate static files failed ({status}).

This is most likely due to an issue in your application code or Django
configuration. See the log output above for more information.

If you are using the WhiteNoise package to optimise the serving of static
files with Django (recommended), check that your app is using the Django
config options shown here:
https://whitenoise.readthedocs.io/en/stable/django.html

Or, if you don't need to use static files in your app, disable the
Django static files feature by removing 'django.contrib.staticfiles'
from 'INSTALLED_APPS' in your app's Django configuration.
"""


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
    linked_copy(packages, target)
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
