"""Django alone: what an app's own build does for its static files, in one process, with local
storages, for issue 23's "unchanged redeploy at most 1.2x Django alone". Run by bench.run with
the app's Python, from the app's folder, with DJANGO_SETTINGS_MODULE set:

    python bench/djangoalone.py

It starts Django, runs ``collectstatic --link`` into STATIC_ROOT (which a new checkout does not
have yet), then ``compress --force`` if the app has django-compressor with COMPRESS_OFFLINE, as
herokuify's build does. It prints one JSON line: the files linked, and whether it compressed.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> int:
    # The app's folder in place of this script's, as manage.py's own folder would be.
    sys.path[0] = os.getcwd()
    import django
    from django.apps import apps
    from django.conf import settings
    from django.contrib.staticfiles.management.commands import collectstatic
    from django.core.management import call_command

    django.setup()
    command = collectstatic.Command()
    call_command(command, link=True, interactive=False, verbosity=0)
    compressed = apps.is_installed("compressor") and bool(settings.COMPRESS_OFFLINE)
    if compressed:
        call_command("compress", force=True, verbosity=0)
    print(json.dumps({"collected": len(command.symlinked_files), "compressed": compressed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
