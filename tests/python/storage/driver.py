"""Runs storage operations in a configured Django process and prints their results as JSON.

Usage: DJANGO_SETTINGS_MODULE=... python driver.py '<steps as JSON>'

Each step is {"op": ..., "storage": ..., "name": ...}, where "storage" is a storage alias
("default", "staticfiles", and others from Django 4.2) or a dotted class path, instantiated
with no arguments:
  save    -- saves "source" (a file path, opened as collectstatic does) or "text" under "name";
             the result is the name the storage returns
  url     -- the result is storage.url(name)
  exists  -- the result is storage.exists(name)
  class   -- the result is the storage's dotted class path
The last line of stdout is the JSON list of results, one per step.
"""

import json
import sys

import django
from django.core.files import File
from django.core.files.base import ContentFile
from django.utils.module_loading import import_string


def storage_for(ref):
    if "." in ref:
        return import_string(ref)()
    if django.VERSION >= (4, 2):
        from django.core.files.storage import storages

        return storages[ref]
    # Before Django 4.2 the two aliases are LazyObjects over the legacy settings' classes.
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.files.storage import default_storage

    lazy = {"default": default_storage, "staticfiles": staticfiles_storage}[ref]
    lazy._setup()
    return lazy._wrapped


def run(step):
    storage = storage_for(step["storage"])
    op = step["op"]
    if op == "save":
        if "text" in step:
            return storage.save(step["name"], ContentFile(step["text"].encode()))
        with open(step["source"], "rb") as source:
            return storage.save(step["name"], File(source))
    if op == "url":
        return storage.url(step["name"])
    if op == "exists":
        return storage.exists(step["name"])
    if op == "class":
        return f"{type(storage).__module__}.{type(storage).__qualname__}"
    raise ValueError(f"unknown op {op!r}")


if __name__ == "__main__":
    django.setup()
    print(json.dumps([run(step) for step in json.loads(sys.argv[1])]))
