"""``mlgates init``: a starting config and an inferred pandera schema, for the user to edit."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlgates.config import CONFIG_FILE
from mlgates.core import ConfigError, InputError

SCHEMA_FILE = "mlgates.schema.yaml"

_TEMPLATE = """\
# mlgates configuration: what the data must satisfy before a model ships.
# Thresholds use one grammar everywhere: "metric op bound", e.g.
#   "missing_share <= reference + 0.05"   (compared with the same column in the reference)
#   "drift_share <= 0.25"                 (share of columns that drifted)
# Every path is relative to this file. See docs/configuration.md for every key.

[mlgates]
on_inconclusive = "fail"              # an undecidable check blocks ("warn" lets it pass, visibly)
first_run = "inconclusive"            # or "pass": history bounds are skipped until a run passed
history = ".mlgates/history.jsonl"
report = ".mlgates/report.html"

[data]
reference = {reference}
current = {current}{current_note}
schema = "{schema}"  # inferred from the reference: review ranges and categories
checks = [
  "missing_share <= reference + 0.05",
  "drift_share <= 0.25",
  "row_count >= {min_rows}",
]
# Drift is checked per column by default: Wasserstein distance for numbers and
# Jensen-Shannon distance for categories, each called only when beyond its threshold
# AND beyond sampling noise (drift_confidence, split over the columns).
drift_confidence = 0.99
min_rows = 100
exclude = [{exclude}]  # identifiers: new rows bring new values

# Per-column overrides:
# [data.columns.income]
# method = "psi"
# checks = ["drift <= 0.2", "missing_share <= 0.01"]
"""


def _relative(path: Path, directory: Path) -> str:
    return Path(os.path.relpath(path.resolve(), directory.resolve())).as_posix()


def write_starter(
    *, reference: Path, current: Path | None, directory: Path, force: bool = False
) -> list[Path]:
    """Write ``mlgates.toml`` and ``mlgates.schema.yaml`` into ``directory``.

    Raises :class:`ConfigError` if either exists and ``force`` is false, and
    :class:`InputError` if a data file cannot be read.
    """
    from mlgates.context import read_frame
    from mlgates.stages.data.schema import infer_schema, write_schema

    for path, name in ((reference, "--reference"), (current, "--current")):
        if path is not None and not path.is_file():
            raise InputError(f"{name} {path}: file not found")
    config_path = directory / CONFIG_FILE
    schema_path = directory / SCHEMA_FILE
    existing = [p for p in (config_path, schema_path) if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise ConfigError(f"{names} already exists; pass --force to overwrite")
    frame = read_frame(reference)
    directory.mkdir(parents=True, exist_ok=True)
    identifiers = [
        str(c)
        for c in frame.columns
        if frame[c].is_unique
        and len(frame) > 100
        and str(frame[c].dtype) in ("int64", "object", "str", "string")
    ]
    write_schema(infer_schema(frame, identifiers=identifiers), schema_path)
    config_path.write_text(
        _TEMPLATE.format(
            reference=json.dumps(_relative(reference, directory)),
            current=json.dumps(_relative(current or reference, directory)),
            current_note="" if current else "   # point this at the new batch to check",
            schema=SCHEMA_FILE,
            min_rows=max(1, min(len(frame) // 10, 1000)),
            exclude=", ".join(json.dumps(c) for c in identifiers),
        ),
        encoding="utf-8",
    )
    return [config_path, schema_path]
