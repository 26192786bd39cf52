"""The PII scan: planted identifiers are counted exactly, look-alikes are not, nothing leaks."""

from __future__ import annotations

import ipaddress
import math
import re

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from faker import Faker
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import ssn as stdnum_ssn

from mlgates.stages.data.pii import PII_KINDS, ColumnScan, mask, scan_column

SEED = 20240315
CARD_TYPES = ("visa16", "visa13", "visa19", "mastercard", "amex", "discover", "diners", "jcb15")
PHONE_LOCALES = {
    "en_US": "US",
    "en_GB": "GB",
    "de_DE": "DE",
    "fr_FR": "FR",
    "en_IN": "IN",
    "pt_BR": "BR",
    "es_ES": "ES",
    "it_IT": "IT",
    "en_AU": "AU",
}
IBAN_LOCALES = ("de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES", "it_IT", "pl_PL", "no_NO")


def _faker(locale: str = "en_US", offset: int = 0) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(SEED + offset)
    return fake


def _strictly_grouped(number: str, region: str) -> bool:
    matcher = phonenumbers.PhoneNumberMatcher(
        number, region, leniency=phonenumbers.Leniency.STRICT_GROUPING
    )
    return any(match.start == 0 and match.end == len(number) for match in matcher)


def _phone_is_detectable(number: str, region: str) -> bool:
    """The documented rule: a ``+`` and a valid number, or separators, validity and grouping."""
    try:
        if number.startswith("+"):
            return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
        if not re.search(r"[ ().-]", number):
            return False
        valid = phonenumbers.is_valid_number(phonenumbers.parse(number, region))
    except phonenumbers.NumberParseException:
        return False
    return valid and _strictly_grouped(number, region)


def _phones(per_locale: int) -> list[str]:
    numbers = []
    for offset, (locale, region) in enumerate(PHONE_LOCALES.items()):
        fake = _faker(locale, offset)
        found: list[str] = []
        while len(found) < per_locale:
            number = fake.phone_number()
            if _phone_is_detectable(number, region):
                found.append(number)
        numbers += found
    return numbers


def _cards(fake: Faker, per_type: int) -> list[str]:
    numbers = [
        fake.credit_card_number(card_type=kind) for kind in CARD_TYPES for _ in range(per_type)
    ]
    # Half of them written in groups of four, as on the card.
    return [
        " ".join(number[i : i + 4] for i in range(0, len(number), 4)) if index % 2 else number
        for index, number in enumerate(numbers)
    ]


