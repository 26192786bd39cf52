"""Generate the credit-default example: data batches and two trained models.

The data come from one synthetic lending process: applicant attributes, the
loan asked for, the bureau record, and a ``default`` label drawn from a logistic
model of a latent risk score. Everything is seeded, so running this script again
writes byte-identical data files.

Files written next to this script::

    data/reference.parquet        8,000 rows, the training-time data
    data/current.parquet          3,000 rows, a new clean batch from the same process
    data/current_drifted.parquet  3,000 rows with injected defects (see ``inject_defects``)
    models/candidate.skops        ColumnTransformer + HistGradientBoostingClassifier
    models/baseline.skops         ColumnTransformer + LogisticRegression
    models/candidate_regressed.skops  the candidate retrained on a broken bureau feed

Usage::

    python examples/credit/make_example.py           # needs scikit-learn and skops
    python examples/credit/make_example.py --no-models
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING
from zipfile import ZIP_DEFLATED

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MODELS = HERE / "models"

REFERENCE_SEED = 20240101
CURRENT_SEED = 20240601
DRIFTED_SEED = 20240701
MODEL_SEED = 7

BROKEN_FEED_FEATURES = ("late_payments_12m", "utilisation")
"""Fields the regressed candidate was trained without (a bureau feed that sent zeros)."""

REFERENCE_ROWS = 8_000
BATCH_ROWS = 3_000

LABEL = "default"
IDENTIFIER = "applicant_id"
SENSITIVE = "sex"

REGIONS = ("north", "south", "east", "west", "central")
REGION_SHARES = (0.20, 0.25, 0.20, 0.15, 0.20)
REGION_INCOME = {"north": 0.05, "south": -0.10, "east": 0.00, "west": 0.12, "central": 0.02}
EMPLOYMENT = ("salaried", "self_employed", "part_time", "unemployed")
EMPLOYMENT_SHARES = (0.64, 0.16, 0.14, 0.06)
EMPLOYMENT_INCOME = {"salaried": 0.0, "self_employed": 0.10, "part_time": -0.45, "unemployed": -0.9}
EMPLOYMENT_RISK = {"salaried": 0.0, "self_employed": 0.25, "part_time": 0.35, "unemployed": 0.9}
HOME = ("own", "mortgage", "rent")
HOME_RISK = {"own": -0.25, "mortgage": -0.10, "rent": 0.20}
PURPOSES = (
    "debt_consolidation",
    "home_improvement",
    "car",
    "education",
    "medical",
    "business",
)
PURPOSE_SHARES = (0.34, 0.18, 0.20, 0.09, 0.07, 0.12)
PURPOSE_RISK = {
    "debt_consolidation": 0.20,
    "home_improvement": -0.15,
    "car": -0.10,
    "education": 0.05,
    "medical": 0.30,
    "business": 0.35,
}
CHANNELS = ("online", "branch", "broker")
CHANNEL_SHARES = (0.55, 0.30, 0.15)
CHANNEL_RISK = {"online": 0.0, "branch": -0.10, "broker": 0.15}
TERMS = (12, 24, 36, 60)
GRADE_CUTS = (0.4, 0.9, 1.4, 1.9, 2.5, 3.2)
GRADE_RATES = (5.9, 7.9, 10.4, 13.5, 16.9, 20.9, 25.9)

# Fixed once for the process (not refitted per batch): about 20% of applicants default.
DEFAULT_INTERCEPT = -2.35

NUMERIC_FEATURES = (
    "age",
    "dependents",
    "income",
    "savings",
    "debt_ratio",
    "credit_lines",
    "months_employed",
    "loan_amount",
    "loan_term",
    "interest_rate",
    "utilisation",
    "late_payments_12m",
)
CATEGORICAL_FEATURES = (
    "region",
    "employment_type",
    "home_ownership",
    "purpose",
    "application_channel",
)

# The defects injected into data/current_drifted.parquet.
DRIFT_INCOME_SHIFT_SD = 0.5  # income moves up by half a reference standard deviation
DRIFT_REGION = "north"  # its share doubles, 20% -> 40%
DRIFT_NEGATIVE_AGES = 25  # rows whose age arrives as a negative number
DRIFT_UNSEEN_EMPLOYMENT = "gig_worker"  # a category the reference never had
DRIFT_UNSEEN_SHARE = 0.03


def _pick(
    rng: np.random.Generator, labels: tuple[str, ...], shares: tuple[float, ...], n: int
) -> np.ndarray:
    return np.asarray(labels, dtype=object)[rng.choice(len(labels), size=n, p=shares)]


def _lookup(table: dict[str, float], labels: np.ndarray) -> np.ndarray:
    return np.array([table[label] for label in labels], dtype=np.float64)


def generate(
    n: int,
    *,
    seed: int,
    first_id: int,
    region_shares: tuple[float, ...] = REGION_SHARES,
) -> pd.DataFrame:
    """``n`` applicants from the lending process, with their ``default`` outcome."""
    rng = np.random.default_rng(seed)

    sex = _pick(rng, ("female", "male"), (0.48, 0.52), n)
    age = np.clip(np.round(rng.gamma(7.0, 4.5, n) + 12), 18, 80).astype(np.int64)
    region = _pick(rng, REGIONS, region_shares, n)
    employment = _pick(rng, EMPLOYMENT, EMPLOYMENT_SHARES, n)

    # Home ownership follows age: the young rent, the older own.
    own_logit = (age - 45) / 8.0
    u = rng.random(n)
    p_own = 1 / (1 + np.exp(-own_logit)) * 0.55
    p_mortgage = 0.35 + 0.1 * np.tanh((age - 35) / 10)
    home = np.where(u < p_own, "own", np.where(u < p_own + p_mortgage, "mortgage", "rent"))
    home = home.astype(object)

    # Income: lognormal around 42k with an age curve, region and employment effects.
    centred_age = (age - 42) / 10
    log_income = (
        10.65
        + 0.08 * centred_age
        - 0.05 * centred_age**2
        + _lookup(REGION_INCOME, region)
        + _lookup(EMPLOYMENT_INCOME, employment)
        + rng.normal(0.0, 0.42, n)
    )
    income = np.round(np.exp(log_income), -1)

    months_employed = np.floor(rng.gamma(1.6, 30.0, n) * np.clip((age - 17) / 25, 0.2, 1.5))
    months_employed = np.minimum(months_employed, (age - 16) * 12).astype(np.float64)
    months_employed[employment == "unemployed"] = 0.0

    credit_lines = np.clip(rng.poisson(1.0 + (age - 18) / 12.0), 1, 18).astype(np.int64)
    debt_ratio = np.round(np.clip(rng.beta(2.2, 5.0, n) * 1.2, 0.0, 1.0), 3)
    utilisation = np.round(np.clip(rng.beta(1.6, 2.6, n) + 0.15 * (debt_ratio - 0.37), 0, 1), 3)

    dependents = np.clip(rng.poisson(np.where((age > 28) & (age < 60), 1.3, 0.4)), 0, 6)
    dependents = dependents.astype(np.int64)
    savings = np.round(np.exp(np.log(income) - 1.0 + rng.normal(0.0, 0.9, n)), -1)
    savings[rng.random(n) < 0.18 + 0.12 * (employment != "salaried")] = 0.0
    channel = _pick(rng, CHANNELS, CHANNEL_SHARES, n)

    purpose = _pick(rng, PURPOSES, PURPOSE_SHARES, n)
    loan_amount = np.round(
        np.clip(np.exp(np.log(income) - 1.35 + rng.normal(0.0, 0.5, n)), 1_000, 50_000), -1
    )
    term_logits = np.stack(
        [
            np.full(n, 0.0),
            np.full(n, 0.7),
            0.9 + (loan_amount - 12_000) / 15_000,
            0.2 + (loan_amount - 12_000) / 7_500,
        ],
        axis=1,
    )
    term_probs = np.exp(term_logits)
    term_probs /= term_probs.sum(axis=1, keepdims=True)
    term_index = (rng.random((n, 1)) > np.cumsum(term_probs, axis=1)).sum(axis=1)
    loan_term = np.asarray(TERMS, dtype=np.int64)[np.minimum(term_index, len(TERMS) - 1)]

    # A latent creditworthiness drives the bureau record, the price and the outcome.
    hidden = rng.normal(0.0, 1.0, n)
    late_payments = np.clip(rng.poisson(np.exp(-1.3 + 0.55 * hidden)), 0, 12).astype(np.int64)
    # Lenders know the effects are not linear: maxed-out revolving credit and a
    # first late payment weigh most, and risk is higher at both ends of the age range.
    risk = (
        0.45 * hidden
        - 0.55 * (np.log(income) - 10.6)
        + 1.2 * (debt_ratio - 0.37)
        + 2.2 * np.maximum(debt_ratio - 0.45, 0.0) * (employment != "salaried")
        + 0.4 * (utilisation - 0.4)
        + 1.4 * (utilisation > 0.8)
        + 0.7 * np.minimum(late_payments, 1)
        + 0.1 * late_payments
        + 0.35 * ((age - 45) / 15) ** 2
        - 0.4 * (age > 60) * (home == "own")
        + 0.06 * dependents
        - 0.08 * np.log1p(savings / 1_000)
        + _lookup(CHANNEL_RISK, channel)
        - 0.004 * np.minimum(months_employed, 120)
        + 0.35 * (loan_amount / income - 0.3)
        + 0.004 * (loan_term - 36)
        + _lookup(EMPLOYMENT_RISK, employment)
        + _lookup(HOME_RISK, home)
        + _lookup(PURPOSE_RISK, purpose)
    )
    # The lender prices on its own linear scorecard, in grades A-G, not on the true risk.
    scorecard = (
        0.8 * late_payments
        - 1.0 * (np.log(income) - 10.6)
        + 2.0 * debt_ratio
        + 1.0 * utilisation
        + rng.normal(0.0, 0.6, n)
    )
    grade = np.digitize(scorecard, GRADE_CUTS)
    interest_rate = np.round(
        np.asarray(GRADE_RATES)[grade] + 0.03 * loan_term + rng.normal(0.0, 0.4, n), 2
    )
    p_default = 1 / (1 + np.exp(-(DEFAULT_INTERCEPT + 1.25 * risk)))
    default = (rng.random(n) < p_default).astype(np.int64)

    # Values that are missing at intake: an unreported employment history, a
    # bureau record without revolving credit.
    months_employed[rng.random(n) < 0.04] = np.nan
    utilisation[rng.random(n) < 0.03] = np.nan

    frame = pd.DataFrame(
        {
            IDENTIFIER: np.arange(first_id, first_id + n, dtype=np.int64),
            "age": age,
            SENSITIVE: sex,
            "region": region,
            "employment_type": employment,
            "home_ownership": home,
            "dependents": dependents,
            "income": income,
            "months_employed": months_employed,
            "debt_ratio": debt_ratio,
            "credit_lines": credit_lines,
            "late_payments_12m": late_payments,
            "utilisation": utilisation,
            "savings": savings,
            "purpose": purpose,
            "loan_amount": loan_amount,
            "loan_term": loan_term,
            "interest_rate": interest_rate,
            "application_channel": channel,
            LABEL: default,
        }
    )
    for column in (SENSITIVE, *CATEGORICAL_FEATURES):
        frame[column] = frame[column].astype("string")
    return frame


def inject_defects(batch: pd.DataFrame, reference: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """A batch with the defects the example's blocked run must name.

    ``batch`` should already carry the region shift (generated with doubled
    ``DRIFT_REGION`` share). This adds the income shift and the schema breaks.
    """
    rng = np.random.default_rng(seed)
    out = batch.copy()
    shift = DRIFT_INCOME_SHIFT_SD * float(reference["income"].std())
    out["income"] = np.round(out["income"] + shift, -1)
    rows = rng.choice(len(out), size=DRIFT_NEGATIVE_AGES, replace=False)
    out.loc[out.index[rows], "age"] = -out["age"].to_numpy()[rows]
    unseen = rng.random(len(out)) < DRIFT_UNSEEN_SHARE
    out.loc[unseen, "employment_type"] = DRIFT_UNSEEN_EMPLOYMENT
    return out


def drifted_region_shares() -> tuple[float, ...]:
    """``REGION_SHARES`` with ``DRIFT_REGION`` doubled and the others scaled down."""
    target = REGION_SHARES[REGIONS.index(DRIFT_REGION)] * 2
    rest = 1 - REGION_SHARES[REGIONS.index(DRIFT_REGION)]
    return tuple(
        target if region == DRIFT_REGION else share * (1 - target) / rest
        for region, share in zip(REGIONS, REGION_SHARES, strict=True)
    )


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` reproducibly: no index, fixed compression."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, engine="pyarrow", index=False, compression="zstd")


def build_models(reference: pd.DataFrame) -> dict[str, Pipeline]:
    """The candidate and baseline pipelines, fitted on the reference data."""
    from sklearn.base import clone
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def preprocess(
        scale: bool, categorical: tuple[str, ...] = CATEGORICAL_FEATURES
    ) -> ColumnTransformer:
        numeric_steps: list[tuple[str, object]] = [("impute", SimpleImputer(strategy="median"))]
        if scale:
            numeric_steps.append(("scale", StandardScaler()))
        return ColumnTransformer(
            [
                ("numeric", Pipeline(numeric_steps), list(NUMERIC_FEATURES)),
                (
                    "categorical",
                    Pipeline(
                        [
                            ("impute", SimpleImputer(strategy="most_frequent")),
                            (
                                "encode",
                                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                            ),
                        ]
                    ),
                    list(categorical),
                ),
            ],
            remainder="drop",
        )

    candidate = Pipeline(
        [
            ("preprocess", preprocess(scale=False)),
            (
                "model",
                HistGradientBoostingClassifier(
                    max_iter=150,
                    learning_rate=0.05,
                    max_leaf_nodes=15,
                    l2_regularization=1.0,
                    early_stopping=False,
                    random_state=MODEL_SEED,
                ),
            ),
        ]
    )
    baseline = Pipeline(
        [
            ("preprocess", preprocess(scale=True)),
            ("model", LogisticRegression(max_iter=1_000)),
        ]
    )
    features = reference[[*NUMERIC_FEATURES, *CATEGORICAL_FEATURES]].astype(
        {column: object for column in CATEGORICAL_FEATURES}
    )
    target = reference[LABEL]
    candidate.fit(features, target)
    baseline.fit(features, target)
    # The same candidate retrained after the bureau feed broke: both fields arrived as 0.
    broken = features.assign(**{column: 0 for column in BROKEN_FEED_FEATURES})
    regressed = clone(candidate).fit(broken, target)
    # A candidate given the applicant's sex, retrained on a history in which repayments
    # of women that ran late were written off as defaults: it learns to decline women.
    unfair = Pipeline(
        [
            ("preprocess", preprocess(False, (*CATEGORICAL_FEATURES, SENSITIVE))),
            ("model", clone(candidate.named_steps["model"])),
        ]
    )
    rng = np.random.default_rng(MODEL_SEED)
    written_off = (reference[SENSITIVE] == "female").to_numpy() & (rng.random(len(target)) < 0.3)
    unfair.fit(
        features.assign(**{SENSITIVE: reference[SENSITIVE].astype(object)}),
        target.where(~written_off, 1),
    )
    return {
        "candidate": candidate,
        "baseline": baseline,
        "candidate_regressed": regressed,
        "candidate_unfair": unfair,
    }


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    """Write the data files and, unless ``--no-models``, the two models."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-models", action="store_true", help="write the data files only")
    args = parser.parse_args()

    reference = generate(REFERENCE_ROWS, seed=REFERENCE_SEED, first_id=100_000)
    current = generate(BATCH_ROWS, seed=CURRENT_SEED, first_id=200_000)
    drifted = inject_defects(
        generate(
            BATCH_ROWS,
            seed=DRIFTED_SEED,
            first_id=300_000,
            region_shares=drifted_region_shares(),
        ),
        reference,
        seed=DRIFTED_SEED,
    )
    outputs = {
        DATA / "reference.parquet": reference,
        DATA / "current.parquet": current,
        DATA / "current_drifted.parquet": drifted,
    }
    for path, frame in outputs.items():
        write_parquet(frame, path)
        rate = frame[LABEL].mean()
        print(
            f"{path.relative_to(HERE)}: {len(frame):,} rows, default rate {rate:.1%}, "
            f"sha256 {sha256(path)[:12]}"
        )

    if args.no_models:
        return
    import sklearn
    import skops.io as sio
    from sklearn.metrics import roc_auc_score

    MODELS.mkdir(parents=True, exist_ok=True)
    # skops files load with the scikit-learn release that saved them: say which one
    (MODELS / "versions.json").write_text(
        json.dumps({"scikit-learn": sklearn.__version__}, indent=2) + "\n", encoding="utf-8"
    )
    holdout = current[[*NUMERIC_FEATURES, *CATEGORICAL_FEATURES, SENSITIVE]].astype(
        {column: object for column in (*CATEGORICAL_FEATURES, SENSITIVE)}
    )
    for name, model in build_models(reference).items():
        path = MODELS / f"{name}.skops"
        sio.dump(model, path, compression=ZIP_DEFLATED, compresslevel=9)
        scores = model.predict_proba(holdout[list(model.feature_names_in_)])[:, 1]
        auc = roc_auc_score(current[LABEL], scores)
        print(f"{path.relative_to(HERE)}: ROC AUC on data/current.parquet {auc:.3f}")


if __name__ == "__main__":
    main()
