# SIGINT during a run: everything is torn down within 5 s and the run
# directory still reads back through the analysis.
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
echo "pass: torn down in $ms ms"
