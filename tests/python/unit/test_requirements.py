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


@pytest.mark.parametrize(
    ("django", "python", "newest"),
    [
        ("3.2.25", (3, 13, 0), "3.12"),
        ("3.2.25", (3, 14, 2), "3.12"),
        ("4.0.10", (3, 13, 1), "3.12"),
        ("3.2.25", (3, 12, 1), None),
        ("4.0.10", (3, 11, 7), None),
        ("4.1.13", (3, 13, 0), None),
        ("4.2.30", (3, 13, 0), None),
        ("5.2.19", (3, 14, 0), None),
    ],
)
def test_django_3_2_and_4_0_need_python_3_12_at_the_newest(monkeypatch, django, python, newest):
    """They import cgi, which Python 3.13 removed; 4.1 and later do not."""
    monkeypatch.setattr(importlib.metadata, "version", lambda name: django)
    found = requirements.python_too_new_for_django(python)
    if newest is None:
        assert found is None
    else:
        shown = ".".join(map(str, python))
        assert found == requirements.PythonTooNew(django=django, python=shown, newest=newest)


def test_a_missing_django_has_no_python_to_check(monkeypatch):
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert requirements.python_too_new_for_django((3, 13, 0)) is None
