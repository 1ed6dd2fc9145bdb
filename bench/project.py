"""A generated Django project with N static files of mixed types and sizes, deterministic by seed.

Its app ``assets`` holds the generated files under ``static/bench/``; Django's admin brings its
own static files. Settings modules, one per tool:

- ``benchsite.settings``: the app's own settings (local static files), what herokuify builds.
- ``benchsite.settings_s3``: plain django-storages, ``S3StaticStorage`` straight to the bucket.
- ``benchsite.settings_collectfasta``: the same, through Collectfasta's ``Boto3Strategy``.
- ``benchsite.settings_collectfasta_hashed``: Collectfasta with hashed names
  (``S3ManifestStaticStorage`` and its ``Boto3ManifestMemoryStrategy``).

Stylesheets reference generated images and fonts with relative ``url()``s, so hashed names
(ManifestStaticFilesStorage) rewrite them as they would in a real app.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

APP = "assets"
STATIC_SUBDIR = Path(APP) / "static" / "bench"
FILES_PER_FOLDER = 200
KB = 1024
MB = 1024 * KB

# Extension -> folder. Binary kinds get random (incompressible) bytes after a short header.
_TEXT_KINDS = {"css": "css", "js": "js", "svg": "icons", "json": "data"}
_BINARY_KINDS = {"png": "img", "woff2": "fonts"}
# Shares of the generated files, by kind (they add up to 1).
_MIX = (("css", 0.15), ("js", 0.25), ("svg", 0.15), ("json", 0.10), ("png", 0.25), ("woff2", 0.10))
_HEADERS = {"png": b"\x89PNG\r\n\x1a\n", "woff2": b"wOF2"}
# Words for text bodies: none of them spells url(, @import or sourceMappingURL, which
# ManifestStaticFilesStorage would try to resolve.
_WORDS = (  # noqa: SIM905 (a list literal would take a line per word)
    "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega color margin "
    "padding border width height flex grid align justify content items center left right "
    "top bottom function return const let value index array object string number render "
    "update state props event target handler listener module export default import from "
    "class extends"
).split()

_SETTINGS = '''\
"""Settings of the generated benchmark project: an app with many static files, plus the admin."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "assets",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "benchsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
'''

_SETTINGS_S3 = '''\
"""Plain django-storages: collectstatic writes each file straight to the bucket."""

import os

from .settings import *  # noqa: F403

AWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]
AWS_SECRET_ACCESS_KEY = os.environ["AWS_SECRET_ACCESS_KEY"]
AWS_STORAGE_BUCKET_NAME = os.environ["AWS_STORAGE_BUCKET_NAME"]
AWS_S3_ENDPOINT_URL = os.environ["AWS_S3_ENDPOINT_URL"]
AWS_S3_REGION_NAME = "us-east-1"
STORAGES = {
    "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    "staticfiles": {
        "BACKEND": "storages.backends.s3.S3StaticStorage",
        "OPTIONS": {"location": "static"},
    },
}
'''

_SETTINGS_COLLECTFASTA = '''\
"""Collectfasta 3.x over django-storages, configured as its documentation says."""

from .settings_s3 import *  # noqa: F403

# Collectfasta's collectstatic must come before django.contrib.staticfiles'.
INSTALLED_APPS = ["collectfasta", *INSTALLED_APPS]  # noqa: F405
COLLECTFASTA_STRATEGY = "collectfasta.strategies.boto3.Boto3Strategy"
COLLECTFASTA_THREADS = 20
# Collectfasta warns when the cache holds fewer entries than there are files.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
}
'''

_SETTINGS_COLLECTFASTA_HASHED = '''\
"""Collectfasta 3.x with hashed names: S3ManifestStaticStorage, hashed in memory, then uploaded."""

