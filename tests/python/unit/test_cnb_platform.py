"""What the CNB adapter says heroku/python's collectstatic did before it, in each case."""

from __future__ import annotations

import pytest

from herokuify_buildpack.config import Config
from herokuify_buildpack.platforms.cnb import PREPARE_ID, PREPARED_SETTINGS, CnbPlatform

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "i",
    "AWS_SECRET_ACCESS_KEY": "s",
    "AWS_STORAGE_BUCKET_NAME": "bkt",
}
AGAIN = "collecting again, with links, for the upload"
CASES = {
    "prepared": (
        "manage.py", PREPARED_SETTINGS, {},
        f"ran with {PREPARED_SETTINGS} ({PREPARE_ID}), to local disk; {AGAIN}",
    ),
    "no-prepare": (
        "manage.py", "mysite.settings", {},
        f"the app's own settings; {AGAIN}. With {PREPARE_ID} before heroku/python, it needs no "
        "STATIC_ROOT",
    ),
    "keep": (
        "manage.py", None, {"HEROKUIFY_KEEP_SETTINGS_MODULE": "1"},
        f"ran with the app's own settings; {AGAIN}",
    ),
    "config-var": (
        "manage.py", "site.prod", {"DJANGO_SETTINGS_MODULE": "site.prod"},
        "ran with site.prod, the DJANGO_SETTINGS_MODULE config var",
    ),
    "subfolder": (
        "backend/manage.py", PREPARED_SETTINGS, {},
        "skipped its collectstatic: manage.py is not at the app root",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("manage_py", "module", "config_vars", "said"), CASES.values(), ids=CASES)
def test_earlier_collectstatic(tmp_path, manage_py, module, config_vars, said):
    platform = CnbPlatform(tmp_path, manage_py, module)
    config = Config.from_env({**CREDENTIALS, **config_vars})
    assert said in platform.earlier_collectstatic(config)
