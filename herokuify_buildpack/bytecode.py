"""The helper's bytecode, kept in CACHE_DIR for the next classic build to restore
(lib/helper.sh's helper::install).

Python checks a .pyc file against its source's modification time, and each build copies the
helper afresh into the slug, so each build compiled all of it again before its first step.
These are checked against each source's hash instead (PEP 552): a fresh copy of the same source
still matches, and a changed source is compiled again, as it would be anyway.
"""

from __future__ import annotations

import compileall
import hashlib
import py_compile
import shutil
import sys
import tempfile
from pathlib import Path

KEPT = Path("herokuify") / "bytecode"  # in CACHE_DIR
_STAMP = ".sources"  # in KEPT: which sources, for which Python, the files were compiled from


def keep(cache_dir: Path) -> None:
    """Compiles the helper where it runs (the slug) and keeps the bytecode in ``cache_dir``,
    unless it holds this very bytecode already. A cache that cannot be written only makes the
    next build compile again."""
    package = Path(__file__).resolve().parent
    kept = cache_dir / KEPT
    stamp = _sources_stamp(package)
    try:
        if (kept / _STAMP).read_text() == stamp:
            return
    except OSError:
        pass
    compileall.compile_dir(
        package,
        quiet=2,
        force=True,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )
    tag = f".{sys.implementation.cache_tag}.pyc"
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(dir=kept.parent, prefix="bytecode."))
        for compiled in package.rglob(f"__pycache__/*{tag}"):
            target = fresh / compiled.relative_to(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(compiled, target)
        (fresh / _STAMP).write_text(stamp)
        shutil.rmtree(kept, ignore_errors=True)
        fresh.rename(kept)
    except OSError:
        return


def _sources_stamp(package: Path) -> str:
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes())
    return digest.hexdigest()
