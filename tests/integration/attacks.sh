# The testbed attacks its own peer (scenarios/attacks.lua): one attacker of
# each kind against its own victim from t = 10 s. Each attack is judged on
# its own line: the victim keeps continuity >= 0.99 and plays only verified
# media, a probe flood goes no further than the peers' forwarding budget,
# and than its sender's half of it once the bucket runs low, detectors
# naming another address draw few datagrams to it, a stranger's
# requests are answered with at most what they weigh, a partner's hash-list
# requests within its serve budget and no honest peer's refused, a
# reflector sends nothing to the witness address that never asked, a
# hijacker gets no partner traffic, and the rendezvous point bootstraps a new peer
# during a registration flood. What the forge-segment victim plays at
# /stream while under attack is recorded and checked, segment by segment,
# against the source's own bytes.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
# 30 s: the late peer joins at 20 s and has 10 s, registers answered by
# a cookie first, to be bootstrapped and play on a busy machine.
"$BIN/anysee-harness" run "$ROOT/scenarios/attacks.lua" --set duration=30 --out "$out/run" -q \
  > "$out/report.txt" 2>&1 &
pid=$!
for i in $(seq 1 50); do grep -q prefix "$out/run/harness.log" 2>/dev/null && break; sleep 0.2; done
prefix=$(sed -n 's/.*prefix \(anysee-[0-9a-f]*\).*/\1/p' "$out/run/harness.log")
[ -n "$prefix" ] || fail "no testbed prefix in harness.log"
# The attackers start at 10 s: read the victim's player from then on.
for i in $(seq 1 100); do grep -q ' start a-forge-segment ' "$out/run/harness.log" && break; sleep 0.2; done
grep -q ' start a-forge-segment ' "$out/run/harness.log" || fail "the forge-segment attacker never started"
ip netns exec "$prefix-v-forge-segment" curl -s -m 12 http://127.0.0.1:8080/stream \
  > "$out/played.bin" 2> /dev/null
wait "$pid" || { pid=; fail "the attack run failed: $(tail -5 "$out/report.txt")"; }
pid=
m="$out/run/metrics.json"
jq -e '.summary.emulation.valid // true' "$m" > /dev/null \
  || echo "warning: emulation not valid (machine busy): $(jq -c .summary.emulation "$m")"
peer() { jq -r --arg n "$1" ".peers[] | select(.name == \$n) | .$2" "$m"; }
# KEY's value on the last EVENT line of a host's log.
logged() { grep " $2 " "$out/run/hosts/$1/events.log" | tail -1 | tr ' ' '\n' | sed -n "s/^$3=//p"; }
attack() { logged "a-$1" attack "$2"; }
bad=0
judge() { # attack verdict detail
  if [ "$2" = ok ]; then echo "pass: $1: $3"; else echo "FAIL: $1: $3"; bad=1; fi
}
ok_if() { if awk "BEGIN { exit !($1) }"; then echo ok; else echo no; fi; }

for k in forge-segment forge-leave hijack bad-buffermap probe-ttl probe-flood detector-spoof \
  reflect amplify hash-flood; do
  c=$(peer "v-$k" continuity); v=$(peer "v-$k" verified_fraction); s=$(attack "$k" sent)
  [ -n "$c" ] && [ "$c" != null ] || { judge "$k" no "victim never played"; continue; }
  u=$(attack "$k" unencodable)
  [ "${u:-1}" -eq 0 ] || { judge "$k" no "the attacker crafted ${u:-?} it could not encode"; continue; }
  [ "${s:-0}" -gt 100 ] || { judge "$k" no "the attacker sent only ${s:-0} datagrams"; continue; }
  judge "$k" "$(ok_if "$c >= 0.99 && $v >= 0.99")" \
    "victim continuity $c, verified $v under $s crafted datagrams"
done
# Half the forged segments claim the attacker's own id, which the victim
# admits: those must be refused by their hash against the signed list.
corrupt=$(logged v-forge-segment leave corrupt)
judge forge-segment "$(ok_if "${corrupt:-0} > 0")" \
  "segments refused because their hash did not match the source's signed list: ${corrupt:-0}"
played=$("$BIN/anysee-analyze" verify-stream "$out/played.bin")
prc=$?
nseg=$(echo "$played" | sed -n 's/.*: \([0-9]*\) segments of stream.*/\1/p')
judge forge-segment "$(ok_if "$prc == 0 && ${nseg:-0} >= 200")" \
  "12 s of the victim's /stream under attack: $played"
