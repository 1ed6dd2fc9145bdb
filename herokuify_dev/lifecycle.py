"""A stand-in for the CNB lifecycle, for a group of buildpacks on this machine, with no
containers: detect, restore, build, export and launch, as a buildpack can see them.

`pack` and the lifecycle cannot be installed here. What this follows, and where it is written:
buildpacks/spec buildpack.md for Buildpack API 0.10 and platform.md for Platform API 0.12.
- detect (buildpack.md "Detection", "Phase #1: Detection"): each buildpack's bin/detect runs in
  the app dir with CNB_BUILD_PLAN_PATH, CNB_PLATFORM_DIR and CNB_BUILDPACK_DIR; 0 passes, 100
  fails, anything else is an error. Build plans are resolved as trials over the "or" branches.
  A buildpack whose id is already in the group is passed over, as the lifecycle's detector does
  (buildpacks/lifecycle phase/detector.go, detectGroup: hasIDForKind, then continue): one id
  runs at one place in a group, its first.
- restore (buildpack.md "Layer Types", table and "Launch Layers"): a cached layer comes back
  whole, without its [types]; a launch-only layer comes back as its metadata alone; other layers
  never.
- build (buildpack.md "Build", "Phase #5: Build"): each bin/build runs in the app dir with
  CNB_LAYERS_DIR, CNB_BP_PLAN_PATH, CNB_PLATFORM_DIR and CNB_BUILDPACK_DIR. Its environment is
  the platform's, the user's env/ files ("Provided by the Platform"), and the env of earlier
  buildpacks' build layers (layerenv.py). Layers with no type are renamed <layer>.ignore.
- export (buildpack.md "Phase #6: Export"): the image holds the app dir and the launch layers; a
  launch layer whose toml is kept without a folder is reused from the previous image. Cached
  layers go to the cache.
- launch (buildpack.md "Launch", platform.md "Launcher"): the environment is the runtime's plus
  the launch layers' env, and nothing of the build's; the process comes from launch.toml, or
  is a command of the caller's, as `docker run IMAGE COMMAND` gives.
Not followed: [[unmet]] in build.toml, plan entries' metadata, store.toml, SBOMs, exec.d and
extensions; none of the buildpacks here use them.
The image lives in the same paths it was built in, as in a real image, so layer env files that
name absolute paths stay true.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from herokuify_dev.envdir import write_env_dir
from herokuify_dev.layerenv import BUILD, LAUNCH, apply_layers
from herokuify_dev.transcript import Transcript, run

DETECT_PASS, DETECT_FAIL = 0, 100
# Names bin/build may not give a layer (buildpack.md "Phase #5: Build", "Process").
_RESERVED_LAYER_NAMES = {"build", "launch", "store"}
_ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}


@dataclass(frozen=True)
class Buildpack:
    path: Path
    descriptor: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Buildpack:
        return cls(path, tomllib.loads((path / "buildpack.toml").read_text()))

    @property
    def id(self) -> str:
        return str(self.descriptor["buildpack"]["id"])

    @property
    def layers_name(self) -> str:
        """The buildpack's folder under the layers dir: its id with "/" escaped."""
        return self.id.replace("/", "_")

    def supports(self, os_name: str, arch: str) -> bool:
        """buildpack.md "Targets": no targets means linux on any arch, for a bin/build."""
        targets = self.descriptor.get("targets") or [{"os": "linux"}]
        return any(
            target.get("os", os_name) == os_name and target.get("arch", arch) == arch
            for target in targets
        )


@dataclass
class LifecycleResult:
    returncodes: dict[str, int] = field(default_factory=dict)  # by phase, in the order run
    output: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.returncodes) and all(code == 0 for code in self.returncodes.values())


