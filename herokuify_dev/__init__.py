"""Developer and test tooling for herokuify-buildpack (not part of the slug).

Its botocore signs in Python, as the build's does (see herokuify_buildpack/pythonsigning.py),
although requirements-dev.txt installs awscrt for the build's CRT upload path: the tools and
the tests talk to S3 as the build's own botocore does.
"""

import herokuify_buildpack.pythonsigning  # noqa: F401
