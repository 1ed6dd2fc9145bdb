"""A stand-in for heroku/buildpacks-python (6.x) as a Cloud Native Buildpack: what a buildpack
after it sees. From that buildpack's source (src/main.rs, src/layers/pip_dependencies.rs,
src/django.rs):
- detect passes for an app with requirements.txt, and writes no build plan;
- build installs the app's requirements into a "venv" layer, for build and launch, with
  VIRTUAL_ENV set in env/ and the venv's bin/ on PATH by the layer path rule;
- then, when Django is installed, manage.py is at the app root and `manage.py help
  collectstatic` succeeds, it runs `python manage.py collectstatic --noinput` with the build's
  environment, without --link, and with no way to turn it off (buildpacks-python #109).

The venv comes from the classic stand-in's cache (standin.py), so it is built once per inputs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from herokuify_dev.standin import StandIn, copy_venv

BUILDPACK_ID = "heroku/python"
_REPO = Path(__file__).resolve().parents[1]


def write_buildpack(folder: Path, standin: StandIn) -> Path:
    """Writes the stand-in buildpack into ``folder`` and returns it. Its bin/build uses the
    venv that ``standin`` builds (now, if it is not cached yet)."""
    venv = standin.venv()
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
        f"from herokuify_dev.cnbpython import build; build({str(venv)!r})"
    )
    (folder / "bin" / "build").write_text(f'#!/bin/sh\nexec {sys.executable} -c "{code}"\n')
    for script in ("detect", "build"):
        (folder / "bin" / script).chmod(0o755)
    return folder


def build(cached_venv: str) -> None:
    """bin/build: the venv layer, then Django's collectstatic."""
    layers = Path(os.environ["CNB_LAYERS_DIR"])
    venv = layers / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    copy_venv(Path(cached_venv), venv)
    (layers / "venv.toml").write_text("[types]\nbuild = true\nlaunch = true\n")
    (venv / "env").mkdir(exist_ok=True)
    (venv / "env" / "VIRTUAL_ENV.override").write_text(str(venv))
    print("[Installing dependencies using pip] (stand-in: the cached venv)", flush=True)

    env = {**os.environ, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
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
