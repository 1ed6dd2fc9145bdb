"""The app's assets made ready on local disk: the app and its settings module, collectstatic and
compress, and the hashing that runs beside them. Nothing here talks to the bucket."""
