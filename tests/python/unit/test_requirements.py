"""The Django version floor the build checks before it starts Django."""

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
def test_only_django_older_than_3_2_is_too_old(version, too_old):
    assert requirements.too_old_django(version) is too_old


def test_the_installed_django_is_read_without_importing_it():
    import django

    version = requirements.installed_django()
    assert version is not None and django.get_version().startswith(version)


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
def test_django_3_2_and_4_0_need_python_3_12_at_the_newest(django, python, newest):
    """They import cgi, which Python 3.13 removed; 4.1 and later do not."""
    found = requirements.python_too_new_for_django(django, python)
    if newest is None:
        assert found is None
    else:
        shown = ".".join(map(str, python))
        assert found == requirements.PythonTooNew(django=django, python=shown, newest=newest)
