"""A stand-in for the heroku/python buildpack: a cached venv with the app's requirements, copied
into BUILD_DIR/.heroku/python, an `export` file for the next buildpack, then collectstatic."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from herokuify_dev.envdir import read_env_dir
from herokuify_dev.transcript import INDENT, Transcript, run

DEFAULT_CACHE_ROOT = Path.home() / ".cache" / "herokuify-buildpack" / "standin"
# Bump when the way the venv is built changes, so old cached venvs are not reused.
RECIPE = "1"
# Python scripts in bin/ whose shebang names a venv's python (pip writes absolute paths).
SHEBANG = re.compile(rb"#!(/\S*)?/bin/python[0-9.]*[ \t]*\r?\n")
# Config vars heroku/python does not export into the build environment.
UNEXPORTED = {"PATH", "GIT_DIR", "CPATH", "CPPATH", "LD_PRELOAD", "LIBRARY_PATH", "PYTHONHOME"}


@dataclass(frozen=True)
class StandIn:
    app_dir: Path
    python: Path = field(default_factory=lambda: Path(sys.executable))
    django: str | None = None  # a pip constraint such as "Django>=4.2,<4.3"
    cache_root: Path = DEFAULT_CACHE_ROOT

    def key(self) -> str:
        """What the cached venv depends on: requirements, constraint and base Python."""
        probe = subprocess.run(
            [self.python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True
        )
        if probe.returncode != 0:
            raise RuntimeError(f"{self.python} does not run: {probe.stderr.strip()[-500:]}")
        version = probe.stdout
        digest = hashlib.sha256()
        for part in (RECIPE, self.requirements().read_text(), self.django or "", version):
            digest.update(part.encode() + b"\0")
        digest.update(os.fsencode(self.python.absolute()))
        return digest.hexdigest()[:20]  # short: pip falls back to a /bin/sh shebang past 127

    def requirements(self) -> Path:
        return self.app_dir / "requirements.txt"

    def venv(self, transcript: Transcript | None = None) -> Path:
        """The cached venv, built first if need be (one builder at a time across processes)."""
        transcript = transcript or Transcript()
        key = self.key()
        final = self.cache_root / key
        if final.is_dir():
            return final
        self.cache_root.mkdir(parents=True, exist_ok=True)
        with open(self.cache_root / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if final.is_dir():  # another process built it while this one waited
                return final
            for stale in self.cache_root.glob(f"{key}.tmp-*"):
                shutil.rmtree(stale)
            tmp = self.cache_root / f"{key}.tmp-{os.getpid()}"
            try:
                self._build(tmp, transcript)
                tmp.rename(final)  # atomic: a venv in the cache is always complete
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return final

    def _build(self, venv: Path, transcript: Transcript) -> None:
        transcript.step(f"Building the stand-in venv for {self.app_dir.name} (once per inputs)")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env.pop("VIRTUAL_ENV", None)
        subprocess.run([self.python, "-m", "venv", venv], check=True, env=env)
        cmd: list[str | os.PathLike[str]] = [venv / "bin" / "python", "-m", "pip", "install"]
        cmd += ["--disable-pip-version-check", "-q", "-r", self.requirements()]
        if self.django:
            constraints = venv / "constraints.txt"
            constraints.write_text(self.django + "\n")
            cmd += ["-c", constraints]
        if run(cmd, transcript, env, cwd=self.app_dir, line_filter=_indent) != 0:
            raise RuntimeError(f"pip install failed for {self.requirements()}")

    def install_into(
        self,
        build_dir: Path,
        buildpack_dir: Path | None = None,
        runs_at: Path | None = None,
        link: bool = True,
    ) -> Path:
        """Copy the venv to BUILD_DIR/.heroku/python and write `export` into `buildpack_dir` (a
        new temporary one if None), which is returned. ``runs_at``: where the app will run, if
        the platform moves it after the build (Dokku builds in /tmp/build and runs in /app)."""
        dest = build_dir / ".heroku" / "python"
        dest.parent.mkdir(parents=True, exist_ok=True)
        runs_in = runs_at / ".heroku" / "python" if runs_at else None
        copy_venv(self.venv(), dest, runs_in, link=link)
        if buildpack_dir is None:
            buildpack_dir = Path(tempfile.mkdtemp(prefix="standin-buildpack-"))
        buildpack_dir.mkdir(parents=True, exist_ok=True)
        bin_dir = shlex.quote(str(dest / "bin"))
        (buildpack_dir / "export").write_text(f'export PATH={bin_dir}:"$PATH"\n')
        # As heroku/python does, dynos find the slug's Python through .profile.d ($HOME is /app).
        profile_d = build_dir / ".profile.d"
        profile_d.mkdir(exist_ok=True)
        (profile_d / "python.sh").write_text('export PATH="$HOME/.heroku/python/bin:$PATH"\n')
        return buildpack_dir

    def compile(
        self,
        build_dir: Path,
        env_dir: Path,
        base_env: Mapping[str, str],
        transcript: Transcript,
        buildpack_dir: Path | None = None,
    ) -> tuple[int, Path]:
        """The whole stand-in step; returns its exit code and the buildpack dir with `export`."""
        transcript.step("Python app detected (stand-in for heroku/python)")
        self.venv(transcript)
        buildpack_dir = self.install_into(build_dir, buildpack_dir)
        transcript.info(f"Installed {self.requirements().name} into .heroku/python")
        return collectstatic(build_dir, env_dir, base_env, transcript), buildpack_dir


def collectstatic(
    build_dir: Path, env_dir: Path, base_env: Mapping[str, str], transcript: Transcript
) -> int:
    """Run collectstatic as heroku/python does; non-zero means the build fails."""
    # surrogateescape: a value's bytes reach the environment unchanged, UTF-8 or not.
    config = {
        k: v.decode(errors="surrogateescape")
        for k, v in read_env_dir(env_dir).items()
        if k not in UNEXPORTED
    }
    manage = find_manage_py(build_dir)
    python = build_dir / ".heroku" / "python" / "bin" / "python"
    if config.get("DISABLE_COLLECTSTATIC") == "1" or manage is None:
        return 0
    env = {**base_env, **config}
    env["PATH"] = f"{python.parent}:{base_env.get('PATH', os.defpath)}"
    probe = subprocess.run([python, "-c", "import django"], env=env, capture_output=True)
    if probe.returncode != 0:
        return 0  # heroku/python only runs it for Django apps
    shown = manage.relative_to(build_dir)
    help_cmd = [python, "manage.py", "help", "collectstatic"]
    asked = subprocess.run(help_cmd, env=env, cwd=manage.parent, capture_output=True)
    # As heroku/python: no django.contrib.staticfiles, no collectstatic. Broken settings fail
    # in collectstatic itself, below.
    if asked.returncode != 0 and b"Unknown command" in asked.stderr:
        transcript.info(
            "Skipping automatic static file generation since the 'django.contrib.staticfiles' "
            "feature is not enabled in your app's Django configuration."
        )
        return 0
    transcript.step(f"$ python {shown} collectstatic --noinput")
    cmd = [str(python), "manage.py", "collectstatic", "--noinput", "--traceback"]
    code = run(cmd, transcript, env, cwd=manage.parent, line_filter=_collectstatic_line)
    if code != 0:
        transcript.error(f"Error while running '$ python {shown} collectstatic --noinput'.")
        transcript.info("See traceback above for details.")
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


def copy_venv(venv: Path, dest: Path, runs_at: Path | None = None, *, link: bool = True) -> None:
    """Copies a cached venv to ``dest``, whose scripts then name the python of ``runs_at``
    (``dest`` itself by default): the venv's place when the app runs. ``link=False`` copies
    every file, for a copy whose owner will change."""
    copy = _link_or_copy if link else shutil.copy2
    shutil.copytree(venv, dest, symlinks=True, copy_function=copy)
    _retarget_scripts(dest / "bin", (runs_at or dest) / "bin" / "python")


def _link_or_copy(src: str, dst: str) -> None:
    # Hard links make the copy nearly free; writers replace files rather than edit them in place,
    # so the cached venv stays intact. Across file systems, copy.
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _retarget_scripts(bin_dir: Path, python: Path) -> None:
    """Point console scripts (django-admin, gunicorn...) at the copied venv's python."""
    shebang = f"#!{python}\n"
    if len(shebang) > 127 or any(c.isspace() for c in str(python)):
        # Too long or spaced for a kernel shebang: the same /bin/sh trick pip uses.
        shebang = f"#!/bin/sh\n'''exec' {shlex.quote(str(python))} \"$0\" \"$@\"\n' '''\n"
    for script in bin_dir.iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        match = SHEBANG.match(data)
        if match is None:
            continue
        tmp = script.with_name(script.name + ".retarget")
        tmp.write_bytes(shebang.encode() + data[match.end() :])
        shutil.copymode(script, tmp)
        tmp.replace(script)  # a new file: the hard-linked original in the cache is untouched


def _indent(line: str) -> str:
    return INDENT + line


def _collectstatic_line(line: str) -> str | None:
    # heroku/python drops the per-file chatter and blank lines, and indents the rest.
    if not line.strip() or line.startswith(("Copying", "Post-processed")):
        return None
    return INDENT + line
