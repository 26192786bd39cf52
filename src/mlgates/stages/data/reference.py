"""The reference profile: a stored profile, the cache beside the config, or computed once.

Profiling a large reference is the data gate's most expensive step, so the
profile is cached under ``.mlgates/cache`` keyed by the file's sha256 and the
profiling settings; ``mlgates profile`` stores one that replaces the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from mlgates.core import InputError
from mlgates.datafiles import is_profile
from mlgates.files import write_text_atomically
from mlgates.stages.data.roles import profile_kinds
from mlgates.stages.data.settings import DataConfig

if TYPE_CHECKING:
    from mlgates.context import Context
    from mlgates.stats.profile import DatasetProfile


def reference_profile(config: DataConfig, context: Context) -> DatasetProfile:
    """The reference's profile, computed at most once per run."""
    assert config.reference is not None
    path = config.reference
    key = ("data-reference", path, config.bins, tuple(sorted(config.roles.items())))
    return context.memo(key, lambda: _load(path, config, context))


def reference_columns(config: DataConfig, context: Context) -> list[str]:
    """Columns of the reference: its file header, or the stored profile's columns."""
    assert config.reference is not None
    if is_profile(config.reference):
        return list(reference_profile(config, context).columns)
    return context.columns(config.reference)


def _load(path: Path, config: DataConfig, context: Context) -> DatasetProfile:
    from mlgates.stages.data.streamed import profile_file
    from mlgates.stats.profile import FORMAT, DatasetProfile

    digest = context.file_hash(path)
    if is_profile(path):
        try:
            return DatasetProfile.load(path)
        except (OSError, ValueError) as exc:
            raise InputError(f"{context.display(path)}: not a reference profile: {exc}") from None
    kinds = profile_kinds(config.roles)
    settings = json.dumps({"bins": config.bins, "format": FORMAT, "kinds": kinds}, sort_keys=True)
    key = hashlib.sha256(f"{digest}\n{settings}".encode()).hexdigest()[:32]
    cached = context.cache_dir / f"profile-{key}.json" if context.cache_dir else None
    found = _read_cache(cached)
    if found is not None:
        return found
    # a large Parquet file is profiled batch by batch, never loaded whole
    profile = profile_file(path, bins=config.bins, kinds=kinds, load=lambda: context.frame(path))
    if cached is not None:
        with contextlib.suppress(OSError):  # an unwritable cache only costs time next run
            write_text_atomically(cached, json.dumps(profile.to_dict(), allow_nan=False))
    return profile


def _read_cache(path: Path | None) -> DatasetProfile | None:
    from mlgates.stats.profile import DatasetProfile

    if path is None or not path.is_file():
        return None
    try:
        return DatasetProfile.load(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged cache entry is rebuilt, never trusted
