# Leases on the figure-1 network: s2 relays tv1 to d (in most runs), and f
# (tv2) takes a push path. d and f are killed with SIGKILL at t = 18 s and say nothing.
# Every parent must drop them within two lease periods (2 x 3 s) of their
# death, freeing their key-node slots (s2's relay then goes, with its own
# slot at s1), and at the end every live node's key-node slots in use must
# equal its live children. Before leases a crashed child kept its slot and
# its full-rate push for good.
. "$(dirname "$0")/common.inc"
need_root
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
LEASE_S=3
CRASH_S=18
sed -e 's/figure1\.matrix/leases.matrix/' \
  -e "s/^peer { name = \"d\", \(.*\) }\$/peer { name = \"d\", \1, crash_at = $CRASH_S }/" \
  -e "s/^peer { name = \"e\", \(.*\) }\$/peer { name = \"e\", \1 }\npeer { name = \"f\", watch = \"tv2\", at = 2, mode = mode, crash_at = $CRASH_S }/" \
  -e 's/^run *{.*}$/run { duration = 30 }/' \
  "$ROOT/scenarios/figure1.lua" >"$out/leases.lua"
grep -q "crash_at = $CRASH_S }" "$out/leases.lua" && grep -q 'name = "f"' "$out/leases.lua" \
  || fail "cannot rewrite figure1.lua: $(cat "$out/leases.lua")"
# f sits beside e: the figure-1 delays, and 10 ms between e and f.
awk '/^#/ { next } { row[NR] = $0; n = NR } END {
       for (i = 1; i <= n; i++) { split(row[i], c); print row[i], (i == n ? 10 : c[5]) }
       split(row[n], c); print c[1], c[2], c[3], c[4], 10, 0 }' \
  "$ROOT/scenarios/figure1.matrix" >"$out/leases.matrix"

run="$out/run"
"$BIN/anysee-harness" run "$out/leases.lua" --out "$run" -q >"$out/harness.out" 2>&1 \
  || fail "harness run failed: $(tail -5 "$out/harness.out")"
H="$run/hosts"
id_of() { awk '$2 == "start" { for (i = 3; i <= NF; i++) if ($i ~ /^id=/) { print substr($i, 4); exit } }' "$H/$1/events.log"; }
# The real time of each crash: the harness logs it in seconds since its
# start; a host's start event maps that clock onto the real-time one.
crash_real() {
  local rel_start rel_crash real_start
  rel_start=$(awk -v h="$1" '$2 == "start" && $3 == h { print $1; exit }' "$run/harness.log")
  rel_crash=$(awk -v h="$1" '$2 == "crash" && $3 == h { print $1; exit }' "$run/harness.log")
  real_start=$(awk '$2 == "start" { print $1; exit }' "$H/$1/events.log")
  [ -n "$rel_start" ] && [ -n "$rel_crash" ] && [ -n "$real_start" ] || return 1
  awk -v a="$real_start" -v s="$rel_start" -v c="$rel_crash" 'BEGIN { printf "%.0f", a + (c - s) * 1e6 }'
}
checked=0
for victim in d f; do
  vid=$(id_of "$victim")
  [ -n "$vid" ] || fail "no id for $victim"
  tc=$(crash_real "$victim") || fail "no crash of $victim in harness.log"
  for h in "$H"/*/; do
    h=$(basename "$h")
    [ "$h" = "$victim" ] && continue
    # Was the victim a child here when it died, in any stream (a node may
    # relay one stream to it and push it another), and when did it go?
    verdict=$(awk -v id="$vid" -v tc="$tc" -v lim=$((2 * LEASE_S * 1000000)) '
      ($2 == "child_add" || $2 == "child_del") && $3 == "id=" id {
        s = $4
        if ($1 <= tc) state[s] = $2
        else if ($2 == "child_del" && state[s] == "child_add" && !(s in gone)) gone[s] = $1 - tc
      }
      END {
        n = 0; worst = 0
        for (s in state) if (state[s] == "child_add") {
          n++
          if (!(s in gone)) { print "kept"; exit }
          if (gone[s] > worst) worst = gone[s]
        }
        if (!n) print "none"
        else print (worst <= lim ? "ok " : "late ") worst
      }' "$H/$h/events.log")
    case $verdict in
      none) ;;
      ok*) checked=$((checked + 1)); echo "$h dropped child $victim ${verdict#ok } us after its death" ;;
      kept) fail "$h still had crashed $victim as a push or relay child at the end" ;;
      *) fail "$h dropped crashed $victim ${verdict#late } us after its death, more than 2 leases" ;;
    esac
  done
done
[ "$checked" -ge 2 ] || fail "only $checked parent(s) had a crashed child: the case was not exercised"
# Where s2 relayed tv1 (d's path does not always run through it beside f),
# its only child dead, it relays tv1 no more at the end: its last relay
# event for the stream is a relay_del (children expired, or the relay
# noticed first that it had none).
last=$(grep -E ' relay_(add|del) stream=1 ' "$H/s2/events.log" | tail -1)
case "$last" in
  ''|*relay_del*) ;;
  *) fail "s2 kept relaying tv1 after d died: $last" ;;
esac
[ -n "$last" ] || echo "s2 did not relay tv1 in this run: the relay's end was not exercised"
# Every live node at the end: key-node slots in use equal live children.
for h in s1 s2 e; do
  line=$(grep ' slots ' "$H/$h/events.log" | tail -1)
  [ -n "$line" ] || fail "$h logged no slots line at the end"
  used=$(echo "$line" | sed -n 's/.*used=\([0-9]*\).*/\1/p')
  kids=$(echo "$line" | sed -n 's/.*children=\([0-9]*\).*/\1/p')
  [ "$used" = "$kids" ] || fail "$h: $used key-node slots in use for $kids live children"
done
echo "pass: $checked parents dropped their crashed children within $((2 * LEASE_S)) s; slots equal children at the end"
