# The peer's acceptance in small: 20 anysee peers on a generated topology
# all play with continuity >= 0.99, and the LTM detectors move mesh
# neighbours closer (mean neighbour delay at the end below that of the
# first measured round).
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
cat > "$out/mesh.lua" <<'LUA'
network {
  topology = waxman { routers = 500, degree = 4 },
  access = { up = "10mbit", down = "10mbit", delay = "2ms" },
}
rendezvous { name = "rp" }
source { name = "src", stream = "tv1" }
for i = 1, 20 do peer { name = "p" .. i, watch = "tv1", at = i * 0.2 } end
run { duration = 45 }
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
awk -v f="$first" -v l="$last" 'BEGIN { exit !(l < f) }' \
  || fail "mesh neighbours did not get closer: $first ms -> $last ms"
echo "pass: 20/20 played; mean neighbour delay $first ms -> $last ms"