sb=$(attack amplify sent_bytes); rb=$(attack amplify from_target_bytes)
judge amplify "$(ok_if "$rb <= $sb")" "stranger got $rb bytes back for $sb sent"
# Every peer sends others' probes on within a budget (peer/inter.h), so
# the swarm as a whole sends on less than the flood's attacker sent it;
# without one each probe went on to every peer, three copies at each.
# The victim's budget held most of them back (the flood reached it), and
# held them back as the flooder's, past its share of what the victim sent
# on, so the other half of the bucket stayed for the others' traces.
fwd=$(jq -r '.summary.probe_forwarding.bytes // -1' "$m")
ob=$(peer v-probe-flood probes_over_budget)
os=$(logged v-probe-flood probes over_share)
sb=$(attack probe-flood sent_bytes)
judge probe-flood "$(ok_if "$fwd >= 0 && $fwd <= ${sb:-0} && ${ob:-0} > 1000 && ${os:-0} * 10 >= ${ob:-0} * 9")" \
  "the swarm sent on $fwd bytes of probes for the ${sb:-0} the attacker sent; the victim held back ${ob:-0}, ${os:-0} of them as the flooder's past its share"
# Forged first hops are refused where they arrive (counted in the
# victim's detectors line: the attacker was its mesh neighbour); without
# that each drew a probe at the witness from every other neighbour of the
# victim, several times what the attacker sent. Passed-on detectors still
# draw one each, 30 a round period (3 s) at most from one neighbour: a
# tenth of what the attacker sends at 200 a second.
dw=$(attack detector-spoof witness); ds=$(attack detector-spoof sent)
df=$(logged v-detector-spoof detectors forged)
judge detector-spoof "$(ok_if "${df:-0} > 100 && ${dw:-0} * 10 <= ${ds:-0}")" \
  "the victim refused ${df:-0} forged first hops; the witness got ${dw:-0} datagrams for ${ds:-0} sent"
# A partner's hash-list requests are served within its serve budget
# (peer/serve.h): twice the stream's segments a second, a list a token,
# and the lists pushed to every partner besides. Without it each 20-byte
# request drew a 1.1 KB list; the flood asks at 1000 a second, about 17
# times what the budget affords at 300 kbit/s. The attacker got some (it
# was a partner) and the victim refused the rest.
hl=$(attack hash-flood lists); hs=$(attack hash-flood sent)
ho=$(logged v-hash-flood auth lists_over)
judge hash-flood "$(ok_if "${hl:-0} > 0 && ${hl:-0} * 5 <= ${hs:-0} && ${ho:-0} > 1000")" \
  "the partner got ${hl:-0} hash lists for ${hs:-0} requests; the victim refused ${ho:-0}"
# The budget holds back no honest request: the other peers (the source
# among them) asked for lists only as they lacked them, and each one's
# last auth line counts none refused.
hn=0 hr= hs=0
for d in "$out"/run/hosts/*/; do
  h=$(basename "$d")
  case $h in v-hash-flood | a-*) continue ;; esac
  o=$(logged "$h" auth lists_over)
  [ -n "$o" ] || continue
  hn=$((hn + 1))
  hs=$((hs + $(logged "$h" auth lists_served)))
  [ "$o" -eq 0 ] || hr="$hr $h=$o"
done
judge hash-flood-honest "$(ok_if "$hn >= 10 && ${#hr} == 0")" \
  "$hn honest peers served $hs lists on request; over budget:${hr:- none}"
w=$(attack reflect witness)
judge reflect "$(ok_if "$w == 0")" "the witness address received $w datagrams"
# The hijacker is a registered peer the target may contact as it would any
# candidate; a hijack shows as partner traffic to the id it claimed.
h=$(attack hijack partner_msgs); ht=$(attack hijack from_target)
judge hijack "$(ok_if "$h == 0")" "the hijacker got $h partner messages ($ht datagrams in all)"
# The flood's registers draw a cookie at most (each no larger than the
# register), and none of its invented ids gets an entry.
late=$(peer late started)
rpv() { logged rp leave "$1"; }
refused=$(($(rpv cookies) + $(rpv refused_addr_full) + $(rpv refused_ident)))
judge rp-flood "$(ok_if "\"$late\" == \"true\" && $refused > 1000")" \
  "a peer joining during the flood played: $late; registrations answered by a cookie or refused: $refused"
[ "$bad" = 0 ] || fail "an attack got through (report: $(head -14 "$out/report.txt" | tr '\n' '|'))"
echo "pass: every attack held off"
