"""The three helpers herokuish's Go wrapper (herokuish.go) adds to its bash, so that its bash
runs unmodified here: ``yaml-keys`` and ``yaml-get`` read YAML on stdin and walk the keys given,
``asset-cat`` prints files that the wrapper embeds (herokuish's own folder, here).

    python -m herokuify_dev.herokuishtools HEROKUISH_DIR yaml-get KEY... < FILE
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml


def _walk(data: Any, keys: list[str]) -> Any:
    for key in keys:
        if data is None:
            break
        data = data.get(key) if isinstance(data, dict) else None
    return data


def yaml_keys(text: str, keys: list[str]) -> list[str]:
    found = _walk(yaml.safe_load(text), keys)
    return [str(key) for key in found] if isinstance(found, dict) else []


def yaml_get(text: str, keys: list[str]) -> list[str]:
    """A string as it is, a map as key=value lines, a list an item a line; else nothing."""
    found = _walk(yaml.safe_load(text), keys)
    if isinstance(found, str):
        return [found]
    if isinstance(found, dict):
        return [f"{key}={value}" for key, value in found.items()]
    if isinstance(found, list):
        return [str(item) for item in found]
    return []


def main(argv: list[str]) -> int:
    herokuish_dir, tool, *args = argv
    if tool == "asset-cat":
        for name in args:
            asset = Path(herokuish_dir) / name
            if not asset.is_file():
                return 2
            sys.stdout.buffer.write(asset.read_bytes())
        return 0
    reader = {"yaml-keys": yaml_keys, "yaml-get": yaml_get}[tool]
    for line in reader(sys.stdin.read(), args):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
