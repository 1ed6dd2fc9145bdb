"""Rules of docs/architecture.md that an import can break."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_the_dynos_storages_import_neither_the_lister_nor_the_upload():
    probe = (
        "import sys, herokuify_buildpack.storage; "
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'herokuify_buildpack.bucket.lister', 'herokuify_buildpack.upload'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
