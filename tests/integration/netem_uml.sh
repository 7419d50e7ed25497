#!/usr/bin/env bash
# The netem backend in a real kernel: this machine's kernel may lack
# sch_netem, so the test runs inside user-mode Linux (tools/uml-run), whose
# kernel has it. There, `backend auto` must pick netem; a 50-host Waxman
# testbed must build every host and one delay class per distinct
# destination delay, and 100 random pairs must ping within the userspace
# backend's bound of the run's own delay matrix (RTT within max(0.5 ms, 2%)
# of both one-way delays); then, on a 3-host testbed changed at run time as
# set_link and partition change it (tests/integration/testbed_driver.c):
# upload and download rate within 5% (iperf3 UDP), loss within 1 point,
# jitter's spread, a queue limit, a partition and its healing, a rate and a
# delay changed in place. Along the way the backend's kernel counters
# (qdisc drops by where they happened) must match: none on the 50-host run
# without loss or rate limits, random-loss drops within 1 point of the loss
# set, none of them without it, download-queue and partition drops where
# those were made to happen. Everything lives in the guest's own /run and
# dies with it; the guest is killed if it runs past its time.
. "$(dirname "$0")/common.inc"
set -u

ip_of() { echo "10.77.0.$(($1 + 1))"; }
# nsenter rather than ip netns exec: the latter remounts /sys, which costs
# a user-mode Linux guest a tenth of a second every time.
nsx() { local h=$1; shift; nsenter --net="/run/netns/$ANYSEE_PREFIX-h$h" "$@"; }
# RTTs in ms of COUNT pings at INTERVAL s from host a to host b.
rtts() { nsx "$1" ping -n -c "$3" -i "$4" -w $(($3 / 10 + 5)) "$(ip_of "$2")" 2>/dev/null | sed -n '/DUP!/d; s/.*time=\([0-9.]*\) ms.*/\1/p'; }
# PASS when |rtt - want| <= max(0.5 ms, 2% of want).
within_delay() { awk -v v="$1" -v w="$2" 'BEGIN {t = 0.02 * w; if (t < 0.5) t = 0.5; e = v - w; if (e < 0) e = -e; exit !(v != "" && e <= t)}'; }
within_pct() { awk -v v="$1" -v w="$2" -v p="$3" 'BEGIN {e = v / w - 1; if (e < 0) e = -e; exit !(v != "" && e <= p / 100)}'; }

