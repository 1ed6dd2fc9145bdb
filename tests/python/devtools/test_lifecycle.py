"""The CNB lifecycle stand-in against small buildpacks of the tests' own: layer env semantics,
restore on a rebuild, detection and launch.toml (buildpacks/spec buildpack.md, API 0.10)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from herokuify_dev.lifecycle import Lifecycle
from herokuify_dev.transcript import Transcript

BASE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


def buildpack(root: Path, name: str, build: str, detect: str = "exit 0") -> Path:
    """A buildpack whose bin/build and bin/detect are these bash lines."""
    folder = root / name
    (folder / "bin").mkdir(parents=True)
    (folder / "buildpack.toml").write_text(
        f'api = "0.10"\n[buildpack]\nid = "tests/{name}"\nversion = "0.0.1"\n'
    )
    for script, body in (("build", build), ("detect", detect)):
        path = folder / "bin" / script
        path.write_text(f"#!/usr/bin/env bash\nset -euo pipefail\n{body}\n")
        path.chmod(0o755)
    return folder


def env_files(layer: str, files: dict[str, str], types: str) -> str:
    """bash lines that make a layer with these env files (paths relative to the layer)."""
    lines = [f'mkdir -p "$CNB_LAYERS_DIR/{layer}"']
    lines.append(f"printf '[types]\\n{types}\\n' > \"$CNB_LAYERS_DIR/{layer}.toml\"")
    for path, value in files.items():
        lines.append(f'mkdir -p "$(dirname "$CNB_LAYERS_DIR/{layer}/{path}")"')
        lines.append(f"printf '%s' '{value}' > \"$CNB_LAYERS_DIR/{layer}/{path}\"")
    return "\n".join(lines)


DUMP_ENV = (
    'python3 -c "import json, os; print(json.dumps(dict(os.environ)))"'
    ' > "$CNB_LAYERS_DIR/../../seen.json"'
)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "README").write_text("an app\n")
    return folder


def lifecycle(tmp_path: Path, *buildpacks: Path) -> Lifecycle:
    return Lifecycle(
        tmp_path / "platform-root", list(buildpacks), BASE_ENV, Transcript(io.StringIO())
    )


def test_layer_env_semantics_at_build_and_at_launch(tmp_path, app):
    first = buildpack(
        tmp_path,
        "first",
        env_files(
            "a",
            {
                "env/GREETING.default": "from-first",
                "env/SEARCH.prepend": "first",
                "env/SEARCH.delim": ":",
                "env/LIST.append": "first",
                "env/LIST.delim": ",",
                "env/MODE.override": "first",
                "env.launch/ONLY_AT_LAUNCH": "yes",
                "env.launch/web/FOR_WEB": "web-only",
                "bin/.keep": "",
            },
            "build = true\\nlaunch = true",
        )
        + "\n"
        + env_files("hidden", {"env/HIDDEN": "never"}, "cache = true"),
    )
    second = buildpack(
        tmp_path,
        "second",
        env_files(
            "b",
            {
                "env/GREETING.default": "from-second",
                "env/SEARCH.prepend": "second",
                "env/SEARCH.delim": ":",
                "env/LIST.append": "second",
                "env/LIST.delim": ",",
                "env.build/MODE.override": "second-at-build",
            },
            "build = true\\nlaunch = true",
        ),
    )
    third = buildpack(tmp_path, "third", DUMP_ENV)
    cycle = lifecycle(tmp_path, first, second, third)
    assert cycle.build(app, {"USER_VAR": "from-platform"}).ok, cycle.transcript.text

    seen = json.loads((tmp_path / "platform-root" / "seen.json").read_text())
    assert seen["GREETING"] == "from-first"  # the earlier buildpack's default wins
    assert seen["SEARCH"] == "second:first"  # later buildpacks prepend before earlier
    assert seen["LIST"] == "first,second"  # earlier buildpacks' appends come first
    assert seen["MODE"] == "second-at-build"
    assert "ONLY_AT_LAUNCH" not in seen and "HIDDEN" not in seen  # launch-only; not a build layer
    assert seen["USER_VAR"] == "from-platform"  # the platform's env/ files
    first_bin = str(cycle.layers / "tests_first" / "a" / "bin")
    assert seen["PATH"].split(":")[0] == first_bin

    launch = cycle.launch_env({"PATH": "/usr/bin:/bin"}, process="web")
    assert launch["MODE"] == "first"  # env.build/ never reaches launch
    assert launch["ONLY_AT_LAUNCH"] == "yes" and launch["FOR_WEB"] == "web-only"
    assert "USER_VAR" not in launch and "HIDDEN" not in launch  # only the launch layers
    assert launch["PATH"] == f"{first_bin}:/usr/bin:/bin"
    assert "FOR_WEB" not in cycle.launch_env({}, process="worker")


def test_a_rebuild_restores_cached_layers_and_launch_metadata_only(tmp_path, app):
    counting = buildpack(
        tmp_path,
        "counting",
        """