class Lifecycle:
    """One app's builds and launches under ``root``: workspace/ (the app), layers/, platform/,
    cache/ (kept between builds) and image/ (the last export)."""

    def __init__(
        self,
        root: Path,
        buildpacks: list[Path],
        base_env: Mapping[str, str],
        transcript: Transcript,
    ) -> None:
        self.root = root
        loaded = [Buildpack.load(path) for path in buildpacks]
        # A repeated id is passed over (see the module's docstring), before its detect can run.
        self.buildpacks = [
            bp for i, bp in enumerate(loaded) if bp.id not in {b.id for b in loaded[:i]}
        ]
        self.base_env = dict(base_env)
        self.transcript = transcript
        self.workspace = root / "workspace"
        self.layers = root / "layers"
        self.platform = root / "platform"
        self.cache = root / "cache"
        self.image = root / "image"

    # Build ------------------------------------------------------------------------------

    def build(self, app_source: Path, config_vars: Mapping[str, str | bytes]) -> LifecycleResult:
        self._prepare(app_source, config_vars)
        result = LifecycleResult()
        group: list[tuple[Buildpack, list[dict[str, Any]]]] = []
        for phase, step in (
            ("detect", lambda: self._detect(group)),
            ("restore", lambda: self._restore(group)),
            ("build", lambda: self._build(group)),
            ("export", lambda: self._export(group)),
        ):
            result.returncodes[phase] = step()
            if result.returncodes[phase] != 0:
                break
        result.output = self.transcript.text
        return result

    def _prepare(self, app_source: Path, config_vars: Mapping[str, str | bytes]) -> None:
        for folder in (self.workspace, self.layers, self.platform):
            shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(app_source, self.workspace, symlinks=True)
        write_env_dir(self.platform / "env", config_vars)
        self.layers.mkdir(parents=True)
        self.cache.mkdir(parents=True, exist_ok=True)

    def _target_env(self) -> dict[str, str]:
        """buildpack.md "Targets": what the run image is, for detect and build."""
        machine = platform.machine()
        return {"CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": _ARCHES.get(machine, machine)}

    def _detect(self, group: list[tuple[Buildpack, list[dict[str, Any]]]]) -> int:
        plans: list[tuple[Buildpack, list[dict[str, Any]]]] = []
        target = self._target_env()
        for index, buildpack in enumerate(self.buildpacks):
            if not buildpack.supports(target["CNB_TARGET_OS"], target["CNB_TARGET_ARCH"]):
                self.transcript.error(f"{buildpack.id} declares no target for {target}")
                return DETECT_FAIL
            plan_path = self.root / f"detect-plan-{index}.toml"
            plan_path.unlink(missing_ok=True)
            plan_path.touch()
            env = {
                **self._build_env([]),
                **target,
                "CNB_BUILD_PLAN_PATH": str(plan_path),
                "CNB_PLATFORM_DIR": str(self.platform),
                "CNB_BUILDPACK_DIR": str(buildpack.path),
            }
            code = run([buildpack.path / "bin" / "detect"], self.transcript, env, self.workspace)
            if code == DETECT_FAIL:
                self.transcript.error(f"{buildpack.id} did not pass detection")
                return DETECT_FAIL
            if code != DETECT_PASS:
                self.transcript.error(f"{buildpack.id}'s detect failed with {code}")
                return code
            plans.append((buildpack, _alternatives(tomllib.loads(plan_path.read_text()))))
        entries = _resolve(plans)
        if entries is None:
            self.transcript.error("no build plan of the group has every requirement provided")
            return DETECT_FAIL
        group.extend(zip([bp for bp, _ in plans], entries, strict=True))
        return 0

    def _restore(self, group: list[tuple[Buildpack, list[dict[str, Any]]]]) -> int:
        previous = self._image_metadata()
        for buildpack, _ in group:
            layers = self.layers / buildpack.layers_name
            layers.mkdir(parents=True, exist_ok=True)
            cached = self.cache / buildpack.layers_name
            for toml in sorted(cached.glob("*.toml")) if cached.is_dir() else []:
                shutil.copytree(cached / toml.stem, layers / toml.stem, symlinks=True)
                _write_without_types(toml, layers / toml.name)
            for name, metadata in previous.get(buildpack.layers_name, {}).items():
                types = metadata.get("types", {})
                launch_only = types.get("launch") and not types.get("cache")
                if launch_only and not types.get("build"):
                    _write_without_types_data(metadata, layers / f"{name}.toml")
        return 0

    def _build(self, group: list[tuple[Buildpack, list[dict[str, Any]]]]) -> int:
        done: list[Buildpack] = []
        for buildpack, entries in group:
            layers = self.layers / buildpack.layers_name
            plan_path = self.root / f"buildpack-plan-{buildpack.layers_name}.toml"
            plan_path.write_text(_plan_toml(entries))
            env = {
                **self._build_env(done),
                **self._target_env(),
                "CNB_LAYERS_DIR": str(layers),
                "CNB_BP_PLAN_PATH": str(plan_path),
                "CNB_PLATFORM_DIR": str(self.platform),
                "CNB_BUILDPACK_DIR": str(buildpack.path),
            }
            code = run([buildpack.path / "bin" / "build"], self.transcript, env, self.workspace)
            if code != 0:
                self.transcript.error(f"{buildpack.id}'s build failed with {code}")
                return code
            problem = _check_layers(layers)
            if problem:
                self.transcript.error(f"{buildpack.id}: {problem}")
                return 1
            done.append(buildpack)
        return 0

    def _build_env(self, done: list[Buildpack]) -> dict[str, str]:
        """The platform's env, earlier buildpacks' build layers, then the user's env/ files on
        top (buildpack.md "Provided by the Platform": layer path variables are prepended,
        others override, so no earlier buildpack changes what the user set)."""
        env = dict(self.base_env)
        for buildpack in done:
            apply_layers(env, self._typed_layers(buildpack, "build"), BUILD)
        user_env = self.platform / "env"
        for file in sorted(user_env.iterdir()) if user_env.is_dir() else []:
            value = os.fsdecode(file.read_bytes())
            if file.name in ("PATH", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "PKG_CONFIG_PATH"):
                value = f"{value}{os.pathsep}{env[file.name]}" if env.get(file.name) else value
            env[file.name] = value
        return env

    def _typed_layers(self, buildpack: Buildpack, kind: str) -> list[Path]:
        """The buildpack's layers with ``[types] kind = true``, in name order."""
        folder = self.layers / buildpack.layers_name
        return [
            folder / toml.stem
            for toml in sorted(folder.glob("*.toml"), key=lambda toml: toml.stem)
            if _types(toml).get(kind) and (folder / toml.stem).is_dir()
        ]

    def _export(self, group: list[tuple[Buildpack, list[dict[str, Any]]]]) -> int:
        previous_image = self.root / "image.previous"
        shutil.rmtree(previous_image, ignore_errors=True)
        if self.image.is_dir():
            self.image.rename(previous_image)
        self.image.mkdir()
        shutil.copytree(self.workspace, self.image / "workspace", symlinks=True)
        metadata: dict[str, dict[str, Any]] = {}
        processes: list[dict[str, Any]] = []
        for buildpack, _ in group:
            layers = self.layers / buildpack.layers_name
            kept: dict[str, Any] = {}
            cache = self.cache / buildpack.layers_name
            shutil.rmtree(cache, ignore_errors=True)
            for toml in sorted(layers.glob("*.toml")):
                if toml.stem in ("launch", "build", "store"):
                    continue
                data = tomllib.loads(toml.read_text())
                types = data.get("types", {})
                source = layers / toml.stem
                if types.get("launch"):
                    reused = previous_image / "layers" / buildpack.layers_name / toml.stem
                    origin = source if source.is_dir() else reused
                    if not origin.is_dir():
                        self.transcript.error(f"{buildpack.id}: layer {toml.stem} has no content")
                        return 1
                    target = self.image / "layers" / buildpack.layers_name / toml.stem
                    shutil.copytree(origin, target, symlinks=True)
                    kept[toml.stem] = data
                if types.get("cache") and source.is_dir():
                    shutil.copytree(source, cache / toml.stem, symlinks=True)
                    shutil.copy2(toml, cache / toml.name)
            metadata[buildpack.layers_name] = kept
            launch_toml = layers / "launch.toml"
            if launch_toml.is_file():
                processes.extend(tomllib.loads(launch_toml.read_text()).get("processes", []))
        shutil.rmtree(previous_image, ignore_errors=True)
        (self.image / "metadata.json").write_text(
            json.dumps({"layers": metadata, "processes": processes}, indent=1)
        )
        return 0

    def _image_metadata(self) -> dict[str, dict[str, Any]]:
        path = self.image / "metadata.json"
        return json.loads(path.read_text())["layers"] if path.is_file() else {}

    # Launch -----------------------------------------------------------------------------

    def launch_env(
        self, runtime_env: Mapping[str, str], process: str | None = None
    ) -> dict[str, str]:
        """The image's launch environment: the runtime's (such as config vars), then every
        launch layer's, in group order. Nothing of the build's environment is in it."""
        self._materialize_image()
        env = dict(runtime_env)
        for buildpack in self.buildpacks:
            folder = self.layers / buildpack.layers_name
            names = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
            apply_layers(env, [folder / name for name in names], LAUNCH, process)
        return env

    def process_command(self, process: str) -> list[str]:
        """A process type's command and args from the image's launch.toml entries."""
        metadata = json.loads((self.image / "metadata.json").read_text())
        found = [entry for entry in metadata["processes"] if entry["type"] == process]
        if not found:
            raise KeyError(f"the image has no process {process!r}")
        return [*found[-1]["command"], *found[-1].get("args", [])]

    def _materialize_image(self) -> None:
        """Puts the image's app and launch layers, and nothing else, where they were built."""
        for folder in (self.workspace, self.layers):
            shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(self.image / "workspace", self.workspace, symlinks=True)
        if (self.image / "layers").is_dir():
            shutil.copytree(self.image / "layers", self.layers, symlinks=True)
        else:
            self.layers.mkdir()


