"""The Lambda bundle of a service: `stepsaga package`, and what `stepsaga deploy` uploads.

Every function of a service (each task handler and the API trigger) is a handler of the same
module, `<service>.lambda_entry`, so each function's zip is the same zip: one bundle per
service, content-addressed (`<service>-<sha256>.zip`), uploaded once.

What goes in, and nothing else:

- **stepsaga's and the service's packages that `<service>.lambda_entry` imports**, found by
  importing it in a fresh interpreter and listing `sys.modules`: each such package's own
  modules (not its subpackages, unless imported too), so a module a package imports lazily (the
  trigger's routes load on its first request) is there when it is needed. That is the lean
  runtime: no engine, command line, bench, render, ASL model or moto;
- **the runtime distributions stepsaga declares** (`pip install stepsaga`'s requirements:
  pydantic, boto3, Powertools with its tracer), installed by pip for the *target*, not for this
  machine: `pip install --target ... --platform manylinux2014_x86_64 --python-version 3.12
  --implementation cp --only-binary=:all:`, so pydantic-core is Lambda's build. The wheels are
  kept in a wheelhouse (`~/.cache/stepsaga/wheelhouse/<target>`, or `STEPSAGA_CACHE_DIR`) and the
  installed tree beside it, so a second build is offline and takes a second or two.

boto3 and botocore are bundled by default, although the Lambda runtime has them: the runtime's
copy changes when AWS updates it, with no notice, while a bundle pins the version stepsaga was
tested with (AWS's own advice for production functions). `include_boto3=False` leaves them out
(boto3, botocore, s3transfer, jmespath), for a smaller zip.

Zips are reproducible: entries sorted, timestamps fixed, no `__pycache__`, so an unchanged
service gives the same digest and the same S3 key, and `stepsaga deploy` uploads nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from stepsaga.infra.aws.deploy._template import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME
from stepsaga.infra.project import Service

__all__ = (
    "LAMBDA_TARGET",
    "Bundle",
    "BundleError",
    "Target",
    "build_bundle",
    "bundle_manifest",
    "runtime_requirements",
)

_CACHE_VARIABLE = "STEPSAGA_CACHE_DIR"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Provided by the Lambda Python runtime; left out with include_boto3=False.
_BOTO = ("boto3", "botocore", "s3transfer", "jmespath")
_SKIPPED_PARTS = frozenset({"__pycache__", "bin"})


class BundleError(RuntimeError):
    """A bundle cannot be built; the message says which step failed and pip's own words."""


@dataclass(frozen=True, slots=True)
class Target:
    """The interpreter and platform a bundle is built for.

    Attributes:
        python_version: `major.minor` (`3.12`).
        platform: pip's platform tag (`manylinux2014_x86_64`).
        implementation: pip's implementation tag (`cp`).
    """

    python_version: str
    platform: str
    implementation: str = "cp"

    @classmethod
    def running(cls) -> Target:
        """This interpreter on this machine (Linux): the bundle the import test can load."""
        if sys.platform != "linux":
            raise BundleError(f"bundles are built for Linux; this is {sys.platform}")
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        return cls(version, f"manylinux2014_{platform.machine()}")

    @property
    def name(self) -> str:
        """A folder-safe name (`cp3.12-manylinux2014_x86_64`)."""
        return f"{self.implementation}{self.python_version}-{self.platform}"


LAMBDA_TARGET = Target(
    LAMBDA_RUNTIME.removeprefix("python"),
    f"manylinux2014_{LAMBDA_ARCHITECTURE}",
)
"""What the template's functions run on: Python 3.12, x86_64."""


@dataclass(frozen=True, slots=True)
class Bundle:
    """A built bundle.

    Attributes:
        path: The zip file.
        digest: Its SHA-256, hex; the file is named after its first 16 characters.
        zipped_bytes: The zip's size.
        unzipped_bytes: The size of its files once unpacked (Lambda allows 250 MB).
        files: How many files it holds.
        functions: The handler names of the functions that run it (and `Trigger`).
        modules: The stepsaga and service modules it holds, by name.
    """

    path: Path
    digest: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    functions: tuple[str, ...]
    modules: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """The content-addressed S3 key (`bundles/<file name>`)."""
        return f"bundles/{self.path.name}"


def _cache_root(cache: Path | None) -> Path:
    if cache is not None:
        return cache
    configured = os.environ.get(_CACHE_VARIABLE)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "stepsaga"


def runtime_requirements() -> list[str]:
    """`pip install stepsaga`'s own requirements (no extras), as pip reads them."""
    requirements = []
    for requirement in metadata.requires("stepsaga") or ():
        if "extra ==" not in requirement:
            requirements.append(requirement)
    return sorted(requirements)


def _pip(arguments: list[str], what: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"{what} failed (pip exit {done.returncode}):\n{done.stderr.strip()}")


