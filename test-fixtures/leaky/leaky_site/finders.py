"""A staticfiles finder that leaks the planted secrets when collectstatic lists its files."""

import logging

from django.contrib.staticfiles.finders import AppDirectoriesFinder

from leaky_site.leak import leak_everything


class LeakyFinder(AppDirectoriesFinder):
    def list(self, ignore_patterns):
        # The "leaky" logger writes to stderr through the handler of the app's LOGGING.
        leak_everything("finder", logging.getLogger("leaky"))
        return super().list(ignore_patterns)
