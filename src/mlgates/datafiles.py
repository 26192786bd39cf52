"""Recognises and reads data files: the one place a file's header and data are read.

The format of a file is decided by the name the user gave it. For a symlink
that is the link's own name, never its target's: DVC and git-annex keep the
data under extensionless hashes. ``read_columns`` and ``read_frame`` parse
CSV/TSV with the same pyarrow options, so a header never disagrees with the
data (a UTF-8 byte-order mark, say, is stripped by both).

Every failure is an :class:`~mlgates.core.InputError` that names the file,
says what is wrong and, where there is one, the fix.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NoReturn

from mlgates.core import InputError

if TYPE_CHECKING:
    import pandas as pd

StrPath = str | os.PathLike[str]
"""A path as a string or a path-like object."""

DataFormat = Literal["parquet", "csv", "tsv", "profile"]
"""What :func:`data_format` recognises a file as."""

DATA_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".tsv", ".tsv.gz")
PROFILE_SUFFIX = ".json"

_FORMATS: tuple[tuple[str, DataFormat], ...] = (
    (".parquet", "parquet"),
    (".pq", "parquet"),
    (".csv", "csv"),
    (".csv.gz", "csv"),
    (".tsv", "tsv"),
    (".tsv.gz", "tsv"),
    (PROFILE_SUFFIX, "profile"),
)

# pandas.read_csv's default missing-value markers, so that reading through
# this module keeps the meaning the data had under pandas.read_csv.
_NULL_VALUES = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)

_SNIFF_BYTES = 1 << 16
_HASH_BLOCK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff")


def data_format(path: StrPath) -> DataFormat:
    """The format of ``path``, decided from its name (a symlink's own name, not its target's).

    Raises :class:`InputError` for a name that ends in none of
    :data:`DATA_SUFFIXES` or :data:`PROFILE_SUFFIX`.
    """
    file = _as_path(path)
    name = file.name.lower()
    for suffix, fmt in _FORMATS:
        if name.endswith(suffix):
            return fmt
    supported = ", ".join(f"*{suffix}" for suffix in DATA_SUFFIXES)
    link = " (for a symlink, the link's own name counts)" if file.is_symlink() else ""
    raise InputError(
        f"{file}: unsupported file type; name data files {supported}{link}, "
        f"or *{PROFILE_SUFFIX} for a reference profile"
    )


def is_profile(path: StrPath) -> bool:
    """Whether ``path`` names a reference profile (``*.json``) rather than data."""
    return _as_path(path).name.lower().endswith(PROFILE_SUFFIX)


def sha256_file(path: StrPath) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    file = _as_path(path)
    digest = hashlib.sha256()
    _check_file(file)
    with _open_binary(file) as handle:
        try:
            for block in iter(lambda: handle.read(_HASH_BLOCK), b""):
                digest.update(block)
        except OSError as exc:
            _raise_os_error(file, exc)
    return digest.hexdigest()


def sha256_tree(path: StrPath) -> str:
    """Hex sha256 of a directory: every file's relative path and bytes, in path order."""
    root = _as_path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for file in files:
        digest.update(file.relative_to(root).as_posix().encode() + b"\0")
        digest.update(sha256_file(file).encode())
    return digest.hexdigest()


def read_columns(path: StrPath) -> list[str]:
    """Column names of a data file, reading only its header.

    Parquet: the schema, without the index columns pandas stored (as
    :func:`read_frame` does). CSV/TSV: the first block only, parsed exactly as
    :func:`read_frame` parses it.
    """
    file = _as_path(path)
    fmt = _data_format(file)
    if fmt == "parquet":
        return _parquet_columns(file)
    schema = _parse_text(
        file, fmt, lambda pacsv, source, options: pacsv.open_csv(source, **options)
    ).schema
    _check_text_types(file, schema)
    return _unique_names([str(name) for name in schema.names])


def read_frame(path: StrPath) -> pd.DataFrame:
    """The whole data file as a DataFrame, with the columns :func:`read_columns` gives.

    CSV/TSV is parsed by pyarrow as pandas.read_csv(engine="pyarrow") would
    with its defaults (the same missing-value markers, empty columns as
    float, repeated or blank header names made unique); Parquet is read with
    pandas.read_parquet.
    """
    file = _as_path(path)
    fmt = _data_format(file)
    if fmt == "parquet":
        return _parquet_frame(file)
    table = _parse_text(file, fmt, lambda pacsv, source, options: pacsv.read_csv(source, **options))
    _check_text_columns(file, table)
    return _to_pandas(file, table)


