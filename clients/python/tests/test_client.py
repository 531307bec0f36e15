"""Tests of the installed Python package against a real `propensity serve` (started here on a free port).

Run: bash scripts/python-client-check [PATH/TO/propensity]   (scripts/test does: it installs the package with its
pandas extra into a virtualenv, type-checks it with mypy --strict, then runs these tests with that interpreter)
"""
import hashlib
import hmac
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from propensity_client import Client, ServerError

try:
    import numpy as np
    import pandas as pd
    from propensity_client.dataframe import score_frame
except ImportError:  # the core needs neither; the check script installs the extra and sets REQUIRE_PANDAS
    pd = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BINARY = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug", "propensity")
TOKEN = "a-test-token-of-some-length"
ROUTE_SALT = "checkout-2026-12"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ClientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        token_file = os.path.join(cls.tmp.name, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        # The example model as two versions, split 50/50 by the route "checkout".
        models = os.path.join(cls.tmp.name, "models")
        os.makedirs(models)
        for version in ("a", "b"):
            shutil.copy(os.path.join(ROOT, "models", "conversion.model"), os.path.join(models, f"conversion@{version}.model"))
        with open(os.path.join(models, "experiments.json"), "w") as f:
            json.dump({"routes": [{"name": "checkout", "salt": ROUTE_SALT, "variants": [
                {"model": "conversion@a", "percent": 50}, {"model": "conversion@b", "percent": 50}]}]}, f)
        cls.port = free_port()
        cls.server = subprocess.Popen(
            [BINARY, "serve", "--models", models, "--port", str(cls.port),
             "--token-file", token_file], stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=10)
        cls.tmp.cleanup()

    def client(self):
        return Client("127.0.0.1", self.port, token=TOKEN)

    def test_ping_list_and_info(self):
        with self.client() as c:
            c.ping()
            self.assertTrue(any(name.startswith("conversion@") for name in c.list_models()))
            info = c.model_info("conversion")
            self.assertEqual(info.features[0].name, "sessions_30d")
            self.assertIn("mobile", [f for f in info.features if f.name == "device"][0].categories)

    def test_scores_dicts_and_sequences_alike(self):
        with self.client() as c:
            info = c.model_info("conversion")
            row = {"sessions_30d": 4, "pages_per_session": 3.2, "cart_adds_30d": 2, "cart_value": 80.0,
                   "device": "desktop", "traffic_source": "email", "country": "DE", "visitor_type": "returning"}
            by_name = c.score("conversion", [row])[0]
            by_position = c.score("conversion", [info.encode_row(row)])[0]
            self.assertEqual(by_name, by_position)
            self.assertTrue(0 < by_name < 1)
            unseen = c.score("conversion", [dict(row, country="Atlantis")])[0]  # unseen category: no error
            self.assertTrue(0 < unseen < 1)
            empty = c.score("conversion", [{}])[0]  # every value missing
            self.assertFalse(math.isnan(empty))

    def test_pipelined_batches_come_back_in_order(self):
        with self.client() as c:
            batches = [[{"sessions_30d": i, "cart_adds_30d": i % 3}] * (1 + i % 4) for i in range(50)]
            answers = c.score_many("conversion", batches)
            self.assertEqual([len(a) for a in answers], [len(b) for b in batches])
            again = c.score_many("conversion", batches)
            self.assertEqual(answers, again)

    def test_explanations_add_up_to_the_score(self):
        with self.client() as c:
            info = c.model_info("conversion")
            rows = [{"sessions_30d": 4, "cart_value": 80.0, "device": "desktop"}, {}]
            every = len(info.features)
            explained = c.explain("conversion", rows, top=every)
            scores = c.score("conversion", rows)
            for e, p in zip(explained, scores):
                self.assertEqual(e.probability, p)
                margin = e.bias + sum(contribution for _, contribution in e.reasons)
                self.assertAlmostEqual(1 / (1 + math.exp(-margin)), p, places=6)
                magnitudes = [abs(contribution) for _, contribution in e.reasons]
                self.assertEqual(magnitudes, sorted(magnitudes, reverse=True))
            with self.assertRaises(ServerError) as bad:
                c.explain("conversion", rows, top=0)
            self.assertEqual(bad.exception.code, 16)
            self.assertEqual(len(c.explain("conversion", rows, top=2)[0].reasons), 2)

    def test_route_score_assigns_as_docs_experiments_md_says(self):
        with self.client() as c:
            row = {"sessions_30d": 4, "cart_value": 80.0, "device": "desktop"}
            seen = set()
            for i in range(100):
                key = f"pseudonym-{i}".encode()
                variant, scores = c.route_score("checkout", key, [row])
                self.assertEqual(c.route_score("checkout", key, [row])[0], variant)  # sticky
                # The documented assignment: bucket = first 8 bytes of HMAC-SHA256(salt, key), little-endian, × 10,000 >> 64.
                word = int.from_bytes(hmac.new(ROUTE_SALT.encode(), key, hashlib.sha256).digest()[:8], "little")
                self.assertEqual(variant, "conversion@a" if (word * 10_000) >> 64 < 5_000 else "conversion@b")
                self.assertEqual(scores, c.score(variant, [row]))
                seen.add(variant)
            self.assertEqual(seen, {"conversion@a", "conversion@b"})
            variant, explained = c.route_explain("checkout", b"pseudonym-3", [row], top=3)
            self.assertEqual(variant, c.route_score("checkout", b"pseudonym-3", [row])[0])
            self.assertEqual(explained[0].probability, c.score(variant, [row])[0])
            self.assertEqual(len(explained[0].reasons), 3)
            with self.assertRaises(ServerError) as e:
                c.route_score("no-such-route", b"k", [row])  # its MODEL_INFO already finds nothing by that name
            self.assertEqual(e.exception.code, 10)
            with self.assertRaises(ValueError):
                c.route_score("checkout", b"", [row])

    def test_errors_are_reported_and_the_connection_survives(self):
        with self.client() as c:
            with self.assertRaises(ServerError) as e:
                c.model_info("no-such-model")
            self.assertEqual(e.exception.code, 10)
            c.ping()

    @unittest.skipIf(pd is None and not os.environ.get("REQUIRE_PANDAS"), "pandas is not installed")
    def test_dataframe_scores_equal_predict(self):
        work = self.tmp.name
        data, predicted = os.path.join(work, "frame.csv"), os.path.join(work, "frame-predict.csv")
        subprocess.run([BINARY, "generate", "--rows", "2500", "--seed", "17", "--out", data], check=True, capture_output=True)
        subprocess.run([BINARY, "predict", "--model", os.path.join(ROOT, "models", "conversion.model"), "--data", data,
                        "--out", predicted], check=True, capture_output=True)
        frame = pd.read_csv(data)  # categories as strings, empty cells as NaN
        frame.loc[frame.index[:40], "country"] = None
        frame.loc[frame.index[40:80], "cart_value"] = np.nan
        frame.loc[frame.index[80:90], "device"] = "smart-fridge"  # a category the model has not seen
        frame["device"] = frame["device"].astype("category")
        frame = frame.sample(frac=1.0, random_state=3)  # a shuffled, non-default index
        frame.index = frame.index + 1000
        with self.client() as c:
            scores = score_frame(c, "conversion@a", frame, batch_size=300)
            rows = [{k: (None if (isinstance(v, float) and math.isnan(v)) else v) for k, v in r.items()}
                    for r in frame.to_dict(orient="records")]
            by_rows = c.score("conversion@a", rows)
        self.assertEqual(list(scores.index), list(frame.index))
        self.assertEqual(scores.name, "probability")
        self.assertEqual(list(np.float32(scores.to_numpy())), list(np.float32(by_rows)), "frame equals row-by-row scoring")
        # Rows untouched above equal `propensity predict` to the last bit (float32).
        offline = pd.read_csv(predicted)["probability"].to_numpy(dtype=np.float64)
        untouched = [i - 1000 for i in frame.index if i - 1000 >= 90]
        self.assertEqual([np.float32(scores[i + 1000]) for i in untouched], [np.float32(offline[i]) for i in untouched])
        with self.client() as c:
            with self.assertRaises(ValueError) as missing:
                score_frame(c, "conversion@a", frame.drop(columns=["cart_value", "device"]))
            self.assertIn("cart_value, device", str(missing.exception))
            lenient = score_frame(c, "conversion@a", frame.drop(columns=["cart_value"]), allow_missing_columns=True)
            self.assertEqual(len(lenient), len(frame))
            bad = frame.copy()
            bad["sessions_30d"] = bad["sessions_30d"].astype(str)
            bad.loc[bad.index[5], "sessions_30d"] = "many"
            with self.assertRaises(ValueError) as wrong:
                score_frame(c, "conversion@a", bad)
            self.assertIn("sessions_30d", str(wrong.exception))
            self.assertEqual(len(score_frame(c, "conversion@a", frame.iloc[:0])), 0)

    def test_token_is_required(self):
        with Client("127.0.0.1", self.port) as anonymous:
            with self.assertRaises(ServerError) as e:
                anonymous.ping()
            self.assertEqual(e.exception.code, 30)
        with self.assertRaises(ServerError):
            Client("127.0.0.1", self.port, token="wrong-token-wrong-token")


if __name__ == "__main__":
    unittest.main(verbosity=2)
