#!/usr/bin/env bash
# The core-llms benchmark suite. Creates benchmarks/.venv on first use (core-llms editable, plus
# the peers and tools in benchmarks/requirements.txt) and runs the suite in it.
#
#   ./benchmarks/run.sh                  full run: every client, every figure; rewrites docs/benchmarks.md
#   ./benchmarks/run.sh --quick          the guard (< 2 min): raw aiohttp + core-llms; exits 1 when a
#                                        target regresses by more than 20%
#   ./benchmarks/run.sh --quick --baseline benchmarks/results/<file>.json
#                                        the guard against an earlier run instead of the targets
#   ./benchmarks/run.sh profile [--duration S] [--server uvloop-web]
#                                        py-spy profiles of core-llms into benchmarks/profiles/
#   ./benchmarks/run.sh drift [--server uvloop-web] [--batches 5] [--n 2000] [--rounds N] [--tracemalloc]
#                                        the drift check alone (CPU per request over batches, one process)
#   ./benchmarks/run.sh layers [--server uvloop-web] [--rounds 5] [--concurrency 1,64,512]
#                                        core-llms' extra CPU per request, layer by layer (diagnostic)
#   ./benchmarks/run.sh entrypoints [--rounds 5] [--requests 3000]
#                                        client.chat / completion() / acompletion() against a direct
#                                        get_answer (CPU per request, concurrency 1; the suite's stage alone)
#   ./benchmarks/run.sh batch [--rounds 3] [--requests 100000]
#                                        RequestManager against raw aiohttp doing the same work (CPU per
#                                        request at concurrency 64, cache-hit cost, RSS; the stage alone)
#   ./benchmarks/run.sh observability [--rounds 5] [--requests 20000]
#                                        CPU per request at concurrency 64 with OpenTelemetry + metrics
#                                        (and with every observer) on, against none and raw aiohttp
#
# Other options: --rounds N, --clients raw-aiohttp,core-llms,openai,litellm,
# --servers asyncio-raw,uvloop-web[,uvloop-raw], --no-drift, --no-docs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

PYTHON=${PYTHON:-python3}
VENV="$here/.venv"

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    local stamp="$VENV/.bench-stamp"
    local digest
    digest=$(cat pyproject.toml "$here/requirements.txt" | "$VENV/bin/python" -c \
        'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
        return
    fi
    echo "benchmarks: installing into $VENV ..." >&2
    "$VENV/bin/python" -m pip install --quiet -e ".[bedrock]"   # botocore: the Bedrock stream baseline
    local failed=0
    while read -r req; do
        case "$req" in ''|'#'*) continue ;; esac
        if ! "$VENV/bin/python" -m pip install --quiet "$req"; then
            echo "benchmarks: could not install $req: the suite marks it missing" >&2
            failed=1
        fi
    done < "$here/requirements.txt"
    # A failed install is retried on the next run; a complete one is not repeated.
    [ "$failed" = 0 ] && echo "$digest" > "$stamp"
    return 0
}

ensure_venv
if [ "${1:-}" = "profile" ]; then
    shift
    exec "$VENV/bin/python" -m benchmarks.profiling "$@"
fi
if [ "${1:-}" = "drift" ]; then
    shift
    exec "$VENV/bin/python" -m benchmarks.drift "$@"
fi
if [ "${1:-}" = "layers" ]; then
    shift
    exec "$VENV/bin/python" -m benchmarks.layers "$@"
fi
if [ "${1:-}" = "entrypoints" ]; then
    shift
    exec "$VENV/bin/python" -m benchmarks.entrypoints "$@"
fi
if [ "${1:-}" = "batch" ]; then
    shift
    exec "$VENV/bin/python" -m benchmarks.batch "$@"
fi
if [ "${1:-}" = "observability" ]; then
    shift
    exec "$VENV/bin/python" -m benchmarks.observability "$@"
fi
exec "$VENV/bin/python" -m benchmarks.suite "$@"
