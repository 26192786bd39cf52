"""``mlgates init``: a config that passes on same-process data, .gitignore, nested columns, names.

The whole flow runs the real command in a subprocess: ``mlgates init`` and then
``mlgates run`` on the files init was given.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
from sklearn.datasets import load_breast_cancer, load_diabetes

from mlgates.config import load_config
from mlgates.datafiles import read_frame
from mlgates.scaffold import SCHEMA_FILE, toml_string, write_starter
from mlgates.stages.data.schema import read_schema, validate_frame

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hugo",
    "Ida",
    "Jonas",
    "Karin",
    "Lukas",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Sam",
    "Tina",
    "Uwe",
    "Vera",
    "Wim",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bea",
    "Chen",
    "Dana",
    "Elif",
    "Fatima",
    "Goran",
]
LAST_NAMES = [
    "Meyer",
    "Schmidt",
    "Novak",
    "Rossi",
    "Garcia",
    "Kim",
    "Nguyen",
    "Okafor",
    "Silva",
    "Jensen",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Ivanova",
    "Murphy",
    "Dubois",
]
WORDS = [
    "the",
    "order",
    "arrived",
    "late",
    "and",
    "box",
    "was",
    "damaged",
    "but",
    "support",
    "replied",
    "quickly",
    "refund",
    "issued",
    "great",
    "product",
    "would",
    "buy",
    "again",
    "not",
    "as",
    "described",
    "colour",
    "faded",
    "after",
    "washing",
]
STATUSES = ["paid", "open", "refunded", "cancelled"]


def orders(n: int, seed: int) -> pd.DataFrame:
    """Generated orders: ids, names, codes, dates, free text, amounts, flags, some missing."""
    rng = np.random.default_rng(seed)
    letters = rng.choice(list("ABCDEFGHJK"), n, p=[0.3, 0.2, 0.1, 0.1, *[0.05] * 6])
    codes = [
        f"{letter}{major:02d}.{minor}"
        for letter, major, minor in zip(
            letters, rng.integers(0, 100, n), rng.integers(0, 10, n), strict=True
        )
    ]
    comments = [
        " ".join(rng.choice(WORDS, length)).capitalize() + "." for length in rng.integers(3, 15, n)
    ]
    frame = pd.DataFrame(
        {
            "order_id": rng.permutation(np.arange(100_000, 100_000 + n)),
            "customer": [
                f"{first} {last}"
                for first, last in zip(
                    rng.choice(FIRST_NAMES, n), rng.choice(LAST_NAMES, n), strict=True
                )
            ],
            "code": codes,
            "ordered_on": (
                np.datetime64("2021-01-01") + rng.integers(0, 1000, n).astype("timedelta64[D]")
            ).astype(str),
            "comment": pd.Series(comments).where(rng.random(n) > 0.3),
            "amount": np.round(rng.lognormal(3, 1, n), 2),
            "quantity": pd.array(rng.integers(1, 12, n), dtype="Int64"),
            "age": rng.integers(18, 90, n),
            "status": rng.choice(STATUSES, n, p=[0.6, 0.25, 0.1, 0.05]),
            "gift": pd.array(rng.random(n) < 0.2, dtype="boolean"),
        }
    )
    frame.loc[rng.random(n) < 0.08, "amount"] = np.nan
    frame.loc[rng.random(n) < 0.01, "quantity"] = pd.NA  # whole numbers with a few missing
    frame.loc[rng.random(n) < 0.01, "gift"] = pd.NA  # booleans with a few missing
    return frame


def orders_split(size: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An 8,000-row reference and a ``size``-row batch of other rows of the same process."""
    frame = orders(20_000, seed)
    return frame.iloc[:8000], frame.iloc[8000:].sample(size, random_state=seed)