def _types(toml: Path) -> dict[str, Any]:
    return dict(tomllib.loads(toml.read_text()).get("types", {}))


def _write_without_types(source: Path, target: Path) -> None:
    _write_without_types_data(tomllib.loads(source.read_text()), target)


def _write_without_types_data(data: Mapping[str, Any], target: Path) -> None:
    """Restored metadata keeps everything but [types] (buildpack.md "Reusing Layers")."""
    metadata = data.get("metadata", {})
    target.write_text(_toml_table("metadata", metadata) if metadata else "")


def _check_layers(layers: Path) -> str | None:
    """After a bin/build: reserved names are refused, and untyped layers are set aside."""
    for entry in sorted(layers.iterdir()):
        if entry.is_dir() and entry.name in _RESERVED_LAYER_NAMES:
            return f"a layer may not be named {entry.name!r}"
        toml = layers / f"{entry.name}.toml"
        ignored = not toml.is_file() or not any(_types(toml).values())
        if entry.is_dir() and not entry.name.endswith(".ignore") and ignored:
            entry.rename(layers / f"{entry.name}.ignore")
    return None


def _alternatives(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A detect plan's potential build plans: the top level, then each "or" entry."""
    top = {"provides": plan.get("provides", []), "requires": plan.get("requires", [])}
    return [top, *({"provides": o.get("provides", []), "requires": o.get("requires", [])}
                   for o in plan.get("or", []))]  # fmt: skip


def _resolve(
    plans: list[tuple[Buildpack, list[dict[str, Any]]]],
) -> list[list[dict[str, Any]]] | None:
    """The first trial, left to right and depth first, in which every requirement is provided
    by the same or an earlier buildpack and every provision is required by the same or a later
    one (buildpack.md "Phase #1: Detection"). Returns each buildpack's plan entries."""

    def trial(index: int, chosen: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        if index == len(plans):
            return chosen if _holds(chosen) else None
        for alternative in plans[index][1]:
            found = trial(index + 1, [*chosen, alternative])
            if found is not None:
                return found
        return None

    chosen = trial(0, [])
    if chosen is None:
        return None
    required_by_name: dict[str, list[dict[str, Any]]] = {}
    for alternative in chosen:
        for entry in alternative["requires"]:
            required_by_name.setdefault(entry["name"], []).append(entry)
    # Each name's entries go to the first buildpack that provides it ("Unmet Buildpack Plan
    # Entries": only an unmet entry passes on to the next provider).
    plans: list[list[dict[str, Any]]] = []
    given: set[str] = set()
    for alternative in chosen:
        names = [p["name"] for p in alternative["provides"] if p["name"] not in given]
        given.update(names)
        plans.append([entry for name in names for entry in required_by_name.get(name, [])])
    return plans


def _holds(chosen: list[dict[str, Any]]) -> bool:
    for index, alternative in enumerate(chosen):
        before = {p["name"] for alt in chosen[: index + 1] for p in alt["provides"]}
        after = {r["name"] for alt in chosen[index:] for r in alt["requires"]}
        if any(req["name"] not in before for req in alternative["requires"]):
            return False
        if any(prov["name"] not in after for prov in alternative["provides"]):
            return False
    return True


def _plan_toml(entries: list[dict[str, Any]]) -> str:
    """The Buildpack Plan (buildpack.md "Buildpack Plan (TOML)"): [[entries]] with name."""
    return "".join(f"[[entries]]\nname = {json.dumps(entry['name'])}\n" for entry in entries)


def _toml_table(name: str, values: Mapping[str, Any]) -> str:
    lines = [f"[{name}]"]
    for key, value in values.items():
        if not isinstance(value, str | int | bool):
            raise ValueError(f"the stand-in writes only flat string, int and bool metadata: {key}")
        shown = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
        lines.append(f"{key} = {shown}")
    return "\n".join(lines) + "\n"