layers="$CNB_LAYERS_DIR"
previous="$(cat "$layers/counter/count" 2>/dev/null || echo 0)"
echo "restored: counter=$previous toml=$(tr '\\n' ' ' < "$layers/counter.toml" 2>/dev/null)"
echo "restored launch-only toml: $(tr '\\n' ' ' < "$layers/shipped.toml" 2>/dev/null)"
echo "restored launch-only dir: $(test -d "$layers/shipped" && echo yes || echo no)"
echo "restored build-only: $(test -e "$layers/tools.toml" && echo yes || echo no)"
mkdir -p "$layers/counter" "$layers/tools"
echo $((previous + 1)) > "$layers/counter/count"
printf '[types]\\ncache = true\\n[metadata]\\nround = "%s"\\n' "$previous" > "$layers/counter.toml"
printf '[types]\\nbuild = true\\n' > "$layers/tools.toml"
if [ "$previous" = 0 ]; then
  mkdir -p "$layers/shipped" && echo v1 > "$layers/shipped/version"
fi
# Kept without its folder on a rebuild: the image reuses the layer of the previous build.
printf '[types]\\nlaunch = true\\n[metadata]\\nbuilt = "round-%s"\\n' "$previous" \\
  > "$layers/shipped.toml"
""",
    )
    cycle = lifecycle(tmp_path, counting)
    first = cycle.build(app, {})
    assert first.ok, first.output
    assert "restored: counter=0 toml=" in first.output

    start = len(cycle.transcript.text)
    assert cycle.build(app, {}).ok, cycle.transcript.text
    second = cycle.transcript.text[start:]
    # Cached: contents and metadata, without [types].
    assert 'restored: counter=1 toml=[metadata] round = "0" ' in second
    # Launch-only: metadata without [types], and no folder.
    assert 'restored launch-only toml: [metadata] built = "round-0" ' in second
    assert "restored launch-only dir: no" in second
    assert "restored build-only: no" in second  # neither cache nor launch: gone
    cycle.launch_env({})
    assert (cycle.layers / "tests_counting" / "shipped" / "version").read_text() == "v1\n"
    assert not (cycle.layers / "tests_counting" / "counter").exists()  # not a launch layer


def test_untyped_layers_are_set_aside_and_processes_come_from_launch_toml(tmp_path, app):
    bp = buildpack(
        tmp_path,
        "procs",
        """
