"""Static storages for test_settings.py to name by dotted path, as an app's settings would: one
that hashes names without "Manifest" in its name, and one that has the word but does not."""

from django.contrib.staticfiles.storage import ManifestFilesMixin, StaticFilesStorage


class FingerprintedStorage(ManifestFilesMixin, StaticFilesStorage):
    pass


class ManifestlessLookalikeStorage(StaticFilesStorage):
    pass
