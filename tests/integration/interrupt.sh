# SIGINT during a run: everything is torn down within 5 s and the run
# directory still reads back through the analysis. A callback that never
# returns fails the run with its file:line, and tears it down as well.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$BIN/anysee-harness" run "$ROOT/scenarios/quickstart.lua" --set duration=60 --out "$out/run" -q &
pid=$!
sleep 8
prefix=$(printf 'anysee-%x' "$pid")
[ -n "$(our_namespaces "${prefix#anysee-}")" ] || fail "no namespaces with prefix $prefix while running"
kill -INT "$pid"
t0=$(date +%s%N)
wait "$pid"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" -eq 130 ] || fail "harness exit code $rc after SIGINT, expected 130"
[ "$ms" -le 5000 ] || fail "teardown took $ms ms"
[ -z "$(our_namespaces "${prefix#anysee-}")" ] || fail "namespaces left: $(our_namespaces "${prefix#anysee-}")"
pgrep -f "$out/run" >/dev/null && fail "processes left behind"
"$BIN/anysee-analyze" "$out/run" >/dev/null || fail "analysis cannot read the interrupted run"
cat > "$out/endless.lua" <<'LUA'
rendezvous {}
source { stream = "tv1" }
peer { watch = "tv1", at = 1 }
at(2, function()
  while true do end
end)
run { duration = 30 }
LUA
t0=$(date +%s%N)
"$BIN/anysee-harness" run "$out/endless.lua" --out "$out/endless" -q > "$out/endless.txt" 2>&1 &
pid=$!
wait "$pid"; rc=$?
ms2=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" -ne 0 ] || fail "an endless callback did not fail the run"
grep -q "endless.lua:5: .*without returning" "$out/endless.txt" \
  || fail "the error does not name the callback's line: $(cat "$out/endless.txt")"
[ "$ms2" -le 15000 ] || fail "the endless callback took $ms2 ms to stop the run"
[ -z "$(our_namespaces "$(printf '%x' "$pid")")" ] || fail "namespaces left after the endless callback"
echo "pass: torn down in $ms ms; an endless callback stopped the run in $ms2 ms"
