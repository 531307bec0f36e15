#!/usr/bin/env python3
"""Model load time and file size of the peers' own formats, for the `model-load` benchmark: LightGBM text,
XGBoost JSON and UBJSON, and TL2cgen's compiled library (dlopen). Prints one JSON object."""
import argparse
import json
import os
import time


def timed(load, repeats):
    values = []
    for _ in range(repeats):
        start = time.perf_counter()
        load()
        values.append(time.perf_counter() - start)
    values.sort()
    return {"median": values[len(values) // 2], "min": values[0], "max": values[-1], "runs": len(values)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True, help="where to write the result (JSON); stdout is left to the libraries")
    p.add_argument("--lightgbm", required=True, help="LightGBM text model")
    p.add_argument("--xgboost", required=True, help="XGBoost JSON model")
    p.add_argument("--tl2cgen", help="TL2cgen shared library (optional)")
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    import lightgbm as lgb
    import xgboost as xgb
    ubj = os.path.splitext(a.xgboost)[0] + ".ubj"
    if not os.path.exists(ubj):
        xgb.Booster(model_file=a.xgboost).save_model(ubj)
    out = {
        "lightgbm_text": {"bytes": os.path.getsize(a.lightgbm),
                          "seconds": timed(lambda: lgb.Booster(model_file=a.lightgbm), a.repeats),
                          "version": lgb.__version__},
        "xgboost_json": {"bytes": os.path.getsize(a.xgboost),
                         "seconds": timed(lambda: xgb.Booster(model_file=a.xgboost), a.repeats),
                         "version": xgb.__version__},
        "xgboost_ubj": {"bytes": os.path.getsize(ubj), "seconds": timed(lambda: xgb.Booster(model_file=ubj), a.repeats)},
    }
    if a.tl2cgen and os.path.exists(a.tl2cgen):
        import tl2cgen
        out["tl2cgen_library"] = {"bytes": os.path.getsize(a.tl2cgen),
                                  "seconds": timed(lambda: tl2cgen.Predictor(a.tl2cgen, nthread=1), a.repeats)}
    with open(a.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