from .settings_collectfasta import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {
        "BACKEND": "storages.backends.s3.S3ManifestStaticStorage",
        "OPTIONS": {"location": "static"},
    },
}
COLLECTFASTA_STRATEGY = "collectfasta.strategies.boto3.Boto3ManifestMemoryStrategy"
'''

_MANAGE = """\
#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


@dataclass(frozen=True)
class GeneratedProject:
    root: Path
    files: list[str]  # generated files, relative to the app's static/ folder
    total_bytes: int


def _size(rng: random.Random, kind: str, index: int, big: set[int]) -> int:
    if index in big:
        return rng.randint(1 * MB, 5 * MB)
    if rng.random() < 0.03:
        return rng.randint(50 * KB, 300 * KB)
    # Log-uniform between 1 KB and 50 KB: most files are small, as in real apps.
    return int(KB * 50 ** rng.random())


def _kinds(rng: random.Random, count: int) -> list[str]:
    kinds = [kind for kind, share in _MIX for _ in range(round(share * count))]
    kinds = (kinds + ["js"] * count)[:count]
    rng.shuffle(kinds)
    return kinds


def _corpus(rng: random.Random, size: int) -> str:
    lines = []
    total = 0
    while total < size:
        line = " ".join(rng.choices(_WORDS, k=rng.randint(4, 14)))
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines)


def _text(rng: random.Random, corpus: str, size: int, name: str, prelude: str) -> bytes:
    start = rng.randrange(0, len(corpus) - size) if len(corpus) > size else 0
    body = corpus[start : start + size]
    # Body text sits inside a comment in every text kind, so files stay well-formed enough.
    text = {
        "css": f"/* {name} */\n{prelude}/*\n{body}\n*/\n.x-{rng.getrandbits(32):08x} {{ }}\n",
        "js": f"// {name}\n/*\n{body}\n*/\nexport const id = {rng.getrandbits(32)};\n",
        "svg": f'<svg xmlns="http://www.w3.org/2000/svg"><!-- {name}\n{body}\n--></svg>\n',
        "json": f'{{"name": "{name}", "text": "{body.replace(chr(10), " ")}"}}\n',
    }[name.rsplit(".", 1)[1]]
    return text.encode()


def generate(root: Path, count: int, requirements: str, seed: int = 1) -> GeneratedProject:
    """Write the project to ``root`` (which must not exist yet), with this requirements.txt."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    (root / "manage.py").write_text(_MANAGE)
    site = root / "benchsite"
    site.mkdir()
    (site / "__init__.py").write_text("")
    (site / "settings.py").write_text(_SETTINGS)
    (site / "settings_s3.py").write_text(_SETTINGS_S3)
    (site / "settings_collectfasta.py").write_text(_SETTINGS_COLLECTFASTA)
    (site / "settings_collectfasta_hashed.py").write_text(_SETTINGS_COLLECTFASTA_HASHED)
    (site / "urls.py").write_text("urlpatterns = []\n")
    (root / "requirements.txt").write_text(requirements)
    app = root / APP
    app.mkdir()
    (app / "__init__.py").write_text("")

    kinds = _kinds(rng, count)
    big = set(rng.sample(range(count), max(2, count // 1000)))
    names: list[str] = []
    per_kind: dict[str, int] = {}
    for kind in kinds:
        number = per_kind.get(kind, 0)
        per_kind[kind] = number + 1
        folder = _TEXT_KINDS.get(kind) or _BINARY_KINDS[kind]
        names.append(f"bench/{folder}/d{number // FILES_PER_FOLDER:03d}/f{number:06d}.{kind}")
    assets = [n for n in names if n.endswith((".png", ".woff2"))]
    corpus = _corpus(rng, 6 * MB)

    static = app / "static"
    total = 0
    for index, name in enumerate(names):
        kind = name.rsplit(".", 1)[1]
        size = _size(rng, kind, index, big)
        if kind in _BINARY_KINDS:
            data = _HEADERS[kind] + rng.randbytes(size)
        else:
            prelude = ""
            if kind == "css" and assets:
                # Relative references from bench/css/dNNN/ to generated images and fonts.
                refs = rng.sample(assets, min(len(assets), rng.randint(1, 3)))
                prelude = "".join(
                    f'.r{i} {{ background: url("../../{ref.removeprefix("bench/")}"); }}\n'
                    for i, ref in enumerate(refs)
                )
            data = _text(rng, corpus, size, name, prelude)
        path = static / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
    return GeneratedProject(root, names, total)


def fresh_copy(source: Path, target: Path) -> None:
    """Copy without keeping modification times, as a new checkout has new ones."""
    shutil.copytree(
        source,
        target,
        copy_function=shutil.copy,
        ignore=shutil.ignore_patterns("staticfiles", "__pycache__", "*.sqlite3"),
    )


def change_files(root: Path, files: list[str], fraction: float, seed: int = 2) -> list[str]:
    """Change the content of ``fraction`` of the generated files (at least one); their names."""
    rng = random.Random(seed)
    chosen = sorted(rng.sample(files, max(1, round(len(files) * fraction))))
    static = root / APP / "static"
    for name in chosen:
        path = static / name
        data = path.read_bytes()
        if name.endswith((".png", ".woff2")):
            # Same size, new bytes after the header: only the content tells the change.
            data = data[:8] + rng.randbytes(16) + data[24:]
        else:
            marker = {"json": b" ", "svg": b"<!-- changed -->\n"}.get(name.rsplit(".", 1)[1])
            data += marker or b"/* changed */\n"
        path.write_bytes(data)
    return chosen
