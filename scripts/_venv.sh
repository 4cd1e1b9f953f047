# Sourced by scripts/run, scripts/test and scripts/demo: make sure a virtual environment
# exists and has this project installed (again only when pyproject.toml changed).
# PYTHON picks the interpreter (default python3), VENV the folder (default .venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$ROOT/.venv}"
EXTRAS="${EXTRAS:-}"

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "Creating a virtual environment in $VENV with $PYTHON" >&2
        "$PYTHON" -m venv "$VENV"
    fi
    local spec="-e $ROOT${EXTRAS:+[$EXTRAS]}"
    local stamp
    stamp="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-$EXTRAS"
    local installed
    installed="$(cat "$VENV/.gateway-installed" 2>/dev/null || true)"
    # An install with the test extra also serves a plain run.
    if [ "$installed" != "$stamp" ] && { [ -n "$EXTRAS" ] || [ "$installed" != "${stamp}test" ]; }; then
        echo "Installing the gateway${EXTRAS:+ with [$EXTRAS]} into $VENV" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $spec
        echo "$stamp" > "$VENV/.gateway-installed"
    fi
}
