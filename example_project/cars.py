"""Task 2: predict a car's fuel economy (miles per gallon) from its specs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import (
    DAY,
    Logbook,
    add_raw_reference,
    dataset_artifact,
    r6,
    read_version_csv,
    write_csv,
    write_json,
)
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from vega_datasets import local_data

import sitegen

SOURCE = local_data.cars
DATASET = "cars"
MODEL = "mpg-regressor"
TARGET = "Miles_per_Gallon"
SEED = 0
NUMERIC = ["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration", "Year"]
FEATURES = [*NUMERIC, "origin_europe", "origin_japan"]
TRAIN_REF = f"dataset/{DATASET}:v1"
Logger = Callable[[int, dict[str, float]], None]


# --- data -------------------------------------------------------------------------------


def dataset_metadata(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "rows": len(frame),
        "years": [int(frame["Year"].min()), int(frame["Year"].max())],
        "missing": {c: int(n) for c, n in frame.isna().sum().items() if n},
        "origin_counts": {k: int(v) for k, v in sorted(frame["Origin"].value_counts().items())},
        "source": SOURCE.url,
    }


def prepare_raw(book: Logbook) -> None:
    """v0: the cars table as published (model year as an integer)."""
    raw = SOURCE()
    raw["Year"] = raw["Year"].dt.year
    with book.init("prep-cars-raw", "preprocess", {"source": "vega_datasets:cars"}) as run:
        description = (
            f"{len(raw)} car models (1970-1982) with `{TARGET}`, engine specs and origin, "
            "as published in vega-datasets; some rows lack `Miles_per_Gallon` or `Horsepower`."
        )
        art = dataset_artifact(
            DATASET,
            raw,
            TARGET,
            book.workdir(run.id),
            description=description,
            metadata=dataset_metadata(raw),
        )
        add_raw_reference(art, SOURCE)
        run.log_artifact(art)


def prepare_clean(book: Logbook) -> None:
    """v1: v0 without rows that miss the target or a feature."""
    config = {"dropna": [TARGET, "Horsepower"]}
    with book.init("prep-cars-clean", "preprocess", config) as run:
        work = book.workdir(run.id)
        frame = read_version_csv(run.use_artifact(f"dataset/{DATASET}:v0"), work)
        clean = frame.dropna(subset=config["dropna"]).reset_index(drop=True)
        description = f"`{DATASET}:v0` without rows that miss the target or horsepower."
        metadata = {**dataset_metadata(clean), "dropped_rows": len(frame) - len(clean)}
        run.summary.update(rows=len(clean), dropped_rows=len(frame) - len(clean))
        art = dataset_artifact(
            DATASET, clean, TARGET, work, description=description, metadata=metadata
        )
        run.log_artifact(art)


# --- models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    x_val: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    val_names: list[str]


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    params: dict[str, Any]
    schedule: dict[str, Any]


RIDGE = Family("ridge", "ridge", {"alpha": 1.0}, {"learning_curve_points": 20})
BOOSTING = Family(
    "boosting",
    "gradient_boosting",
    {"n_estimators": 200, "learning_rate": 0.05, "max_depth": 3, "subsample": 0.8},
    {"every": 2},
)


def split(frame: pd.DataFrame) -> Split:
    origin = frame["Origin"]
    x = frame[NUMERIC].assign(
        origin_europe=(origin == "Europe").astype(int), origin_japan=(origin == "Japan").astype(int)
    )
    rows = np.arange(len(frame))
    train, val = train_test_split(rows, test_size=0.25, random_state=SEED)
    x_all, y = x[FEATURES].to_numpy(dtype=float), frame[TARGET].to_numpy()
    names = frame["Name"].iloc[val].tolist()
    return Split(x_all[train], x_all[val], y[train], y[val], names)


def errors(y: np.ndarray, pred: np.ndarray, prefix: str) -> dict[str, float]:
    return {
        f"{prefix}rmse": r6(root_mean_squared_error(y, pred)),
        f"{prefix}mae": r6(mean_absolute_error(y, pred)),
    }


def fit_ridge(family: Family, data: Split, log: Logger) -> tuple[Pipeline, dict[str, Any]]:
    """Ridge regression; the curve is a learning curve over growing training subsets."""
    points = family.schedule["learning_curve_points"]
    for i in range(1, points + 1):
        size = round(len(data.y_train) * i / points)
        model = make_pipeline(StandardScaler(), Ridge(**family.params))
        model.fit(data.x_train[:size], data.y_train[:size])
        train = errors(data.y_train[:size], model.predict(data.x_train[:size]), "train_")
        log(size, {**train, **errors(data.y_val, model.predict(data.x_val), "val_")})
    scaler, ridge = model[0], model[1]
    export = {
        "scaler": {"mean": named(scaler.mean_), "scale": named(scaler.scale_)},
        "coef": named(ridge.coef_),
        "intercept": r6(ridge.intercept_),
    }
    return model, export


def fit_boosting(family: Family, data: Split, log: Logger) -> tuple[Any, dict[str, Any]]:
    """Gradient boosting; the curve comes from the staged predictions."""
    model = GradientBoostingRegressor(**family.params, random_state=SEED)
    model.fit(data.x_train, data.y_train)
    stages = zip(model.staged_predict(data.x_train), model.staged_predict(data.x_val), strict=True)
    for stage, (p_train, p_val) in enumerate(stages, start=1):
        if stage % family.schedule["every"] == 0:
            log(
                stage,
                {**errors(data.y_train, p_train, "train_"), **errors(data.y_val, p_val, "val_")},
            )
    nodes = sum(int(t.tree_.node_count) for t in model.estimators_.ravel())
    export = {
        "feature_importances": named(model.feature_importances_),
        "init_value": r6(model.init_.constant_.ravel()[0]),
        "trees": {"count": int(model.n_estimators_), "total_nodes": nodes},
    }
    return model, export


def named(values: np.ndarray) -> dict[str, float]:
    return {name: r6(v) for name, v in zip(FEATURES, values, strict=True)}


FITTERS = {"ridge": fit_ridge, "boosting": fit_boosting}


def write_model_files(
    family: Family, data: Split, model: Any, export: dict[str, Any], work: Path
) -> dict[str, Any]:
    pred = model.predict(data.x_val)
    metrics: dict[str, Any] = {**errors(data.y_val, pred, ""), "r2": r6(r2_score(data.y_val, pred))}
    metrics.update(n_train=len(data.y_train), n_val=len(data.y_val))
    write_json(work / "metrics.json", metrics)
    doc: dict[str, Any] = {
        "format": "sitegen-example-model/1",
        "task": "regression",
        "target": TARGET,
    }
    doc.update(family=family.title, params=family.params, features=FEATURES, fitted=export)
    write_json(work / "model.json", doc)
    predictions = pd.DataFrame(
        {"name": data.val_names, "actual": data.y_val, "predicted": np.round(pred, 6)}
    )
    predictions["residual"] = (predictions["actual"] - predictions["predicted"]).round(6)
    write_csv(work / "predictions.csv", predictions)
    return metrics


def train(book: Logbook, family: Family) -> sitegen.ArtifactVersion:
    model_config = {"family": family.title, "params": family.params, "schedule": family.schedule}
    config = {"model": model_config, "features": FEATURES, "seed": SEED}
    config["split"] = {"test_size": 0.25, "random_state": SEED}
    with book.init(f"train-mpg-{family.key}", "train", config) as run:
        work = book.workdir(run.id)
        data = split(read_version_csv(run.use_artifact(TRAIN_REF), work))

        def log(step: int, row: dict[str, float]) -> None:
            run.log(row, step=step)
            book.clock.advance(0.25)

        model, export = FITTERS[family.key](family, data, log)
        metrics = write_model_files(family, data, model, export, work)
        headline = {k: metrics[k] for k in ("mae", "rmse", "r2")}
        run.summary.update(headline)
        description = (
            f"{family.title.replace('_', ' ').capitalize()} for `{TARGET}` trained on "
            f"`{TRAIN_REF}`. Validation RMSE **{metrics['rmse']:.2f}** mpg, "
            f"R² **{metrics['r2']:.3f}**."
        )
        metadata = {"family": family.title, "val": headline, "dataset": TRAIN_REF}
        art = sitegen.Artifact(MODEL, type="model", description=description, metadata=metadata)
        for name in ("model.json", "metrics.json", "predictions.csv"):
            art.add_file(work / name)
        return run.log_artifact(art)


def run(book: Logbook) -> None:
    """Two dataset versions, two regressors; `production` goes to the lower RMSE."""
    prepare_raw(book)
    book.clock.advance(DAY)
    prepare_clean(book)
    book.clock.advance(DAY)
    versions = [train(book, RIDGE), train(book, BOOSTING)]
    best = min(versions, key=lambda v: float(v.metadata["val"]["rmse"]))
    book.admin().set_alias(best.ref, "production")
    book.describe_collection(
        f"dataset/{DATASET}",
        "Classic auto-mpg data (vega-datasets `cars`): v0 as published, v1 complete rows.",
        ["cars", "regression"],
    )
    book.describe_collection(
        f"model/{MODEL}",
        "Miles-per-gallon regressors: ridge (v0) and gradient boosting (v1).",
        ["cars", "regression", "scikit-learn"],
    )
