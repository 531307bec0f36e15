#!/usr/bin/env bash
# Creates Tests/Fixtures/.venv (git-ignored) with the peers and regenerates the parity fixtures:
#   Tests/Fixtures/make_lr_fixtures.sh [lr|gbdt|all]   (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
case "${1:-all}" in
  lr) "$here/.venv/bin/python" "$here/make_lr_fixtures.py" ;;
  gbdt) "$here/.venv/bin/python" "$here/make_gbdt_fixtures.py" ;;
  all) "$here/.venv/bin/python" "$here/make_lr_fixtures.py"; "$here/.venv/bin/python" "$here/make_gbdt_fixtures.py" ;;
  *) echo "usage: $0 [lr|gbdt|all]" >&2; exit 2 ;;
esac
