# Churn: the same scenario and seed resolve to the same topology, delays and
# schedule (another seed does not); a short churn run with joins, graceful
# leaves, crashes and a link change ends with no harness error, no peer
# death the scenario did not ask for, and nothing left behind.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
cat > "$out/churn.lua" <<'LUA'
network {
  topology = waxman { routers = 200, degree = 4 },
  access = { up = "10mbit", down = "10mbit", delay = "2ms" },
}
rendezvous { name = "rp" }
local src = source { name = "src", stream = "tv1" }
churn { watch = "tv1", count = 12, rate = 1, lifetime = 12, crash = 0.3 }
at(10, function() src:set_link { loss = 0.01 } end)
at(15, function() src:set_link { loss = 0 } end)
run { duration = param("duration", 25) }
LUA
H="$BIN/anysee-harness"
for s in 7 7 8; do
  "$H" run "$out/churn.lua" --seed $s --dry-run --out "$out/dry-$s-$RANDOM" -q >/dev/null || fail "dry run failed"
done
set -- "$out"/dry-7-* ; a=$1 b=$2; c=$(echo "$out"/dry-8-*)
for f in schedule delays.txt topology.gml; do
  cmp -s "$a/$f" "$b/$f" || fail "$f differs between two runs with seed 7"
done
cmp -s "$a/schedule" "$c/schedule" && fail "seeds 7 and 8 gave the same schedule"
[ -d "$a/hosts" ] && fail "a dry run started hosts"

"$H" run "$out/churn.lua" --seed 7 --out "$out/run" -q > "$out/report.txt" &
pid=$!
wait "$pid" || fail "churn run failed: $(tail -3 "$out/report.txt")"
prefix=$(printf '%x' "$pid")
[ -z "$(our_namespaces "$prefix")" ] || fail "namespaces left: $(our_namespaces "$prefix")"
pgrep -f "$out/run" >/dev/null && fail "processes left behind"
log="$out/run/harness.log"
grep -q "^ *[0-9.]* died " "$log" && fail "a peer died unexpectedly: $(grep "^ *[0-9.]* died " "$log")"
cmp -s "$a/schedule" "$out/run/schedule" || fail "the run's schedule differs from the dry run's"
# Events fire on time: each start within 20 ms of its scheduled time (the
# loop aims at 1 ms; the margin is for a loaded machine).
late=$(awk 'NR == FNR { if ($2 == "start") want[$3] = $1; next }
            $2 == "start" && ($3 in want) { d = $1 - want[$3]; if (d < 0) d = -d; if (d > m) m = d }
            END { printf "%.4f", m }' "$out/run/schedule" "$log")
awk -v m="$late" 'BEGIN { exit !(m <= 0.020) }' || fail "an event fired ${late} s off its time"
joins=$(grep -c '^ *[0-9.]* start churn' "$log")
[ "$joins" -ge 10 ] || fail "only $joins churn joins before the end"
grep -q ' leave churn\| crash churn' "$log" || fail "no leave or crash happened"
grep -q 'link src: .*loss=0.01' "$log" || fail "link change not applied"
grep -q '^summary: ' "$out/report.txt" || fail "no report"
echo "pass: events within $late s of schedule; $joins joins; $(grep -c ' leave churn' "$log") leaves, $(grep -c ' crash churn' "$log") crashes"
