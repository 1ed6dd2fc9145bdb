"""Heroku's Python runtime, made here from a local Python, and served where heroku/python
downloads it.

Heroku's runtime (heroku/python's builds/build_python_runtime.sh) is an install prefix (bin,
lib, include, share) built with --enable-shared and no RUNPATH, so libpython is found only
through LD_LIBRARY_PATH; with no test modules, no pip in site-packages, and .pyc files
compiled with unchecked hashes. It ships as a pax tar compressed with zstd, named
``python-X.Y.Z-ubuntu-24.04-amd64.tar.zst``. ``runtime_archive`` makes the same from a local
(pyenv) Python, once per version and recipe; ``unpacked_runtime`` is that archive unpacked, for
the stand-ins. ``RuntimeServer`` answers heroku/python's download over HTTPS, through a
``.curlrc`` that sends the download's host to it and trusts a CA of its own: the buildpack
itself is run unmodified, and curl still checks TLS.
"""

from __future__ import annotations

import fcntl
import http.server
import os
import re
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from herokuify_dev.httpthread import serving
from herokuify_dev.pythons import PythonNotFound, python_for

CACHE_ROOT = Path.home() / ".cache" / "herokuify-buildpack" / "runtimes"
# Bump when the way an archive is made changes, so old archives are not reused.
RECIPE = "1"
UBUNTU = "24.04"  # heroku-24, the stack the builds here name
ARCHIVE_NAME = re.compile(r"/python-(\d+)\.(\d+)\.(\d+)-ubuntu-([\d.]+)-(\w+)\.tar\.zst")
# Left out of Heroku's runtime: test suites, tools it deletes, and what pyenv adds.
_LEFT_OUT_DIRS = {"test", "tests", "idle_test", "__pycache__"}
_LEFT_OUT_BIN = re.compile(r"^(idle|pydoc|2to3|pip|easy_install)")


@dataclass(frozen=True)
class LocalPython:
    executable: Path
    version: str  # X.Y.Z
    prefix: Path

    @property
    def minor(self) -> str:
        return self.version.rsplit(".", 1)[0]

    @classmethod
    def of(cls, executable: Path) -> LocalPython:
        code = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.base_prefix)"
        probe = subprocess.run(
            [executable, "-I", "-c", code], capture_output=True, text=True, check=True
        )
        version, prefix = probe.stdout.split("\n")[:2]
        return cls(Path(executable), version, Path(prefix))


def archive_name(version: str, arch: str | None = None) -> str:
    return f"python-{version}-ubuntu-{UBUNTU}-{arch or debian_arch()}.tar.zst"


def debian_arch() -> str:
    found = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or "amd64"


def runtime_archive(python: LocalPython) -> Path:
    """The runtime archive of ``python``, made once (one maker at a time across processes)."""
    folder = CACHE_ROOT / RECIPE
    archive = folder / archive_name(python.version)
    if archive.is_file():
        return archive
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / f"{archive.name}.lock"):
        if archive.is_file():
            return archive
        with tempfile.TemporaryDirectory(dir=folder) as work:
            stage = Path(work) / "prefix"
            _stage_prefix(python, stage)
            partial = Path(work) / archive.name
            _pack(stage, partial)
            partial.rename(archive)
    return archive


def unpacked_runtime(python: LocalPython) -> Path:
    """The runtime archive unpacked, as heroku/python unpacks it into .heroku/python."""
    archive = runtime_archive(python)
    target = archive.with_name(archive.name.removesuffix(".tar.zst"))
    if target.is_dir():
        return target
    with _locked(archive.with_name(f"{target.name}.lock")):
        if target.is_dir():
            return target
        partial = Path(tempfile.mkdtemp(dir=archive.parent, prefix=f"{target.name}.tmp-"))
        try:
            unpack(archive, partial)
            partial.rename(target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return target


def unpack(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "--extract", "--zstd", "-C", target, "-f", archive], check=True)


