"""Everything a run reads, loaded once and shared by the stages.

Data files are read once and hashed (the hashes go into the run record);
models are loaded once per file content, and predictions computed once per
(model, data, method), so the performance, fairness and operational stages
share them. Stages keep their own derived values in :meth:`Context.memo`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mlgates.core import InputError

if TYPE_CHECKING:
    import pandas as pd

_T = TypeVar("_T")


class Context:
    """The inputs of one run.

    Parameters
    ----------
    root:
        The config file's directory: paths in reports are shown relative to it.
    cache_dir:
        Where stages may keep caches between runs (``None``: no cache).
    now:
        The time of the run, the one "now" every check measures against (the
        data gate's ``freshness``); by default the clock's when the context is
        made. A naive datetime is taken as UTC. Tests pin it here.
    """

    def __init__(
        self, root: Path, *, cache_dir: Path | None = None, now: datetime | None = None
    ) -> None:
        self.root = root
        self.cache_dir = cache_dir
        if now is None:
            now = datetime.now(timezone.utc)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        self.now: datetime = now.astimezone(timezone.utc)
        self._hashes: dict[Path, str] = {}
        self._frames: dict[Path, pd.DataFrame] = {}
        self._columns: dict[Path, list[str]] = {}
        self._memo: dict[Hashable, Any] = {}

    def display(self, path: Path) -> str:
        """``path`` relative to the root when it lies below it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def file_hash(self, path: Path) -> str:
        """sha256 of a file (or of a directory's files, such as an MLflow model), computed
        once per run; the file joins the run's provenance."""
        from mlgates.datafiles import sha256_file, sha256_tree

        if path not in self._hashes:
            try:
                self._hashes[path] = sha256_tree(path) if path.is_dir() else sha256_file(path)
            except OSError as exc:
                raise InputError(f"{self.display(path)}: cannot read: {exc.strerror}") from None
        return self._hashes[path]

    @property
    def files(self) -> dict[str, str]:
        """Every file used so far, as display path -> sha256."""
        return {self.display(path): digest for path, digest in sorted(self._hashes.items())}

    def columns(self, path: Path) -> list[str]:
        """Column names of a data file (its header only, unless the data is loaded)."""
        from mlgates.datafiles import read_columns

        if path in self._frames:
            return [str(c) for c in self._frames[path].columns]
        if path not in self._columns:
            self._columns[path] = read_columns(path)
        return self._columns[path]

    def frame(self, path: Path) -> pd.DataFrame:
        """The data in ``path``, read once per run. Do not modify it."""
        from mlgates.datafiles import read_frame

        if path not in self._frames:
            self.file_hash(path)
            self._frames[path] = read_frame(path)
        return self._frames[path]

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, once per run for ``key``; how stages share derived values."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]

    def model(self, path: Path, load: Callable[[Path], _T]) -> _T:
        """The model in ``path``, loaded with ``load`` once per file content."""
        return self.memo(("model", self.file_hash(path)), lambda: load(path))

    def predictions(self, model: Path, data: Path, method: str, compute: Callable[[], _T]) -> _T:
        """Predictions of ``model`` on ``data`` by ``method``, computed once per run.

        Keyed by the sha256 of both files, so two configs naming one file by
        different paths share the result.
        """
        key = ("predictions", self.file_hash(model), self.file_hash(data), method)
        return self.memo(key, compute)

    def run_json(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        what: str,
        env: Mapping[str, str] | None = None,
    ) -> Any:
        """Run a helper program in the config's directory; its standard output as JSON.

        See :func:`mlgates.processes.run_json`.
        """
        from mlgates.processes import run_json

        return run_json(argv, timeout=timeout, what=what, cwd=self.root, env=env)
