# The cost of source-signed media (peer/auth.h): CPU per peer at 300 kbit/s
# with signing and verification, against the same peers without them
# (--debug-no-auth 1), measured in the same run: two overlays of the same
# size side by side on one network, one signed and one not, so the machine's
# load weighs on both alike. Medians over the peers of each overlay; the
# budget is under 10% added CPU.
set -u
BIN=$(cd "${ANYSEE_BIN:-build/bin}" && pwd)
out=$(mktemp -d /tmp/anysee-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
mkdir -p build/bench
res=build/bench/auth.txt
: > "$res"
dur=${AUTH_BENCH_SECONDS:-60}
n=${AUTH_BENCH_PEERS:-30}

cat > "$out/s.lua" <<LUA
network {
  topology = waxman { routers = 1000, degree = 4 },
  access = { up = "10mbit", down = "10mbit", delay = "2ms" },
}
rendezvous { name = "rp" }
source { name = "ssigned", stream = "signed", rate = "300kbit" }
source { name = "splain", stream = "plain", rate = "300kbit", args = { ["debug-no-auth"] = 1 } }
for i = 1, $n do
  peer { name = "a" .. i, watch = "signed", at = i * 0.1 }
  peer { name = "u" .. i, watch = "plain", at = i * 0.1 + 0.05, args = { ["debug-no-auth"] = 1 } }
end
run { duration = $dur }
LUA

. "$(dirname "$0")/../stats.inc"
cpu() { # host name pattern -> CPU in % of a core, one line per host
  grep " exited $1 " "$out/run/harness.log" | sed 's/.*cpu_s=\([0-9.]*\).*/\1/' |
    awk -v d="$dur" '{print 100*$1/d}'
}
row() { printf '%-44s %12s %-10s %-14s %s\n' "$@" | tee -a "$res"; }

"$BIN/anysee-harness" run "$out/s.lua" --out "$out/run" -q > "$out/run.txt" 2>&1 ||
  { echo "auth bench: the run failed: $(tail -3 "$out/run.txt")"; exit 1; }
signed=$(cpu 'a[0-9]*' | median)
plain=$(cpu 'u[0-9]*' | median)
ssrc=$(cpu ssigned | median)
psrc=$(cpu splain | median)
# No CPU figure for either overlay (a run that failed part way) misses.
added=-
is_number "$signed" && is_number "$plain" &&
  added=$(awk -v a="$signed" -v b="$plain" 'BEGIN { if (b > 0) printf "%.1f", 100 * (a - b) / b; else printf "-" }')
row "figure" "value" "unit" "target" "verdict"
row "peer CPU, $n peers, signed media (median)" "$signed" "% core" "baseline +10%" \
  "$(is_number "$added" && awk -v x="$added" 'BEGIN { print (x < 10 ? "PASS" : "MISS") }' || echo MISS) added $added%"
row "peer CPU, $n peers, unsigned, same run" "$plain" "% core" "baseline" \
  "ratio $(awk -v a="$signed" -v b="$plain" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"
row "source CPU, signing" "$ssrc" "% core" "report" \
  "ratio $(awk -v a="$ssrc" -v b="$psrc" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"
row "source CPU, unsigned, same run" "$psrc" "% core" "baseline" "-"
row "continuity, signed / unsigned overlay" \
  "$(jq -r '[.by_stream | to_entries[] | "\(.key)=\(.value.continuity_index)"] | join(" ")' "$out/run/metrics.json" 2>/dev/null)" "" ">= 0.99" "-"
row "source-to-end delay p50, signed / unsigned" \
  "$(jq -r '[.by_stream | to_entries[] | "\(.key)=\(.value.source_to_end_delay_ms.p50)"] | join(" ")' "$out/run/metrics.json" 2>/dev/null)" "ms" "report" "-"
