# The peer's acceptance in small: 20 anysee peers all play with continuity
# >= 0.99, and LTM keeps mesh neighbours near. The hosts sit in two regions,
# 5 ms apart inside one and 50 ms across, so that nearness is plain: a
# random pair (what bootstrap alone gives) is about half the time across;
# at the end the neighbours' mean one-way delay must be under three
# quarters of a random pair's. (On a generated topology the random pair is
# so near the nearest that the test passed by a fraction of a millisecond.)
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
cp "$ROOT/scenarios/regions.matrix" "$out/"
cat > "$out/mesh.lua" <<'LUA'
network {
  topology = matrix { file = "regions.matrix" },
  access = { up = "10mbit", down = "10mbit", delay = "1ms" },
}
rendezvous { name = "rp" }
source { name = "src", stream = "tv1" }
for i = 1, 20 do peer { name = "p" .. i, watch = "tv1", at = i * 0.2 } end
run { duration = 60 }
LUA
"$BIN/anysee-harness" run "$out/mesh.lua" --seed 3 --out "$out/run" -q > "$out/report.txt" \
  || fail "run failed: $(tail -3 "$out/report.txt")"
m="$out/run/metrics.json"
[ "$(peer_field "$m" started | grep -c true)" -eq 20 ] || fail "not every peer played"
peer_field "$m" continuity | awk '$1 < 0.99 { bad = 1 } END { exit bad }' \
  || fail "continuity below 0.99: $(peer_field "$m" continuity | tr '\n' ' ')"
line=$(grep '^mesh (LTM)' "$out/report.txt") || fail "no mesh line in the report"
first=$(echo "$line" | sed 's/.*delay \([0-9.]*\) ms at the first.*/\1/')
last=$(echo "$line" | sed 's/.*round, \([0-9.]*\) ms at the end.*/\1/')
random=$(awk '!/^#/ { for (i = 1; i <= NF; i++) if ($i > 0) { s += $i; n++ } } END { printf "%.2f", s / n }' "$out/run/delays.txt")
awk -v r="$random" -v l="$last" 'BEGIN { exit !(l < 0.75 * r) }' \
  || fail "mesh neighbours not near: $first ms at the first round, $last ms at the end, random pair $random ms"
echo "pass: 20/20 played; mean neighbour delay $first ms -> $last ms (random pair $random ms)"
