# Emulation validity: a run on a quiet machine is judged valid; the same
# run while busy loops hold both cores is flagged as not a protocol result,
# in the report, in metrics.json and by check against the baseline.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
hogs=()
trap 'for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$out"' EXIT
H="$BIN/anysee-harness"
"$H" run "$ROOT/scenarios/quickstart.lua" --set duration=12 --out "$out/quiet" -q > "$out/quiet.txt" 2>&1 \
  || fail "quiet run failed"
[ "$(jq -r .summary.emulation.valid "$out/quiet/metrics.json")" = true ] \
  || fail "a quiet run judged not valid: $(jq -c .summary.emulation "$out/quiet/metrics.json")"
for i in $(seq "$(nproc)"); do
  sh -c 'while :; do :; done' &
  hogs+=($!)
done
"$H" run "$ROOT/scenarios/quickstart.lua" --set duration=12 --out "$out/busy" -q > "$out/busy.txt" 2>&1 \
  || fail "busy run failed"
for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
hogs=()
[ "$(jq -r .summary.emulation.valid "$out/busy/metrics.json")" = false ] \
  || fail "a run on saturated cores judged valid: $(jq -c .summary.emulation "$out/busy/metrics.json")"
grep -q '^emulation: NOT VALID' "$out/busy/report.txt" || fail "the report does not flag the busy run"
"$BIN/anysee-analyze" check "$out/busy" --baseline "$ROOT/scenarios/baselines/quickstart.txt" > "$out/check.txt"
[ $? -eq 1 ] && grep -q 'emulation.valid .*OUT OF BOUNDS' "$out/check.txt" \
  || fail "check passes a run on saturated cores: $(cat "$out/check.txt")"
echo "pass: quiet $(jq -r .summary.emulation.reason "$out/quiet/metrics.json"); busy $(jq -r .summary.emulation.reason "$out/busy/metrics.json")"