def _dependencies(
    target: Target, requirements: list[str], cache: Path, include_boto3: bool
) -> Path:
    """The target's installed dependencies, built once per (target, requirements, boto3)."""
    key = hashlib.sha256(
        json.dumps([target.name, requirements, include_boto3]).encode()
    ).hexdigest()[:16]
    tree = cache / "deps" / f"{target.name}-{key}"
    if (tree / ".complete").is_file():
        return tree
    wheelhouse = cache / "wheelhouse" / target.name
    wheelhouse.mkdir(parents=True, exist_ok=True)
    platform_options = [
        "--platform",
        target.platform,
        "--python-version",
        target.python_version,
        "--implementation",
        target.implementation,
        "--only-binary=:all:",
    ]
    staging = Path(tempfile.mkdtemp(prefix="deps-", dir=cache))
    install = [
        "install",
        "--quiet",
        "--no-compile",
        "--target",
        str(staging),
        *platform_options,
        "--no-index",
        "--find-links",
        str(wheelhouse),
        *requirements,
    ]
    try:
        try:
            _pip(install, "installing from the wheelhouse")
        except BundleError:
            # Not all wheels are there yet: fetch them once, then install offline.
            _pip(
                [
                    "download",
                    "--quiet",
                    "--dest",
                    str(wheelhouse),
                    *platform_options,
                    *requirements,
                ],
                f"downloading the {target.name} wheels",
            )
            shutil.rmtree(staging)
            staging.mkdir()
            _pip(install, "installing from the wheelhouse")
        if not include_boto3:
            _remove_distributions(staging, _BOTO)
        for part in _SKIPPED_PARTS:
            shutil.rmtree(staging / part, ignore_errors=True)
        (staging / ".complete").touch()
        tree.parent.mkdir(parents=True, exist_ok=True)
        # Another build (a second pytest worker) may have finished first: keep its tree, which
        # may be in use, and drop ours.
        if not (tree / ".complete").is_file():
            shutil.rmtree(tree, ignore_errors=True)  # an interrupted build's leftovers
            try:
                staging.rename(tree)
            except OSError:
                if not (tree / ".complete").is_file():
                    raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tree


def _remove_distributions(tree: Path, names: Iterable[str]) -> None:
    for name in names:
        shutil.rmtree(tree / name, ignore_errors=True)
        for info in tree.glob(f"{name}-*.dist-info"):
            shutil.rmtree(info)


_DISCOVER = """
import json, sys
top = set(sys.argv[2:])
__import__(sys.argv[1])
found = []
for name, module in sorted(sys.modules.items()):
    if name.partition(".")[0] in top and getattr(module, "__file__", None):
        found.append([name, module.__file__, hasattr(module, "__path__")])
print(json.dumps(found))
"""


def _service_modules(service: Service, start: Path) -> list[tuple[str, Path, bool]]:
    """(name, file, is package) of every stepsaga and service module the entry module loads."""
    entry = f"{service.module}.lambda_entry"
    tops = sorted({"stepsaga", service.module.partition(".")[0]})
    path = [str(start), *(p for p in sys.path if p)]
    done = subprocess.run(
        [sys.executable, "-c", _DISCOVER, entry, *tops],
        capture_output=True,
        text=True,
        check=False,
        cwd=start,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
    )
    if done.returncode != 0:
        raise BundleError(f"importing {entry} failed:\n{done.stderr.strip()}")
    return [(name, Path(file), package) for name, file, package in json.loads(done.stdout)]


def _module_path(name: str, package: bool) -> str:
    parts = name.split(".")
    return "/".join(parts) + ("/__init__.py" if package else ".py")


def build_bundle(
    service: Service,
    out: Path,
    *,
    target: Target = LAMBDA_TARGET,
    include_boto3: bool = True,
    cache: Path | None = None,
    start: Path | None = None,
) -> Bundle:
    """Build the service's Lambda bundle into the folder `out`.

    Args:
        service: The loaded service; it must have a `lambda_entry` module.
        out: The folder the zip is written to (created if missing).
        target: The interpreter and platform (default: the template's, `LAMBDA_TARGET`).
        include_boto3: Bundle boto3 and botocore (see the module docstring for why).
        cache: The wheelhouse and dependency cache (default `~/.cache/stepsaga`, or
            `STEPSAGA_CACHE_DIR`).
        start: The project folder the service is imported from (default: the working one).

    Returns:
        The bundle, with its sizes.

    Raises:
        BundleError: The entry module does not import, or pip cannot fetch or install a
            dependency for the target (its message is included).
    """
    root = _cache_root(cache)
    root.mkdir(parents=True, exist_ok=True)
    deps = _dependencies(target, runtime_requirements(), root, include_boto3)
    modules = _service_modules(service, (start or Path.cwd()).resolve())
    entries: dict[str, Path] = {}
    for file in sorted(deps.rglob("*")):
        relative = file.relative_to(deps)
        if file.is_file() and not _SKIPPED_PARTS & set(relative.parts) and file.name != ".complete":
            entries[relative.as_posix()] = file
    for name, file, package in modules:
        entries[_module_path(name, package)] = file
        if package:
            # The package's own modules, imported or not yet: lazy imports must find them.
            for sibling in sorted(file.parent.glob("*.py")):
                if sibling.name != "__init__.py":
                    entries.setdefault(f"{name.replace('.', '/')}/{sibling.name}", sibling)
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".{service.name}.zip.partial"
    unzipped = 0
    with zipfile.ZipFile(
        staging, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
    ) as archive:
        for name in sorted(entries):
            data = entries[name].read_bytes()
            unzipped += len(data)
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    digest = hashlib.sha256(staging.read_bytes()).hexdigest()
    path = out / f"{service.name}-{digest[:16]}.zip"
    staging.replace(path)
    functions = tuple(dict.fromkeys(h for saga in service.sagas.values() for h in saga.handlers()))
    return Bundle(
        path=path,
        digest=digest,
        zipped_bytes=path.stat().st_size,
        unzipped_bytes=unzipped,
        files=len(entries),
        functions=(*functions, "Trigger"),
        modules=tuple(name for name, _, _ in modules),
    )


def bundle_manifest(bundle: Bundle) -> Mapping[str, object]:
    """What `stepsaga package --json` prints for a bundle."""
    return {
        "path": str(bundle.path),
        "key": bundle.key,
        "sha256": bundle.digest,
        "zippedBytes": bundle.zipped_bytes,
        "unzippedBytes": bundle.unzipped_bytes,
        "files": bundle.files,
        "functions": list(bundle.functions),
    }
