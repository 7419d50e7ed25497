# The quickstart scenario, shortened: every peer plays, receives at least
# 95% of the segments due with verified content, and nothing is left.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$BIN/anysee-harness" run "$ROOT/scenarios/quickstart.lua" --set duration=30 --out "$out/run" -q &
pid=$!
wait "$pid" || fail "harness run failed"
prefix=$(printf '%x' "$pid")
[ -z "$(our_namespaces "$prefix")" ] || fail "namespaces left behind: $(our_namespaces "$prefix")"
pgrep -f "$out/run" >/dev/null && fail "processes left behind"
m="$out/run/metrics.json"
[ -f "$m" ] || fail "no metrics.json"
n=$(peer_field "$m" started | wc -l)
[ "$n" -ge 3 ] || fail "expected at least 3 peers in metrics, got $n"
peer_field "$m" started | grep -qv true && fail "a peer never started playback"
peer_field "$m" verified_fraction | awk '$1 < 0.95 { bad = 1 } END { exit bad }' \
  || fail "a peer verified less than 95% of the segments due: $(peer_field "$m" verified_fraction | tr '\n' ' ')"
peer_field "$m" due | awk '$1 < 200 { bad = 1 } END { exit bad }' \
  || fail "a peer had too few segments due to judge: $(peer_field "$m" due | tr '\n' ' ')"
peer_field "$m" corrupt | awk '$1 > 0 { bad = 1 } END { exit bad }' || fail "corrupt segments"
echo "pass: $n peers, verified $(peer_field "$m" verified_fraction | tr '\n' ' ')"
