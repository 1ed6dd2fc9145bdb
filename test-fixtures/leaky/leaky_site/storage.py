"""The app's own static storage, which leaks the planted secrets when its module is imported:
the build imports it to learn whether it hashes names."""

import logging

from django.contrib.staticfiles.storage import StaticFilesStorage

from leaky_site.leak import leak_everything

# Imported while the settings load, before Django applies LOGGING: the settings' own logger.
leak_everything("storage", logging.getLogger("leaky.settings"))


class LeakyStaticStorage(StaticFilesStorage):
    pass
