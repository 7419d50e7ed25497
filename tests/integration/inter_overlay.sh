# Inter-overlay optimization on the figure-1 network: peer d (watching tv1)
# has a slow direct link to s1 but a fast one through s2, the source of the
# other overlay. In anysee mode reverse tracing finds s1 -> s2 -> d, s2
# relays tv1 without watching it, and d's median delay is near the 40 ms
# of that path; in coolstreaming mode d stays on the slow overlay, and so
# it does in anysee-intra mode (no path leaves an overlay), pushed over
# the slow link.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
H="$BIN/anysee-harness"
# The test is about paths, not start rules: a 2 s start keeps the runs
# short in every mode (coolstreaming's own rule waits for 60 s of media).
"$H" run "$ROOT/scenarios/figure1.lua" --set duration=20 --set startup=2s --out "$out/any" -q > /dev/null \
  || fail "anysee run failed"
"$H" run "$ROOT/scenarios/figure1.lua" --set duration=15 --set startup=2s --set mode=coolstreaming \
  --out "$out/cool" -q > /dev/null || fail "coolstreaming run failed"
"$H" run "$ROOT/scenarios/figure1.lua" --set duration=15 --set startup=2s --set mode=anysee-intra \
  --out "$out/intra" -q > /dev/null || fail "anysee-intra run failed"
delay() { jq -r '.peers[] | select(.name == "d") | .source_to_end_delay_ms_p50' "$1/metrics.json"; }
a=$(delay "$out/any") c=$(delay "$out/cool") i=$(delay "$out/intra")
grep -q relay_add "$out/any/hosts/s2/events.log" || fail "s2 never relayed tv1"
grep -q path_up "$out/any/hosts/d/events.log" || fail "d never got a pushed path"
awk -v a="$a" 'BEGIN { exit !(a < 80) }' || fail "anysee: d's median delay $a ms, want < 80 (path 40 ms)"
awk -v c="$c" 'BEGIN { exit !(c > 150) }' || fail "coolstreaming: d's median delay $c ms, want > 150 (direct link)"
grep -q relay_add "$out/intra/hosts/s2/events.log" && fail "anysee-intra: s2 relayed tv1"
hops=$(jq -r '.peers[] | select(.name == "d") | .max_hops' "$out/intra/metrics.json")
[ "$hops" = 1 ] || fail "anysee-intra: d got segments over $hops overlay hops, want 1 (from s1 only)"
awk -v i="$i" 'BEGIN { exit !(i > 120) }' || fail "anysee-intra: d's median delay $i ms, want > 120 (direct link)"
"$BIN/anysee-analyze" compare "$out/cool" "$out/any" --tolerance startup=100%,continuity=0.02 > "$out/cmp.txt" || fail "anysee regressed against coolstreaming: $(cat "$out/cmp.txt")"
echo "pass: d median delay $a ms (anysee, relayed by s2), $i ms (anysee-intra), $c ms (coolstreaming)"
