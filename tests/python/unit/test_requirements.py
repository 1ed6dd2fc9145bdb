"""The Django version floor the build checks before it starts Django."""

import importlib.metadata

import pytest

from herokuify_buildpack.assets import requirements


@pytest.mark.parametrize(
    ("version", "too_old"),
    [
        ("2.2.28", True),
        ("3.1.14", True),
        ("3.2", False),
        ("3.2.25", False),
        ("4.1.13", False),
        ("5.0rc1", False),
        ("6.0a1", False),
        ("10.0", False),
    ],
)
def test_only_django_older_than_3_2_is_too_old(monkeypatch, version, too_old):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: version)
    assert requirements.too_old_django() == (version if too_old else None)


def test_a_missing_django_is_left_to_the_missing_packages_line(monkeypatch):
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert requirements.too_old_django() is None
