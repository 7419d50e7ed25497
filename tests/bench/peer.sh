# Peer cost and capacity (make bench): CPU and peak memory per peer at
# 300 kbit/s with 100 peers, in anysee mode beside the coolstreaming
# baseline measured in the same run; then the largest number of peers
# this machine streams with continuity >= 0.99. Medians throughout.
set -u
BIN=$(cd "${ANYSEE_BIN:-build/bin}" && pwd)
out=$(mktemp -d /tmp/anysee-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
mkdir -p build/bench
res=build/bench/peer.txt
: > "$res"
dur=${PEER_BENCH_SECONDS:-60}

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

median() { sort -n | awk '{v[NR]=$1} END { if (NR) print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2); else print 0 }'; }

run_cost() { # mode -> prints "cpu_pct rss_mb continuity"
  scenario 100 "$1"
  "$BIN/anysee-harness" run "$out/s.lua" --out "$out/cost-$1" -q > "$out/cost-$1.txt" 2>&1 || return 1
  local log="$out/cost-$1/harness.log"
  cpu=$(grep ' exited p[0-9]' "$log" | sed 's/.*cpu_s=\([0-9.]*\).*/\1/' | awk -v d="$dur" '{print 100*$1/d}' | median)
  rss=$(grep ' exited p[0-9]' "$log" | sed 's/.*maxrss_kb=\([0-9]*\).*/\1/' | awk '{print $1/1024}' | median)
  cont=$(jq -r .summary.continuity_index "$out/cost-$1/metrics.json" 2>/dev/null)
  echo "$cpu $rss ${cont:-0}"
}

row() { printf '%-44s %12s %-10s %-14s %s\n' "$@" | tee -a "$res"; }
row "figure" "value" "unit" "target" "verdict"
read -r a_cpu a_rss a_cont <<< "$(run_cost anysee)"
read -r c_cpu c_rss c_cont <<< "$(run_cost coolstreaming)"
v() { awk -v x="$1" -v t="$2" 'BEGIN { print (x < t ? "PASS" : "MISS") }'; }
row "peer CPU, 100 peers, anysee (median)" "$a_cpu" "% core" "< 1" "$(v "$a_cpu" 1)"
row "peer CPU, 100 peers, coolstreaming" "$c_cpu" "% core" "baseline" "ratio $(awk -v a="$a_cpu" -v c="$c_cpu" 'BEGIN{printf "%.2f", c ? a/c : 0}')"
row "peer peak RSS, 100 peers, anysee (median)" "$a_rss" "MB" "< 8" "$(v "$a_rss" 8)"
row "peer peak RSS, 100 peers, coolstreaming" "$c_rss" "MB" "baseline" "ratio $(awk -v a="$a_rss" -v c="$c_rss" 'BEGIN{printf "%.2f", c ? a/c : 0}')"
row "continuity, 100 peers, anysee" "$a_cont" "" ">= 0.99" "$(awk -v x="$a_cont" 'BEGIN{print (x >= 0.99 ? "PASS" : "MISS")}')"
row "continuity, 100 peers, coolstreaming" "$c_cont" "" "baseline" "-"

# Capacity: grow the swarm until continuity drops below 0.99.
best=0
for n in ${PEER_BENCH_SIZES:-200 300 400 500}; do
  scenario "$n" anysee
  "$BIN/anysee-harness" run "$out/s.lua" --out "$out/cap-$n" -q > "$out/cap-$n.txt" 2>&1 || break
  cont=$(jq -r .summary.continuity_index "$out/cap-$n/metrics.json" 2>/dev/null)
  played=$(jq -r '"\(.summary.played) \(.summary.peers)"' "$out/cap-$n/metrics.json" 2>/dev/null)
  row "continuity, $n peers, anysee" "${cont:-0}" "" ">= 0.99" "played ${played:-?}"
  awk -v x="${cont:-0}" 'BEGIN { exit !(x >= 0.99) }' || break
  best=$n
  rm -rf "$out/cap-$n"
done
row "largest swarm with continuity >= 0.99" "$best" "peers" "report" "-"
