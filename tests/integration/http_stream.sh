# A real player reads a peer's /stream: the source ingests an MPEG-TS that
# ffmpeg makes from its test pattern, and inside the peer's namespace
# ffprobe finds the video stream and ffmpeg decodes seconds of it without
# an error; /status is JSON that names the stream.
. "$(dirname "$0")/common.inc"
need_root
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null \
  || { echo "skip: ffmpeg/ffprobe not installed (make deps installs them)"; exit 77; }
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
# Constant 280 kbit/s transport stream so the 300 kbit/s pacing keeps up.
ffmpeg -v error -f lavfi -i testsrc=size=320x240:rate=25 -t 30 -c:v mpeg2video -b:v 180k \
  -maxrate 180k -bufsize 360k -g 25 -f mpegts -muxrate 280k "$out/clip.ts" || fail "ffmpeg could not make the clip"
cat > "$out/http.lua" <<LUA
network { access = { up = "10mbit", down = "10mbit", delay = "5ms" } }
rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit", ingest = "$out/clip.ts" }
peer { name = "relay", watch = "tv1", at = 1 }
peer { name = "viewer", watch = "tv1", at = 2, args = { http = "8080" } }
run { duration = 40 }
LUA
"$BIN/anysee-harness" run "$out/http.lua" --out "$out/run" -q > "$out/report.txt" 2>&1 &
pid=$!
for i in $(seq 1 50); do grep -q prefix "$out/run/harness.log" 2>/dev/null && break; sleep 0.2; done
prefix=$(sed -n 's/.*prefix \(anysee-[0-9a-f]*\).*/\1/p' "$out/run/harness.log")
[ -n "$prefix" ] || fail "no testbed prefix in harness.log"
ns="$prefix-viewer"
for i in $(seq 1 60); do
  s=$(ip netns exec "$ns" curl -sf -m 1 http://127.0.0.1:8080/status 2>/dev/null)
  [ "$(printf '%s' "$s" | jq -r .state 2>/dev/null)" = playing ] && break
  sleep 0.5
done
status=$(ip netns exec "$ns" curl -sf -m 2 http://127.0.0.1:8080/status) || fail "no /status"
echo "$status" | jq -e . >/dev/null || fail "/status is not valid JSON: $status"
[ "$(echo "$status" | jq -r .stream)" = tv1 ] || fail "/status does not name the stream: $status"
[ "$(echo "$status" | jq -r .state)" = playing ] || fail "viewer never played: $status"
probe=$(ip netns exec "$ns" timeout 20 ffprobe -v error -show_entries stream=codec_type,codec_name \
  -of csv=p=0 http://127.0.0.1:8080/stream 2>&1 | grep -v '^$' | tr '\n' ' ') || fail "ffprobe failed: $probe"
echo "$probe" | grep -q 'mpeg2video,video' || fail "ffprobe found no video stream: $probe"
dec=$(ip netns exec "$ns" timeout 30 ffmpeg -v error -nostats -i http://127.0.0.1:8080/stream -t 8 -f null - 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "ffmpeg decode failed ($rc): $dec"
# The first packets after joining mid-stream may lack a reference frame;
# anything beyond that is a real error.
errors=$(printf "%s\n" "$dec" | grep -v "Last message repeated" | grep -v 'Invalid frame dimensions\|ac-tex damaged\|Warning MVs not available\|concealing\|invalid mb type\|^$' | head -5)
[ -z "$errors" ] || fail "decode errors: $errors"
kill -INT "$pid"; wait "$pid"; pid=
echo "pass: $probe; decoded 8 s without errors"
