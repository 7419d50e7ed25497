# A crashed harness leaves namespaces and processes; `anysee-harness clean`
# finds and removes them by prefix, and leaves those of a harness still
# running unless --force.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$BIN/anysee-harness" run "$ROOT/scenarios/quickstart.lua" --set duration=60 --out "$out/run" -q &
pid=$!
sleep 4
prefix=$(printf '%x' "$pid")
[ -n "$(our_namespaces "$prefix")" ] || fail "no namespaces while running"
"$BIN/anysee-harness" clean "anysee-$prefix-" > "$out/clean.txt" || fail "clean failed"
grep -q '^removed 0 ' "$out/clean.txt" || fail "clean removed a running harness's namespaces: $(cat "$out/clean.txt")"
grep -q '^kept [1-9]' "$out/clean.txt" || fail "clean did not say what it kept: $(cat "$out/clean.txt")"
[ -n "$(our_namespaces "$prefix")" ] || fail "clean removed a running harness's namespaces"
kill -KILL "$pid"; wait "$pid" 2>/dev/null
[ -n "$(our_namespaces "$prefix")" ] || fail "a SIGKILLed harness should leave its namespaces for clean to find"
"$BIN/anysee-harness" clean "anysee-$prefix-" || fail "clean failed"
[ -z "$(our_namespaces "$prefix")" ] || fail "clean left: $(our_namespaces "$prefix")"
sleep 0.5
pgrep -f "$out/run" >/dev/null && fail "processes left behind"

# --force takes a live harness's namespaces too (its processes die with them).
"$BIN/anysee-harness" run "$ROOT/scenarios/quickstart.lua" --set duration=60 --out "$out/run2" -q \
  > /dev/null 2>&1 &
pid=$!
sleep 4
prefix=$(printf '%x' "$pid")
[ -n "$(our_namespaces "$prefix")" ] || fail "no namespaces while running (second run)"
"$BIN/anysee-harness" clean "anysee-$prefix-" --force > "$out/clean.txt" || fail "clean --force failed"
[ -z "$(our_namespaces "$prefix")" ] || fail "clean --force left: $(our_namespaces "$prefix")"
kill -KILL "$pid"; wait "$pid" 2>/dev/null
echo "pass"