def _parse_text(file: Path, fmt: Literal["csv", "tsv"], parse: Any) -> Any:
    """``parse(pyarrow.csv, stream, options)`` on a checked CSV/TSV file: the one text path.

    ``read_columns`` (a streaming reader: its schema) and ``read_frame`` (the
    whole table) both come through here, so a header and its data are always
    parsed with the same checks and options.
    """
    _check_file(file, require_content=fmt)
    _check_text_start(file, fmt)
    with _stream(file) as source:
        try:
            import pyarrow.csv as pacsv

            return parse(pacsv, source, _csv_options(fmt))
        except Exception as exc:  # pyarrow raises many types for a malformed file
            return _retry_without_final_newline(file, fmt, exc)


# --- paths and opening ---------------------------------------------------------------


def _as_path(path: StrPath) -> Path:
    text = os.fspath(path)
    if "\0" in text:
        raise InputError(f"{text!r}: the path contains a NUL byte; check how it was built")
    return Path(text)


def _data_format(file: Path) -> Literal["parquet", "csv", "tsv"]:
    fmt = data_format(file)
    if fmt == "profile":
        raise InputError(
            f"{file}: is a reference profile ({PROFILE_SUFFIX}), not a data file; "
            f"give a data file ({', '.join(DATA_SUFFIXES)})"
        )
    return fmt


def _check_file(file: Path, *, require_content: str | None = None) -> None:
    """Refuse anything but a regular file, and an empty one when content is required."""
    try:
        info = os.stat(file)
    except OSError as exc:  # a symlink loop is ELOOP here, never RuntimeError
        _raise_os_error(file, exc)
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{file}: is a directory, not a data file; name a file inside it")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"{file}: is not a regular file (a pipe, socket or device); name a data file"
        )
    if require_content is not None and info.st_size == 0:
        if require_content == "parquet":
            raise InputError(f"{file}: is empty (0 bytes), so it is not a Parquet file")
        raise InputError(f"{file}: is empty: no header row")


@contextmanager
def _open_binary(file: Path) -> Iterator[IO[bytes]]:
    try:
        handle = open(file, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        _raise_os_error(file, exc)
    with handle:
        yield handle


def _raise_os_error(file: Path, exc: OSError) -> NoReturn:
    if exc.errno == errno.ELOOP:
        _raise_loop(file)
    if isinstance(exc, FileNotFoundError):
        if file.is_symlink():
            target = os.readlink(file)
            raise InputError(
                f"{file}: is a symlink to {target}, which does not exist; fetch the data "
                "first (e.g. `dvc pull` or `git annex get`) or fix the link"
            ) from None
        raise InputError(f"{file}: file not found; check the path") from None
    if isinstance(exc, PermissionError):
        raise InputError(f"{file}: permission denied; make the file readable") from None
    if isinstance(exc, IsADirectoryError):
        raise InputError(f"{file}: is a directory, not a data file") from None
    raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from None


def _raise_loop(file: Path) -> NoReturn:
    raise InputError(
        f"{file}: symlink loop (the link leads back to itself); point it at the real file"
    ) from None


# --- CSV and TSV ---------------------------------------------------------------------


def _compression(file: Path) -> str | None:
    """Compression chosen by the name the user gave, never by a symlink target's name."""
    return "gzip" if file.name.lower().endswith(".gz") else None


def _csv_options(fmt: str, *, use_threads: bool = True) -> dict[str, Any]:
    import pyarrow.csv as pacsv

    return {
        "read_options": pacsv.ReadOptions(use_threads=use_threads, encoding="utf8"),
        "parse_options": pacsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","),
        "convert_options": pacsv.ConvertOptions(
            null_values=list(_NULL_VALUES), strings_can_be_null=True
        ),
    }


@contextmanager
def _stream(file: Path) -> Iterator[Any]:
    """``file`` as a pyarrow input stream, decompressed as its name says."""
    import pyarrow as pa

    with _open_binary(file) as handle:
        stream = pa.input_stream(handle, compression=_compression(file))
        try:
            yield stream
        finally:
            stream.close()


def _check_text_start(file: Path, fmt: str) -> None:
    """Refuse a file whose first bytes are not UTF-8 text."""
    head = _head(file)
    kind = "TSV" if fmt == "tsv" else "CSV"
    if head.startswith(_UTF16_32_BOMS):
        raise InputError(f"{file}: is UTF-16 or UTF-32 text, not UTF-8; re-save it as UTF-8")
    if b"\0" in head:
        hint = "re-save it as UTF-8 text"
        if head.startswith(b"\x1f\x8b"):
            hint = f"it is gzip-compressed: name it *.{fmt}.gz"
        elif head.startswith(b"PAR1"):
            hint = "it is a Parquet file: name it *.parquet"
        raise InputError(f"{file}: contains NUL bytes, so it is not {kind} text; {hint}")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        _raise_not_utf8(file, head, exc.start)