# ---- in the guest, beside `anysee-harness net 50` ----
pairs() {
	local m=$1 n=50 a classes leaves want
	[ "$(ip netns list | grep -c "^$ANYSEE_PREFIX-h[0-9]")" -eq $n ] || fail "not $n host namespaces"
	for ((a = 0; a < n; a++)); do
		ip -n "$ANYSEE_PREFIX-h$a" -4 addr show dev eth0 | grep -q "inet $(ip_of "$a")/16" ||
			fail "host $a has no eth0 with $(ip_of "$a")"
	done
	# Host 0's upload: under 2:, the unmatched class and one class per
	# distinct delay to the other hosts (no jitter or loss here), each with
	# its netem leaf.
	classes=$(tc -n "$ANYSEE_PREFIX-h0" class show dev eth0 parent 2: | grep -c '^class htb')
	leaves=$(tc -n "$ANYSEE_PREFIX-h0" qdisc show dev eth0 | grep -c '^qdisc netem')
	want=$(awk '!/^#/ {r++} r == 1 {for (c = 2; c <= NF; c++) print $c; exit}' "$m" | sort -u | wc -l)
	[ "$classes" -eq $((want + 1)) ] && [ "$leaves" -eq "$want" ] ||
		fail "host 0 has $classes classes under 2: and $leaves netem leaves, want $((want + 1)) and $want"
	echo "host 0: $want delay classes with netem leaves for $((n - 1)) destinations"
	[ -n "$(rtts 0 1 3 0.2)" ] || fail "host 0 gets no reply from host 1: nothing joins them in the hub"
	awk -v n=$n 'BEGIN {srand(4242); while (c < 100) {a = int(rand() * n); b = int(rand() * n); if (a != b && !((a, b) in seen)) {seen[a, b]; print a, b; c++}}}' >"$WORK/pairs.list"
	# Two pairs at a time, not more: the guest has one CPU, and four pings at
	# once put a millisecond of its scheduling into some RTTs. A ping run
	# mostly waits (the guest's timer stretches ten pings 10 ms apart to
	# 0.3 s), so a second one fills that time. A pair's path delay is its
	# smallest RTT of 10: the guest's scheduling only ever adds (a median
	# of 6 was 1.5 ms over on one pair of 100 in one run). Each pair's RTTs
	# go to one file, tagged, for one awk at the end.
	local half
	for half in 0 1; do
		awk -v h=$half 'NR % 2 == h' "$WORK/pairs.list" | while read -r a b; do
			nsx "$a" ping -n -c 10 -i 0.01 -w 5 "$(ip_of "$b")" 2>/dev/null |
				sed -n "/DUP!/d; s/.*time=\([0-9.]*\) ms.*/$a $b \1/p"
		done >"$WORK/pairs.rtt.$half" &
	done
	wait
	cat "$WORK/pairs.rtt".[01] >"$WORK/pairs.rtt"
	sort -k1,1n -k2,2n -k3,3g "$WORK/pairs.rtt" | awk '
		function out() {if (n) print pa, pb, r[1]; n = 0}
		$1 != pa || $2 != pb {out(); pa = $1; pb = $2}
		{r[++n] = $3}
		END {out()}' | awk -v m="$m" '
		BEGIN {while ((getline l < m) > 0) if (l !~ /^#/) {r++; nf = split(l, f, " "); for (c = 1; c <= nf; c++) d[r - 1, c - 1] = f[c]}}
		{e = d[$1, $2] + d[$2, $1]; err = $3 - e; if (err < 0) err = -err; tol = 0.02 * e; if (tol < 0.5) tol = 0.5
		 if ($3 != "" && err <= tol) ok++; else print "pair", $1, $2, "rtt", $3, "expected", e
		 if (err > emax) emax = err; sum += err}
		END {printf "pairs: %d of %d within the bound, |error| mean %.3f ms, max %.3f ms\n", ok, NR, sum / NR, emax}'
	[ "$(sort -u -k1,2 "$WORK/pairs.rtt" | wc -l)" -eq 100 ] || echo "pairs: some pairs had no reply"
}

# ---- in the guest: the 3-host testbed changed at run time ----
# KEY's value in a line of key=value counters.
kv() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$2"; }

# Datagrams host H's UDP sockets dropped for want of buffer space so far.
udp_rcvbuf_errors() {
	nsx "$1" awk '$1 == "Udp:" && !h {for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next}
		$1 == "Udp:" {print $c["RcvbufErrors"] + 0; exit}' /proc/net/snmp
}

# The testbed's kernel counters now, into KS.
kstats() {
	local reply
	echo stats >&"${DRV[1]}"
	read -r -u "${DRV[0]}" reply || fail "testbed driver gone at 'stats': $(cat "$WORK/driver.log")"
	[ "${reply%% *}" = ok ] && [ -n "$(kv drop_loss "$reply")" ] || fail "testbed driver: 'stats': $reply"
	KS=${reply#ok }
}

drv() {
	local reply
	echo "$*" >&"${DRV[1]}"
	read -r -u "${DRV[0]}" reply || fail "testbed driver gone at '$*': $(cat "$WORK/driver.log")"
	[ "$reply" = ok ] || fail "testbed driver: '$*': $reply"
}

# Receiver's median bit/s over the full seconds after the first, of UDP
# datagrams of 1400 bytes (1442-byte frames) offered at OFFER.
udp_rate() {
	local from=$1 to=$2 offer=$3 log="$WORK/iperf.$1-$2.$3"
	rm -f "$log" # iperf3 appends to its log file
	nsx "$to" iperf3 -s -1 -J --logfile "$log" >/dev/null 2>&1 &
	sleep 0.5
	nsx "$from" iperf3 -c "$(ip_of "$to")" -u -b "$offer" -l 1400 -t 3 >/dev/null 2>&1
	wait
	jq -r '.intervals[1:][].sum | select(.seconds > 0.9) | .bits_per_second' "$log" | median
}

# The rate from host FROM to host TO, offered OFFER, within 5% of MODEL
# bit/s on the wire. A guest that falls behind (its one CPU is a process
# on a shared host) sends or reads late and only ever lowers the measured
# rate; so a rate under the bound is measured again, up to three times in
# all, while one over it fails at once. A shaper that is really slow is
# slow every time.
check_rate() { # name from to offer model-bit/s
	local want got try
	want=$(awk -v r="$5" 'BEGIN {print r * 1400 / 1442}')
	for try in 1 2 3; do
		got=$(udp_rate "$2" "$3" "$4")
		echo "$1: $(awk -v x="$got" 'BEGIN {printf "%.0f", x}') bit/s of payload, want $want (model $5 bit/s x 1400/1442)"
		within_pct "$got" "$want" 5 && return 0
		awk -v v="$got" -v w="$want" 'BEGIN {exit !(v != "" && v < w)}' ||
			fail "$1 off by more than 5%"
		echo "$1: under the bound (try $try of 3); iperf3's intervals: $(jq -r '[.intervals[].sum.bits_per_second | round] | join(" ")' "$WORK/iperf.$2-$3.$4")"
	done
	fail "$1 off by more than 5% in three tries"
}

runtime() {
	local ready prefix backend r r0 lost rcv before_rcv want iqr sd srv cli KS before
	coproc DRV { "$WORK/testbed_driver" 3 netem 2>"$WORK/driver.log"; }
	read -r -u "${DRV[0]}" ready prefix backend || fail "testbed driver: $(cat "$WORK/driver.log")"
	[ "$ready $backend" = "ready netem" ] || fail "testbed driver said '$ready $prefix $backend'"
	ANYSEE_PREFIX=$prefix
	drv delay 0 1 10ms; drv delay 0 2 10ms; drv delay 1 2 10ms
	drv host 0 up=4mbit; drv host 2 down=6mbit; drv apply
	check_rate "upload 4 Mbit/s (h0 -> h1)" 0 1 8M 4000000
	check_rate "download 6 Mbit/s (h1 -> h2)" 1 2 12M 6000000

	# set_link at run time: the upload rate and a path delay change in place.
	drv host 0 up=2mbit; drv delay 0 1 25ms; drv apply
	check_rate "upload changed to 2 Mbit/s" 0 1 4M 2000000
	# Offered twice the rate, the download queue overflowed; nothing had
	# random loss or a partition.
	kstats
	echo "kernel counters after the rate checks: $KS"
	[ "$(kv drop_loss "$KS")" -eq 0 ] && [ "$(kv drop_partition "$KS")" -eq 0 ] ||
		fail "random-loss or partition drops without loss or partitions: $KS"
	[ "$(kv drop_download "$KS")" -gt 0 ] || fail "no download-queue drops at twice the download rate: $KS"
	before=$KS
	# The path's delay is the smallest RTT (the guest's scheduling only
	# adds); the jitter check below compares means with the median.
	rtts 0 1 20 0.01 >"$WORK/r0"
	r0=$(median <"$WORK/r0")
	r=$(sort -g "$WORK/r0" | head -1)
	echo "delay changed to 25 ms: RTT $r ms (smallest of 20)"
	within_delay "$r" 50 || fail "RTT $r ms after the change, want 50 ms"

	# 5000 datagrams: one standard deviation of the measured share is 0.31
	# points at 5%, so 1 point is three of them. A thousand a second: more
	# and the guest's one CPU drops some at the receiver, which is not the
	# link's loss (the netem leaves' own drop count tells them apart).
	# iperf3's TCP control connection crosses the lossy link too, and now
	# and then a lost handshake ends a run without a measurement; such a run
	# is tried again (up to three times), a measured share never is.
	drv host 1 loss=0.05; drv apply
	lost=
	# Datagrams the receiving socket dropped crossed the link: they are the
	# guest's one CPU falling behind, not the link's loss, and are not
	# counted as lost (the kernel's counters below check the link itself).
	before_rcv=$(udp_rcvbuf_errors 1)
	for try in 1 2 3; do
		rm -f "$WORK/loss.json"
		nsx 1 iperf3 -s -1 -J --logfile "$WORK/loss.json" >/dev/null 2>&1 &
		srv=$!
		sleep 0.5
		nsx 2 iperf3 -c "$(ip_of 1)" -u -b 0.8M -l 100 -k 5000 --connect-timeout 5000 \
			>/dev/null 2>&1
		for _ in $(seq 50); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
		kill "$srv" 2>/dev/null
		wait "$srv"
		rcv=$(($(udp_rcvbuf_errors 1) - before_rcv))
		lost=$(jq -r --argjson rcv "$rcv" '.end.sum | select(.packets > 0) |
			100 * (.lost_packets - $rcv) / .packets * 100 | round / 100' "$WORK/loss.json" 2>/dev/null)
		[ -n "$lost" ] && break
		echo "loss 5%: iperf3 gave no measurement (try $try of 3)"
		before_rcv=$(udp_rcvbuf_errors 1)
	done
	echo "loss 5%: $lost% of 5000 datagrams lost on the link ($rcv more dropped by the receiving socket)"
	awk -v l="$lost" 'BEGIN {d = l - 5; if (d < 0) d = -d; exit !(l != "" && d <= 1)}' ||
		fail "loss $lost%, want 5 +- 1; h2's netem leaves: $(tc -n "$ANYSEE_PREFIX-h2" -s qdisc show dev eth0 | grep -A1 '^qdisc netem' | tr '\n' ' ')"
	# The kernel's own count: random-loss drops over what the lossy paths'
	# leaves saw (the datagrams and iperf3's control connection), within
	# the same point of 5%.
	kstats
	r=$(awk -v d="$(($(kv drop_loss "$KS") - $(kv drop_loss "$before")))" \
		-v p="$(($(kv loss_packets "$KS") - $(kv loss_packets "$before")))" \
		'BEGIN {if (d + p > 0) printf "%.2f %d", 100 * d / (d + p), d + p}')
	echo "kernel counters, loss 5%: random-loss drops ${r% *}% of ${r#* } packets on lossy paths"
	awk -v l="${r% *}" 'BEGIN {d = l - 5; if (d < 0) d = -d; exit !(l != "" && d <= 1)}' ||
		fail "kernel random-loss drops ${r% *}%, want 5 +- 1: $KS"

	# Jitter 4 ms (standard deviation) on h1's link, both ways of the path.
	# netem draws each way's delay uniformly within a = 4 x sqrt 3 ms of
	# its centre (netns/netem.c), so an RTT is the centre plus the sum of
	# two such draws: spread symmetrically, standard deviation
	# 4 x sqrt 2 = 5.66 ms, interquartile range 2a(2 - sqrt 2) = 8.12 ms.
	# A guest stall adds a few RTTs of tens of milliseconds, which move a
	# mean and a standard deviation far more than the quartiles; so the
	# check is on the median and the interquartile range (the standard
	# deviation is printed).
	drv host 1 loss=0 jitter=4ms; drv apply
	before=$KS
	rtts 0 1 800 0.01 >"$WORK/jitter"
	read -r r iqr sd < <(sort -g "$WORK/jitter" | awk '{v[NR] = $1; s += $1; q += $1 * $1}
		function at(p,  x, i) {x = p * (NR - 1) + 1; i = int(x); return v[i] + (x - i) * (v[i + 1] - v[i])}
		END {m = s / NR; printf "%.3f %.3f %.3f\n", at(0.5), at(0.75) - at(0.25), sqrt(q / NR - m * m)}')
	want=$(awk 'BEGIN {a = 4 * sqrt(3); printf "%.3f", 2 * a * (2 - sqrt(2))}')
	echo "jitter 4 ms: RTT median $r ms, interquartile range $iqr ms (standard deviation $sd ms) over $(wc -l <"$WORK/jitter") pings; want $r0 (as without jitter) and $want (5.66)"
	# Jitter must not move the centre: against the RTT just measured
	# without it, so the guest's own offset (above) cancels. Over 800
	# pings the median's standard error is 0.25 ms and the interquartile
	# range's 0.35 ms (4.3%); the guest's timers add their own: over nine
	# runs the median was 0.55 ms under to 0.7 ms over the RTT without
	# jitter, and the range 11% under to 11% over. The bounds, 1.5 ms and
	# 20%, still fail a jitter drawn on one side only (the centre moves by
	# 6.9 ms each way), a half-width of 4 ms instead of 4 x sqrt 3 (the
	# range is 42% short) or none.
	awk -v m="$r" -v w="$r0" 'BEGIN {d = m - w; if (d < 0) d = -d; exit !(m != "" && d <= 1.5)}' ||
		fail "median RTT $r ms with jitter, $r0 without"
	within_pct "$iqr" "$want" 20 || fail "RTT interquartile range $iqr ms, want $want +- 20%"
	kstats
	[ "$(kv drop_loss "$KS")" -eq "$(kv drop_loss "$before")" ] ||
		fail "random-loss drops grew without loss: from $before to $KS"

	# A 15,000-byte queue at 1 Mbit/s holds ten 1442-byte frames, 115 ms of
	# line time; pings behind a saturating flow wait that long.
	drv host 1 jitter=0; drv host 2 down=1mbit queue=15000; drv apply
	# The pings start once the receiver has reported its first second of
	# the flow: the queue has been full since (it fills in a tenth of a
	# second at twice its rate), however long the guest took to start the
	# sender.
	rm -f "$WORK/queue.log"
	nsx 2 iperf3 -s -1 --forceflush --logfile "$WORK/queue.log" >/dev/null 2>&1 &
	srv=$!
	sleep 0.5
	nsx 1 iperf3 -c "$(ip_of 2)" -u -b 3M -l 1400 -t 5 >/dev/null 2>&1 &
	cli=$!
	for _ in $(seq 50); do grep -q ' sec ' "$WORK/queue.log" 2>/dev/null && break; sleep 0.1; done
	grep -q ' sec ' "$WORK/queue.log" || fail "the saturating flow never reached h2: $(cat "$WORK/queue.log")"
	r=$(rtts 1 2 10 0.1 | median)
	wait "$cli" "$srv"
	want=$(awk 'BEGIN {print 20 + 10 * 1442 * 8 / 1e3 + 98 * 8 / 1e3}')
	echo "queue 15000 bytes at 1 Mbit/s: loaded RTT $r ms, want $want"
	within_pct "$r" "$want" 10 || fail "loaded RTT $r ms, want $want ms +- 10%"

	drv partition 2 1; drv apply
	[ -z "$(rtts 0 2 3 0.2)" ] || fail "h0 reached h2 across a partition"
	[ -n "$(rtts 0 1 3 0.2)" ] || fail "h0 lost h1, on its side of the partition"
	drv partition 2 0; drv apply
	[ -n "$(rtts 0 2 3 0.2)" ] || fail "h0 does not reach h2 after healing"
	echo "partition: h2 cut off from h0 and back after healing; h1 reachable throughout"
	# The partition's leaf went away with the healing; its drops stay counted.
	kstats
	echo "kernel counters at the end: $KS"
	[ "$(kv drop_partition "$KS")" -ge 3 ] || fail "no partition drops counted: $KS"
	[ "$(kv drop_download "$KS")" -gt "$(kv drop_download "$before")" ] ||
		fail "the 15000-byte queue at 1 Mbit/s dropped nothing: from $before to $KS"
	exec {DRV[1]}>&-
	wait "$DRV_PID" || fail "testbed driver exited with $?: $(cat "$WORK/driver.log")"
	[ -z "$(ip netns list)" ] || fail "namespaces left: $(ip netns list | tr '\n' ' ')"
}

guest() {
	local backend k c
	# Access delay 10 ms: user-mode Linux adds about 0.26 ms to every round
	# trip through netem (the mean error measured here, against a 0.11 ms
	# floor on its bridge), which on the 10 to 25 ms round trips of 1 ms
	# access links is most of the 0.5 ms bound; on round trips over 40 ms
	# the 2% part of the bound applies and that guest delay no longer
	# decides. The bench measures the 1 ms case and says so.
	SECONDS=0
	"$BIN/anysee-harness" net 50 --backend auto --waxman 500 --delay 10ms --seed 7 \
		--delays-out "$WORK/waxman.txt" -- bash "$0" --pairs "$WORK/waxman.txt" \
		>"$WORK/pairs.out" 2>"$WORK/pairs.log" || fail "net 50: $(cat "$WORK/pairs.out") $(tail -3 "$WORK/pairs.log")"
	backend=$(sed -n 's/.*backend \([a-z]*\), prefix.*/\1/p' "$WORK/pairs.log")
	echo "backend auto picked $backend"
	[ "$backend" = netem ] || fail "backend auto picked '$backend' in a kernel with sch_netem"
	cat "$WORK/pairs.out"
	grep -q '^pairs: 100 of 100 within' "$WORK/pairs.out" || fail "pairs outside the bound"
	# No loss, no rate limit: the kernel dropped nothing, and its leaves
	# sent at least the 2000 pings and replies.
	k=$(sed -n 's/^net: kernel qdiscs //p' "$WORK/pairs.log")
	echo "kernel counters of the 50-host run: $k"
	[ "$(kv packets "$k")" -ge 2000 ] || fail "kernel counters: fewer packets than pings: '$k'"
	for c in drop_loss drop_upload drop_download drop_partition; do
		[ "$(kv $c "$k")" -eq 0 ] || fail "kernel counters: $c without loss or limits: '$k'"
	done
	echo "(50 hosts and 100 pairs in $SECONDS s)"
	SECONDS=0
	runtime
	echo "(run-time changes in $SECONDS s)"
	# The unit test's kernel cases (install and in-place update of the whole
	# tree, checked object by object) skip on a host without netem.
	"$WORK/test_netem" >"$WORK/unit.log" 2>&1 ||
		fail "test_netem in the guest: $(grep -E 'FAIL|ERROR|Assert' "$WORK/unit.log" | head -5)"
	! grep -q '^\[  SKIPPED \]' "$WORK/unit.log" || fail "test_netem skipped in the guest: $(grep '^skipped' "$WORK/unit.log")"
	echo "unit: test_netem $(grep '^\[  PASSED  \]' "$WORK/unit.log"), none skipped"
}

case "${1:-}" in
--pairs) pairs "$2"; exit ;;
--guest) guest; exit ;;
esac

need_root
if ! command -v linux.uml >/dev/null; then
	echo "skip: user-mode-linux is not installed (make deps installs it; it could not be installed here)"
	exit 77
fi
for t in ping iperf3 jq tc gcc pkg-config; do
	command -v $t >/dev/null || { echo "skip: $t is not installed (make deps installs it)"; exit 77; }
done
WORK=$(mktemp -d /tmp/anysee-netem-uml.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export WORK
# shellcheck disable=SC2046
gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$ROOT" -o "$WORK/testbed_driver" \
	"$ROOT/tests/integration/testbed_driver.c" "$BIN/../lib/libnetns.a" "$BIN/../lib/libbase.a" \
	$(pkg-config --libs libnl-route-3.0) -lm -lpthread || fail "building testbed_driver"
# The unit test again without the sanitizers, which cannot map their shadow
# memory in the guest's smaller address space.
# shellcheck disable=SC2046
gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-unused-parameter -I"$ROOT" \
	$(pkg-config --cflags libnl-route-3.0 cmocka) -o "$WORK/test_netem" "$ROOT/tests/unit/test_netem.c" \
	"$BIN/../lib/libnetns.a" "$BIN/../lib/libbase.a" $(pkg-config --libs libnl-route-3.0 cmocka) \
	-lm -lpthread || fail "building test_netem"
SECONDS=0
# A watchdog, not a time limit: the guest's work takes 110 to 135 s on two
# cores, and one iperf3 retry adds about 20; past 240 s it hangs.
ANYSEE_UML_TIMEOUT=${ANYSEE_UML_TIMEOUT:-240} "$ROOT/tools/uml-run" bash "$0" --guest
rc=$?
[ $rc -eq 0 ] || fail "in user-mode Linux (exit $rc, after $SECONDS s)"
echo "pass: the netem backend carried every check in user-mode Linux ($SECONDS s, boot included)"
