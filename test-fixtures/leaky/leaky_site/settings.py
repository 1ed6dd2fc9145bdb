"""Settings for the leaky fixture: an app whose code prints its secrets while the build runs.

The build must mask all of it. leak.py says how each secret is printed.
"""

import logging
import os
import sys
from pathlib import Path

from leaky_site.leak import leak_everything

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "leaky_site",
]

ROOT_URLCONF = "leaky_site.urls"

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_FINDERS = ["leaky_site.finders.LeakyFinder"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "leaky_site.storage.LeakyStaticStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
        },
    },
    "loggers": {"leaky": {"handlers": ["stderr"], "level": "INFO"}},
}

# While the settings load, before Django applies LOGGING: a handler of the settings' own.
_settings_logger = logging.getLogger("leaky.settings")
_settings_logger.addHandler(logging.StreamHandler(sys.stderr))
_settings_logger.propagate = False
leak_everything("settings", _settings_logger)
