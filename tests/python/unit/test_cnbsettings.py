"""The settings module heroku/python's collectstatic loads in a CNB build (cnbsettings.py), as
heroku/python starts it: from the app root, with the prepare buildpack's environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from herokuify_buildpack.platforms.cnb import PREPARED_SETTINGS

REPO = Path(__file__).resolve().parents[3]
PROBE = (
    "from django.conf import settings; "
    "print(settings.STATIC_ROOT); print(settings.STORAGES['staticfiles']['BACKEND']); "
    "print(settings.SECRET_KEY); print(settings.STATIC_URL)"
)


def test_the_app_settings_that_manage_py_names_with_a_static_root_on_local_disk(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    subprocess.run([sys.executable, "-m", "django", "startproject", "mysite", str(app)], check=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": PREPARED_SETTINGS,
        "HEROKUIFY_BUILDING": "1",
        "AWS_ACCESS_KEY_ID": "id",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_STORAGE_BUCKET_NAME": "the-bucket",
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PROBE}"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    static_root, backend, secret_key, static_url = done.stdout.splitlines()
    assert static_root == str(app / "staticfiles")
    assert backend == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert "django-insecure" in secret_key  # the app's own, from mysite.settings
    assert static_url == "https://the-bucket.s3.us-east-1.amazonaws.com/static/"
    # And heroku/python's own probe and run of collectstatic pass.
    for command in (["help", "collectstatic"], ["collectstatic", "--noinput"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=app, env=env, capture_output=True
        )
        assert done.returncode == 0, done.stderr
    assert (app / "staticfiles" / "admin" / "css" / "base.css").is_file()
