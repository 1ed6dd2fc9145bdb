"""heroku/python, the buildpack before this one in a classic build: Heroku's own, unmodified
(``RealHerokuPython``), or the stand-in (standin.py) where speed needs it. Both run as
the platform runs a buildpack: ``bin/compile BUILD_DIR CACHE_DIR ENV_DIR`` with HOME=/app and a
clean environment, leaving an ``export`` file for the next buildpack.

Heroku's buildpack is not copied into this project: tests and local builds run it from where it
is kept (``../shared/vendor/heroku-buildpack-python`` beside this repository, or the folder that
$HEROKUIFY_HEROKU_PYTHON names). Three things let it run here with no network but the package
index (shared/research/real-heroku-python.md):
- its Python download, from a host named in its lib/python.sh, is answered by a local server
  (pyruntime.py) through CURL_HOME's .curlrc;
- PIP_CONFIG_FILE=/dev/null keeps this machine's pip.conf out, as on Heroku;
- the machine's CA bundle, for TLS to the package index, reaches its pip.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from herokuify_dev.approot import in_app_root
from herokuify_dev.linkedcopy import linked_copy
from herokuify_dev.pyruntime import RuntimeServer, runtime_server
from herokuify_dev.transcript import Transcript, run

REPO_ROOT = Path(__file__).resolve().parents[1]
VENDORED = REPO_ROOT.parent / "shared" / "vendor" / "heroku-buildpack-python"
LOCATION_VAR = "HEROKUIFY_HEROKU_PYTHON"
WHERE_IT_IS = f"{VENDORED} or ${LOCATION_VAR}"
SEEDS_ROOT = Path.home() / ".cache" / "herokuify-buildpack" / "heroku-python-cache"
# What heroku/python keeps in CACHE_DIR (lib/cache.sh, lib/build_data.sh); the rest is others'.
_ITS_CACHE = (Path(".heroku"), Path("build-data") / "python.json")
_LEFT_IN_BUILD_DIR = (".heroku", ".profile.d")  # by heroku/python, with collectstatic off
# Only what a build runs: its tests and release tooling stay behind.
_NOT_RUN = ("spec", "builds", ".github", ".git")
_S3_BASE_URL = re.compile(r'^S3_BASE_URL="https://([^/"]+)"', re.M)
_DEFAULT_PYTHON = re.compile(
    r'^DEFAULT_PYTHON_FULL_VERSION="\$\{LATEST_PYTHON_(\d+)_(\d+)\}"', re.M
)
# TLS to the package index may be re-signed on the way; pip trusts this bundle, if it is set.
_CA_BUNDLE_VARS = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


@dataclass(frozen=True)
class Step:
    """One classic compile: the platform's folders, the /app it builds under, and its env."""

    build_dir: Path
    cache_dir: Path
    env_dir: Path
    app_root: Path  # bound onto /app for every process of the build
    buildpack_dir: Path  # the buildpack's own checkout, where it leaves its `export` file
    env: Mapping[str, str]  # the platform's environment: PATH, HOME=/app, STACK
    transcript: Transcript

    @property
    def export_file(self) -> Path:
        return self.buildpack_dir / "export"


class PythonBuildpack(Protocol):
    label: str  # how the build log names it

    def compile(self, step: Step) -> int:
        """Runs as bin/compile would; the exit code. Leaves ``step.export_file``."""


def vendored_buildpack() -> Path | None:
    """Heroku's buildpack, where this machine keeps it, or None."""
    named = os.environ.get(LOCATION_VAR)
    found = Path(named) if named else VENDORED
    return found if (found / "bin" / "compile").is_file() else None


def download_host(buildpack: Path) -> str:
    """The host heroku/python downloads its Python from (lib/python.sh's S3_BASE_URL)."""
    found = _S3_BASE_URL.search((buildpack / "lib" / "python.sh").read_text())
    if found is None:
        raise RuntimeError(f"no S3_BASE_URL in {buildpack / 'lib' / 'python.sh'}")
    return found[1]


def default_python(buildpack: Path) -> str:
    """The major.minor heroku/python installs for an app that names none
    (lib/python_version.sh's DEFAULT_PYTHON_FULL_VERSION)."""
    found = _DEFAULT_PYTHON.search((buildpack / "lib" / "python_version.sh").read_text())
    if found is None:
        raise RuntimeError(f"no default Python in {buildpack / 'lib' / 'python_version.sh'}")
    return f"{found[1]}.{found[2]}"


@contextmanager
def serving_runtimes(buildpack: Path) -> Iterator[RuntimeServer]:
    """The Python runtimes heroku/python downloads, served from this machine's Pythons."""
    host = download_host(buildpack)
    with (
        tempfile.TemporaryDirectory(prefix="herokuify-runtimes-") as folder,
        runtime_server(host, Path(folder)) as server,
    ):
        yield server


