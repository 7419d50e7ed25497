# The peer's acceptance in small: 20 anysee peers on a generated topology
# all play with continuity >= 0.99, and LTM keeps mesh neighbours near:
# at the end their mean one-way delay is below that of a random pair of
# hosts, which is what bootstrap alone would give.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
cat > "$out/mesh.lua" <<'LUA'
network {
  topology = waxman { routers = 1000, degree = 3 },
  attach = "stub",
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
awk -v r="$random" -v l="$last" 'BEGIN { exit !(l < r) }' \
  || fail "mesh neighbours not nearer: $first ms at the first round, $last ms at the end, random pair $random ms"
echo "pass: 20/20 played; mean neighbour delay $first ms -> $last ms (random pair $random ms)"