def _stage_prefix(python: LocalPython, stage: Path) -> None:
    site_packages = python.prefix / "lib" / f"python{python.minor}" / "site-packages"

    def left_out(folder: str, names: list[str]) -> set[str]:
        here = Path(folder)
        out = {name for name in names if name in _LEFT_OUT_DIRS or name.endswith(".a")}
        if here == python.prefix:
            out |= {name for name in names if name not in ("bin", "lib", "include", "share")}
        elif here == python.prefix / "bin":
            out |= {name for name in names if _LEFT_OUT_BIN.match(name)}
        elif here == site_packages:
            out |= {name for name in names if name != "README.txt"}
        return out

    shutil.copytree(python.prefix, stage, symlinks=True, ignore=left_out)
    bin_dir = stage / "bin"
    (bin_dir / "python").unlink(missing_ok=True)
    (bin_dir / "python").symlink_to("python3")
    for path in stage.rglob("*"):
        if path.is_file() and not path.is_symlink() and _is_elf(path):
            subprocess.run(["patchelf", "--remove-rpath", path], check=True)
    env = {"PATH": os.defpath, "LD_LIBRARY_PATH": str(stage / "lib")}
    compile_cmd = [bin_dir / "python3", "-I", "-m", "compileall", "-q", "-f", "-j", "0"]
    compile_cmd += ["--invalidation-mode", "unchecked-hash", stage / "lib"]
    # compileall exits 1 for the few stdlib files that are templates, not Python (lib2to3's).
    subprocess.run(compile_cmd, env=env, check=False, stdout=subprocess.DEVNULL)


def _is_elf(path: Path) -> bool:
    """An executable or shared library: the ELF files that can carry a RUNPATH."""
    with path.open("rb") as file:
        header = file.read(18)
    return header[:4] == b"\x7fELF" and header[16:18] in (b"\x02\x00", b"\x03\x00")


def _pack(stage: Path, archive: Path) -> None:
    tar = ["tar", "--create", "--format=pax", "--sort=name", "-C", stage, "."]
    with archive.open("wb") as out:
        packer = subprocess.Popen(tar, stdout=subprocess.PIPE)
        assert packer.stdout is not None
        compressed = subprocess.run(["zstd", "-q", "-T0", "-3"], stdin=packer.stdout, stdout=out)
        packer.stdout.close()
        if packer.wait() != 0 or compressed.returncode != 0:
            raise RuntimeError(f"could not pack the runtime from {stage}")


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# Serving it -----------------------------------------------------------------------------


@dataclass
class Served:
    """What the server answered: the version asked for, and the local Python that was sent."""

    asked: str
    sent: str | None  # None: no local Python of that minor version


@dataclass
class RuntimeServer:
    """An HTTPS server that answers for ``host``. ``curl_home`` holds the ``.curlrc`` that
    sends curl there; give the build CURL_HOME=curl_home."""

    host: str
    curl_home: Path
    ca_cert: Path
    port: int = 0
    served: list[Served] = field(default_factory=list)

    def write_curlrc(self, curl_home: Path, ca_cert_as_seen: str) -> None:
        """A .curlrc in ``curl_home`` that sends curl here and trusts this server's CA, which
        the build sees at ``ca_cert_as_seen``; readable by a build run as another user."""
        (curl_home / ".curlrc").write_text(
            f'connect-to = "{self.host}:443:127.0.0.1:{self.port}"\ncacert = "{ca_cert_as_seen}"\n'
        )
        for readable in (curl_home, curl_home / ".curlrc"):
            readable.chmod(0o755 if readable.is_dir() else 0o644)


@contextmanager
def runtime_server(host: str, folder: Path) -> Iterator[RuntimeServer]:
    """Serves the runtime of any local Python of the minor version asked for, under the name
    asked for: the nearest patch release is the one installed here (``served`` says which)."""
    from herokuify_dev import certs

    authority = certs.authority(folder)
    server_cert = certs.issue(authority, host, folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_cert.cert, server_cert.key)
    state = RuntimeServer(host, folder, authority.cert)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = ARCHIVE_NAME.fullmatch(self.path)
            if found is None:
                self.send_error(404)
                return
            asked = ".".join(found.group(1, 2, 3))
            try:
                python = LocalPython.of(python_for(f"{found[1]}.{found[2]}"))
            except PythonNotFound:
                state.served.append(Served(asked, None))
                self.send_error(404)
                return
            archive = runtime_archive(python)
            state.served.append(Served(asked, python.version))
            self.send_response(200)
            self.send_header("Content-Type", "application/zstd")
            self.send_header("Content-Length", str(archive.stat().st_size))
            self.end_headers()
            with archive.open("rb") as file:
                shutil.copyfileobj(file, self.wfile)

        def log_message(self, format: str, *args: object) -> None:
            return  # the build's own output says what it downloaded

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.port = httpd.server_address[1]
    state.write_curlrc(folder, str(authority.cert))
    authority.cert.chmod(0o644)
    with serving(httpd, "runtime-server"):
        yield state
