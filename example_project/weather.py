"""Task 1: classify Seattle's daily weather; the dataset grows one year per version."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import (
    DAY,
    HOUR,
    Logbook,
    add_raw_reference,
    dataset_artifact,
    r6,
    read_version_csv,
    write_csv,
    write_json,
)
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from vega_datasets import local_data

import sitegen

SOURCE = local_data.seattle_weather
DATASET = "seattle-weather"
MODEL = "weather-classifier"
TARGET = "weather"
YEARS = (2012, 2013, 2014)
SEED = 0
FEATURES = [
    "precipitation",
    "temp_max",
    "temp_min",
    "wind",
    "temp_range",
    "doy_sin",
    "doy_cos",
    "year",  # the labelling convention drifts by year (see the dataset's class counts)
]
Logger = Callable[[int, dict[str, float]], None]


# --- data -------------------------------------------------------------------------------


def load_raw() -> pd.DataFrame:
    frame = SOURCE()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    return frame


def dataset_metadata(frame: pd.DataFrame) -> dict[str, Any]:
    years = frame["date"].str[:4].astype(int)
    by_year = frame.groupby(years)[TARGET].value_counts().unstack(fill_value=0)
    return {
        "rows": len(frame),
        "years": sorted(int(y) for y in years.unique()),
        "date_range": [frame["date"].min(), frame["date"].max()],
        "class_counts": {k: int(v) for k, v in sorted(frame[TARGET].value_counts().items())},
        "class_counts_by_year": {
            str(y): {k: int(v) for k, v in row.items()} for y, row in by_year.iterrows()
        },
        "source": SOURCE.url,
    }


def dataset_description(frame: pd.DataFrame, years: tuple[int, ...]) -> str:
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]} to {years[-1]}"
    rows = len(frame)
    text = (
        f"Daily weather in Seattle, **{span}** ({rows} days), from "
        "[vega-datasets](https://github.com/vega/vega-datasets).\n\n"
        "Columns: `precipitation` (mm), `temp_max`/`temp_min` (°C), `wind` (m/s) and the "
        "label `weather` (drizzle, fog, rain, snow, sun).\n\n"
        "Versions are **cumulative, one year each**, like a school adding a semester of "
        "assessment data: v0 = 2012, v1 = 2012-2013, v2 = 2012-2014."
    )
    if len(years) > 1:
        rain = frame[frame[TARGET] == "rain"]["date"].str[:4].value_counts()
        first, last = (int(rain.get(str(y), 0)) for y in (years[0], years[-1]))
        text += (
            " The label mix drifts between years (see `class_counts_by_year`): "
            f"{years[-1]} has {last} `rain` days against {first} in {years[0]}, "
            "so the year is one of the model features."
        )
    return text


def prepare_version(book: Logbook, raw: pd.DataFrame, years: tuple[int, ...]) -> None:
    """One preprocess run: the previous version plus one more year of rows."""
    year = years[-1]
    config = {"source": "vega_datasets:seattle-weather", "years": list(years), "add_year": year}
    with book.init(f"prep-weather-{year}", "preprocess", config) as run:
        work = book.workdir(run.id)
        base = raw.iloc[:0]
        if len(years) > 1:
            base = read_version_csv(run.use_artifact(f"dataset/{DATASET}:latest"), work)
        added = raw[raw["date"].str.startswith(str(year))]
        frame = pd.concat([base, added], ignore_index=True)
        art = dataset_artifact(
            DATASET,
            frame,
            TARGET,
            work,
            description=dataset_description(frame, years),
            metadata=dataset_metadata(frame),
        )
        if len(years) == 1:
            add_raw_reference(art, SOURCE)
        run.summary.update(rows=len(frame), added_rows=len(added))
        run.log_artifact(art)


def prepare(book: Logbook) -> None:
    raw = load_raw()
    for i in range(len(YEARS)):
        if i:
            book.clock.advance(120 * DAY)  # a new year of data arrives, like a semester
        prepare_version(book, raw, YEARS[: i + 1])


# --- models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    x_val: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    val_dates: list[str]
    classes: list[str]


@dataclass(frozen=True)
class Fitted:
    proba: Callable[[np.ndarray], np.ndarray]
    export: dict[str, Any]
    n_params: int


Fitter = Callable[[dict[str, Any], dict[str, Any], Split, Logger], Fitted]


def features(frame: pd.DataFrame) -> pd.DataFrame:
    dates = pd.to_datetime(frame["date"])
    angle = 2 * np.pi * dates.dt.dayofyear / 365.25
    derived = frame.assign(
        temp_range=frame["temp_max"] - frame["temp_min"],
        doy_sin=np.sin(angle),
        doy_cos=np.cos(angle),
        year=dates.dt.year,
    )
    return derived[FEATURES]


def split(frame: pd.DataFrame) -> Split:
    """A stratified 75/25 train/validation split, the same for every model."""
    x, y = features(frame).to_numpy(), frame[TARGET].to_numpy()
    rows = np.arange(len(frame))
    train, val = train_test_split(rows, test_size=0.25, stratify=y, random_state=SEED)
    dates = frame["date"].iloc[val].tolist()
    return Split(x[train], x[val], y[train], y[val], dates, sorted(frame[TARGET].unique()))


def curve(data: Split, p_train: np.ndarray, p_val: np.ndarray) -> dict[str, float]:
    """One history row: log-loss and accuracy on both sides of the split."""
    labels = np.array(data.classes)
    row = {}
    for side, y, proba in (("train", data.y_train, p_train), ("val", data.y_val, p_val)):
        row[f"{side}_log_loss"] = r6(log_loss(y, proba, labels=labels))
        row[f"{side}_accuracy"] = r6(accuracy_score(y, labels[proba.argmax(axis=1)]))
    return row


def named(values: np.ndarray) -> dict[str, float]:
    return {name: r6(v) for name, v in zip(FEATURES, values, strict=True)}


def fit_logreg(
    params: dict[str, Any], schedule: dict[str, Any], data: Split, log: Logger
) -> Fitted:
    """Logistic regression, ``max_iter`` lbfgs iterations per step via ``warm_start``."""
    scaler = StandardScaler().fit(data.x_train)
    x_train, x_val = scaler.transform(data.x_train), scaler.transform(data.x_val)
    clf = LogisticRegression(**params, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for step in range(1, schedule["steps"] + 1):
            clf.fit(x_train, data.y_train)
            log(step, curve(data, clf.predict_proba(x_train), clf.predict_proba(x_val)))
    export = {
        "scaler": {"mean": named(scaler.mean_), "scale": named(scaler.scale_)},
        "coef": {c: named(row) for c, row in zip(clf.classes_, clf.coef_, strict=True)},
        "intercept": {c: r6(b) for c, b in zip(clf.classes_, clf.intercept_, strict=True)},
    }
    return Fitted(
        lambda x: clf.predict_proba(scaler.transform(x)),
        export,
        clf.coef_.size + clf.intercept_.size,
    )


def tree_stats(trees: list[Any]) -> dict[str, Any]:
    depths = [t.tree_.max_depth for t in trees]
    return {
        "count": len(trees),
        "total_nodes": sum(int(t.tree_.node_count) for t in trees),
        "max_depth": int(max(depths)),
        "mean_depth": r6(np.mean(depths)),
    }


def fit_forest(
    params: dict[str, Any], schedule: dict[str, Any], data: Split, log: Logger
) -> Fitted:
    """Random forest grown ``step`` trees at a time via ``warm_start``."""
    clf = RandomForestClassifier(**params, random_state=SEED)
    for n in range(schedule["start"], schedule["stop"] + 1, schedule["step"]):
        clf.set_params(n_estimators=n).fit(data.x_train, data.y_train)
        log(n, curve(data, clf.predict_proba(data.x_train), clf.predict_proba(data.x_val)))
    stats = tree_stats(clf.estimators_)
    export = {"feature_importances": named(clf.feature_importances_), "trees": stats}
    return Fitted(clf.predict_proba, export, stats["total_nodes"])


def fit_boosting(
    params: dict[str, Any], schedule: dict[str, Any], data: Split, log: Logger
) -> Fitted:
    """Gradient boosting; the curve comes from the staged predictions of each stage."""
    clf = GradientBoostingClassifier(**params, random_state=SEED).fit(data.x_train, data.y_train)
    stages = zip(
        clf.staged_predict_proba(data.x_train), clf.staged_predict_proba(data.x_val), strict=True
    )
    for stage, (p_train, p_val) in enumerate(stages, start=1):
        if stage % schedule["every"] == 0:
            log(stage, curve(data, p_train, p_val))
    stats = tree_stats(list(clf.estimators_.ravel()))
    prior = dict(zip(clf.classes_, clf.init_.class_prior_, strict=True))
    export = {
        "feature_importances": named(clf.feature_importances_),
        "init_class_prior": {c: r6(p) for c, p in prior.items()},
        "trees": stats,
    }
    return Fitted(clf.predict_proba, export, stats["total_nodes"])


@dataclass(frozen=True)
class Family:
    key: str
    variant: str
    title: str
    fit: Fitter
    params: dict[str, Any]
    schedule: dict[str, Any]


LOGREG = Family(
    "logreg",
    "A",
    "logistic_regression",
    fit_logreg,
    {"C": 1.0, "solver": "lbfgs", "max_iter": 1, "warm_start": True},
    {"steps": 40},
)
FOREST = Family(
    "forest",
    "B",
    "random_forest",
    fit_forest,
    {"max_depth": 8, "min_samples_leaf": 2, "max_features": "sqrt", "warm_start": True},
    {"start": 5, "stop": 200, "step": 5},
)
BOOSTING = Family(
    "boosting",
    "C",
    "gradient_boosting",
    fit_boosting,
    {"n_estimators": 100, "learning_rate": 0.1, "max_depth": 3, "subsample": 0.8},
    {"every": 1},
)

TRAIN_REF = f"dataset/{DATASET}:v2"
SPLIT = {"test_size": 0.25, "stratify": TARGET, "random_state": SEED}


def train_config(family: Family) -> dict[str, Any]:
    model = {"family": family.title, "params": family.params, "schedule": family.schedule}
    return {"model": model, "features": FEATURES, "seed": SEED, "split": SPLIT}


def score(data: Split, proba: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    """Validation metrics of predicted probabilities, and the predicted labels."""
    labels = np.array(data.classes)
    pred = labels[proba.argmax(axis=1)]
    per_class = f1_score(data.y_val, pred, labels=labels, average=None, zero_division=0)
    metrics = {
        "accuracy": r6(accuracy_score(data.y_val, pred)),
        "f1_macro": r6(f1_score(data.y_val, pred, average="macro", zero_division=0)),
        "log_loss": r6(log_loss(data.y_val, proba, labels=labels)),
        "f1_per_class": {c: r6(f) for c, f in zip(data.classes, per_class, strict=True)},
        "n_train": len(data.y_train),
        "n_val": len(data.y_val),
    }
    return metrics, pred


def write_model_files(family: Family, data: Split, fitted: Fitted, work: Path) -> dict[str, Any]:
    """model.json, metrics.json, confusion_matrix.csv, predictions.csv; returns the metrics."""
    proba = fitted.proba(data.x_val)
    metrics, pred = score(data, proba)
    model: dict[str, Any] = {
        "format": "sitegen-example-model/1",
        "task": "classification",
        "target": TARGET,
    }
    model.update(family=family.title, params=family.params, features=FEATURES)
    model.update(classes=data.classes, fitted=fitted.export)
    write_json(work / "model.json", model)
    write_json(work / "metrics.json", metrics)
    matrix = confusion_matrix(data.y_val, pred, labels=data.classes)
    table = pd.DataFrame(matrix, index=pd.Index(data.classes, name="actual"), columns=data.classes)
    table.to_csv(work / "confusion_matrix.csv", lineterminator="\n")
    columns = {f"p_{c}": np.round(proba[:, i], 6) for i, c in enumerate(data.classes)}
    predictions = pd.DataFrame(
        {"date": data.val_dates, "actual": data.y_val, "predicted": pred, **columns}
    )
    write_csv(work / "predictions.csv", predictions.sort_values("date"))
    return metrics


def model_artifact(
    family: Family, metrics: dict[str, Any], n_params: int, work: Path
) -> sitegen.Artifact:
    headline = {k: metrics[k] for k in ("accuracy", "f1_macro", "log_loss")}
    description = (
        f"Variant **{family.variant}**: {family.title.replace('_', ' ')} (scikit-learn) "
        f"predicting `weather` from {len(FEATURES)} features, trained on `{TRAIN_REF}`.\n\n"
        f"Validation: accuracy **{headline['accuracy']:.3f}**, macro-F1 "
        f"**{headline['f1_macro']:.3f}**, log-loss {headline['log_loss']:.3f}."
    )
    metadata: dict[str, Any] = {"variant": family.variant, "family": family.title, "val": headline}
    metadata.update(n_params=n_params, framework="scikit-learn", dataset=TRAIN_REF)
    art = sitegen.Artifact(MODEL, type="model", description=description, metadata=metadata)
    for name in ("model.json", "metrics.json", "confusion_matrix.csv", "predictions.csv"):
        art.add_file(work / name)
    return art


def train(book: Logbook, family: Family, aliases: list[str], **kw: Any) -> sitegen.ArtifactVersion:
    """One train run: fit on the split of ``TRAIN_REF``, log the curve, log the model."""
    with book.init(f"train-weather-{family.key}", "train", train_config(family), **kw) as run:
        work = book.workdir(run.id)
        data = split(read_version_csv(run.use_artifact(TRAIN_REF), work))

        def log(step: int, row: dict[str, float]) -> None:
            run.log(row, step=step)
            book.clock.advance(0.5)

        try:
            fitted = family.fit(family.params, family.schedule, data, log)
        except ValueError as exc:
            run.summary["error"] = f"{type(exc).__name__}: {exc}"
            raise
        metrics = write_model_files(family, data, fitted, work)
        run.summary.update({k: metrics[k] for k in ("accuracy", "f1_macro", "log_loss")})
        run.summary.update(
            n_params=fitted.n_params, model_bytes=(work / "model.json").stat().st_size
        )
        art = model_artifact(family, metrics, fitted.n_params, work)
        return run.log_artifact(art, aliases=aliases)


def train_invalid(book: Logbook) -> None:
    """A run that fails: scikit-learn rejects a negative learning rate inside the run."""
    params = {**BOOSTING.params, "learning_rate": -0.1}
    family = Family("boosting-bad-lr", "C", BOOSTING.title, fit_boosting, params, BOOSTING.schedule)
    notes = "A typo in the sweep config (learning_rate=-0.1): the run fails and logs nothing."
    try:
        train(book, family, aliases=[], notes=notes)
    except ValueError as exc:
        print(f"  (expected) {family.key} failed: {type(exc).__name__}")


# --- evaluation -------------------------------------------------------------------------


def comparison_table(truth: pd.Series, predictions: dict[str, pd.Series]) -> pd.DataFrame:
    """Metric rows x model columns on the shared validation days, plus the difference."""
    rows: dict[str, dict[str, float]] = {}
    for ref, pred in predictions.items():
        actual = truth.loc[pred.index]
        recall = (pred == actual).groupby(actual).mean()
        rows[ref] = {
            "accuracy": r6(accuracy_score(actual, pred)),
            "f1_macro": r6(f1_score(actual, pred, average="macro", zero_division=0)),
            **{f"recall_{c}": r6(v) for c, v in recall.items()},
        }
    table = pd.DataFrame(rows)
    first, second = list(predictions)
    table["delta"] = (table[second] - table[first]).round(6)
    return table.rename_axis("metric").reset_index()


def markdown_table(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join([header, rule, *body]) + "\n"


def evaluate(book: Logbook, refs: tuple[str, str]) -> str:
    """Compare two model versions on the validation days; returns the better one's ref."""
    config = {"models": list(refs), "dataset": TRAIN_REF, "split": SPLIT, "metric": "f1_macro"}
    with book.init("eval-weather-forest-vs-boosting", "evaluate", config) as run:
        work = book.workdir(run.id)
        truth = read_version_csv(run.use_artifact(TRAIN_REF), work).set_index("date")[TARGET]
        predictions = {}
        for ref in refs:
            local = run.use_artifact(ref).download(work / ref.replace("/", "_").replace(":", "_"))
            predictions[ref] = pd.read_csv(local / "predictions.csv").set_index("date")["predicted"]
        table = comparison_table(truth, predictions)
        both = predictions[refs[0]] == predictions[refs[1]]
        winner = max(refs, key=lambda r: float(table.set_index("metric").loc["f1_macro", r]))
        run.summary.update(agreement=r6(both.mean()), winner=winner)
        description = (
            f"Both classifiers on the same {len(both)} validation days of `{TRAIN_REF}`; "
            f"they agree on {both.mean():.1%} of them. Better macro-F1: `{winner}`.\n\n"
            f"{markdown_table(table)}"
        )
        art = sitegen.Artifact(
            "weather-classifier-comparison",
            type="evaluation",
            description=description,
            metadata={"models": list(refs), "agreement": r6(both.mean()), "winner": winner},
        )
        art.add_file(write_csv(work / "comparison.csv", table))
        (work / "comparison.md").write_text(markdown_table(table), encoding="utf-8")
        art.add_file(work / "comparison.md")
        run.log_artifact(art)
        return winner


def run(book: Logbook) -> None:
    """The whole task: three dataset versions, three model families, a failure, a review."""
    prepare(book)
    book.clock.advance(DAY)
    train(book, LOGREG, aliases=["production"])
    book.clock.advance(2 * DAY)
    forest = train(book, FOREST, aliases=["candidate"])
    book.clock.advance(HOUR)
    train_invalid(book)
    boosting = train(book, BOOSTING, aliases=["candidate"])
    book.clock.advance(DAY)
    evaluate(book, (forest.ref, boosting.ref))
    book.admin().set_alias(forest.ref, "production")
    book.describe_collection(
        f"dataset/{DATASET}",
        "Seattle daily weather, versioned per year (cumulative), for weather classification.",
        ["weather", "classification", "per-year"],
    )
    book.describe_collection(
        f"model/{MODEL}",
        "Three model families for the weather label: A = logistic regression, "
        "B = random forest (`production`), C = gradient boosting (`candidate`).",
        ["weather", "classification", "scikit-learn"],
    )
    book.describe_collection(
        "evaluation/weather-classifier-comparison",
        "Head-to-head reviews of weather classifiers on a shared validation split.",
        ["weather", "evaluation"],
    )
