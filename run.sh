#!/usr/bin/env bash
# core-llms developer entry point. Creates ./.venv on first use and installs what it needs.
#
#   ./run.sh example   run EXAMPLE_USAGE.py (built-in simulator unless provider credentials are set)
#   ./run.sh test      lint (ruff), type-check (mypy) and run the whole test suite
#   ./run.sh simulator [--port N]   run the provider simulator in the foreground
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

ensure_venv() {
    local extras=$1
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    # Reinstall only when the dependency declarations change.
    local stamp="$VENV/.core-llms-$extras"
    local digest
    digest=$(cat pyproject.toml plugins/*/pyproject.toml 2>/dev/null | "$VENV/bin/python" -c \
        'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        "$VENV/bin/python" -m pip install --quiet -e ".[$extras]"
        for plugin in plugins/*/; do
            [ -f "$plugin/pyproject.toml" ] && "$VENV/bin/python" -m pip install --quiet -e "$plugin"
        done
        echo "$digest" > "$stamp"
    fi
}

cmd=${1:-help}
shift || true
case "$cmd" in
    example)
        ensure_venv yaml
        exec "$VENV/bin/python" EXAMPLE_USAGE.py "$@"
        ;;
    test)
        ensure_venv test
        "$VENV/bin/ruff" check core tests plugins benchmarks EXAMPLE_USAGE.py
        "$VENV/bin/mypy"
        exec "$VENV/bin/python" -m pytest -q "$@"
        ;;
    simulator)
        ensure_venv yaml
        exec "$VENV/bin/python" -m core.llms.simulator "$@"
        ;;
    *)
        sed -n '2,7p' "$0"
        exit 2
        ;;
esac