def _head(file: Path) -> bytes:
    """The first 64 KiB of ``file``'s (decompressed) content."""
    try:
        with _stream(file) as stream:
            return bytes(stream.read(_SNIFF_BYTES))
    except OSError as exc:
        if _compression(file):
            raise InputError(
                f"{file}: is not valid gzip data ({exc}); if it is plain text, drop the .gz "
                "from its name"
            ) from None
        _raise_os_error(file, exc)


def _raise_not_utf8(file: Path, data: bytes, offset: int) -> NoReturn:
    line = data.count(b"\n", 0, offset) + 1
    raise InputError(
        f"{file}: is not UTF-8 text (line {line} has the byte 0x{data[offset]:02x}); "
        "re-save it as UTF-8"
    )


def _retry_without_final_newline(file: Path, fmt: str, exc: Exception) -> Any:
    """Read a file that is only a header without a final newline; else explain ``exc``.

    pyarrow finds no complete row in ``a,b`` (no newline) and calls the file
    empty; it is a header-only file, read here with the newline added.
    """
    if "Empty CSV file" not in str(exc):
        _raise_csv_error(file, fmt, exc)
    content = _head(file)
    if not content.removeprefix(_BOM).strip():
        raise InputError(f"{file}: is empty: no header row") from None
    if len(content) >= _SNIFF_BYTES:
        raise InputError(f"{file}: no complete header row in its first 64 KiB") from None
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        return pacsv.read_csv(pa.BufferReader(content + b"\n"), **_csv_options(fmt))
    except Exception as retry_exc:  # pyarrow raises many types for a malformed file
        _raise_csv_error(file, fmt, retry_exc)


def _raise_csv_error(file: Path, fmt: str, exc: Exception) -> NoReturn:
    kind = "TSV" if fmt == "tsv" else "CSV"
    message = str(exc).removeprefix("CSV parse error: ")
    if isinstance(exc, UnicodeDecodeError):
        raise InputError(
            f"{file}: the header row is not UTF-8 text ({exc.reason}); re-save it as UTF-8"
        ) from None
    if "Expected" in message and "columns, got" in message:
        ragged = _ragged_message(file, fmt) or f"{file}: malformed {kind}: {message}"
        raise InputError(ragged) from None
    if isinstance(exc, OSError) and _compression(file):
        raise InputError(
            f"{file}: is not valid gzip data ({exc}); if it is plain text, drop the .gz "
            "from its name"
        ) from None
    if isinstance(exc, OSError):
        _raise_os_error(file, exc)
    raise InputError(f"{file}: cannot read as {kind}: {message}") from None


def _ragged_message(file: Path, fmt: str) -> str | None:
    """Locate the first row with the wrong number of fields (single-threaded, so it is numbered)."""
    import pyarrow.csv as pacsv

    found: list[Any] = []

    def keep_first(row: Any) -> str:
        found.append(row)
        return "error"

    import pyarrow as pa

    options = _csv_options(fmt, use_threads=False)
    options["parse_options"].invalid_row_handler = keep_first
    try:
        # Every column as text, so a type that changes after the first block
        # cannot stop the scan before it reaches the bad row.
        with _stream(file) as source:
            names = pacsv.open_csv(source, **options).schema.names
        options["convert_options"] = pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names}, check_utf8=False
        )
        with _stream(file) as source:
            for _ in pacsv.open_csv(source, **options):
                pass
    except Exception:  # the error being located; anything else leaves the row unknown
        pass
    if not found:
        return None
    row = found[0]
    kind = "TSV" if fmt == "tsv" else "CSV"
    where = f"row {row.number} (the header is row 1)" if row.number is not None else "a row"
    fields = f"{row.actual_columns} field" + ("" if row.actual_columns == 1 else "s")
    text = str(row.text)
    hint = ", and close any quote left open" if '"' in text else ""
    return (
        f"{file}: malformed {kind}: {where} has {fields} where the header has "
        f"{row.expected_columns}: {text[:80]!r}; give every row as many fields as the "
        f"header{hint}"
    )


def _check_text_types(file: Path, schema: Any) -> None:
    """Refuse columns pyarrow kept as bytes: their values were not UTF-8."""
    import pyarrow as pa

    for field in schema:
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            raise InputError(
                f"{file}: is not UTF-8 text (column {field.name!r}); re-save it as UTF-8"
            )


