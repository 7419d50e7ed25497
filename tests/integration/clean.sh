# A crashed harness leaves namespaces and processes; `anysee-harness clean`
# finds and removes them by prefix.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$BIN/anysee-harness" run "$ROOT/scenarios/quickstart.lua" --set duration=60 --out "$out/run" -q &
pid=$!
sleep 4
prefix=$(printf '%x' "$pid")
[ -n "$(our_namespaces "$prefix")" ] || fail "no namespaces while running"
kill -KILL "$pid"; wait "$pid" 2>/dev/null
[ -n "$(our_namespaces "$prefix")" ] || fail "a SIGKILLed harness should leave its namespaces for clean to find"
"$BIN/anysee-harness" clean "anysee-$prefix-" || fail "clean failed"
[ -z "$(our_namespaces "$prefix")" ] || fail "clean left: $(our_namespaces "$prefix")"
sleep 0.5
pgrep -f "$out/run" >/dev/null && fail "processes left behind"
echo "pass"
