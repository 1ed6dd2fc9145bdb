"""A stand-in for heroku/python's classic bin/compile, for the tests that need speed: it leaves
what heroku/python leaves, so that no test passes on it where the real one would fail
(shared/research/real-heroku-python.md, "What the real one does that a stand-in must not hide"):
- Python is Heroku's kind of runtime (pyruntime.py: relocated, libpython shared, no RUNPATH) at
  BUILD_DIR/.heroku/python, with /app/.heroku/python linking to it, and the app's packages
  installed into it as pip installs them there, so their scripts name /app/.heroku/python;
- the same 8-line ``export`` file, through ${HOME}, and the same three .profile.d scripts;
- DISABLE_COLLECTSTATIC and .heroku/collectstatic_disabled read as heroku/python reads them;
- its collectstatic: run from BUILD_DIR with PYTHONPATH=., the config vars exported but those
  it withholds, also when django.contrib.staticfiles is missing; its failure line.

What is not the same, and why: the packages come from a cache of this stand-in (one install per
requirements, Django constraint and Python), not from a pip run per build; heroku/python's own
notes and warnings are not printed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from herokuify_dev import pyruntime
from herokuify_dev.approot import in_app_root
from herokuify_dev.herokupython import Step
from herokuify_dev.linkedcopy import linked_copy
from herokuify_dev.transcript import INDENT, Transcript, run

DEFAULT_CACHE_ROOT = Path.home() / ".cache" / "herokuify-buildpack" / "standin"
# Bump when the way an install is made changes, so old cached ones are not reused.
RECIPE = "3"
PYTHON_HOME = "/app/.heroku/python"
COLLECTSTATIC_FAILED = "Error: Unable to generate Django static files."

# What heroku/python's export file and .profile.d/python.sh set (bin/compile's set_env and
# set_default_env), in its order.
_ENV_LINES = (
    'export PIP_DISABLE_PIP_VERSION_CHECK="1"',
    "export PATH=${HOME}/.heroku/python/bin:${PATH}",
    "export PYTHONUNBUFFERED=true",
    "export PYTHONHOME=${HOME}/.heroku/python",
    "export LIBRARY_PATH=${HOME}/.heroku/python/lib${LIBRARY_PATH:+:${LIBRARY_PATH}}",
    "export LD_LIBRARY_PATH=${HOME}/.heroku/python/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}",
    "export LANG=${LANG:-en_US.UTF-8}",
    "export PYTHONPATH=${PYTHONPATH:-${HOME}}",
)
# A dyno whose HOME is not /app re-makes the link, as heroku/python's python.sh does.
_RELINK = (
    'if [[ $HOME != "/app" ]]; then\n'
    "    mkdir -p /app/.heroku\n"
    '    ln -nsf "$HOME/.heroku/python" /app/.heroku/python\n'
    "fi\n"
)
_PROFILE_SCRIPTS = {
    # Our own defaults, of the same variables as heroku/python's scripts of these names.
    "WEB_CONCURRENCY.sh": "export WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}\n",
    "python.gunicorn.sh": (
        "export FORWARDED_ALLOW_IPS='*'\n"
        'export GUNICORN_CMD_ARGS=${GUNICORN_CMD_ARGS:-"--access-logfile -"}\n'
    ),
}
# heroku/python's collectstatic step, as the stand-in runs it: ARGS EXPORT_FILE BUILD_DIR ENV_DIR.
COLLECTSTATIC_SCRIPT = Path(__file__).with_name("standin-collectstatic.sh")


@dataclass(frozen=True)
class StandIn:
    app_dir: Path
    python: Path = field(default_factory=lambda: Path(sys.executable))
    django: str | None = None  # a pip constraint such as "Django>=4.2,<4.3"
    cache_root: Path = DEFAULT_CACHE_ROOT
    label: str = "stand-in for heroku/python"

    def runtime(self) -> pyruntime.LocalPython:
        try:
            return pyruntime.LocalPython.of(self.python)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise RuntimeError(f"{self.python} does not run: {exc}") from exc

    def requirements(self) -> Path:
        return self.app_dir / "requirements.txt"

    def key(self) -> str:
        """What the cached install depends on: requirements, constraint and Python."""
        digest = hashlib.sha256()
        runtime = self.runtime()
        parts = (RECIPE, pyruntime.RECIPE, self.requirements().read_text(), self.django or "")
        for part in (*parts, runtime.version, str(runtime.prefix)):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()[:20]

    def installed(self, transcript: Transcript | None = None) -> Path:
        """The runtime with the app's packages, as BUILD_DIR/.heroku/python holds it after
        heroku/python; made once per key (one maker at a time across processes)."""
        key = self.key()
        final = self.cache_root / key
        python_dir = final / ".heroku" / "python"
        if final.is_dir():
            return python_dir
        self.cache_root.mkdir(parents=True, exist_ok=True)
        with open(self.cache_root / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if final.is_dir():  # another process made it while this one waited
                return python_dir
            for stale in self.cache_root.glob(f"{key}.tmp-*"):
                shutil.rmtree(stale)
            partial = self.cache_root / f"{key}.tmp-{os.getpid()}"
            try:
                self._install(partial, transcript or Transcript())
                partial.rename(final)  # atomic: an install in the cache is always whole
            finally:
                shutil.rmtree(partial, ignore_errors=True)
        return python_dir

    def _install(self, home: Path, transcript: Transcript) -> None:
        """Installs into ``home``/.heroku/python, with ``home`` as /app, as heroku/python does."""
        name = self.app_dir.name
        transcript.step(f"Installing the stand-in's Python for {name} (once per inputs)")
        linked_copy(pyruntime.unpacked_runtime(self.runtime()), home / ".heroku" / "python")
        # The stand-in's own pip run may use this machine's pip configuration and cache.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env["LD_LIBRARY_PATH"] = f"{PYTHON_HOME}/lib"
        python = f"{PYTHON_HOME}/bin/python"
        pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        pip += ["-r", str(self.requirements())]
        if self.django:
            constraints = home / "constraints.txt"
            constraints.write_text(self.django + "\n")
            pip += ["-c", str(constraints)]
        for command in ([python, "-m", "ensurepip", "--default-pip"], pip):
            if run(in_app_root(home, command), transcript, env, line_filter=_indent) != 0:
                raise RuntimeError(f"installing {self.requirements()} failed")

    def compile(self, step: Step) -> int:
        step.transcript.step(f"Python app detected ({self.label})")
        try:
            self.install_into(step)
        except RuntimeError as exc:
            step.transcript.error(f"The stand-in for heroku/python failed: {exc}")
            return 1
        step.transcript.info(f"Installed {self.requirements().name} into .heroku/python")
        return collectstatic(step)

    def install_into(self, step: Step) -> None:
        """All of heroku/python's work but its collectstatic: Python and the packages in
        BUILD_DIR/.heroku/python, /app's link to it, the export file and .profile.d."""
        python_dir = step.build_dir / ".heroku" / "python"
        linked_copy(self.installed(step.transcript), python_dir)
        link = step.app_root / ".heroku" / "python"
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(python_dir)
        write_environment(step.build_dir, step.export_file)


