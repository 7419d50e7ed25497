# The Wireshark dissector analysis/anysee.lua. On crafted datagrams: each
# kind of datagram the peer's decoder refuses carries an anysee.malformed
# expert info saying why, a valid one on another port is found by the
# heuristic, and no datagram makes a Lua error. On a real capture of the
# figure-1 network (two overlays, relaying, a monitor, a peer leaving): the
# dissector counts as many messages of every type as the analysis's overhead
# table, marks no frame malformed, and does so again on a copy snapped to
# the harness's default 128 bytes.
. "$(dirname "$0")/common.inc"
need_root
for tool in tshark text2pcap editcap jq; do
  command -v "$tool" >/dev/null || { echo "skip: $tool is not installed"; exit 77; }
done
tshark -v 2>/dev/null | grep -q 'with Lua' || { echo "skip: tshark is built without Lua"; exit 77; }
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
lua="$ROOT/analysis/anysee.lua"

# tshark with the dissector; fails on anything on stderr but the root
# warning, which is where a script that does not load is reported.
dissect() {
  tshark -X "lua_script:$lua" "$@" 2>"$out/tshark.err" || fail "tshark $*: $(cat "$out/tshark.err")"
  local errs
  errs=$(grep -v 'Running as user' "$out/tshark.err" || true)
  [ -z "$errs" ] || fail "tshark $* reports: $errs"
}

# Frames of pcap matching a display filter.
frames() { dissect -r "$1" -Y "$2" | wc -l; }

