"""Large Parquet files summarised batch by batch, so the data gate runs in bounded memory.

A Parquet file of more than :data:`STREAM_ROWS` rows is never loaded whole to
be profiled: a reference is profiled in two passes over its batches
(:mod:`mlgates.stats.streaming`), and current data in one, when no check needs
the whole frame (a pandera schema or a Great Expectations suite validates every
row in memory). That one pass also keeps the first batch (for the type checks)
and, for the compliance scan, the values of text columns at a uniform sample
of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlgates.datafiles import ParquetBatches, data_format

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlgates.context import Context
    from mlgates.stages.data.settings import DataConfig
    from mlgates.stats.profile import DatasetProfile

STREAM_ROWS = 2_000_000
"""Parquet files with more rows than this are read batch by batch."""

BATCH_ROWS = 65_536
"""Rows per batch."""


def large_parquet(path: Path) -> ParquetBatches | None:
    """The batches of ``path`` when it is a Parquet file of more than :data:`STREAM_ROWS` rows."""
    if data_format(path) != "parquet":
        return None
    source = ParquetBatches(path, batch_rows=BATCH_ROWS)
    return source if source.rows > STREAM_ROWS else None


def profile_file(
    path: Path, *, bins: int, kinds: Mapping[str, str], load: Callable[[], pd.DataFrame]
) -> DatasetProfile:
    """The reference profile of a data file: batch by batch when large, else of ``load()``.

    ``kinds`` (column -> kind) may name columns the file does not have.
    """
    source = large_parquet(path)
    if source is not None:
        from mlgates.stats.streaming import stream_profile

        present = {name: kind for name, kind in kinds.items() if name in source.columns}
        return stream_profile(source, source.columns, kinds=present, bins=bins)
    from mlgates.stats.profile import profile_dataset

    frame = load()
    names = {str(c) for c in frame.columns}
    present = {name: kind for name, kind in kinds.items() if name in names}
    return profile_dataset(frame, bins=bins, kinds=present)


def streams_current(config: DataConfig) -> bool:
    """Whether the current data is summarised batch by batch rather than loaded."""
    if config.reference is None or config.schema is not None or config.expectations is not None:
        return False
    return large_parquet(config.current) is not None


@dataclass
class StreamedCurrent:
    """What one pass over large current data yields in place of the frame.

    ``head`` is the first batch; ``samples`` hold the values of the text columns
    (by the first batch's types) at ``sampled`` rows drawn uniformly, and
    ``present`` their non-missing values in the whole file; ``nulls`` counts the
    missing values of every column.
    """

    profile: DatasetProfile | None = None
    head: pd.DataFrame | None = None
    samples: dict[str, list[pd.Series]] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    nulls: dict[str, int] = field(default_factory=dict)

    def sample(self, column: str) -> pd.Series:
        """The sampled values of a text column."""
        import pandas as pd

        parts = self.samples.get(column, [])
        return pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=object)


def stream_current(
    config: DataConfig, context: Context, reference: DatasetProfile, *, sample_rows: int
) -> StreamedCurrent:
    """Summarise the current data on ``reference`` in one pass, with ``sample_rows`` text rows."""
    from mlgates.stats.columns import type_family
    from mlgates.stats.streaming import row_sample, stream_profile_against

    source = large_parquet(config.current)
    assert source is not None
    context.file_hash(config.current)
    sampled = row_sample(source.rows, sample_rows, seed=0)
    found = StreamedCurrent()

    def observe(batch: pd.DataFrame, offset: int) -> None:
        if found.head is None:
            found.head = batch.copy()
            texts = [c for c in batch.columns if type_family(batch[c]) == "text"]
            found.samples = {str(c): [] for c in texts}
        for name, missing in batch.isna().sum().items():
            found.nulls[str(name)] = found.nulls.get(str(name), 0) + int(missing)
        rows = _rows_in(sampled, offset, len(batch))
        for name, parts in found.samples.items():
            values = batch[name]
            found.present[name] = found.present.get(name, 0) + int(values.notna().sum())
            parts.append(values.iloc[rows])

    found.profile = stream_profile_against(reference, source, source.columns, observe=observe)
    return found


def _rows_in(sampled: np.ndarray, offset: int, length: int) -> np.ndarray:
    """Positions within a batch of the sampled rows it holds."""
    import numpy as np

    start, stop = np.searchsorted(sampled, [offset, offset + length])
    return np.asarray(sampled[start:stop] - offset)
