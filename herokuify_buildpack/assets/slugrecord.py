"""What a build leaves in the slug, beside its collected files, for the release phase and for
`doctor`: which of those files never change and which are read from the slug only, the static
URL the build made them for, and where it published them. It lives at the slug's root (BUILD_DIR
at build, /app on a dyno, the app folder in an image):

    .herokuify-release.json
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from herokuify_buildpack import errors
from herokuify_buildpack.assets.collected import StaticSource
from herokuify_buildpack.upload.etag import expected_etag

RECORD_NAME = ".herokuify-release.json"
_FORMAT = 1


@dataclass(frozen=True)
class SlugRecord:
    static_root: str  # STATIC_ROOT, relative to the slug's root; "" when there is none
    immutable: list[str]
    local_only: list[str]
    static_url: str  # the STATIC_URL the build collected and compressed with
    destination: str  # where, and with which headers, it published (upload/publish.py)
    release_record: str  # the release record that names what it published, in the bucket

    def write(self, slug_root: Path) -> None:
        body = {"format": _FORMAT, **asdict(self)}
        (slug_root / RECORD_NAME).write_text(json.dumps(body, indent=1) + "\n")

    @classmethod
    def without_static_files(cls) -> SlugRecord:
        """A media-only app's: the release phase has nothing to publish."""
        return cls("", [], [], "", "", "")

    @classmethod
    def read(cls, slug_root: Path) -> SlugRecord:
        path = slug_root / RECORD_NAME
        try:
            body = json.loads(path.read_text())
            if body.pop("format") != _FORMAT:
                raise ValueError("a format of another version of this buildpack")
            return cls(**body)
        except FileNotFoundError:
            raise errors.NOT_A_BUILT_SLUG(record=RECORD_NAME, where=slug_root) from None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise errors.SLUG_RECORD_UNREADABLE(record=RECORD_NAME, reason=exc) from exc

    def source(self, slug_root: Path) -> StaticSource:
        """The slug's STATIC_ROOT, as the upload takes it; each file hashed when scanned."""
        return StaticSource(
            slug_root / self.static_root,
            frozenset(self.immutable),
            frozenset(self.local_only),
            expected_etag,
            pending_links={},
        )


def slug_root(candidates: list[Path]) -> Path:
    """The first folder that holds a record: the working folder, then $HOME (a dyno's /app)."""
    for folder in candidates:
        if (folder / RECORD_NAME).is_file():
            return folder
    return candidates[0]


def default_candidates() -> list[Path]:
    home = os.environ.get("HOME")
    return [Path.cwd(), *([Path(home)] if home else [])]
