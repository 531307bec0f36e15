#!/usr/bin/env bash
# Creates Tests/Fixtures/.venv (git-ignored) with scikit-learn and regenerates the LR parity fixtures.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
fi
"$here/.venv/bin/python" "$here/make_lr_fixtures.py"
