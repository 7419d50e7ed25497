# A sweep over both modes with two seeds each: sweep.csv holds every run
# with its emulation verdict, the pictures show each metric per mode with
# error bars over the repeats, compare judges the repeated points over
# their runs, and check holds a normal run to the committed figure-1
# baseline.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
# A 2 s start in both modes: the test is about the sweep, and
# coolstreaming's own start rule waits for 60 s of media.
"$BIN/anysee-harness" sweep "$ROOT/scenarios/figure1.lua" --set duration=12 --set startup=2s \
  --grid mode=anysee,coolstreaming --repeat 2 --out "$out/sw" -q > "$out/sweep.txt" 2>&1 \
  || fail "sweep failed: $(tail -5 "$out/sweep.txt")"
rows=$(tail -n +2 "$out/sw/sweep.csv" | wc -l)
[ "$rows" -eq 4 ] || fail "sweep.csv has $rows runs, want 4"
# Each run's emulation verdict, 1 or 0, before the run directory.
head -1 "$out/sw/sweep.csv" | grep -q ',valid,run_dir$' || fail "sweep.csv has no valid column"
awk -F, 'NR > 1 && $(NF - 1) !~ /^[01]$/ {bad = 1} END {exit bad}' "$out/sw/sweep.csv" \
  || fail "a run without a verdict in sweep.csv: $(cat "$out/sw/sweep.csv")"
for p in sweep_played sweep_startup sweep_delay sweep_continuity; do
  [ -s "$out/sw/plots/$p.svg" ] && [ -s "$out/sw/plots/$p.png" ] || fail "picture $p missing"
done
grep -c '^# ' "$out/sw/plots/sweep_delay.dat" | grep -qx 2 || fail "expected one line per mode"
"$BIN/anysee-analyze" compare "$out/sw/mode=coolstreaming" "$out/sw/mode=anysee" \
  --tolerance startup=100%,continuity=0.05 > "$out/cmp.txt"
rc=$?
[ "$rc" -le 1 ] || fail "compare of sweep points failed ($rc): $(cat "$out/cmp.txt")"
grep -q "mode=anysee: 2 runs" "$out/cmp.txt" || fail "compare did not use both runs: $(cat "$out/cmp.txt")"
grep -q "95% interval" "$out/cmp.txt" || fail "compare printed no interval"
"$BIN/anysee-analyze" check "$out/sw/mode=anysee-seed1" --baseline "$ROOT/scenarios/baselines/figure1.txt" \
  > "$out/check.txt" || fail "a normal run fails the figure-1 baseline: $(cat "$out/check.txt")"
# The paper's claims judged on this sweep: AnySee's relay beats the slow
# path beyond the noise of the two seeds; no tree is half a hop tall.
cat > "$out/claims.txt" <<'EOF'
faster | 1 | sw | below anysee coolstreaming source_to_end_delay_ms.p50 | the relay is faster |
short | 13 | sw | max anysee tree_height.mean 0.5 | trees of half a hop | a relay path has two hops
EOF
"$BIN/anysee-analyze" paper "$out" --claims "$out/claims.txt" --out "$out/paper" > "$out/paper.txt" \
  || fail "paper failed: $(cat "$out/paper.txt")"
grep -Eq '^\| faster \|.*\| \*\*holds\*\*( \(one run\))? \|$' "$out/paper/README.md" \
  || fail "the relay claim does not hold: $(cat "$out/paper.txt")"
grep -Eq '^\| short \|.*\| \*\*does not hold\*\*( \(one run\))? \|$' "$out/paper/README.md" \
  || fail "a false claim holds: $(cat "$out/paper.txt")"
[ -s "$out/paper/sw/sweep_delay.svg" ] || fail "the paper report drew no pictures"
echo "pass: 4 runs, pictures per mode; $(grep '^delay median' "$out/cmp.txt")"
