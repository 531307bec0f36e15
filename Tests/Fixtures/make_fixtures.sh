#!/usr/bin/env bash
# Creates Tests/Fixtures/.venv (git-ignored) with the peers and regenerates the parity fixtures:
#   Tests/Fixtures/make_fixtures.sh [lr|gbdt|import|contrib|calibration|delong|all]   (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
case "${1:-all}" in
  lr) "$here/.venv/bin/python" "$here/make_lr_fixtures.py" ;;
  gbdt) "$here/.venv/bin/python" "$here/make_gbdt_fixtures.py" ;;
  import) "$here/.venv/bin/python" "$here/make_import_fixtures.py" ;;
  contrib) "$here/.venv/bin/python" "$here/make_contribution_fixtures.py" ;;
  calibration) "$here/.venv/bin/python" "$here/make_calibration_fixtures.py" ;;
  delong) "$here/.venv/bin/python" "$here/make_delong_fixtures.py" ;;
  all) for f in lr gbdt import contribution calibration delong; do "$here/.venv/bin/python" "$here/make_${f}_fixtures.py"; done ;;
  *) echo "usage: $0 [lr|gbdt|import|contrib|calibration|delong|all]" >&2; exit 2 ;;
esac
