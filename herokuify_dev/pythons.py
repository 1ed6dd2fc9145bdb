"""Which Python an app asks for, as heroku/python reads it, and where to find one here."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# heroku/python's order: .python-version first, then the older runtime.txt.
_PYTHON_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.\d+)?")
_RUNTIME_TXT = re.compile(r"python-(\d+)\.(\d+)(?:\.\d+)?")


class PythonNotFound(RuntimeError):
    """No Python of the minor version asked for is installed here."""


@dataclass(frozen=True)
class PythonRequest:
    version: str  # major.minor, e.g. "3.12"
    source: str  # the file that asked: ".python-version" or "runtime.txt"


def requested_python(app_dir: Path) -> PythonRequest | None:
    """The major.minor the app's .python-version or runtime.txt names (None: neither exists).
    A file that names no version raises ValueError."""
    for name, pattern in ((".python-version", _PYTHON_VERSION), ("runtime.txt", _RUNTIME_TXT)):
        path = app_dir / name
        if not path.is_file():
            continue
        lines = [line.strip() for line in path.read_text().splitlines()]
        wanted = next((line for line in lines if line and not line.startswith("#")), "")
        match = pattern.fullmatch(wanted)
        if match is None:
            raise ValueError(f"{name} says {wanted!r}, not a Python version such as 3.12")
        return PythonRequest(f"{match[1]}.{match[2]}", name)
    return None


def python_for(version: str) -> Path:
    """A Python of this minor version: the running one, pyenv's, or one on PATH."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return Path(sys.executable)
    candidates = [shutil.which(f"python{version}")]
    if shutil.which("pyenv"):
        prefix = subprocess.run(
            ["pyenv", "prefix", version], capture_output=True, text=True, check=False
        )
        if prefix.returncode == 0:
            # pyenv's shim on PATH runs only the selected version: its own prefix comes first.
            candidates.insert(0, f"{prefix.stdout.strip()}/bin/python{version}")
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise PythonNotFound(f"Python {version} is not installed here: pyenv install {version}")