mkdir -p "$CNB_LAYERS_DIR/scratch"
cat > "$CNB_LAYERS_DIR/launch.toml" <<'TOML'
[[processes]]
type = "web"
command = ["gunicorn"]
args = ["app.wsgi"]
default = true
TOML
""",
    )
    cycle = lifecycle(tmp_path, bp)
    assert cycle.build(app, {}).ok, cycle.transcript.text
    assert (cycle.layers / "tests_procs" / "scratch.ignore").is_dir()
    assert cycle.process_command("web") == ["gunicorn", "app.wsgi"]
    with pytest.raises(KeyError):
        cycle.process_command("worker")


@pytest.mark.parametrize(
    ("detect", "expected"),
    [
        ("exit 100", 100),
        ("exit 3", 3),
        # A requirement that no buildpack of the group provides fails the group.
        ('printf \'[[requires]]\\nname = "python"\\n\' > "$CNB_BUILD_PLAN_PATH"', 100),
    ],
    ids=["fails", "errors", "unmet-requirement"],
)
def test_detection_decides_the_group(tmp_path, app, detect, expected):
    cycle = lifecycle(tmp_path, buildpack(tmp_path, "picky", "exit 0", detect=detect))
    result = cycle.build(app, {})
    assert result.returncodes == {"detect": expected}


def test_a_requirement_reaches_the_plan_of_the_buildpack_that_provides_it(tmp_path, app):
    provider = buildpack(
        tmp_path,
        "provider",
        'cp "$CNB_BP_PLAN_PATH" "$CNB_LAYERS_DIR/../../plan-seen.toml"',
        detect='printf \'[[provides]]\\nname = "python"\\n\' > "$CNB_BUILD_PLAN_PATH"',
    )
    user = buildpack(
        tmp_path,
        "user",
        "exit 0",
        detect='printf \'[[requires]]\\nname = "python"\\n\' > "$CNB_BUILD_PLAN_PATH"',
    )
    cycle = lifecycle(tmp_path, provider, user)
    assert cycle.build(app, {}).ok, cycle.transcript.text
    assert (tmp_path / "platform-root" / "plan-seen.toml").read_text() == (
        '[[entries]]\nname = "python"\n'
    )


def test_path_order_user_env_and_per_layer_delimiters(tmp_path, app):
    python = buildpack(
        tmp_path,
        "python",
        "\n".join(
            (
                env_files("python", {"bin/.keep": ""}, "build = true\\nlaunch = true"),
                env_files(
                    "venv",
                    {
                        "bin/.keep": "",
                        "env/FROM_LAYER": "layer",
                        "env/LIST.append": "first",
                        "env/LIST.delim": ",",
                        "env/WHERE.override": "env",
                        "env.build/WHERE.override": "env.build",
                    },
                    "build = true\\nlaunch = true",
                ),
            )
        ),
    )
    later = buildpack(
        tmp_path,
        "later",
        env_files(
            "x",
            {"env/LIST.append": "second", "env/LIST.delim": ";"},
            "build = true\\nlaunch = true",
        ),
    )
    cycle = lifecycle(tmp_path, python, later, buildpack(tmp_path, "dump", DUMP_ENV))
    assert cycle.build(app, {"FROM_LAYER": "user", "PATH": "/user/bin"}).ok, cycle.transcript.text

    seen = json.loads((tmp_path / "platform-root" / "seen.json").read_text())
    layers = cycle.layers / "tests_python"
    # Within one buildpack the layer named last comes first, as heroku/python's venv does.
    assert seen["PATH"].split(":")[:3] == [
        "/user/bin",  # the user's PATH is prepended to the layers'
        str(layers / "venv" / "bin"),
        str(layers / "python" / "bin"),
    ]
    assert seen["FROM_LAYER"] == "user"  # no earlier buildpack changes what the user set
    assert seen["LIST"] == "first;second"  # each layer's own delimiter
    assert seen["WHERE"] == "env.build"  # env.build/ after env/ in the same layer

    launch = cycle.launch_env({"PATH": "/usr/bin"})
    assert launch["PATH"].split(":")[:2] == [
        str(layers / "venv" / "bin"),
        str(layers / "python" / "bin"),
    ]
    assert launch["WHERE"] == "env" and launch["FROM_LAYER"] == "layer"


def test_a_plan_entry_goes_to_the_first_provider_only(tmp_path, app):
    provides = 'printf \'[[provides]]\\nname = "python"\\n\' > "$CNB_BUILD_PLAN_PATH"'
    copy_plan = 'cp "$CNB_BP_PLAN_PATH" "$CNB_LAYERS_DIR/../../plan-{0}.toml"'
    first = buildpack(tmp_path, "first", copy_plan.format("first"), detect=provides)
    second = buildpack(tmp_path, "second", copy_plan.format("second"), detect=provides)
    user = buildpack(
        tmp_path,
        "user",
        "exit 0",
        detect='printf \'[[requires]]\\nname = "python"\\n\' > "$CNB_BUILD_PLAN_PATH"',
    )
    cycle = lifecycle(tmp_path, first, second, user)
    assert cycle.build(app, {}).ok, cycle.transcript.text
    root = tmp_path / "platform-root"
    assert (root / "plan-first.toml").read_text() == '[[entries]]\nname = "python"\n'
    assert (root / "plan-second.toml").read_text() == ""


def test_a_buildpack_listed_twice_runs_once_in_its_first_place(tmp_path, app):
    """Why a step before heroku/python needs an id of its own: the lifecycle passes over an id
    that is already in the group."""
    log = '"$CNB_LAYERS_DIR/../../ran.log"'
    twice = buildpack(tmp_path, "twice", f"echo twice >> {log}")
    middle = buildpack(tmp_path, "middle", f"echo middle >> {log}")
    cycle = lifecycle(tmp_path, twice, middle, twice)
    assert cycle.build(app, {}).ok, cycle.transcript.text
    assert (tmp_path / "platform-root" / "ran.log").read_text() == "twice\nmiddle\n"
