#!/usr/bin/env bash
# Fuzz Baton's HTTP API from its own OpenAPI document with Schemathesis.
#
# Starts a real `baton serve` on a fresh database in a temporary folder (the company's
# processes and staff directory copied there), takes the admin token the first serve
# writes, and runs Schemathesis against /openapi.json within a time budget. Two
# checks: no answer is a server error (5xx), and no request that meets the document
# is refused as malformed (see scripts/schemathesis.toml for what counts as refused).
#
#   scripts/fuzz-api.sh                   # 60 s, at most 50 cases per operation
#   FUZZ_SECONDS=300 FUZZ_EXAMPLES=200 FUZZ_SEED=7 scripts/fuzz-api.sh
#
# Schemathesis comes from PyPI: the one on PATH (`st`), else one installed once into
# a virtual environment under ${XDG_CACHE_HOME:-~/.cache}/baton-fuzz. Exit status:
# 0 when both checks hold throughout, 1 when either failed, 2 when it could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
examples=${FUZZ_EXAMPLES:-50}
seed=${FUZZ_SEED:-1}
port=${FUZZ_PORT:-$((20000 + RANDOM % 20000))}

st=$(command -v st || true)
if [[ -z "$st" ]]; then
  venv=${XDG_CACHE_HOME:-$HOME/.cache}/baton-fuzz
  if [[ ! -x "$venv/bin/st" ]]; then
    echo "installing schemathesis into $venv" >&2
    python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis || exit 2
  fi
  st=$venv/bin/st
fi

baton=${BATON_BIN:-}
if [[ -z "$baton" ]]; then
  (cd "$root" && cargo build -q -p baton-cli) || exit 2
  baton=$root/target/debug/baton
fi

work=$(mktemp -d)
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

cp -r "$root/processes" "$work/processes"
url=http://127.0.0.1:$port
"$baton" serve --dir "$work/processes" --db "$work/db" --addr "127.0.0.1:$port" \
  --zone Asia/Shanghai >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf "$url/healthz" >/dev/null 2>&1 && [[ -s "$work/db/admin.token" ]] && break
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/serve.log" >&2; exit 2; fi
  sleep 0.1
done
admin=$(cat "$work/db/admin.token") || exit 2
# A token for 王芳, an agent, issued by the admin: she starts complaints 1 to 3 (tasks
# 1-1, 2-1, 3-1), so that ids the fuzzer tries lead somewhere and her commands are
# allowed, not only refused.
agent=$(curl -sf -H "Authorization: Bearer $admin" -H "Content-Type: application/json" \
  -d '{"person": "wang_fang"}' "$url/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') \
  || { echo "could not issue a token" >&2; exit 2; }
for customer in 張三 李四 王五; do
  curl -sf -o /dev/null -H "Authorization: Bearer $agent" -H "Content-Type: application/json" \
    -d "{\"process\": \"complaint\", \"data\": {\"customer\": \"$customer\", \"contact\": \"138\", \"channel\": \"app\"}}" \
    "$url/instances" || { echo "could not start a complaint" >&2; exit 2; }
done

# Half the time as 王芳, half as the admin (who deploys and issues tokens). One worker:
# with several, Hypothesis on Python 3.11 now and then fails inside `ast.parse`
# ("AST constructor recursion depth mismatch"), an error of the tool, not of Baton.
status=0
: >"$work/st.txt"
for who in agent admin; do
  token=${!who}
  set +e
  # From the temporary folder: Schemathesis keeps a cache where it runs.
  (cd "$work" && "$st" --config-file "$root/scripts/schemathesis.toml" run "$url/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,positive_data_acceptance \
    --max-examples "$examples" --max-time $((seconds / 2)) --seed "$seed" \
    --generation-database none --no-color --workers 1 >"$work/st-$who.txt" 2>&1)
  s=$?
  set -e
  echo "== as $who" >>"$work/st.txt"
  cat "$work/st-$who.txt" >>"$work/st.txt"
  if ((s > status)); then status=$s; fi
done

# Each pass's summary, with every failure and how to reproduce it.
for who in agent admin; do
  echo "== as $who"
  if grep -Eq "^=+ (ERRORS|FAILURES) =+$" "$work/st-$who.txt"; then
    awk '/^=+ (ERRORS|FAILURES) =+$/ { on = 1 } on' "$work/st-$who.txt" | sed -n '1,300p'
  else
    sed -n '/SUMMARY/,$p' "$work/st-$who.txt"
  fi
done
sum() { { grep -Eo "$1" "$work/st.txt" || true; } | { grep -Eo '[0-9]+' || true; } | awk '{ s += $1 } END { print s + 0 }'; }
cases=$(sum '[0-9]+ generated')
server_errors=$(sum 'Server error: [0-9]+')
rejected=$(sum 'Schema-valid request rejected: [0-9]+')
if grep -q "panicked" "$work/serve.log"; then
  echo "the server panicked:" && grep -A3 panicked "$work/serve.log"
  status=1
fi
echo "fuzz-api: $cases cases in at most ${seconds}s (seed $seed): $server_errors server errors, $rejected schema-valid requests rejected"
case $status in
  0) exit 0 ;;
  1) exit 1 ;;
  *) echo "schemathesis could not run:" && tail -20 "$work/st.txt"; exit 2 ;;
esac