class RealHerokuPython:
    """Heroku's classic Python buildpack, run unmodified from ``source``."""

    label = "heroku/python"

    def __init__(
        self, source: Path, runtimes: RuntimeServer, seeds: CacheSeeds | None = None
    ) -> None:
        self.source = source
        self.runtimes = runtimes
        self.seeds = seeds

    def compile(self, step: Step) -> int:
        step.transcript.step("Python app detected")
        # A checkout of its own, as each build gets: it writes `export` into it.
        shutil.rmtree(step.buildpack_dir, ignore_errors=True)
        shutil.copytree(self.source, step.buildpack_dir, ignore=shutil.ignore_patterns(*_NOT_RUN))
        stack = step.env.get("STACK", "")
        seed = (
            self.seeds.restore(self.source, step.build_dir, step.cache_dir, stack)
            if self.seeds
            else None
        )
        served = len(self.runtimes.served)
        env = {**step.env, **self.network_env()}
        command = [step.buildpack_dir / "bin" / "compile", step.build_dir, step.cache_dir]
        code = run(in_app_root(step.app_root, [*command, step.env_dir]), step.transcript, env)
        for answer in self.runtimes.served[served:]:
            if answer.sent is not None and answer.sent != answer.asked:
                step.transcript.info(
                    f"(here: Python {answer.asked} is served from this machine's {answer.sent})"
                )
        if code == 0 and self.seeds is not None and seed is not None:
            self.seeds.save(seed, step.cache_dir)
        return code

    def network_env(self) -> dict[str, str]:
        env = {"CURL_HOME": str(self.runtimes.curl_home), "PIP_CONFIG_FILE": os.devnull}
        env.update({name: os.environ[name] for name in _CA_BUNDLE_VARS if name in os.environ})
        return env


class ReusedHerokuPython:
    """Heroku's heroku/python, run for real on the first build of each set of requirements in
    this process; each later build of an app with the same requirements gets what that run
    left: its ``.heroku`` and ``.profile.d`` in BUILD_DIR, and its export file. For tests that
    build one app many times to try what comes after heroku/python. Only builds with
    DISABLE_COLLECTSTATIC=1, whose heroku/python result depends on nothing else."""

    label = "heroku/python"

    def __init__(self, real: RealHerokuPython, keep: Path) -> None:
        self.real = real
        self.keep = keep
        self._lock = threading.Lock()  # one real run per key, also for concurrent builds

    def compile(self, step: Step) -> int:
        switch = step.env_dir / "DISABLE_COLLECTSTATIC"
        if not switch.is_file() or switch.read_text().strip() != "1":
            raise ValueError("ReusedHerokuPython needs DISABLE_COLLECTSTATIC=1")
        key = CacheSeeds.key(self.real.source, step.build_dir, step.env.get("STACK", ""))
        kept = self.keep / key
        with self._lock:
            if not kept.is_dir():
                code = self.real.compile(step)
                if code == 0:
                    for name in _LEFT_IN_BUILD_DIR:
                        linked_copy(step.build_dir / name, kept / name)
                    shutil.copy2(step.export_file, kept / "export")
                return code
        step.transcript.step("Python app detected")
        step.transcript.info("(heroku/python's result for these requirements, from its run on")
        step.transcript.info(" this session's first build of them)")
        for name in _LEFT_IN_BUILD_DIR:
            linked_copy(kept / name, step.build_dir / name)
        # As heroku/python links /app/.heroku/python to the build's (see approot.py).
        (step.app_root / ".heroku").mkdir(parents=True, exist_ok=True)
        (step.app_root / ".heroku" / "python").symlink_to(step.build_dir / ".heroku" / "python")
        step.buildpack_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(kept / "export", step.export_file)
        return 0


class CacheSeeds:
    """heroku/python's part of CACHE_DIR after a build of the same requirements and Python,
    kept under ``root``: a new CACHE_DIR starts from it, as a redeploy's would, so that pip
    installs nothing from the network. heroku/python checks what it restores (stack, Python,
    pip, requirements.txt) and discards what no longer fits, as on Heroku."""

    def __init__(self, root: Path = SEEDS_ROOT) -> None:
        self.root = root

    def restore(self, buildpack: Path, app_dir: Path, cache_dir: Path, stack: str) -> str | None:
        """Puts the seed for this app into ``cache_dir``, if that holds nothing of heroku/python's
        yet. Returns the key to save a new seed under once the build succeeds, or None: the cache
        was not new, or its seed is already kept."""
        if (cache_dir / ".heroku").exists():
            return None
        key = self.key(buildpack, app_dir, stack)
        seed = self.root / key
        if not seed.is_dir():
            return key
        for entry in _ITS_CACHE:
            if (seed / entry).exists():
                linked_copy(seed / entry, cache_dir / entry)
        return None

    def save(self, key: str, cache_dir: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=self.root, prefix=f"{key}.tmp-"))
        try:
            for entry in _ITS_CACHE:
                if (cache_dir / entry).exists():
                    linked_copy(cache_dir / entry, partial / entry)
            # Whole or not at all. A build of the same inputs may have saved one meanwhile:
            # then the rename fails, and that one is kept.
            with contextlib.suppress(FileExistsError, OSError):
                partial.rename(self.root / key)
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    @staticmethod
    def key(buildpack: Path, app_dir: Path, stack: str) -> str:
        """What heroku/python's cache depends on: its pip and Python versions, the app's
        requirements and the Python it asks for, and the stack."""
        digest = hashlib.sha256()
        parts = [buildpack / "requirements" / "pip.txt", buildpack / "lib" / "python_version.sh"]
        parts += [app_dir / name for name in ("requirements.txt", ".python-version", "runtime.txt")]
        for part in parts:
            digest.update(part.read_bytes() if part.is_file() else b"-")
            digest.update(b"\0")
        digest.update(stack.encode())
        return digest.hexdigest()[:24]
