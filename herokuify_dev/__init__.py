"""Developer and test tooling for herokuify-buildpack (not part of the slug).

Its botocore signs in Python, as the build's does (see herokuify_buildpack/pythonsigning.py):
requirements-dev.txt installs awscrt for the build's CRT upload path, and botocore's own use of
it left the local build hanging after Ctrl-C now and then, while the suite ran.
"""

import herokuify_buildpack.pythonsigning  # noqa: F401
