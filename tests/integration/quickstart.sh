# The quickstart scenario, shortened: every peer plays, receives at least
# 95% of the segments due with verified content, and nothing is left.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$BIN/anysee-harness" run "$ROOT/scenarios/quickstart.lua" --set duration=20 --out "$out/run" -q &
pid=$!
wait "$pid" || fail "harness run failed"
prefix=$(printf '%x' "$pid")
[ -z "$(our_namespaces "$prefix")" ] || fail "namespaces left behind: $(our_namespaces "$prefix")"
pgrep -f "$out/run" >/dev/null && fail "processes left behind"
m="$out/run/metrics.json"
[ -f "$m" ] || fail "no metrics.json"
n=$(peer_field "$m" started | wc -l)
[ "$n" -ge 3 ] || fail "expected at least 3 peers in metrics, got $n"
peer_field "$m" started | grep -qv true && fail "a peer never started playback"
peer_field "$m" verified_fraction | awk '$1 < 0.95 { bad = 1 } END { exit bad }' \
  || fail "a peer verified less than 95% of the segments due: $(peer_field "$m" verified_fraction | tr '\n' ' ')"
peer_field "$m" due | awk '$1 < 200 { bad = 1 } END { exit bad }' \
  || fail "a peer had too few segments due to judge: $(peer_field "$m" due | tr '\n' ' ')"
peer_field "$m" corrupt | awk '$1 > 0 { bad = 1 } END { exit bad }' || fail "corrupt segments"
# The summary a script reads, and the steady-state delay apart from the
# start-up backlog (segments made before playback, pulled about a second
# old): the steady median is that of a few hops of 10 ms links.
[ "$(jq -r .summary.played_share "$m")" = 1 ] || fail "summary.played_share is not 1"
jq -e '.summary.continuity_index >= 0.99' "$m" >/dev/null || fail "summary continuity below 0.99"
jq -e '.summary.startup_backlog.segments > 0' "$m" >/dev/null || fail "no start-up backlog counted"
jq -e '.summary.source_to_end_delay_ms.p50 < 100 and
       .summary.startup_backlog.delay_ms_p50 > .summary.source_to_end_delay_ms.p50' "$m" >/dev/null \
  || fail "steady-state delay p50 $(jq .summary.source_to_end_delay_ms.p50 "$m") ms, backlog p50 $(jq .summary.startup_backlog.delay_ms_p50 "$m") ms"
for p in startup_cdf delay_cdf timeline; do
  for ext in svg png; do
    [ -s "$out/run/plots/$p.$ext" ] || fail "picture plots/$p.$ext missing"
  done
done
# The machine's load by second: a sample a second, each in the timeline.
[ "$(wc -l < "$out/run/cpu.txt")" -ge 15 ] || fail "cpu.txt has $(wc -l < "$out/run/cpu.txt") samples for a 20 s run"
awk '!/^#/ && $7 != "NaN" {n++} END {exit n < 15}' "$out/run/plots/timeline.dat" \
  || fail "timeline.dat has the machine's idle share in fewer than 15 seconds"
jq -e '.summary.emulation.cpu_by_second.short_seconds >= 0' "$m" >/dev/null || fail "no cpu_by_second in metrics.json"
# A second run into the same directory is refused, and the first run's
# files stay as they were.
sum=$(md5sum "$out/run/harness.log" "$out/run/hosts/"*/events.log)
"$BIN/anysee-harness" run "$ROOT/scenarios/quickstart.lua" --set duration=20 --out "$out/run" -q \
  > "$out/again.txt" 2>&1 && fail "a second run into the same --out was not refused"
grep -q "already holds a run" "$out/again.txt" || fail "the refusal does not say why: $(cat "$out/again.txt")"
[ "$(md5sum "$out/run/harness.log" "$out/run/hosts/"*/events.log)" = "$sum" ] || fail "the refused run changed the first run's files"
tail -n 1 "$out/run/report.txt" | grep -q "plots/delay_cdf" || fail "the report's last line does not name the pictures"
echo "pass: $n peers, verified $(peer_field "$m" verified_fraction | tr '\n' ' ')"
