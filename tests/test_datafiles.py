"""mlgates.datafiles: recognising data files and reading their header and data the same way."""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from mlgates.core import InputError
from mlgates.datafiles import (
    DATA_SUFFIXES,
    PROFILE_SUFFIX,
    data_format,
    is_profile,
    read_columns,
    read_frame,
    sha256_file,
)

Reader = Callable[[Path], object]
READERS: list[Reader] = [read_columns, read_frame]


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_suffixes() -> None:
    assert DATA_SUFFIXES == (".parquet", ".pq", ".csv", ".csv.gz", ".tsv", ".tsv.gz")
    assert PROFILE_SUFFIX == ".json"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.parquet", "parquet"),
        ("a.PQ", "parquet"),
        ("a.csv", "csv"),
        ("a.CSV.GZ", "csv"),
        ("a.tsv", "tsv"),
        ("a.tsv.gz", "tsv"),
        ("reference.json", "profile"),
    ],
)
def test_data_format_from_name(name: str, expected: str) -> None:
    assert data_format(Path(name)) == expected
    assert data_format(name) == expected
    assert is_profile(name) is (expected == "profile")


@pytest.mark.parametrize(
    "name", ["a.xlsx", "a.txt", "a.gz", "cdef0123", "a.csv.bz2", "a.parquet.old"]
)
def test_data_format_rejects_other_names(name: str) -> None:
    with pytest.raises(
        InputError, match=r"unsupported file type.*\*\.csv\.gz.*\*\.tsv\.gz"
    ) as info:
        data_format(name)
    assert str(info.value).startswith(f"{name}: ")


def test_bom_csv_header_and_data_agree(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", b"\xef\xbb\xbfid,name\n1,x\n2,y\n")
    frame = read_frame(path)
    assert read_columns(path) == ["id", "name"]
    assert list(frame.columns) == ["id", "name"]
    assert frame["id"].tolist() == [1, 2]
    assert frame["name"].tolist() == ["x", "y"]


@pytest.mark.parametrize(
    ("link_name", "content"),
    [
        ("data.csv", b"a,b\n1,x\n2,y\n"),
        ("data.csv.gz", gzip.compress(b"a,b\n1,x\n2,y\n", mtime=0)),
        ("data.tsv", b"a\tb\n1\tx\n2\ty\n"),
    ],
)
def test_symlink_read_by_link_name_not_target(
    tmp_path: Path, link_name: str, content: bytes
) -> None:
    target = write(tmp_path / ".dvc" / "cache" / "ab" / "cdef0123", content)
    link = tmp_path / link_name
    link.symlink_to(target)
    assert data_format(link) == data_format(link_name)
    assert read_columns(link) == ["a", "b"]
    frame = read_frame(link)
    assert frame.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    with pytest.raises(InputError, match="unsupported file type"):
        data_format(target)


def test_symlink_with_unsupported_name_mentions_the_link(tmp_path: Path) -> None:
    target = write(tmp_path / "data.csv", b"a\n1\n")
    link = tmp_path / "current"
    link.symlink_to(target)
    with pytest.raises(InputError, match="the link's own name counts"):
        read_frame(link)


@pytest.mark.parametrize("reader", [*READERS, sha256_file])
def test_symlink_loop(tmp_path: Path, reader: Reader) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.symlink_to(second)
    second.symlink_to(first)
    with pytest.raises(InputError, match=r"a\.csv: symlink loop"):
        reader(first)


@pytest.mark.parametrize("reader", [*READERS, sha256_file])
def test_missing_file(tmp_path: Path, reader: Reader) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        reader(tmp_path / "nope.csv")


def test_dangling_symlink_says_to_fetch_the_data(tmp_path: Path) -> None:
    link = tmp_path / "data.parquet"
    link.symlink_to(tmp_path / ".git" / "annex" / "objects" / "SHA256E-s1--00")
    with pytest.raises(InputError, match=r"which does not exist; fetch the data.*git annex get"):
        read_columns(link)


@pytest.mark.parametrize("reader", [*READERS, sha256_file])
def test_directory(tmp_path: Path, reader: Reader) -> None:
    (tmp_path / "data.csv").mkdir()
    with pytest.raises(InputError, match=r"data\.csv: is a directory"):
        reader(tmp_path / "data.csv")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "data.csv")
    with pytest.raises(InputError, match="is not a regular file"):
        read_frame(tmp_path / "data.csv")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", b"a\n1\n")
    path.chmod(0)
    try:
        with pytest.raises(InputError, match=r"data\.csv: permission denied"):
            read_columns(path)
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize("reader", READERS)
def test_nul_byte_in_path(reader: Reader) -> None:
    with pytest.raises(InputError, match="NUL byte"):
        reader(Path("data\0.csv"))


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    "content",
    [b"", b"\xef\xbb\xbf", b"\n\n", gzip.compress(b"", mtime=0)],
    ids=["0 bytes", "bom", "blank", "gz"],
)
def test_empty_csv(tmp_path: Path, reader: Reader, content: bytes) -> None:
    name = "data.csv.gz" if content[:2] == b"\x1f\x8b" else "data.csv"
    path = write(tmp_path / name, content)
    with pytest.raises(InputError, match=r"data\.csv(\.gz)?: is empty: no header row"):
        reader(path)


def test_empty_parquet(tmp_path: Path) -> None:
    path = write(tmp_path / "data.parquet", b"")
    with pytest.raises(InputError, match=r"is empty \(0 bytes\), so it is not a Parquet file"):
        read_frame(path)


@pytest.mark.parametrize("reader", READERS)
def test_latin1_csv(tmp_path: Path, reader: Reader) -> None:
    path = write(tmp_path / "data.csv", "city,n\nSão Paulo,1\n".encode("latin-1"))
    with pytest.raises(
        InputError, match=r"data\.csv: is not UTF-8 text \(line 2 has the byte 0xe3\); re-save"
    ):
        reader(path)


