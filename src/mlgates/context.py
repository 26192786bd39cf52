"""Loads data files once per run, hashes every file used, and caches reference profiles."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgates.core import InputError
from mlgates.files import write_text_atomically

if TYPE_CHECKING:
    import pandas as pd

    from mlgates.stats.profile import DatasetProfile

DATA_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".tsv")
PROFILE_SUFFIX = ".json"


def _is_csv(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".csv", ".csv.gz", ".tsv"))


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_columns(path: Path) -> list[str]:
    """Column names of a data file, reading only its header."""
    try:
        if _is_parquet(path):
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if _is_csv(path):
            import gzip

            opener: Callable[..., Any] = gzip.open if path.name.lower().endswith(".gz") else open
            with opener(path, "rt", newline="", encoding="utf-8") as handle:
                delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
                return next(csv.reader(handle, delimiter=delimiter), [])
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the header: {exc}") from None
    raise InputError(f"{path}: unsupported data file; use one of {', '.join(DATA_SUFFIXES)}")


def read_frame(path: Path) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet file into a DataFrame, with a clear error on failure."""
    import pandas as pd

    try:
        if _is_parquet(path):
            return pd.read_parquet(path)
        if _is_csv(path):
            separator = "\t" if path.name.lower().endswith(".tsv") else ","
            return pd.read_csv(path, sep=separator, engine="pyarrow")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except Exception as exc:  # pandas/pyarrow raise many types for a malformed file
        raise InputError(f"{path}: cannot read as data: {type(exc).__name__}: {exc}") from None
    raise InputError(f"{path}: unsupported data file; use one of {', '.join(DATA_SUFFIXES)}")


class Context:
    """Everything a run reads, loaded once and shared by the stages.

    Parameters
    ----------
    root:
        Directory that relative paths in reports are shown against.
    cache_dir:
        Where reference profiles are cached, keyed by the file's sha256;
        ``None`` disables the cache.
    """

    def __init__(self, root: Path, *, cache_dir: Path | None = None) -> None:
        self.root = root
        self.cache_dir = cache_dir
        self._frames: dict[Path, pd.DataFrame] = {}
        self._hashes: dict[Path, str] = {}
        self._profiles: dict[tuple[Path, str], DatasetProfile] = {}
        self._columns: dict[Path, list[str]] = {}

    def display(self, path: Path) -> str:
        """``path`` relative to the root when it lies below it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def file_hash(self, path: Path) -> str:
        """sha256 of a file, computed once per run."""
        if path not in self._hashes:
            try:
                self._hashes[path] = sha256_file(path)
            except OSError as exc:
                raise InputError(f"{self.display(path)}: cannot read: {exc.strerror}") from None
        return self._hashes[path]

    @property
    def files(self) -> dict[str, str]:
        """Every file used so far, as display path -> sha256."""
        return {self.display(path): digest for path, digest in sorted(self._hashes.items())}

    def columns(self, path: Path) -> list[str]:
        """Column names of a data file (header only)."""
        if path in self._frames:
            return [str(c) for c in self._frames[path].columns]
        if path not in self._columns:
            self._columns[path] = read_columns(path)
        return self._columns[path]

    def frame(self, path: Path) -> pd.DataFrame:
        """The data in ``path``, read once per run. Do not modify it."""
        if path not in self._frames:
            self.file_hash(path)
            self._frames[path] = read_frame(path)
        return self._frames[path]

    def reference_profile(
        self,
        path: Path,
        *,
        build: Callable[[pd.DataFrame], DatasetProfile],
        settings: Mapping[str, Any],
    ) -> DatasetProfile:
        """The profile of a reference file: a stored profile, the cache, or ``build``.

        A ``.json`` path is a profile written by ``mlgates profile``. Otherwise
        the profile is computed from the data with ``build`` and cached under
        ``cache_dir`` keyed by the file's sha256 and ``settings``.
        """
        from mlgates.stats.profile import DatasetProfile

        settings_key = json.dumps(dict(settings), sort_keys=True, default=str)
        memo_key = (path, settings_key)
        if memo_key in self._profiles:
            return self._profiles[memo_key]
        digest = self.file_hash(path)
        if path.name.lower().endswith(PROFILE_SUFFIX):
            try:
                profile = DatasetProfile.load(path)
            except (OSError, ValueError) as exc:
                raise InputError(f"{self.display(path)}: not a reference profile: {exc}") from None
        else:
            key = hashlib.sha256(f"{digest}\n{settings_key}".encode()).hexdigest()[:32]
            cached = self.cache_dir / f"profile-{key}.json" if self.cache_dir else None
            found = self._load_cached(cached)
            if found is None:
                profile = build(self.frame(path))
                if cached is not None:
                    write_text_atomically(cached, json.dumps(profile.to_dict()))
            else:
                profile = found
        self._profiles[memo_key] = profile
        return profile

    @staticmethod
    def _load_cached(path: Path | None) -> DatasetProfile | None:
        from mlgates.stats.profile import DatasetProfile

        if path is None or not path.is_file():
            return None
        try:
            return DatasetProfile.load(path)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache entry is rebuilt, never trusted