def _broken_luhn(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def _ibans(per_locale: int) -> list[str]:
    values = []
    for offset, locale in enumerate(IBAN_LOCALES):
        fake = _faker(locale, offset)
        for index in range(per_locale):
            value = fake.iban()
            values.append(stdnum_iban.format(value) if index % 2 else value)
    return values


class Planted:
    """A free-text column with identifiers planted in known rows."""

    def __init__(self, rows: int = 2500) -> None:
        fake = _faker()
        rng = np.random.default_rng(SEED)
        texts = [
            fake.paragraph(nb_sentences=3) if index % 3 else fake.sentence()
            for index in range(rows)
        ]
        free = iter(rng.permutation(rows).tolist())
        self.values: list[str] = []
        self.rows = dict.fromkeys(PII_KINDS, 0)

        def plant(kind: str | None, text: str, *identifiers: str) -> None:
            row = next(free)
            texts[row] = f"{fake.sentence()} {text} {fake.sentence()}"
            self.values += identifiers
            if kind is not None:
                self.rows[kind] += 1

        emails = [fake.email() for _ in range(40)] + [fake.free_email() for _ in range(10)]
        for email in emails:
            plant("email", email, email)
        for first, second in zip(emails[:5], emails[5:10], strict=True):
            plant("email", f"{first} and {second}", first, second)  # two emails, one row
        for number in _phones(8):
            plant("phone", f"Call {number}.", number)
        cards = _cards(fake, 6)
        for number in cards:
            plant("card", f"card {number}", number)
        for number in cards[::2]:
            plant(None, f"card {_broken_luhn(number)}")
        for value in _ibans(4):
            plant("iban", f"IBAN: {value}", value)
        ssns = [fake.ssn() for _ in range(30)]
        assert all(stdnum_ssn.is_valid(value) for value in ssns)
        for value in ssns:
            plant("ssn", f"SSN {value}", value)
        for value in ("000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"):
            plant(None, f"SSN {value}")
        addresses = [fake.ipv4_public() for _ in range(15)] + [
            fake.ipv4_private() for _ in range(10)
        ]
        addresses += [fake.ipv6() for _ in range(8)] + ["2001:db8::1", "fe80::1ff:fe23:4567:890a"]
        for address in addresses:
            plant("ip", f"from {address}", address)
        plant("email", f"write to {emails[0]} or call +44 20 7946 0958", "+44 20 7946 0958")
        self.rows["phone"] += 1
        self.column = pd.Series(texts, dtype="str")


@pytest.fixture(scope="module")
def planted() -> Planted:
    return Planted()


@pytest.fixture(scope="module")
def planted_scan(planted: Planted) -> ColumnScan:
    return scan_column(planted.column)


def _strings(scan: ColumnScan) -> list[str]:
    return [
        repr(scan),
        scan.describe(),
        *(finding.describe() for finding in scan.findings),
        *(example for finding in scan.findings for example in finding.examples),
    ]


def test_planted_identifiers_are_counted_exactly(
    planted: Planted, planted_scan: ColumnScan
) -> None:
    assert planted_scan.rows_scanned == planted_scan.rows_total == len(planted.column)
    assert not planted_scan.sampled()
    assert planted_scan.detectable_share is None
    assert planted_scan.capped == ()
    counts = {finding.kind: finding.rows for finding in planted_scan.findings}
    assert counts == planted.rows
    assert all(not finding.estimated for finding in planted_scan.findings)
    assert [finding.kind for finding in planted_scan.findings] == list(PII_KINDS)


def test_repeated_values_are_counted_row_by_row(planted: Planted) -> None:
    # three copies of every value: the regexes run once per distinct value
    repeated = pd.concat([planted.column] * 3, ignore_index=True)
    scan = scan_column(repeated, cap=len(repeated))
    counts = {finding.kind: finding.rows for finding in scan.findings}
    assert counts == {kind: 3 * rows for kind, rows in planted.rows.items()}
    assert scan.rows_scanned == scan.rows_total == len(repeated)


def test_no_planted_value_leaves_the_scan_unmasked(
    planted: Planted, planted_scan: ColumnScan
) -> None:
    strings = _strings(planted_scan)
    for value in planted.values:
        for form in {value, re.sub(r"[\s-]", "", value)}:
            assert not any(form in text for text in strings), form


def test_examples_are_masked_identifiers(planted_scan: ColumnScan) -> None:
    patterns = {
        "email": r"[\w]\*\*\*@\w?\*\*\*\*\*\.[a-z]+",
        "phone": r"\+\d{1,3} \*{6}\d\d",
        "card": r"\*{4} \*{4} \*{4} \d{4}",
        "iban": r"[A-Z]{2}\*\* \*{4} \*{4} [A-Z0-9]{4}",
        "ssn": r"\*\*\*-\*\*-\d{4}",
        "ip": r"\d{1,3}\.(\d{1,3}\.)?[*.]+|[0-9a-f]{1,4}:[0-9a-f]{1,4}(:\*){6}",
    }
    for finding in planted_scan.findings:
        assert 1 <= len(finding.examples) <= 3
        assert len(set(finding.examples)) == len(finding.examples)
        for example in finding.examples:
            assert re.fullmatch(patterns[finding.kind], example), (finding.kind, example)


def test_kinds_limit_the_scan(planted: Planted) -> None:
    scan = scan_column(planted.column, kinds=["card", "email"])
    assert [finding.kind for finding in scan.findings] == ["card", "email"]
    assert scan.finding("card") is not None
    assert scan.finding("phone") is None
    assert scan_column(planted.column, kinds="ssn").findings[0].rows == planted.rows["ssn"]


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("+1 (425) 882-8080", 1),
        ("(425) 882-8080", 1),
        ("425-882-8080", 1),
        ("425.882.8080 x123", 1),
        ("+44 20 7946 0958", 44),
        ("020 7946 0958", 44),
        ("0044 20 7946 0958", 44),
        ("+49 (0)30 12345678", 49),
        ("030 12345678", 49),
        ("0171 1234567", 49),
        ("+33 1 23 45 67 89", 33),
        ("01 23 45 67 89", 33),
        ("+91 98765 43210", 91),
        ("098765 43210", 91),
        ("+55 11 91234-5678", 55),
        ("(11) 91234-5678", 55),
        ("+34 912 345 678", 34),
        ("+39 06 1234 5678", 39),
        ("+81 3-1234-5678", 81),
        ("+61 2 9876 5432", 61),
    ],
)
def test_formatted_phone_numbers_of_several_countries_hit(number: str, country: int) -> None:
    scan = scan_column(pd.Series([f"Please call {number}, thanks.", number]), kinds=["phone"])
    found = scan.finding("phone")
    assert found is not None
    assert found.rows == 2
    assert found.examples == (
        f"+{country} ******{re.sub(r'[^0-9]', '', number.split(' x')[0])[-2:]}",
    )