# One datagram as a text2pcap packet: header magic|version|type|length|
# stream 1|sender 7, then the body; the length is the body's unless given.
dgram() {
  local version=$1 type=$2 body=${3// /} len=${4:-}
  [ -n "$len" ] || len=$((${#body} / 2))
  printf 'a55e%02x%02x%04x000100000007%s\n' "$version" "$type" "$len" "$body" \
    | sed 's/../& /g; s/^/0000 /'
}

addr=000000020a0000021b58 # id 2, 10.0.0.2, port 7000
name=74763100000000000000000000000000
key=$(printf "%064x" 1) # a public key: 32 bytes
# kind|datagram: the expected verdict (wire_strerror()'s words), "ok" for a
# valid message, "other" for a datagram that is not AnySee.
cases=(
  "ok|$(dgram 5 3 '00000000 00 0000')"
  "ok|$(dgram 5 2 "01 01 $addr 0001 00 0001 000493e0 $addr $name $key")"
  "ok|$(dgram 5 7 '00000064 000c 0003 ff0f')"
  "ok|$(dgram 5 10 "00000001 $addr 0000000000000001 00000001 00000000 07 00 01 $addr 0000000000000002")"
  "ok|$(dgram 5 11 "00000001 00006590 02 02 $addr $addr")"
  "other|$(dgram 5 3 '00000000 00 0000' | sed 's/a5 5e/a5 5f/')"
  "datagram truncated|0000 a5 5e 05 03 00"
  "datagram truncated|$(dgram 5 3 '00000000 00 0000' 8)"
  "unsupported protocol version|$(dgram 1 3 '00000000 00')"
  "unknown message type|$(dgram 5 21 '00000000 00 0000')"
  "body length mismatch|$(dgram 5 14 '00000000 0000')"
  "body length mismatch|$(dgram 5 15 '0000000000000001 0002')"
  "body length mismatch|$(dgram 5 9 '00000005 0000000000000001 01 01 00000000 0005 aabbcc')"
  "field out of range|$(dgram 5 2 '41 00')"
  "field out of range|$(dgram 5 8 '0000')"
  "field out of range|$(dgram 5 7 '00000005 0003 0001 08')"
  "field out of range|$(dgram 5 10 "00000001 $addr 0000000000000001 00000001 00000000 08 00 00")"
  "field out of range|$(dgram 5 11 "00000001 00000000 00 01 $addr")"
  "field out of range|$(dgram 5 1 "01 00 1b58 0a000001 0004 000493e0 41414141414141414141414141414141 $key")"
  "field out of range|$(dgram 5 1 "01 00 1b58 0a000001 0004 000493e0 74763100410000000000000000000000 $key")"
  "field out of range|$(dgram 5 9 '00000005 0000000000000001 01 02 00000000 0000')"
  "ok|$(dgram 5 9 '00000005 0000000000000001 01 01 00000000 0003 aabbcc')"
  "ok|$(dgram 5 16 '00000007 00 0000')"
  "ok|$(dgram 5 17 "00000005 01 $(printf '%032x' 7) $(printf '%0128x' 9)")"
  "field out of range|$(dgram 5 17 "00000005 00 $(printf '%0128x' 9)")"
  "body length mismatch|$(dgram 5 17 "00000005 02 $(printf '%032x' 7) $(printf '%0128x' 9)")"
  "ok|$(dgram 5 18 '00000007 00 0000')"
  "ok|$(dgram 5 1 "01 00 1b58 0a000001 0004 000493e0 $name $key")"
  "ok|$(dgram 5 19 '010203040506')"
  "ok|$(dgram 5 20 '010203040506')"
  "body length mismatch|$(dgram 5 20 '01020304050607')"
  "field out of range|$(dgram 5 10 "00000001 $addr 0000000000000001 00000001 00000000 07 02 00")"
  "field out of range|$(dgram 5 11 "00000001 00000000 03 02 $addr $addr")"
)
for port in 7000 5000; do
  for c in "${cases[@]}"; do echo "${c#*|}"; done >"$out/crafted.txt"
  # text2pcap writes a separator line to stderr even with -q.
  text2pcap -q -u "$port,$((port + 1))" "$out/crafted.txt" "$out/crafted.pcap" 2>"$out/text2pcap.err" \
    || fail "text2pcap cannot build the crafted datagrams: $(cat "$out/text2pcap.err")"
  dissect -r "$out/crafted.pcap" -T fields -E separator='|' -e frame.number -e anysee.type \
    -e anysee.malformed -e _ws.expert.message -e _ws.lua.error >"$out/crafted.fields"
  [ "$(wc -l <"$out/crafted.fields")" = "${#cases[@]}" ] \
    || fail "port $port: ${#cases[@]} crafted datagrams, tshark shows $(wc -l <"$out/crafted.fields")"
  i=0
  while IFS='|' read -r frame type malformed message luaerr; do
    want=${cases[$i]%%|*}
    i=$((i + 1))
    [ -z "$luaerr" ] || fail "port $port, frame $frame: Lua error: $message"
    case $want in
      ok) [ -n "$type" ] && [ -z "$malformed" ] \
        || fail "port $port, frame $frame: valid message not dissected cleanly: type '$type', '$message'" ;;
      other) [ -z "$type" ] || fail "port $port, frame $frame: a datagram with a bad magic taken as AnySee" ;;
      *) [ -n "$malformed" ] && [[ $message == *"$want"* ]] \
        || fail "port $port, frame $frame: want '$want', got '$message'" ;;
    esac
  done <"$out/crafted.fields"
  # Off the peers' port the heuristic only takes version 5, as
  # wire_decode() does; the peers' port takes every magic-led datagram.
  [ "$port" = 7000 ] && cases[8]="other|${cases[8]#*|}"
done

sed -e 's/figure1\.matrix/wireshark.matrix/' \
  -e 's/^peer { name = "e", \(.*\) }$/peer { name = "e", \1, leave_at = 10 }\nmonitor { name = "mon" }/' \
  -e 's/^run *{.*}$/run { duration = 14, capture = true, snaplen = 65535 }/' \
  "$ROOT/scenarios/figure1.lua" >"$out/wireshark.lua"
grep -q 'leave_at = 10' "$out/wireshark.lua" && grep -q 'monitor {' "$out/wireshark.lua" \
  && grep -q 'capture = true' "$out/wireshark.lua" || fail "cannot rewrite figure1.lua: $(cat "$out/wireshark.lua")"
# figure1.matrix with a row and a column for the monitor, 10 ms from all.
awk '/^#/ { next } { print $0 "  10" } END { print "10 10 10 10 10 0" }' \
  "$ROOT/scenarios/figure1.matrix" >"$out/wireshark.matrix"

run="$out/run"
"$BIN/anysee-harness" run "$out/wireshark.lua" --out "$run" -q >"$out/harness.log" 2>&1 \
  || fail "harness run failed: $(tail -5 "$out/harness.log")"
pcap="$run/capture.pcap"
[ -s "$pcap" ] || fail "no capture.pcap in the run directory"
"$BIN/anysee-analyze" "$run" >"$out/analysis.txt" 2>&1 || fail "anysee-analyze failed: $(cat "$out/analysis.txt")"
metrics="$run/metrics.json"
jq -e '.overhead.by_type' "$metrics" >/dev/null || fail "no overhead.by_type in $metrics"

editcap -s 128 "$pcap" "$out/snapped.pcap" || fail "editcap cannot snap $pcap"
for cap in "$pcap" "$out/snapped.pcap"; do
  label=$([ "$cap" = "$pcap" ] && echo "capture" || echo "capture snapped to 128 bytes")
  bad=$(frames "$cap" '_ws.lua.error')
  [ "$bad" = 0 ] || fail "$label: $bad frames with Lua errors"
  bad=$(frames "$cap" 'anysee.malformed || _ws.malformed')
  [ "$bad" = 0 ] || fail "$label: $bad frames marked malformed, e.g. $(dissect -r "$cap" \
    -Y 'anysee.malformed || _ws.malformed' | head -1)"
  # A custom column shows the type by its name, which must be a key of the
  # analysis's table (wire_type_name() with underscores).
  dissect -r "$cap" -Y anysee -o 'gui.column.format:"Type","%Cus:anysee.type"' \
    | sort | uniq -c | awk '{ n = $1; $1 = ""; sub(/^ /, ""); gsub(/ /, "_"); print $0, n }' >"$out/counts"
  [ -s "$out/counts" ] || fail "$label: the dissector finds no AnySee message"
  summary=
  for key in $(jq -r '.overhead.by_type | keys[]' "$metrics") $(awk '{ print $1 }' "$out/counts"); do
    want=$(jq -r --arg k "$key" '.overhead.by_type[$k].packets // "none"' "$metrics")
    got=$(awk -v k="$key" '$1 == k { print $2 }' "$out/counts")
    [ "$want" = "${got:-0}" ] || fail "$label: $key: the analysis counts $want, the dissector ${got:-0}"
    [ "$want" = 0 ] || summary="$summary $key=$want"
  done
  total=$(jq -r '.overhead.anysee.packets' "$metrics")
  got=$(frames "$cap" anysee)
  [ "$total" = "$got" ] || fail "$label: the analysis counts $total AnySee messages, the dissector $got"
  echo "$label: $total messages, per type equal:$(echo "$summary" | tr ' ' '\n' | sort -u | tr '\n' ' ')"
done
[ "$(jq -r '.overhead.malformed.packets' "$metrics")" = 0 ] || fail "the analysis finds malformed frames"
snapped=$(frames "$out/snapped.pcap" anysee.snapped)
[ "$snapped" -gt 0 ] || fail "no message cut by the 128-byte snap: the snapped case was not exercised"
echo "pass: dissector agrees with the analysis on every type, no malformed frame or Lua error"
