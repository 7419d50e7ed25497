# The regression gate: the same scenario and seed, once with the normal peer
# and once with a deliberately worsened one (--peer-bin, a wrapper that
# makes the source and every peer hold each segment they send for 200 ms;
# the source alone pushes to all five peers here). The normal
# run passes the committed quickstart baseline; the worsened one fails it,
# naming the steady-state delay, and compare calls it a regression. The
# wrapper also lists the descriptors a host inherits.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
cat > "$out/worse-peer" <<SH
#!/bin/sh
ls /proc/self/fd > "$out/fds.\$\$"
[ "\$1" = peer ] || [ "\$1" = source ] && exec "$BIN/anysee" "\$@" --debug-forward-delay 200ms
exec "$BIN/anysee" "\$@"
SH
chmod +x "$out/worse-peer"
H="$BIN/anysee-harness"
"$H" run "$ROOT/scenarios/quickstart.lua" --set duration=20 --seed 3 --out "$out/good" -q > /dev/null \
  || fail "normal run failed"
"$H" run "$ROOT/scenarios/quickstart.lua" --set duration=20 --seed 3 --out "$out/worse" -q \
  --peer-bin "$out/worse-peer" > /dev/null || fail "worsened run failed"
grep -q ' fault forward_delay_us=200000' "$out/worse/hosts/peer2/events.log" \
  || fail "the worsened peers did not run with the fault"
# The harness hands its hosts stdin, stdout and stderr and nothing else (ls
# adds its own directory descriptor, 3).
for f in "$out"/fds.*; do
  [ "$(tr '\n' ' ' < "$f")" = "0 1 2 3 " ] || fail "a host inherited descriptors: $(tr '\n' ' ' < "$f")"
done
base="$ROOT/scenarios/baselines/quickstart.txt"
"$BIN/anysee-analyze" check "$out/good" --baseline "$base" > "$out/good.txt" \
  || fail "the normal peer fails the baseline: $(cat "$out/good.txt")"
"$BIN/anysee-analyze" check "$out/worse" --baseline "$base" > "$out/worse.txt"
rc=$?
[ "$rc" -eq 1 ] || fail "the worsened peer passes the baseline (exit $rc): $(cat "$out/worse.txt")"
grep -q 'source_to_end_delay_ms.p50 .*OUT OF BOUNDS' "$out/worse.txt" \
  || fail "check did not name the delay: $(cat "$out/worse.txt")"
"$BIN/anysee-analyze" compare "$out/good" "$out/worse" > "$out/cmp.txt"
[ $? -eq 1 ] || fail "compare found no regression: $(cat "$out/cmp.txt")"
echo "pass: normal $(grep 'source_to_end_delay_ms.p50' "$out/good.txt" | awk '{print $2}') ms," \
  "worsened $(grep 'source_to_end_delay_ms.p50' "$out/worse.txt" | awk '{print $2}') ms (bound 100)"