LOOK_ALIKES = [
    "ORD-2023-000123",
    "INV-000123",
    "Order #2023-000123",
    "4111111111111112",
    "1234 5678 9012 3457",
    "1234567890",
    "2023-03-15",
    "15/03/2023",
    "15.03.2023",
    "2023/03/15",
    "2023-03-15T10:20:30",
    "2023-03-15 10:20:30",
    "2018-02-05T20:46:06.433933",
    "10:20:30",
    "version 1.2.3",
    "v1.2.3.4",
    "release 10.0.0.1",
    "$1,234.56",
    "1 234 567,89 €",
    "EUR 12 345 678",
    "1.234.567",
    "12345",
    "12345-6789",
    "91234-5678",
    "Case No. 2023-CV-01234",
    "case 12-345678",
    "1:23-cv-01234",
    "978-3-16-148410-0",
    "00:1A:2B:3C:4D:5E",
    "icon@2x.png",
    "logo@3X.JPG",
    "@handle mentioned",
    "000-12-3456",
    "666-12-3456",
    "900-12-3456",
    "078-05-1120",
    "256.1.1.1",
    "10.0.0.01",
    "1.3.6.1.4.1",
    "std::vector",
    "a :: b",
    "Tracking 1Z999AA10123456784",
    "DE00 0000 0000 0000 0000 00",
    "GB82WEST12345698765433",
    "SKU-4111-1111-1111-1111",
    "at 10.30 am",
    "12 345 678",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_a_look_alike_is_no_finding(text: str) -> None:
    scan = scan_column(pd.Series([text, f"Reference {text} noted."]))
    assert scan.findings == (), scan.describe()


def test_a_column_of_generated_look_alikes_has_no_findings() -> None:
    fake = _faker()
    rng = np.random.default_rng(SEED)
    failing_luhn = [
        number
        for number in ("".join(map(str, rng.integers(0, 10, 16))) for _ in range(600))
        if not luhn.is_valid(number)
    ]
    values = (
        [f"ORD-{rng.integers(2015, 2025)}-{rng.integers(0, 999_999):06d}" for _ in range(300)]
        + [f"INV-{rng.integers(0, 99_999):05d}" for _ in range(300)]
        + [str(fake.date()) for _ in range(300)]
        + [fake.date(pattern="%d/%m/%Y") for _ in range(300)]
        + [fake.date_time().isoformat() for _ in range(300)]
        + [str(fake.date_time()) for _ in range(300)]
        + [fake.time() for _ in range(300)]
        + [f"{rng.integers(0, 20)}.{rng.integers(0, 20)}.{rng.integers(0, 50)}" for _ in range(300)]
        + [f"${rng.integers(1, 9_999_999):,}.{rng.integers(0, 100):02d}" for _ in range(300)]
        + [fake.zipcode() for _ in range(300)]
        + [fake.zipcode_plus4() for _ in range(300)]
        + [
            f"Case No. {rng.integers(2000, 2025)}-CV-{rng.integers(0, 99_999):05d}"
            for _ in range(300)
        ]
        + failing_luhn
        + [str(rng.integers(1_000_000_000, 9_999_999_999)) for _ in range(300)]
        + [fake.sentence() for _ in range(300)]
    )
    scan = scan_column(pd.Series(values, dtype="str"))
    assert scan.rows_scanned == len(values)
    assert scan.findings == (), scan.describe()


def test_ssns_are_counted_as_stdnum_validates_them() -> None:
    rng = np.random.default_rng(SEED)
    areas = ["000", "666", "900", "999", "078", "457", "219", "001", "665", "667", "899"]
    values = []
    for _ in range(3000):
        area = rng.choice(areas) if rng.random() < 0.3 else f"{rng.integers(0, 1000):03d}"
        group = "00" if rng.random() < 0.05 else f"{rng.integers(0, 100):02d}"
        serial = "0000" if rng.random() < 0.05 else f"{rng.integers(0, 10_000):04d}"
        values.append(f"{area}-{group}-{serial}")
    values += ["078-05-1120", "457-55-5462", "219-09-9999", "078-05-1121"]
    expected = sum(stdnum_ssn.is_valid(value) for value in values)
    assert 0 < expected < len(values)
    found = scan_column(pd.Series([f"SSN: {v}" for v in values]), kinds=["ssn"]).finding("ssn")
    assert found is not None
    assert (found.rows, found.estimated) == (expected, False)


def test_ip_addresses_are_counted_as_ipaddress_validates_them() -> None:
    rng = np.random.default_rng(SEED)
    values = []
    for _ in range(2000):
        octets = [str(rng.integers(0, 300)) for _ in range(4)]
        if rng.random() < 0.1:
            octets[rng.integers(0, 4)] = f"0{rng.integers(0, 10)}"
        values.append(".".join(octets))

    def valid(value: str) -> bool:
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            return False
        return True

    expected = sum(map(valid, values))
    assert 0 < expected < len(values)
    texts = [f"connection from {value}:443" for value in values]
    texts += [
        "firmware 10.1.2.3",
        "version: 1.2.3.4",
        "v1.2.3.4",
        "Ready to build. 8.8.4.4 replied",
    ]
    found = scan_column(pd.Series(texts), kinds=["ip"]).finding("ip")
    assert found is not None
    assert (found.rows, found.estimated) == (expected + 1, False)


def test_a_column_over_budget_is_sampled_and_says_so() -> None:
    fake = _faker()
    sentences = np.array([fake.sentence() for _ in range(200)], dtype=object)
    emails = np.array([fake.email() for _ in range(200)], dtype=object)
    rng = np.random.default_rng(SEED)
    rows = 20_000
    texts = sentences[rng.integers(0, 200, rows)]
    with_email = rng.random(rows) < 0.1
    texts[with_email] = "mail " + emails[rng.integers(0, 200, with_email.sum())]
    column = pd.Series(texts, dtype="str")
    column[::10] = None  # missing values are neither scanned nor counted

    scan = scan_column(column, budget=4000, confidence=0.95, seed=7)

    assert scan.sampled()
    assert (scan.rows_scanned, scan.rows_total) == (4000, 18_000)
    assert scan.detectable_share == pytest.approx(-math.log(0.05) / 4000)
    assert scan.confidence == 0.95
    assert "random sample of 4,000 of 18,000 values" in scan.describe()
    assert "0.0749% of rows is found with probability 95%" in scan.describe()
    found = scan.finding("email")
    assert found is not None
    assert found.estimated
    truth = int(with_email[column.notna().to_numpy()].sum())
    assert found.rows == pytest.approx(truth, rel=0.15)
    assert scan_column(column, budget=4000, confidence=0.95, seed=7) == scan


def test_candidates_beyond_the_cap_are_sampled_and_the_count_estimated() -> None:
    fake = _faker()
    rng = np.random.default_rng(SEED)
    cards = [fake.credit_card_number(card_type="visa16") for _ in range(12_000)]
    valid = rng.random(len(cards)) < 0.4
    texts = [
        f"paid with {c if ok else _broken_luhn(c)}" for c, ok in zip(cards, valid, strict=True)
    ]

    scan = scan_column(pd.Series(texts), kinds=["card"], cap=1000)

    assert not scan.sampled()
    assert scan.capped == ("card",)
    found = scan.finding("card")
    assert found is not None
    assert found.estimated and found.capped()
    assert (found.candidates, found.checked) == (12_000, 1000)
    assert found.rows == pytest.approx(int(valid.sum()), rel=0.1)
    assert "estimated from 1,000 of 12,000 rows checked" in found.describe()
    assert "counts of card estimated from a sample of candidates" in scan.describe()


def test_a_capped_kind_without_hits_is_named() -> None:
    rng = np.random.default_rng(SEED)
    numbers = ("".join(map(str, rng.integers(0, 10, 16))) for _ in range(4000))
    values = pd.Series([f"ref {number}" for number in numbers if not luhn.is_valid(number)])
    scan = scan_column(values, kinds=["card"], cap=500)
    assert scan.capped == ("card",)
    assert scan.findings == ()


def test_values_that_are_not_strings_are_scanned_as_text() -> None:
    values = pd.Series(
        [
            None,
            float("nan"),
            pd.NA,
            pd.NaT,
            42,
            3.5,
            b"\xff\xfe",
            True,
            4111111111111111,
            "john.doe@example.com",
            pd.Timestamp("2023-03-15 10:20:30"),
        ],
        dtype=object,
    )
    scan = scan_column(values)
    assert (scan.rows_scanned, scan.rows_total) == (7, 7)
    assert {finding.kind: finding.rows for finding in scan.findings} == {"email": 1, "card": 1}
    numbers = scan_column(pd.Series([4111111111111111, 1234, 5555555555554444], dtype="int64"))
    assert [(f.kind, f.rows) for f in numbers.findings] == [("card", 2)]
    categories = scan_column(pd.Series(["536-90-4399", "x", None], dtype="category"))
    assert [(f.kind, f.rows) for f in categories.findings] == [("ssn", 1)]
    python_strings = scan_column(pd.Series(["ip 8.8.4.4", None], dtype="string[python]"))
    assert [(f.kind, f.examples) for f in python_strings.findings] == [("ip", ("8.*.*.*",))]


@pytest.mark.parametrize(
    "values",
    [pd.Series([], dtype=object), pd.Series([], dtype="str"), pd.Series([None, np.nan, pd.NA])],
)
def test_an_empty_or_missing_column_is_an_empty_scan(values: pd.Series) -> None:
    scan = scan_column(values)
    assert (scan.rows_scanned, scan.rows_total, scan.findings) == (0, 0, ())
    assert scan.detectable_share is None
    assert not scan.sampled()
    assert scan.describe() == "scanned all 0 values. no personal data"


def test_an_unknown_kind_names_itself_and_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"'emial' \(did you mean 'email'\?\); valid kinds: "):
        scan_column(pd.Series(["x"]), kinds=["emial"])
    with pytest.raises(ValueError, match="email, phone, card, iban, ssn, ip"):
        mask("passport", "X1234567")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"budget": 0}, "budget and cap"),
        ({"cap": 0}, "budget and cap"),
        ({"confidence": 1.0}, "confidence"),
    ],
)
def test_bad_arguments_are_refused(arguments: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scan_column(pd.Series(["x"]), **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("email", "john.doe@example.com", "j***@e*****.com"),
        ("email", "a@mail.example.co.uk", "a***@m*****.uk"),
        ("card", "4111 1111 1111 1234", "**** **** **** 1234"),
        ("card", "378282246310005", "**** **** **** 0005"),
        ("phone", "+44 20 7946 0958", "+44 ******58"),
        ("phone", "(425) 882-8080", "+1 ******80"),
        ("phone", "12", "******12"),
        ("iban", "DE89 3704 0044 0532 0130 00", "DE** **** **** 3000"),
        ("iban", "gb82west12345698765432", "GB** **** **** 5432"),
        ("ssn", "536-90-4399", "***-**-4399"),
        ("ip", "192.168.1.20", "192.168.*.*"),
        ("ip", "10.1.2.3", "10.1.*.*"),
        ("ip", "8.8.4.4", "8.*.*.*"),
        ("ip", "2001:db8::1", "2001:db8:*:*:*:*:*:*"),
        ("ip", "not an address", "*.*.*.*"),
    ],
)
def test_mask(kind: str, value: str, masked: str) -> None:
    assert mask(kind, value) == masked


def test_a_file_name_beside_an_email_leaves_the_email_counted() -> None:
    values = ["icon@2x.png and john.doe@example.com", "icon@2x.png", "mail jane@example.org"]
    found = scan_column(pd.Series(values), kinds=["email"]).finding("email")
    assert found is not None
    assert (found.rows, found.estimated, found.candidates) == (2, False, 2)
    assert found.examples == ("j***@e*****.org", "j***@e*****.com")
