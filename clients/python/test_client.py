"""Tests of the Python client against a real `propensity serve` (started here on a free port).

Run: python3 clients/python/test_client.py PATH/TO/propensity    (scripts/test does)
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from propensity_client import Client, ServerError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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

    def test_token_is_required(self):
        with Client("127.0.0.1", self.port) as anonymous:
            with self.assertRaises(ServerError) as e:
                anonymous.ping()
            self.assertEqual(e.exception.code, 30)
        with self.assertRaises(ServerError):
            Client("127.0.0.1", self.port, token="wrong-token-wrong-token")


if __name__ == "__main__":
    unittest.main(verbosity=2)
