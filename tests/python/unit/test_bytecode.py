"""The helper's bytecode kept in CACHE_DIR (herokuify_buildpack/bytecode.py): checked against
each source's hash, so a fresh copy of the same sources, as the next build makes, uses it."""

import importlib.util
import sys
from pathlib import Path

import herokuify_buildpack
from herokuify_buildpack import bytecode

PACKAGE = Path(herokuify_buildpack.__file__).parent
CHECKED_HASH = 0b11  # PEP 552: the flags word of a hash-based pyc that Python checks


def test_the_kept_bytecode_is_checked_by_hash_and_written_once(tmp_path):
    bytecode.keep(tmp_path)
    kept = tmp_path / bytecode.KEPT
    tag = sys.implementation.cache_tag
    core = kept / "__pycache__" / f"core.{tag}.pyc"
    header = core.read_bytes()[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == CHECKED_HASH
    compiled = {path.relative_to(kept) for path in kept.rglob("*.pyc")}
    sources = {
        path.parent.relative_to(PACKAGE) / "__pycache__" / f"{path.stem}.{tag}.pyc"
        for path in PACKAGE.rglob("*.py")
    }
    assert compiled == sources
    written = core.stat().st_mtime_ns
    bytecode.keep(tmp_path)  # the same sources: nothing written again
    assert core.stat().st_mtime_ns == written
