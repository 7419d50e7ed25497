# Robustness: a peer flooded with malformed datagrams keeps playing.
#
# A 30 s run (rendezvous, source, three peers, one idle "attacker" host). At
# about t = 10 s the test enters the attacker's namespace and sends the
# victim peer 100,000 malformed UDP datagrams over 10 s: random bytes of
# random length, AnySee headers cut short, and whole AnySee headers (valid
# magic, version and type) whose declared body length disagrees with the
# datagram. The victim must not crash, must keep its continuity and verified
# content at 95% or more, and must count at least 90% of the flood as bad
# datagrams (the rest may be lost in the kernel's queues, never accepted).
. "$(dirname "$0")/common.inc"
need_root
command -v gcc >/dev/null || { echo "skip: gcc is needed to build the datagram blaster"; exit 77; }

COUNT=100000
BLAST_S=10
out=$(mktemp -d /tmp/anysee-test.XXXXXX)
hpid="" prefix=""
cleanup() {
  if [ -n "$hpid" ] && kill -0 "$hpid" 2>/dev/null; then
    kill -INT "$hpid" 2>/dev/null
    wait "$hpid" 2>/dev/null
  fi
  # The trailing dash keeps another run whose pid starts with ours out of it.
  [ -n "$prefix" ] && "$BIN/anysee-harness" clean "$prefix-" >/dev/null 2>&1
  rm -rf "$out"
}
trap cleanup EXIT

cat >"$out/blaster.c" <<'EOF'
/* Sends COUNT malformed datagrams to IP:PORT, paced evenly over SECONDS. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HDR 12
#define MAX 1472
#define TYPES 18 /* WIRE_REGISTER .. WIRE_HASH_REQ */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void header(uint8_t *p, uint16_t declared)
{
	p[0] = 0xA5, p[1] = 0x5E, p[2] = 3, p[3] = (uint8_t)(1 + next() % TYPES);
	p[4] = (uint8_t)(declared >> 8), p[5] = (uint8_t)declared;
	p[6] = 0, p[7] = 1; /* stream 1 */
	for (int i = 8; i < HDR; i++)
		p[i] = (uint8_t)next();
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s IP PORT COUNT SECONDS SEED\n", argv[0]);
		return 2;
	}
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "blaster: bad address %s\n", argv[1]);
		return 2;
	}
	long count = atol(argv[3]);
	double seconds = atof(argv[4]);
	rng ^= strtoull(argv[5], NULL, 10) * 0xff51afd7ed558ccdull;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("blaster: socket");
		return 1;
	}
	long sent = 0, failed = 0, kind[3] = {0};
	uint8_t buf[MAX];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < count; i++) {
		/* Pace in batches of 50 so the flood is steady, not one burst. */
		if (i % 50 == 0) {
			double at = seconds * (double)i / (double)count;
			struct timespec due = {t0.tv_sec + (time_t)at,
			                       t0.tv_nsec + (long)((at - (double)(time_t)at) * 1e9)};
			if (due.tv_nsec >= 1000000000L)
				due.tv_sec++, due.tv_nsec -= 1000000000L;
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
		}
		size_t len;
		int k = (int)(next() % 4);
		if (k <= 1) {
			/* Random bytes; the first is never 0xA5, so never the magic. */
			k = 0;
			len = next() % (MAX + 1);
			for (size_t j = 0; j < len; j++)
				buf[j] = (uint8_t)next();
			if (len && buf[0] == 0xA5)
				buf[0] = 0x5A;
		} else if (k == 2) {
			/* A valid header cut short: 1..11 bytes of it. */
			header(buf, (uint16_t)(next() % (MAX - HDR + 1)));
			len = 1 + next() % (HDR - 1);
		} else {
			/* A whole header whose declared body length is not the one sent. */
			size_t body = next() % (MAX - HDR + 1);
			uint16_t declared;
			do
				declared = (uint16_t)(next() % (MAX - HDR + 1) + (next() % 8 == 0 ? 60000 : 0));
			while (declared == body);
			header(buf, declared);
			for (size_t j = HDR; j < HDR + body; j++)
				buf[j] = (uint8_t)next();
			len = HDR + body;
		}
		if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len) {
			sent++;
			kind[k == 0 ? 0 : k - 1]++;
		} else {
			failed++;
		}
	}
	printf("sent %ld random=%ld truncated=%ld badlen=%ld failed=%ld\n", sent, kind[0], kind[1],
	       kind[2], failed);
	return sent ? 0 : 1;
}
EOF
gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$out/blaster" "$out/blaster.c" \
  || fail "cannot build the datagram blaster"