def write_environment(build_dir: Path, export_file: Path) -> None:
    """The export file for the next buildpack, and the .profile.d scripts for dynos."""
    export_file.parent.mkdir(parents=True, exist_ok=True)
    export_file.write_text("\n".join(_ENV_LINES) + "\n")
    profile_d = build_dir / ".profile.d"
    profile_d.mkdir(exist_ok=True)
    (profile_d / "python.sh").write_text("\n".join(_ENV_LINES) + "\n" + _RELINK)
    for name, text in _PROFILE_SCRIPTS.items():
        (profile_d / name).write_text(text)


def collectstatic(step: Step) -> int:
    """heroku/python's collectstatic step; non-zero fails the build."""
    cmd = ["bash", COLLECTSTATIC_SCRIPT, step.export_file, step.build_dir, step.env_dir]
    code = run(in_app_root(step.app_root, cmd), step.transcript, step.env)
    if code != 0:
        step.transcript.error(COLLECTSTATIC_FAILED)
    return code


def find_manage_py(build_dir: Path, max_depth: int = 3) -> Path | None:
    """The shallowest manage.py at most `max_depth` levels down (1 is BUILD_DIR/manage.py)."""
    found: list[tuple[int, str]] = []
    for root, dirs, files in os.walk(build_dir):
        rel = Path(root).relative_to(build_dir)
        depth = len(rel.parts) + 1
        dirs[:] = [d for d in dirs if d not in (".heroku", ".git", "node_modules", ".venv")]
        if depth >= max_depth:
            dirs[:] = []
        if "manage.py" in files and (Path(root) / "manage.py").is_file():
            found.append((depth, str(rel / "manage.py")))
    return build_dir / min(found)[1] if found else None


def _indent(line: str) -> str:
    return INDENT + line
