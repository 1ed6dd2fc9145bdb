"""Settings for the media-only fixture: an API-style app without django.contrib.staticfiles,
whose uploads go through default_storage."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("SECRET_KEY", "fixture-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["media_site"]

MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]

ROOT_URLCONF = "media_site.urls"
WSGI_APPLICATION = "media_site.wsgi.application"

DATABASES = {}

USE_TZ = True

MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"