def sklearn_split(
    load: Callable[..., Any],
) -> Callable[[int, int], tuple[pd.DataFrame, pd.DataFrame]]:
    def split(size: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame = load(as_frame=True).frame
        return frame, frame.sample(size, random_state=seed)

    return split


SPLITS = {
    "orders": orders_split,
    "breast_cancer": sklearn_split(load_breast_cancer),
    "diabetes": sklearn_split(load_diabetes),
}


def mlgates(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlgates", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def init_config(directory: Path, *args: str | Path, target: Path | None = None) -> dict[str, Any]:
    """Run ``mlgates init`` in ``directory`` and parse the config it wrote into ``target``."""
    done = mlgates("init", *args, cwd=directory)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    config = (target or directory) / "mlgates.toml"
    return tomllib.loads(config.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- init, then run


# Each seed is one same-process batch. A run may still block by chance (about once
# in 1 / (1 - drift_confidence) runs, by design); the seeds are fixed.
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("size", [72, 300])
@pytest.mark.parametrize("name", sorted(SPLITS))
def test_init_then_run_passes_on_a_same_process_batch(
    tmp_path: Path, name: str, size: int, seed: int
) -> None:
    reference, current = SPLITS[name](size, seed)
    reference.to_csv(tmp_path / "reference.csv", index=False)
    current.to_csv(tmp_path / "current.csv", index=False)
    config = init_config(tmp_path, "--reference", "reference.csv", "--current", "current.csv")
    data = config["data"]
    assert data["min_rows"] <= min(len(reference), len(current))
    assert not any(check.startswith("row_count") for check in data["checks"])
    run = mlgates("run", "-v", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASSED" in run.stdout and "INCONCL" not in run.stdout


def test_small_batch_lowers_min_rows_and_leaves_the_batch_size_to_the_user(
    tmp_path: Path,
) -> None:
    frame = load_breast_cancer(as_frame=True).frame
    frame.to_csv(tmp_path / "reference.csv", index=False)
    frame.sample(72, random_state=0).to_csv(tmp_path / "current.csv", index=False)
    config = init_config(tmp_path, "-r", "reference.csv", "--current", "current.csv")
    assert config["data"]["min_rows"] == 72
    assert config["data"]["checks"] == [
        "missing_share <= reference + 0.05",  # no column has missing values
        "drift_share <= 0.25",
    ]
    text = (tmp_path / "mlgates.toml").read_text(encoding="utf-8")
    assert '# "row_count >= 1000",' in text
    assert "business fact" in text
    assert "Set to 72 (from 100)" in text


def test_large_batches_keep_min_rows_100(tmp_path: Path) -> None:
    reference, current = orders_split(3000, seed=0)
    reference.drop(columns="comment").to_csv(tmp_path / "reference.csv", index=False)
    current.drop(columns="comment").to_csv(tmp_path / "current.csv", index=False)
    config = init_config(tmp_path, "-r", "reference.csv", "--current", "current.csv")
    assert config["data"]["min_rows"] == 100
    assert config["data"]["exclude"] == []  # only nested columns are left out
    # names and codes keep their drift checks; their roles say how they are compared
    assert not any("drift" in s for s in config["data"].get("columns", {}).values())
    assert config["data"]["roles"] == {
        "order_id": "identifier",
        "customer": "category",
        "code": "code",
        "ordered_on": "datetime",
        "amount": "number",
        "quantity": "category",
        "age": "number",
        "status": "category",
        "gift": "flag",
    }
    order_id = read_schema(tmp_path / SCHEMA_FILE).columns["order_id"]
    assert order_id.unique and not order_id.nullable  # an identifier named as a key
    run = mlgates("run", "-v", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "drift[order_id]" not in run.stdout and "drift[code]" in run.stdout


def test_small_batch_widens_the_missing_share_margin(tmp_path: Path) -> None:
    reference, current = orders_split(72, seed=0)
    reference.to_csv(tmp_path / "reference.csv", index=False)
    current.to_csv(tmp_path / "current.csv", index=False)
    config = init_config(tmp_path, "-r", "reference.csv", "--current", "current.csv")
    assert "missing_share <= reference + 0.05" in config["data"]["checks"]
    # the columns with missing values get their own, wider margins
    widened = {}
    for name, settings in config["data"]["columns"].items():
        (check,) = settings["checks"]
        assert check.startswith("missing_share <= reference + ")
        widened[name] = float(check.rsplit("+", 1)[1])
    assert {"comment", "amount"} <= set(widened)
    assert set(widened) <= {"comment", "amount", "quantity", "gift"}  # columns with missing values
    assert all(0.05 < margin < 0.3 for margin in widened.values()), widened
    text = (tmp_path / "mlgates.toml").read_text(encoding="utf-8")
    assert "In a batch of 72 rows" in text and "margins are widened" in text
    run = mlgates("run", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr


def test_without_current_the_reference_is_the_batch(tmp_path: Path) -> None:
    load_diabetes(as_frame=True).frame.to_csv(tmp_path / "reference.csv", index=False)
    config = init_config(tmp_path, "-r", "reference.csv")
    assert config["data"]["current"] == config["data"]["reference"] == "reference.csv"
    assert config["data"]["min_rows"] == 100
    run = mlgates("run", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr


# --------------------------------------------------------------------------- .gitignore


@pytest.fixture
def diabetes_csv(tmp_path: Path) -> Path:
    path = tmp_path / "reference.csv"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    return path


def test_gitignore_is_created(tmp_path: Path, diabetes_csv: Path) -> None:
    done = mlgates("init", "-r", diabetes_csv.name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote .gitignore" in done.stdout.splitlines()
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".mlgates/" in lines


@pytest.mark.parametrize("existing", ["*.pyc\n__pycache__/\n", "*.pyc\n__pycache__/", "", "\n"])
def test_gitignore_is_appended(tmp_path: Path, diabetes_csv: Path, existing: str) -> None:
    (tmp_path / ".gitignore").write_text(existing, encoding="utf-8")
    written = write_starter(reference=diabetes_csv, current=None, directory=tmp_path)
    assert written == [tmp_path / "mlgates.toml", tmp_path / SCHEMA_FILE, tmp_path / ".gitignore"]
    text = (tmp_path / ".gitignore").read_text(encoding="utf-8")
    assert text.startswith(existing)
    assert text.endswith("\n")
    lines = text.splitlines()
    assert lines.count(".mlgates/") == 1
    assert lines[: len(existing.splitlines())] == existing.splitlines()  # no line was merged


def test_gitignore_with_crlf_line_ends_stays_crlf(tmp_path: Path, diabetes_csv: Path) -> None:
    (tmp_path / ".gitignore").write_bytes(b"*.pyc\r\nbuild/")
    write_starter(reference=diabetes_csv, current=None, directory=tmp_path)
    data = (tmp_path / ".gitignore").read_bytes()
    assert data.startswith(b"*.pyc\r\nbuild/\r\n") and data.endswith(b".mlgates/\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")


@pytest.mark.parametrize("entry", [".mlgates/", ".mlgates", "/.mlgates/", "  .mlgates/  "])
def test_gitignore_that_already_ignores_is_left_alone(
    tmp_path: Path, diabetes_csv: Path, entry: str
) -> None:
    original = f"# tools\n{entry}\n*.log"
    (tmp_path / ".gitignore").write_text(original, encoding="utf-8")
    done = mlgates("init", "-r", diabetes_csv.name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote .gitignore" not in done.stdout
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == original
    again = write_starter(reference=diabetes_csv, current=None, directory=tmp_path, force=True)
    assert again == [tmp_path / "mlgates.toml", tmp_path / SCHEMA_FILE]


def test_gitignore_that_re_includes_the_directory_is_appended(
    tmp_path: Path, diabetes_csv: Path
) -> None:
    (tmp_path / ".gitignore").write_text(".mlgates/\n!.mlgates/\n", encoding="utf-8")
    written = write_starter(reference=diabetes_csv, current=None, directory=tmp_path)
    assert tmp_path / ".gitignore" in written
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == ".mlgates/"


def test_gitignore_goes_into_the_target_directory(tmp_path: Path, diabetes_csv: Path) -> None:
    done = mlgates("init", "-r", diabetes_csv.name, "--directory", "gates", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "gates" / ".gitignore").is_file()
    assert not (tmp_path / ".gitignore").exists()
    config = tomllib.loads((tmp_path / "gates" / "mlgates.toml").read_text(encoding="utf-8"))
    assert config["data"]["reference"] == "../reference.csv"


# --------------------------------------------------------------------------- nested columns


def nested_table(n: int, seed: int) -> pa.Table:
    """Many column types, among them lists, structs, maps and fixed-size lists."""
    rng = np.random.default_rng(seed)
    tags = [
        None if rng.random() < 0.1 else [str(t) for t in rng.choice(["new", "sale", "eco"], k)]
        for k in rng.integers(0, 4, n)
    ]
    return pa.table(
        {
            "sku": pa.array(np.arange(n) + 10_000),
            "tags": pa.array(tags, type=pa.list_(pa.string())),
            "dimensions": pa.array(
                [{"w": float(w), "h": float(h)} for w, h in rng.uniform(1, 50, (n, 2))]
            ),
            "embedding": pa.array(
                [row.tolist() for row in rng.normal(size=(n, 3))], type=pa.list_(pa.float64(), 3)
            ),
            "attributes": pa.array(
                [[("colour", str(c))] for c in rng.choice(["red", "blue"], n)],
                type=pa.map_(pa.string(), pa.string()),
            ),
            "batches": pa.array(
                [[int(v)] for v in rng.integers(0, 5, n)], type=pa.large_list(pa.int64())
            ),
            "category": pa.array(rng.choice(["toys", "books", "tools"], n)).dictionary_encode(),
            "price": pa.array(np.round(rng.lognormal(3, 0.5, n), 2)),
            "stocked": pa.array(
                pd.Timestamp("2024-01-01", tz="UTC")
                + pd.to_timedelta(rng.integers(0, 10_000, n), unit="min")
            ),
            "lead_time": pa.array(pd.to_timedelta(rng.integers(1, 30, n), unit="D")),
            "label": pa.array([f"item-{i}".encode() for i in rng.integers(0, 50, n)]),
            "active": pa.array(rng.random(n) < 0.5),
        }
    )


def test_parquet_with_nested_columns(tmp_path: Path) -> None:
    pq.write_table(nested_table(2000, seed=0), tmp_path / "reference.parquet")
    pq.write_table(nested_table(300, seed=1), tmp_path / "current.parquet")
    config = init_config(tmp_path, "-r", "reference.parquet", "--current", "current.parquet")
    nested = ["tags", "dimensions", "embedding", "attributes", "batches"]
    assert config["data"]["exclude"] == nested
    assert not set(nested) & set(config["data"]["roles"])
    assert config["data"]["roles"]["sku"] == "identifier"
    text = (tmp_path / "mlgates.toml").read_text(encoding="utf-8")
    assert text.count("holds nested values") == len(nested)
    assert "not named as a key, so not required unique" in text
    load_config(tmp_path / "mlgates.toml")
    schema = read_schema(tmp_path / SCHEMA_FILE)
    for column in nested:
        assert not schema.columns[column].checks and not schema.columns[column].unique
    assert not schema.columns["sku"].unique and schema.columns["sku"].nullable  # not a key name
    for name in ("reference.parquet", "current.parquet"):
        report = validate_frame(read_frame(tmp_path / name), schema)
        assert report.ok, report.summary()


def test_parquet_with_a_list_column_in_the_current_data_only(tmp_path: Path) -> None:
    table = nested_table(500, seed=2)
    reference = table.set_column(1, "tags", pa.array(["x"] * 500))
    pq.write_table(reference, tmp_path / "reference.parquet")
    pq.write_table(table, tmp_path / "current.parquet")
    config = init_config(tmp_path, "-r", "reference.parquet", "--current", "current.parquet")
    assert "tags" in config["data"]["exclude"]


# --------------------------------------------------------------------------- column names


AWKWARD_NAMES = [
    'say "hi"',
    "back\\slash",
    "C:\\temp\\",
    "naïve café",
    "温度",
    "emoji 🙂",
    "line\nbreak",
    "tab\there",
    "bell\x07 and del\x7f",
    "# not a comment",
    "[data]",
    "key = value",
    "{braces}",
    "'single'",
    '"""',
    " padded ",
]


def awkward_frame(n: int, seed: int) -> pd.DataFrame:
    """Every awkward name on an identifier, a nested column, a many-valued label and a number."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for index, name in enumerate(AWKWARD_NAMES):
        kind = index % 4
        if kind == 0:
            columns[name] = rng.permutation(n) + 1000 * index
        elif kind == 1:
            columns[name] = [[int(v)] for v in rng.integers(0, 9, n)]
        elif kind == 2:
            columns[name] = [f"v{v}" for v in rng.integers(0, 400, n)]
        else:
            columns[name] = rng.normal(size=n)
    return pd.DataFrame(columns)


def test_awkward_column_names_give_a_valid_config(tmp_path: Path) -> None:
    reference, current = awkward_frame(2000, seed=0), awkward_frame(150, seed=1)
    reference.to_parquet(tmp_path / "reference.parquet")
    current.to_parquet(tmp_path / "current.parquet")
    config = init_config(tmp_path, "-r", "reference.parquet", "--current", "current.parquet")
    data = config["data"]
    assert data["exclude"] == [n for i, n in enumerate(AWKWARD_NAMES) if i % 4 == 1]
    roles = ["identifier", None, "category", "number"]
    assert data["roles"] == {n: roles[i % 4] for i, n in enumerate(AWKWARD_NAMES) if i % 4 != 1}
    assert not any("drift" in settings for settings in data.get("columns", {}).values())
    load_config(tmp_path / "mlgates.toml")
    report = validate_frame(current, read_schema(tmp_path / SCHEMA_FILE))
    assert report.ok, report.summary()


def test_awkward_file_names_give_a_valid_config(tmp_path: Path) -> None:
    folder = tmp_path / 'data "raw" \\ naïve'
    folder.mkdir()
    reference = folder / "ref 'v1' #1.csv"
    load_diabetes(as_frame=True).frame.to_csv(reference, index=False)
    target = tmp_path / "gates"
    config = init_config(tmp_path, "-r", reference, "--directory", target, target=target)
    assert config["data"]["reference"] == "../data \"raw\" \\ naïve/ref 'v1' #1.csv"
    assert config["data"]["schema"] == SCHEMA_FILE
    assert load_config(target / "mlgates.toml") is not None


@pytest.mark.parametrize("name", [*AWKWARD_NAMES, "", "\x00", "\U0001f600\u200b", "a\rb"])
def test_toml_string_round_trips(name: str) -> None:
    assert tomllib.loads(f"key = {toml_string(name)}")["key"] == name
    assert tomllib.loads(f"[t.{toml_string(name)}]\nx = 1")["t"] == {name: {"x": 1}}
