# Emulation validity: a run on a quiet machine is judged valid, and its
# switch figures add up: with 10% loss on every access link (19% on a path
# of two), the random-loss drops are 19% of the frames drawn, while the
# queue drops of a download slower than the stream are counted apart. The
# same quick start while busy loops hold both cores is flagged as not a
# protocol result, in the report, in metrics.json and by check against the
# baseline. So is a run in which one peer's process did not run for a
# second (stopped), though the machine stayed idle; its reason says the
# machine ran meanwhile. The harness stopped for 0.3 s in the same run
# stands in for a machine that paused: its real-time probe records it.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
hogs=()
pid=
trap 'for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
      [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
H="$BIN/anysee-harness"
cat > "$out/lossy.lua" <<'LUA'
network { backend = "userspace",
          access = { up = "10mbit", down = "10mbit", delay = "10ms", loss = 0.1 } }
rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit" }
for i = 1, 3 do peer { name = "peer" .. i, watch = "tv1", at = 1 } end
peer { name = "slow", watch = "tv1", at = 1, access = { down = "150kbit", queue = 3000 } }
run { duration = 12 }
LUA
"$H" run "$out/lossy.lua" --out "$out/quiet" -q > "$out/quiet.txt" 2>&1 \
  || fail "quiet run failed: $(tail -3 "$out/quiet.txt")"
emu=$(jq -c .summary.emulation "$out/quiet/metrics.json")
# The share lost at random lies between drops over all frames and drops
# over the frames not lost in a queue (uplink queue drops are not drawn,
# downlink ones were): 19% must fit in that range, give or take 3 points
# (over four standard deviations at the 3,500 frames such a run carries).
# Queue drops counted as loss would put it near 45%. The bound is 0.5 ms:
# 2% of the 20 ms paths is less.
jq -e '.frames > 1000 and .drops.queue > 0 and .drops.partition == 0
       and .drops.kernel_send == 0 and .drops.switch_buffers == 0
       and (.drops.random_loss / .frames) - 0.03 <= 0.19
       and (.drops.random_loss / (.frames - .drops.queue)) + 0.03 >= 0.19
       and .lateness_ms.p50 <= .lateness_ms.p99 and .lateness_ms.p99 <= .lateness_ms.max
       and .lateness_ms.p99 <= .lateness_ms.bound and .lateness_ms.bound == 0.5
       and .switch_cpu.mean > 0 and .hosts_cpu.mean > 0 and .kernel == null' <<< "$emu" > /dev/null \
  || fail "switch figures do not add up: $emu"
[ "$(jq -r .valid <<< "$emu")" = true ] || fail "a quiet run judged not valid: $emu"
grep -q '^emulation: hosts .* switch .*random loss' "$out/quiet/report.txt" \
  || fail "the report lacks the switch's figures"
head -1 "$out/quiet/report.txt" | grep -q '^run ' || fail "a valid run's report starts with a warning"
for i in $(seq "$(nproc)"); do
  sh -c 'while :; do :; done' &
  hogs+=($!)
done
"$H" run "$ROOT/scenarios/quickstart.lua" --set duration=12 --out "$out/busy" -q > "$out/busy.txt" 2>&1 \
  || fail "busy run failed"
for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
hogs=()
[ "$(jq -r .summary.emulation.valid "$out/busy/metrics.json")" = false ] \
  || fail "a run on saturated cores judged valid: $(jq -c .summary.emulation "$out/busy/metrics.json")"
grep -q '^emulation: NOT VALID' "$out/busy/report.txt" || fail "the report does not flag the busy run"
head -1 "$out/busy/report.txt" | grep -q '^WARNING: emulation NOT VALID' \
  || fail "the busy run's report does not warn on its first line"
"$BIN/anysee-analyze" check "$out/busy" --baseline "$ROOT/scenarios/baselines/quickstart.txt" > "$out/check.txt"
[ $? -eq 1 ] && grep -q 'emulation.valid .*OUT OF BOUNDS' "$out/check.txt" \
  || fail "check passes a run on saturated cores: $(cat "$out/check.txt")"
# A stalled host: peer2 stopped for a second, 5 s into the quiet run's
# scenario. The machine's CPU and the switch are fine; the peer's own
# event loop saw its timers run a second late.
"$H" run "$out/lossy.lua" --out "$out/stalled" -q > "$out/stalled.txt" 2>&1 &
pid=$!
for i in $(seq 1 100); do grep -q ' start peer2 ' "$out/stalled/harness.log" 2>/dev/null && break; sleep 0.1; done
p2=$(sed -n 's/.* start peer2 role=peer pid=\([0-9]*\).*/\1/p' "$out/stalled/harness.log")
[ -n "$p2" ] || fail "no pid for peer2 in harness.log"
sleep 4
kill -STOP "$p2" && sleep 1 && kill -CONT "$p2"
sleep 1
kill -STOP "$pid" && sleep 0.3 && kill -CONT "$pid"
wait "$pid" || { pid=; fail "stalled run failed: $(tail -3 "$out/stalled.txt")"; }
pid=
st=$(jq -c .summary.emulation "$out/stalled/metrics.json")
[ "$(jq -r .valid <<< "$st")" = false ] && jq -r .reason <<< "$st" | grep -q "^peer2's event loop" \
  || fail "a run with a stopped peer judged valid, or not for its stall: $st"
jq -r .reason <<< "$st" | grep -q "the host did not run while the machine did" \
  || fail "a stopped peer's stall not told from a machine pause: $st"
jq -e '.host_stalls.max_ms >= 900 and .host_stalls.host == "peer2"' <<< "$st" > /dev/null \
  || fail "the stall is not in metrics.json: $st"
jq -e '.machine_pauses.count >= 1 and .machine_pauses.max_ms >= 250' <<< "$st" > /dev/null \
  || fail "the probe did not record the harness's 0.3 s stop: $st"
grep -q '^emulation: the machine itself paused [1-9][0-9]* times\?' "$out/stalled/report.txt" \
  || fail "the report does not give the machine's pauses"
echo "pass: quiet $(jq -r .reason <<< "$emu"); $(jq -r '"\(.frames) frames, random loss \(.drops.random_loss), queue \(.drops.queue)"' <<< "$emu"); busy $(jq -r .summary.emulation.reason "$out/busy/metrics.json"); stalled $(jq -r .reason <<< "$st")"
