# Identity lookups at a full table (4096 remotes): the hash-indexed table
# (peer/bindtab.h) against a scan of the same entries, measured in the same
# run on the same queries; medians over 15 rounds of 4096 lookups.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/anysee-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
mkdir -p build/bench
res=build/bench/bindtab.txt
: > "$res"
# shellcheck disable=SC2046
"${CC:-cc}" -O2 -std=c11 -D_GNU_SOURCE -I"$root" "$root/tests/bench/bindtab_lookup.c" \
  "$root/peer/bindtab.c" $(pkg-config --cflags --libs libsodium) -o "$out/bindtab_lookup" \
  || { echo "bindtab bench: cannot build the lookup benchmark"; exit 1; }
read -r n hash scan _ <<< "$("$out/bindtab_lookup")" \
  || { echo "bindtab bench: the lookup benchmark failed"; exit 1; }
row() { printf '%-44s %12s %-10s %-14s %s\n' "$@" | tee -a "$res"; }
row "figure" "value" "unit" "target" "verdict"
row "identity lookup, $n entries, hashed (median)" "$hash" "ns" "< scan" \
  "$(awk -v h="$hash" -v s="$scan" 'BEGIN { print (h < s ? "PASS" : "MISS") }') (ratio $(awk -v h="$hash" -v s="$scan" 'BEGIN { printf "%.4f", (s > 0 ? h / s : 0) }'))"
row "identity lookup, $n entries, scan, same run" "$scan" "ns" "baseline" "-"
