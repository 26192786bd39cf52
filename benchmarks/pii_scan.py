"""Benchmark of the PII scan on generated text columns: ``python benchmarks/pii_scan.py``.

The data: 1M rows (``--rows``) of 5 text columns, drawn with numpy from pools of
a few thousand Faker values:

name      person names (no personal data of the kinds scanned)
notes     free text (Faker sentences) with identifiers planted at known rates:
          email 0.5%, phone 0.3%, card 0.2%, IBAN 0.1%, SSN 0.1%, IP 0.2%
email     an email address in every row
code      look-alikes: order and invoice numbers, dates, times, versions, prices,
          ZIP codes, case numbers, 16-digit numbers failing Luhn, 10-digit numbers
address   postal addresses

Each column is scanned with ``scan_column`` three times; the figures are medians,
first with the default budget (a sample of 200,000 values per column), then with
a budget covering every row. The planted counts are printed next to those found.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time

import numpy as np
import pandas as pd
import phonenumbers
from faker import Faker
from stdnum import luhn

from mlgates.stages.data.pii import ColumnScan, scan_column

PLANTED = {"email": 0.005, "phone": 0.003, "card": 0.002, "iban": 0.001, "ssn": 0.001, "ip": 0.002}
PHONE_LOCALES = {"en_US": "US", "en_GB": "GB", "fr_FR": "FR", "en_IN": "IN", "pt_BR": "BR"}
POOL = 3000


def _phones(seed: int) -> list[str]:
    """Faker phone numbers valid in their locale and written with a ``+`` or separators."""
    numbers = []
    for locale, region in PHONE_LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        for _ in range(POOL // len(PHONE_LOCALES)):
            number = fake.phone_number()
            if not (number.startswith("+") or re.search(r"[ ().-]", number)):
                continue
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
                    numbers.append(number)
            except phonenumbers.NumberParseException:
                pass
    return numbers


def _pools(seed: int) -> dict[str, list[str]]:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    failing_luhn: list[str] = []
    while len(failing_luhn) < POOL:
        number = "".join(map(str, rng.integers(0, 10, 16)))
        if not luhn.is_valid(number):
            failing_luhn.append(number)
    codes = (
        [f"ORD-{rng.integers(2015, 2025)}-{rng.integers(0, 999_999):06d}" for _ in range(POOL)]
        + [f"INV-{rng.integers(0, 99_999):05d}" for _ in range(POOL)]
        + [str(fake.date()) for _ in range(POOL)]
        + [fake.date_time().isoformat() for _ in range(POOL)]
        + [fake.date(pattern="%d/%m/%Y") for _ in range(POOL)]
        + [
            f"{rng.integers(0, 20)}.{rng.integers(0, 20)}.{rng.integers(0, 50)}"
            for _ in range(POOL)
        ]
        + [f"${rng.integers(1, 99_999):,}.{rng.integers(0, 100):02d}" for _ in range(POOL)]
        + [fake.zipcode() for _ in range(POOL)]
        + [fake.zipcode_plus4() for _ in range(POOL)]
        + [
            f"Case No. {rng.integers(2000, 2025)}-CV-{rng.integers(0, 99_999):05d}"
            for _ in range(POOL)
        ]
        + failing_luhn
        + [str(rng.integers(1_000_000_000, 9_999_999_999)) for _ in range(POOL)]
    )
    return {
        "name": [fake.name() for _ in range(POOL)],
        "sentence": [fake.sentence(nb_words=12) for _ in range(POOL)],
        "email": [fake.email() for _ in range(POOL)],
        "code": codes,
        "address": [fake.address().replace("\n", ", ") for _ in range(POOL)],
        "planted_email": [fake.email() for _ in range(POOL)],
        "planted_phone": _phones(seed),
        "planted_card": [fake.credit_card_number(card_type="visa16") for _ in range(POOL)],
        "planted_iban": [fake.iban() for _ in range(POOL)],
        "planted_ssn": [fake.ssn() for _ in range(POOL)],
        "planted_ip": [fake.ipv4() for _ in range(POOL)],
    }


def generate(rows: int, seed: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """The 5 columns and the number of rows of ``notes`` holding each planted kind."""
    rng = np.random.default_rng(seed)
    pools = {key: np.array(values, dtype=object) for key, values in _pools(seed).items()}

    def draw(key: str, size: int) -> np.ndarray:
        return pools[key][rng.integers(0, len(pools[key]), size)]

    notes = draw("sentence", rows) + " " + draw("sentence", rows)
    kind_of_row = rng.choice(
        len(PLANTED) + 1, size=rows, p=[*PLANTED.values(), 1.0 - sum(PLANTED.values())]
    )
    planted = {}
    for index, kind in enumerate(PLANTED):
        where = np.flatnonzero(kind_of_row == index)
        planted[kind] = len(where)
        notes[where] = draw("sentence", len(where)) + " " + draw(f"planted_{kind}", len(where))
        notes[where] += " " + draw("sentence", len(where))
    frame = pd.DataFrame(
        {
            "name": draw("name", rows),
            "notes": notes,
            "email": draw("email", rows),
            "code": draw("code", rows),
            "address": draw("address", rows),
        }
    ).astype("str")
    return frame, planted


def _time(column: pd.Series, budget: int, repeats: int) -> tuple[float, ColumnScan]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scan = scan_column(column, budget=budget)
        times.append(time.perf_counter() - start)
    return statistics.median(times), scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    frame, planted = generate(args.rows, args.seed)
    print(
        f"generated {args.rows:,} rows x {frame.shape[1]} columns"
        f" in {time.perf_counter() - start:.1f} s ({os.cpu_count()} CPUs)"
    )
    print("planted in notes: " + ", ".join(f"{kind} {count:,}" for kind, count in planted.items()))
    for label, budget in (("default budget (200,000)", 200_000), ("every row", args.rows)):
        print(f"\n{label}, median of {args.repeats}:")
        total = 0.0
        for name in frame.columns:
            seconds, scan = _time(frame[name], budget, args.repeats)
            total += seconds
            found = ", ".join(
                f"{f.kind} {'~' if f.estimated else ''}{f.rows:,}" for f in scan.findings
            )
            print(
                f"  {name:<8} {seconds:6.2f} s  {args.rows / seconds:>12,.0f} rows/s"
                f"  scanned {scan.rows_scanned:>9,}  found: {found or '-'}"
            )
        print(
            f"  {'total':<8} {total:6.2f} s  {args.rows * frame.shape[1] / total:>12,.0f} values/s"
        )


if __name__ == "__main__":
    main()
