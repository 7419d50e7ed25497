# The quickstart scenario with run{ capture = true }, once per forwarding
# backend of the hub: the run leaves a capture.pcap that tshark reads without
# error, holding the peers' UDP port 7000 traffic with every frame once, up
# to the last (each peer's LEAVE), and the analysis reports the control
# overhead from it.
. "$(dirname "$0")/common.inc"
need_root
command -v tshark >/dev/null || { echo "skip: tshark is not installed"; exit 77; }
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT

scenario="$out/capture.lua"
sed 's/^run *{.*}$/run { duration = 12, capture = true }/' "$ROOT/scenarios/quickstart.lua" >"$scenario"
grep -q 'capture = true' "$scenario" || fail "no run{} line to rewrite in quickstart.lua"

# tshark warns on stderr when run as root; anything else there is an error.
tshark_errors() { grep -v 'Running as user' "$1" || true; }

for backend in bridge userspace; do
  run="$out/run-$backend"
  "$BIN/anysee-harness" run "$scenario" --backend "$backend" --out "$run" -q &
  pid=$!
  wait "$pid" || fail "$backend: harness run failed"
  prefix=$(printf '%x' "$pid")
  [ -z "$(our_namespaces "$prefix")" ] || fail "$backend: namespaces left behind: $(our_namespaces "$prefix")"

  pcap="$run/capture.pcap"
  [ -s "$pcap" ] || fail "$backend: no capture.pcap in the run directory"
  tshark -r "$pcap" >"$out/frames" 2>"$out/tshark.err" || fail "$backend: tshark cannot read $pcap"
  errs=$(tshark_errors "$out/tshark.err")
  [ -z "$errs" ] || fail "$backend: tshark reports errors reading $pcap: $errs"
  n=$(tshark -r "$pcap" -Y 'udp.port == 7000' 2>/dev/null | wc -l)
  [ "$n" -gt 0 ] || fail "$backend: no udp.port == 7000 packets in $pcap"

  # A frame enters the hub once, by its sender's veth; a copy leaving by
  # the receiver's veth or passing the bridge would put the same sender
  # behind a second interface.
  twice=$(tshark -r "$pcap" -T fields -e ip.src -e sll.ifindex 2>/dev/null | sort -u \
    | awk '{print $1}' | uniq -d)
  [ -z "$twice" ] || fail "$backend: frames of $(echo $twice) captured on more than one interface"

  report=$("$BIN/anysee-analyze" "$run" 2>&1) || fail "$backend: anysee-analyze failed: $report"
  echo "$report" | grep -q overhead || fail "$backend: no overhead section in the analysis: $report"
  anysee=$(tshark -r "$pcap" -Y 'udp.payload[0:2] == a5:5e' 2>/dev/null | wc -l)
  msgs=$(echo "$report" | sed -n 's/.*AnySee bytes in \([0-9]*\) messages.*/\1/p' | head -1)
  [ -z "$msgs" ] || [ "$msgs" = "$anysee" ] \
    || fail "$backend: analysis counts $msgs AnySee messages, tshark $anysee"
  # The run's last frames are in the file too: every peer's LEAVE, sent
  # as the run stops, just before the capture does (the kernel hands
  # frames over a block at a time, the last one partly filled).
  for ip in $(awk '$2 == "peer" { print $3 }' "$run/hosts.txt"); do
    tshark -r "$pcap" -Y "ip.src == $ip && udp.payload[0:2] == a5:5e && udp.payload[3] == 0x0e" \
      2>/dev/null | grep -q . || fail "$backend: no LEAVE from the peer at $ip in $pcap"
  done
  echo "$backend: $n frames on udp port 7000, $anysee AnySee messages, every peer's LEAVE"
done
echo "pass: captures read by tshark, each frame once, overhead reported"