def latin1_after(tmp_path: Path, rows: int) -> Path:
    text = "".join(f"{i},x\n" for i in range(rows)).encode()
    return write(tmp_path / "data.csv", b"n,city\n" + text + "7,Zürich\n".encode("latin-1"))


def test_latin1_after_the_sniffed_bytes_names_the_column(tmp_path: Path) -> None:
    path = latin1_after(tmp_path, 20_000)  # past the first 64 KiB, inside the first block
    with pytest.raises(InputError, match=r"is not UTF-8 text \(column 'city'\)"):
        read_columns(path)


def test_latin1_after_the_first_block_names_column_and_row(tmp_path: Path) -> None:
    path = latin1_after(tmp_path, 200_000)  # past pyarrow's first 1 MiB block
    assert read_columns(path) == ["n", "city"]
    with pytest.raises(InputError, match=r"column 'city', data row 200001: b'Z\\xfcrich'"):
        read_frame(path)


def test_utf16_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", "a,b\n1,2\n".encode("utf-16"))
    with pytest.raises(InputError, match="is UTF-16 or UTF-32 text, not UTF-8"):
        read_columns(path)


def test_gzip_data_named_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", gzip.compress(b"a,b\n1,2\n", mtime=0))
    with pytest.raises(InputError, match=r"it is gzip-compressed: name it \*\.csv\.gz"):
        read_frame(path)


def test_plain_text_named_gz(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv.gz", b"a,b\n1,2\n")
    with pytest.raises(InputError, match=r"is not valid gzip data .*drop the \.gz"):
        read_columns(path)


@pytest.mark.parametrize("reader", READERS)
def test_ragged_csv_names_the_row(tmp_path: Path, reader: Reader) -> None:
    path = write(tmp_path / "data.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n")
    with pytest.raises(
        InputError,
        match=r"data\.csv: malformed CSV: row 3 \(the header is row 1\) has 2 fields where "
        r"the header has 3: '4,5'; give every row",
    ):
        reader(path)


def test_ragged_row_found_after_types_change(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i}\n" for i in range(200_000))
    path = write(tmp_path / "data.csv", f"a,b\n{rows}1.5,x\n7\n".encode())
    with pytest.raises(InputError, match=r"row 200003 .* has 1 field where the header has 2"):
        read_frame(path)


def test_unclosed_quote(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", b'a,b\n"1,2\n3,4\n')
    with pytest.raises(InputError, match="close any quote left open"):
        read_frame(path)


@pytest.mark.parametrize("reader", READERS)
def test_fake_parquet(tmp_path: Path, reader: Reader) -> None:
    path = write(tmp_path / "data.parquet", b"a,b\n1,2\n")
    with pytest.raises(InputError, match=r"data\.parquet: is not a Parquet file"):
        reader(path)


def test_profile_is_not_data(tmp_path: Path) -> None:
    path = write(tmp_path / "reference.json", b"{}")
    with pytest.raises(InputError, match="is a reference profile"):
        read_frame(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("data.csv.gz", gzip.compress(b"a,b\n1,x\n2,y\n", mtime=0)),
        ("data.tsv", b"a\tb\n1\tx\n2\ty\n"),
        ("data.tsv.gz", gzip.compress(b"a\tb\n1\tx\n2\ty\n", mtime=0)),
    ],
)
def test_compressed_and_tab_separated(tmp_path: Path, name: str, content: bytes) -> None:
    path = write(tmp_path / name, content)
    assert read_columns(path) == ["a", "b"]
    assert read_frame(path).to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}


@pytest.mark.parametrize("content", [b"a,b\n", b"a,b", b"\xef\xbb\xbfa,b\r\n"])
def test_header_only_csv(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path / "data.csv", content)
    frame = read_frame(path)
    assert read_columns(path) == ["a", "b"]
    assert list(frame.columns) == ["a", "b"]
    assert len(frame) == 0


def test_missing_values_and_header_names_as_pandas_reads_them(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", b"a,a,,s,e\n1,2,3,,\n4,5,6,NA,\n7,8,9,z,\n")
    expected = pd.read_csv(path)
    frame = read_frame(path)
    assert read_columns(path) == ["a", "a.1", "Unnamed: 2", "s", "e"]
    assert list(frame.columns) == list(expected.columns)
    assert frame["s"].isna().tolist() == [True, True, False]
    assert frame["e"].dtype == "float64"
    assert frame["e"].isna().all()


def test_parquet_round_trip(tmp_path: Path) -> None:
    original = pd.DataFrame({"x": [1.5, 2.5], "label": ["a", "b"]})
    original.to_parquet(tmp_path / "data.parquet")
    frame = read_frame(tmp_path / "data.parquet")
    assert read_columns(tmp_path / "data.parquet") == ["x", "label"]
    pd.testing.assert_frame_equal(frame, original)


def test_parquet_index_is_not_a_column(tmp_path: Path) -> None:
    original = pd.DataFrame({"x": [1, 2]}, index=pd.Index([10, 11], name="id"))
    original.to_parquet(tmp_path / "data.pq")
    assert read_columns(tmp_path / "data.pq") == ["x"]
    assert list(read_frame(tmp_path / "data.pq").columns) == ["x"]


def test_sha256_file(tmp_path: Path) -> None:
    content = os.urandom((1 << 20) + 17)
    path = write(tmp_path / "data.bin", content)
    assert sha256_file(path) == hashlib.sha256(content).hexdigest()
    assert sha256_file(write(tmp_path / "empty", b"")) == hashlib.sha256(b"").hexdigest()