def _check_text_columns(file: Path, table: Any) -> None:
    """Like :func:`_check_text_types`, naming the first data row that is not UTF-8."""
    import pyarrow as pa

    for name, column in zip(table.column_names, table.columns, strict=True):
        if not (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
            continue
        row = 0
        for chunk in column.chunks:
            for value in chunk.to_pylist():
                row += 1
                try:
                    if value is not None:
                        value.decode("utf-8")
                except UnicodeDecodeError:
                    raise InputError(
                        f"{file}: is not UTF-8 text (column {name!r}, data row {row}: "
                        f"{value[:40]!r}); re-save it as UTF-8"
                    ) from None
        _check_text_types(file, table.schema)


def _unique_names(names: list[str]) -> list[str]:
    """Header names as pandas.read_csv makes them: blanks named, repeats numbered."""
    unique = [name if name else f"Unnamed: {index}" for index, name in enumerate(names)]
    counts: dict[str, int] = {}
    for index, name in enumerate(unique):
        count = counts.get(name, 0)
        while count > 0:
            counts[name] = count + 1
            name = f"{name}.{count}"
            count = counts.get(name, 0)
        unique[index] = name
        counts[name] = count + 1
    return unique


def _to_pandas(file: Path, table: Any) -> pd.DataFrame:
    import pyarrow as pa

    table = table.rename_columns(_unique_names([str(name) for name in table.column_names]))
    schema = table.schema
    for index, field in enumerate(schema):
        if pa.types.is_null(field.type):  # an all-empty column: float NaN, as pandas reads it
            schema = schema.set(index, field.with_type(pa.float64()))
    try:
        frame: pd.DataFrame = table.cast(schema).to_pandas()
    except Exception as exc:  # a type pandas cannot hold
        raise InputError(f"{file}: cannot convert to a DataFrame: {exc}") from None
    return frame


# --- Parquet -------------------------------------------------------------------------


def _parquet_columns(file: Path) -> list[str]:
    _check_file(file, require_content="parquet")
    with _open_binary(file) as handle:
        try:
            import pyarrow.parquet as pq

            schema = pq.read_schema(handle)
        except Exception as exc:  # pyarrow raises many types for a damaged file
            _raise_parquet_error(file, exc)
    metadata = schema.pandas_metadata or {}
    index = {name for name in metadata.get("index_columns", []) if isinstance(name, str)}
    return [str(name) for name in schema.names if name not in index]


def _parquet_frame(file: Path) -> pd.DataFrame:
    import pandas as pd

    _check_file(file, require_content="parquet")
    with _open_binary(file) as handle:
        try:
            return pd.read_parquet(handle)
        except Exception as exc:  # pyarrow raises many types for a damaged file
            _raise_parquet_error(file, exc)


class ParquetBatches:
    """A Parquet file read a batch of rows at a time, as DataFrames like :func:`read_frame`'s.

    Each batch converts as the whole file would (pandas metadata, string and
    categorical dtypes), except that integers and booleans read as float64 and
    object only in the batches that hold a missing value. The file is read as
    it is decoded, never buffered whole.
    """

    def __init__(self, path: StrPath, *, batch_rows: int = 65_536) -> None:
        self.path = _as_path(path)
        self.batch_rows = batch_rows
        _check_file(self.path, require_content="parquet")
        self.columns = _parquet_columns(self.path)
        with _open_binary(self.path) as handle:
            try:
                import pyarrow.parquet as pq

                self._rows = int(pq.ParquetFile(handle).metadata.num_rows)
            except Exception as exc:  # pyarrow raises many types for a damaged file
                _raise_parquet_error(self.path, exc)

    @property
    def rows(self) -> int:
        """The number of rows, from the file's footer."""
        return self._rows

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """The rows in order, ``batch_rows`` at a time, with ``columns`` (default: all)."""
        import pyarrow.parquet as pq

        names = list(self.columns if columns is None else columns)
        with _open_binary(self.path) as handle:
            try:
                # pages are read as they are decoded: pre-buffering would hold the file
                reader = pq.ParquetFile(handle, pre_buffer=False, buffer_size=1 << 20)
                for batch in reader.iter_batches(batch_size=self.batch_rows, columns=names):
                    yield batch.to_pandas()
            except Exception as exc:  # pyarrow raises many types for a damaged file
                _raise_parquet_error(self.path, exc)


def _raise_parquet_error(file: Path, exc: Exception) -> NoReturn:
    message = str(exc)
    if "magic bytes not found" in message or "size is 0 bytes" in message:
        raise InputError(
            f"{file}: is not a Parquet file (no Parquet footer); check the file, or name it "
            f"after its real format ({', '.join(DATA_SUFFIXES)})"
        ) from None
    if isinstance(exc, OSError) and not message.startswith(("Could not", "Couldn't")):
        _raise_os_error(file, exc)
    raise InputError(f"{file}: cannot read as Parquet: {type(exc).__name__}: {message}") from None
