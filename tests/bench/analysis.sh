# Analysis speed and memory (make bench): a synthesized run directory as
# 1000 peers x 30 minutes at 300 kbit/s leave it (about 28 segments a
# second each), analysed in under 60 s, against reading the same files
# with cat (the I/O floor) in the same run; and peak memory that does not
# grow with the segment count (a run of a quarter the length beside it).
set -u
BIN=$(cd "${ANYSEE_BIN:-build/bin}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/anysee-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
peers=${ANALYSIS_BENCH_PEERS:-1000}
secs=${ANALYSIS_BENCH_SECONDS:-1800}
rate=28
gcc -O2 -std=c11 -D_GNU_SOURCE -I"$root" "$root/tests/bench/gen_runlog.c" "$root/peer/log.c" \
  "$root/lib/util.c" "$root/lib/rundir.c" "$root/lib/addr.c" -o "$out/gen_runlog" -lm \
  || { echo "analysis bench: cannot build the log generator"; exit 1; }

row() { printf '%-48s %12s %-8s %-10s %s\n' "$@"; }
measure() { # dir -> "seconds peak_rss_mb"
  /usr/bin/time -f '%e %M' -o "$out/time.txt" "$BIN/anysee-analyze" "$1" > "$out/report.txt" 2>&1 \
    || { echo "0 0"; return 1; }
  awk '{ printf "%s %.1f\n", $1, $2 / 1024 }' "$out/time.txt"
}

"$out/gen_runlog" "$out/short" "$peers" $((secs / 4)) "$rate" || exit 1
"$out/gen_runlog" "$out/long" "$peers" "$secs" "$rate" || exit 1
size=$(du -sm "$out/long" | cut -f1)
sync
start=$(date +%s.%N)
find "$out/long" -type f -exec cat {} + > /dev/null
cat_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
read -r short_s short_mb <<< "$(measure "$out/short")"
read -r long_s long_mb <<< "$(measure "$out/long")"
segs=$(jq '[.peers[].stored] | add' "$out/long/metrics.json")

row "figure" "value" "unit" "target" "verdict"
row "run directory, $peers peers x $secs s" "$size" "MB" "report" "$segs segments"
row "read it all with cat (baseline)" "$cat_s" "s" "baseline" "-"
row "anysee-analyze on it" "$long_s" "s" "< 60" "$(awk -v x="$long_s" 'BEGIN{print (x < 60 ? "PASS" : "MISS")}') ratio to cat $(awk -v a="$long_s" -v c="$cat_s" 'BEGIN{printf "%.1f", (c > 0 ? a/c : 0)}')"
row "peak memory, $((secs / 4)) s run" "$short_mb" "MB" "baseline" "-"
row "peak memory, $secs s run" "$long_mb" "MB" "< 1.5x" "$(awk -v l="$long_mb" -v s="$short_mb" 'BEGIN{r = s ? l/s : 0; printf "%s ratio %.2f", (r < 1.5 ? "PASS" : "MISS"), r}')"