# Fast access links for the victim and the attacker, so the flood reaches
# the victim's socket instead of being shaped away on the emulated links.
cat >"$out/robustness.lua" <<'EOF'
network {
  backend = "auto",
  access = { up = "10mbit", down = "10mbit", delay = "10ms" },
}
local fast = { up = "1gbit", down = "1gbit" }
rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit" }
peer { name = "victim", watch = "tv1", at = 1, access = fast }
peer { name = "peer2", watch = "tv1", at = 2 }
peer { name = "peer3", watch = "tv1", at = 3 }
monitor { name = "attacker", access = fast }   -- only a namespace to send from
run { duration = 30 }
EOF

run="$out/run"
"$BIN/anysee-harness" run "$out/robustness.lua" --out "$run" -q >"$out/harness.out" 2>&1 &
hpid=$!
prefix=$(printf 'anysee-%x' "$hpid")

# Wait for the schedule to start, then for t = 10 s.
for _ in $(seq 100); do
  grep -q 'run starts' "$run/harness.log" 2>/dev/null && break
  kill -0 "$hpid" 2>/dev/null || fail "harness exited early: $(tail -5 "$out/harness.out")"
  sleep 0.1
done
grep -q 'run starts' "$run/harness.log" 2>/dev/null || fail "the run did not start within 10 s"
logged=$(sed -n 's/.*creating [0-9]* hosts, prefix \([^ ]*\).*/\1/p' "$run/harness.log")
[ "$logged" = "$prefix" ] || fail "harness.log names prefix '$logged', expected $prefix"
sleep 10

ns="$prefix-attacker"
ip netns list | awk '{print $1}' | grep -qx -- "$ns" || fail "no namespace $ns"
vip=$(awk '$1 == "victim" { print $3 }' "$run/hosts.txt")
case "$vip" in 10.77.0.*) ;; *) fail "victim address '$vip' from hosts.txt is not a testbed one" ;; esac
ip netns exec "$ns" "$out/blaster" "$vip" 7000 "$COUNT" "$BLAST_S" 1 >"$out/blast.txt" \
  || fail "blaster failed: $(cat "$out/blast.txt")"
echo "blaster: $(cat "$out/blast.txt")"
sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' "$out/blast.txt")
[ "${sent:-0}" -ge $((COUNT * 99 / 100)) ] || fail "only ${sent:-0} of $COUNT datagrams sent"

wait "$hpid"; rc=$?
hpid=""
[ "$rc" -eq 0 ] || fail "harness exit $rc: $(tail -5 "$out/harness.out")"
[ -z "$(our_namespaces "${prefix#anysee-}")" ] \
  || fail "namespaces left behind: $(our_namespaces "${prefix#anysee-}")"
pgrep -f "$run" >/dev/null && fail "processes left behind"

log="$run/harness.log"
grep -E '^ *[0-9.]+ died ' "$log" && fail "a process died during the flood"
grep -q 'died 0$' "$log" || fail "harness.log has no clean end: $(tail -1 "$log")"
grep -q 'exited victim .* exit 0' "$log" || fail "victim did not exit cleanly: $(grep victim "$log")"

leave=$(grep ' leave ' "$run/hosts/victim/events.log" | tail -1)
[ -n "$leave" ] || fail "victim's events.log has no leave line"
bad=$(printf '%s\n' "$leave" | sed -n 's/.* bad=\([0-9]*\).*/\1/p')
[ -n "$bad" ] || fail "no bad= count in the victim's leave line: $leave"

m="$run/metrics.json"
[ -f "$m" ] || fail "no metrics.json"
victim_field() { jq -r --arg f "$1" '.peers[] | select(.name == "victim") | .[$f]' "$m"; }
cont=$(victim_field continuity)
verified=$(victim_field verified_fraction)
if [ -z "$cont" ] || [ -z "$verified" ]; then fail "no metrics for the victim in $m"; fi
echo "victim: bad=$bad of $sent malformed sent, continuity $cont, verified $verified"

[ "$bad" -ge $((sent * 90 / 100)) ] || fail "victim counted $bad bad datagrams of $sent sent"
# Only the flood is malformed: the victim cannot count more than was sent.
[ "$bad" -le "$sent" ] || fail "victim counted $bad bad datagrams, more than the $sent sent"
awk -v c="$cont" -v v="$verified" 'BEGIN { exit !(c >= 0.95 && v >= 0.95) }' \
  || fail "victim stopped playing well: continuity $cont, verified $verified"
echo "pass: victim rejected $bad of $sent malformed datagrams and kept playing"
