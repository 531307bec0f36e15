#!/usr/bin/env python3
"""For the `oip` benchmark: makes sure the scoring benchmark's LightGBM model exists (scoring_peers.models) and
writes the one-row infer body (the first test row as an FP32 [1, 28] matrix) that every server gets.
Prints one JSON object: {"lightgbm_model": path, "body": path}."""
import argparse
import json
import os

import numpy as np

from scoring_peers import WORK, models

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--trees", type=int, default=500)
p.add_argument("--train-rows", type=int, default=200_000)
p.add_argument("--out", required=True)
a = p.parse_args()
lgb_path, _ = models(a.data, a.trees, a.train_rows)
X = np.load(a.data)["X"]
row = [float(np.float32(v)) for v in X[-1]]
body = os.path.join(WORK, "oip-body.json")
with open(body, "w") as f:
    json.dump({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, len(row)], "data": row}]}, f)
with open(a.out, "w") as f:
    json.dump({"lightgbm_model": lgb_path, "body": body}, f)
