"""The settings heroku/python's own collectstatic loads in a CNB build.

herokuify/django-s3-prepare (cnb-prepare/), before heroku/python in the group, names this module
in DJANGO_SETTINGS_MODULE, with the marker HEROKUIFY_BUILDING=1 and its copy of this package on
PYTHONPATH, in its layer's env.build/. heroku/python runs `manage.py help collectstatic`, then
`manage.py collectstatic --noinput`, from the app root with that environment (buildpacks-python
src/django.rs). So this module is the settings module the app's manage.py names, with the
storage settings this buildpack's build lays over it (settings.py): a STATIC_ROOT, and storages
on local disk. It is what herokuify_settings.py gives the build later, without a file in the app.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from herokuify_buildpack.assets.app import locate_app
from herokuify_buildpack.settings import apply_storage_settings

# heroku/python runs collectstatic only where manage.py is at the app root, from there.
_app = locate_app(Path.cwd(), "manage.py", None)
# What `from <module> import *` brings that Django reads: its settings are the upper-case names.
globals().update(
    (name, value)
    for name, value in vars(importlib.import_module(_app.settings_module)).items()
    if name.isupper()
)
apply_storage_settings(globals(), app_root=_app.root)
