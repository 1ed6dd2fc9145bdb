"""herokuify-buildpack: a Django app's static and media files on S3, set up by the build."""

__version__ = "0.2.0"
