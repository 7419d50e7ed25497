# Peer cost and capacity (make bench): CPU and peak memory per peer at
# 300 kbit/s with 100 peers, in anysee mode beside the coolstreaming
# baseline, and the switch's CPU per 100,000 frames/s those runs gave; each
# beside the previous release (tests/bench/prev.inc) in the same modes, in
# this run. Then the same at 1000 peers (this build only), and the largest
# number of peers this machine streams with the emulation valid and
# continuity >= 0.99, for both. Medians over the peers.
set -u
BIN=$(cd "${ANYSEE_BIN:-build/bin}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d /tmp/anysee-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
mkdir -p build/bench
res=build/bench/peer.txt
: > "$res"
dur=${PEER_BENCH_SECONDS:-60}
. "$here/prev.inc"
PREV=$(prev_build "$out/prev") || PREV=""

scenario() { # peers mode
  cat > "$out/s.lua" <<LUA
network {
  topology = waxman { routers = 1000, degree = 4 },
  access = { up = "10mbit", down = "10mbit", delay = "2ms" },
}
rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit" }
for i = 1, $1 do peer { name = "p" .. i, watch = "tv1", at = i * 0.05, mode = "$2" } end
run { duration = $dur }
LUA
}

. "$here/../stats.inc"

# bin tag mode [peers] -> prints "cpu_pct rss_mb continuity
# switch_cores_per_100k_fps valid". A peer's CPU is over its own lifetime
# (from its start to its exit in harness.log): with 1000 peers the last
# joins 50 s into the run.
run_cost() {
  local peers=${4:-100}
  scenario "$peers" "$3"
  local d="$out/cost-$2-$3-$peers"
  "$1/anysee-harness" run "$out/s.lua" --out "$d" -q --peer-bin "$1/anysee" > "$d.txt" 2>&1 ||
    { echo "- - - - false"; return 1; }
  local log="$d/harness.log"
  cpu=$(awk '$2 == "start" && $3 ~ /^p[0-9]+$/ { t[$3] = $1 }
    $2 == "exited" && ($3 in t) && $1 > t[$3] {
      c = $0; sub(/.*cpu_s=/, "", c); sub(/ .*/, "", c); print 100 * c / ($1 - t[$3]) }' "$log" | median)
  rss=$(grep ' exited p[0-9]' "$log" | sed 's/.*maxrss_kb=\([0-9]*\).*/\1/' | awk '{print $1/1024}' | median)
  cont=$(jq -r .summary.continuity_index "$d/metrics.json" 2>/dev/null)
  valid=$(jq -r .summary.emulation.valid "$d/metrics.json" 2>/dev/null)
  # The switch's CPU over the frames it forwarded, as cores at 100k frames/s.
  sw=$(sed -n 's/.*switch: .*forwarded=\([0-9]*\) .*cpu_ms=\([0-9]*\).*/\1 \2/p' "$d/switch.log" | tail -1 |
    awk '$1 { printf "%.3f", $2 / 1000 / $1 * 100000 }')
  echo "${cpu:--} ${rss:--} ${cont:--} ${sw:--} ${valid:-false}"
  rm -rf "$d"
}

row() { printf '%-46s %12s %-10s %-14s %s\n' "$@" | tee -a "$res"; }
# A figure that was not measured ("-") has no ratio and misses its target.
ratio() { if is_number "$1" && is_number "$2"; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; else printf -- -; fi; }
v() { if is_number "$1"; then awk -v x="$1" -v t="$2" 'BEGIN { print (x < t ? "PASS" : "MISS") }'; else echo MISS; fi; }
row "figure" "value" "unit" "target" "verdict"
read -r a_cpu a_rss a_cont a_sw a_valid <<< "$(run_cost "$BIN" cur anysee)"
read -r c_cpu c_rss c_cont c_sw c_valid <<< "$(run_cost "$BIN" cur coolstreaming)"
row "peer CPU, 100 peers, anysee (median)" "$a_cpu" "% core" "< 1" "$(v "$a_cpu" 1)"
row "peer CPU, 100 peers, coolstreaming" "$c_cpu" "% core" "baseline" "ratio $(ratio "$a_cpu" "$c_cpu")"
row "peer peak RSS, 100 peers, anysee (median)" "$a_rss" "MB" "< 8" "$(v "$a_rss" 8)"
row "peer peak RSS, 100 peers, coolstreaming" "$c_rss" "MB" "baseline" "ratio $(ratio "$a_rss" "$c_rss")"
row "continuity, 100 peers, anysee" "$a_cont" "" ">= 0.99" "$(is_number "$a_cont" && awk -v x="$a_cont" 'BEGIN{print (x >= 0.99 ? "PASS" : "MISS")}' || echo MISS), valid $a_valid"
row "continuity, 100 peers, coolstreaming" "$c_cont" "" "baseline" "valid $c_valid"
row "switch CPU per 100k frames/s, 100 peers, anysee" "$a_sw" "cores" "< 1" "$(v "$a_sw" 1)"
row "switch CPU per 100k frames/s, coolstreaming" "$c_sw" "cores" "report" "-"
if [ -n "$PREV" ]; then
  echo "previous release: $(prev_rev)" | tee -a "$res"
  read -r pa_cpu pa_rss pa_cont pa_sw pa_valid <<< "$(run_cost "$PREV" prev anysee)"
  read -r pc_cpu pc_rss pc_cont pc_sw pc_valid <<< "$(run_cost "$PREV" prev coolstreaming)"
  row "peer CPU, 100 peers, anysee, previous release" "$pa_cpu" "% core" "baseline" "ratio $(ratio "$a_cpu" "$pa_cpu")"
  row "peer CPU, 100 peers, coolstreaming, previous" "$pc_cpu" "% core" "baseline" "ratio $(ratio "$c_cpu" "$pc_cpu")"
  row "switch CPU per 100k frames/s, anysee, previous" "$pa_sw" "cores" "baseline" "ratio $(ratio "$a_sw" "$pa_sw")"
  row "switch CPU per 100k frames/s, coolstr., previous" "$pc_sw" "cores" "baseline" "ratio $(ratio "$c_sw" "$pc_sw")"
  row "continuity, 100 peers, previous release" "$pa_cont $pc_cont" "" "baseline" "anysee, coolstreaming"
else
  echo "previous release: not built, no comparison ($(tail -1 "$out/prev/build.log" 2>/dev/null))" | tee -a "$res"
fi

# The scale the testbed aims at, 1000 peers, in both modes. On a machine
# whose cores it saturates the run is not valid, and the row says so: a
# peer's CPU is then what it got under that load, not what it needs, and
# continuity is no protocol result. On two cores such a run takes about 8
# minutes (starting the peers alone, starved, takes minutes), so the
# previous release is compared at 100 peers only. PEER_BENCH_BIG=0 skips
# it.
big=${PEER_BENCH_BIG:-1000}
if [ "$big" -gt 0 ]; then
  for mode in anysee coolstreaming; do
    read -r b_cpu b_rss b_cont b_sw b_valid <<< "$(run_cost "$BIN" cur $mode "$big")"
    row "peer CPU, $big peers, $mode (median)" "$b_cpu" "% core" "< 0.1" \
      "$(v "$b_cpu" 0.1), valid $b_valid, continuity $b_cont"
  done
fi

# Capacity: grow the swarm until the run is not valid or continuity drops
# below 0.99, for this build and the previous release. bin label -> rows
# as it goes, and the largest size that held in cap_best.
capacity() {
  cap_best=0
  local n d cont valid played
  for n in ${PEER_BENCH_SIZES:-200 300 400 500}; do
    scenario "$n" anysee
    d="$out/cap-$n"
    "$1/anysee-harness" run "$out/s.lua" --out "$d" -q --peer-bin "$1/anysee" > "$d.txt" 2>&1 || break
    cont=$(jq -r .summary.continuity_index "$d/metrics.json" 2>/dev/null)
    valid=$(jq -r .summary.emulation.valid "$d/metrics.json" 2>/dev/null)
    played=$(jq -r '"\(.summary.played) \(.summary.peers)"' "$d/metrics.json" 2>/dev/null)
    rm -rf "$d"
    row "continuity, $n peers, anysee$2" "${cont:-0}" "" ">= 0.99" "played ${played:-?}, valid ${valid:-?}"
    [ "$valid" = true ] && awk -v x="${cont:-0}" 'BEGIN { exit !(x >= 0.99) }' || break
    cap_best=$n
  done
}
capacity "$BIN" ""
best=$cap_best
prev_best=-
if [ -n "$PREV" ]; then
  capacity "$PREV" ", previous"
  prev_best="previous release $cap_best"
fi
row "largest valid swarm with continuity >= 0.99" "$best" "peers" "report" "$prev_best"
