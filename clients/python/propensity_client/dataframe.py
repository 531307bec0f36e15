"""Scoring a pandas DataFrame through the server (install the `pandas` extra: pip install ./clients/python[pandas]).

    import pandas as pd
    from propensity_client import Client
    from propensity_client.dataframe import score_frame

    visitors = pd.read_csv("visitors.csv")
    with Client("127.0.0.1", 7878) as client:
        visitors["propensity"] = score_frame(client, "conversion", visitors)

Columns are matched to the model's features by name (others are ignored); categorical features are given by their
string values (a value the model has not seen is allowed and scored as unseen); NaN, None and pd.NA are missing
values. Rows go in batches, pipelined on the client's connection; the Series keeps the frame's index.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Tuple

import numpy as np
import pandas as pd

from ._client import Client, ModelInfo

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["score_frame", "encode_frame"]


def encode_frame(info: ModelInfo, frame: pd.DataFrame, allow_missing_columns: bool = False) -> "npt.NDArray[np.float32]":
    """The frame's rows as the server reads them: a C-ordered float32 matrix, one column per feature in schema order.

    Raises ValueError naming the features the frame lacks (unless `allow_missing_columns`, which scores them as
    missing) and the columns whose values are neither numbers nor, for a categorical feature, strings.
    """
    absent = [f.name for f in info.features if f.name not in frame.columns]
    if absent and not allow_missing_columns:
        raise ValueError(f"the frame lacks the model's columns: {', '.join(absent)} "
                         "(allow_missing_columns=True scores them as missing)")
    matrix = np.full((len(frame), len(info.features)), np.nan, dtype=np.float32)
    for k, feature in enumerate(info.features):
        if feature.name not in frame.columns:
            continue
        column = frame[feature.name]
        if feature.categories is not None:
            matrix[:, k] = _category_codes(column, feature.categories)
        else:
            try:
                values = pd.to_numeric(column, errors="raise")
            except (ValueError, TypeError) as error:
                raise ValueError(f"column '{feature.name}' is numeric in the model but holds {error}") from None
            matrix[:, k] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return matrix


def _category_codes(column: "pd.Series[Any]", categories: List[str]) -> "npt.NDArray[np.float32]":
    """Index of each value in the model's categories; -1 for an unseen one, NaN for a missing one."""
    codes = pd.Categorical(column.astype(str), categories=categories).codes.astype(np.float32)
    codes[column.isna().to_numpy()] = np.nan
    return codes


def score_frame(client: Client, model: str, frame: pd.DataFrame, batch_size: int = 1000,
                allow_missing_columns: bool = False) -> "pd.Series[float]":
    """Probabilities for every row of `frame` from `model`, as a float64 Series named "probability" with the frame's
    index. Requests of `batch_size` rows are pipelined on the client's connection."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    info = client.schema(model)
    matrix = encode_frame(info, frame, allow_missing_columns)
    batches: List[Tuple[bytes, int]] = []
    for start in range(0, len(frame), batch_size):
        block = matrix[start:start + batch_size]
        batches.append((block.astype("<f4", copy=False).tobytes(order="C"), len(block)))
    scores = [p for answer in client.score_encoded_many(model, batches) for p in answer] if batches else []
    return pd.Series(np.asarray(scores, dtype=np.float64), index=frame.index, name="probability")
