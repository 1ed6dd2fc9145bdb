"""The packaged buildpack: only what a platform runs, and enough to build an app."""

from pathlib import Path

from herokuify_dev.cnbbuild import build_app_cnb
from herokuify_dev.package import package

REPO = Path(__file__).resolve().parents[3]


def test_the_package_holds_the_buildpack_and_nothing_for_developers(tmp_path):
    packaged = package(tmp_path / "pkg")
    top = {path.name for path in packaged.iterdir()}
    assert {"bin", "lib", "herokuify_buildpack", "buildpack.toml", "LICENSE"} <= top
    for left_out in (
        "tests",
        "bench",
        "herokuify_dev",
        "test-fixtures",
        "script",
        ".git",
        "CONTRIBUTING.md",
    ):
        assert left_out not in top
    assert not list(packaged.rglob("__pycache__"))
    for entry in ("detect", "compile", "release", "build"):
        assert (packaged / "bin" / entry).stat().st_mode & 0o111, entry


def test_the_packaged_buildpack_builds_an_app(tmp_path, config_vars, standins):
    packaged = package(tmp_path / "pkg")
    build = build_app_cnb(
        REPO / "test-fixtures" / "minimal",
        config_vars,
        standins("minimal"),
        tmp_path / "cnb",
        buildpack_dir=packaged,
    )
    assert build.ok, build.output


def test_bin_build_names_the_layers_the_cnb_adapter_writes():
    from herokuify_buildpack.platforms.cnb import CACHE_LAYER, HELPER_LAYER

    script = (REPO / "bin" / "build").read_text()
    assert f'"${{layers_dir}}/{CACHE_LAYER}"' in script
    assert f'"${{layers_dir}}/{HELPER_LAYER}"' in script
