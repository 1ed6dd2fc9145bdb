"""Imported first by each process of the build and by ``python -m herokuify_buildpack``, for its
effect: their botocore signs in Python, as it would without awscrt.

Where awscrt is installed, botocore signs with it, and reads each request's body through a
Python stream to do so. When s3transfer aborts a multipart upload, that read raises, and awscrt
prints the traceback to stderr itself, past every handler. botocore reads BOTO_DISABLE_CRT when
it is first imported. The build's single PUTs still go through awscrt's own S3 client
(upload/crtputs.py), which reads files in C.
"""

import os

os.environ.setdefault("BOTO_DISABLE_CRT", "true")
