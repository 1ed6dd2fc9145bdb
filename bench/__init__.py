"""Benchmark of herokuify against django-storages, Collectfasta and bare boto3 (see README.md)."""
