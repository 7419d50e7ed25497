/* The attack role: the testbed's own adversary. It joins like a peer (asks
 * the rendezvous point for the stream, learns the newest sequence from a
 * partner that is not its target) and then sends crafted datagrams at its
 * target from its own address, as a stranger on the same network would:
 *
 *   forge-segment  segments "from the source": one far beyond the window,
 *                  the rest just ahead of live with forged payloads
 *   forge-leave    LEAVEs "from" the source and from every peer it knows
 *   hijack         neighbour requests claiming the source's id
 *   bad-buffermap  buffer maps "from the source" whose window starts near 2^32
 *   probe-ttl      LTM detectors with TTL 200
 *   probe-flood    ProbMs under its own id, each a new one, with a bound
 *                  (LastDelay) no trace reaches: only the peers'
 *                  forwarding budget keeps the swarm from sending each
 *                  on to its TTL
 *   detector-spoof LTM detectors naming the attacker's witness port as
 *                  their source: first hops (TTL 2), which would have every
 *                  neighbour of the target probe the witness, and passed-on
 *                  ones (TTL 1), which have the target probe it; the
 *                  attacker asks to be the target's mesh neighbour first
 *   reflect        path set-ups naming a third address (the attacker's
 *                  witness port) as the child to push to
 *   amplify        segment requests for the 128 newest segments, from a
 *                  peer that never did a handshake
 *   hash-flood     hash-list requests for lists of the last few seconds,
 *                  each 20 bytes for a 1.1 KB list, from a partner: the
 *                  attacker asks the target for a partner slot first, and
 *                  only the partner's serve budget (peer/serve.h) bounds
 *                  what it gets back
 *   rp-flood       registrations under ever new ids (target: the rendezvous
 *                  point)
 *
 * Its event log has one `attack` line a second with what it sent and what
 * came back (from the target, hash lists among it, and to its witness
 * port), so a test can judge amplification and reflection. */
#ifndef ANYSEE_ATTACK_H
#define ANYSEE_ATTACK_H

#include <string.h>

#include "peer/config.h"

enum attack_kind {
	ATTACK_FORGE_SEGMENT,
	ATTACK_FORGE_LEAVE,
	ATTACK_HIJACK,
	ATTACK_BAD_BUFFERMAP,
	ATTACK_PROBE_TTL,
	ATTACK_PROBE_FLOOD,
	ATTACK_DETECTOR_SPOOF,
	ATTACK_REFLECT,
	ATTACK_AMPLIFY,
	ATTACK_HASH_FLOOD,
	ATTACK_RP_FLOOD,
	ATTACK_KINDS
};

#define ATTACK_KIND_LIST                                                                           \
	"forge-segment, forge-leave, hijack, bad-buffermap, probe-ttl, probe-flood, "              \
	"detector-spoof, reflect, amplify, hash-flood, rp-flood"

static inline int attack_kind_parse(const char *s)
{
	static const char *const names[ATTACK_KINDS] = {
	    "forge-segment",  "forge-leave", "hijack",  "bad-buffermap", "probe-ttl", "probe-flood",
	    "detector-spoof", "reflect",     "amplify", "hash-flood",    "rp-flood"};
	for (int i = 0; i < ATTACK_KINDS; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/* Run until SIGINT/SIGTERM. Returns the exit code. */
int attack_run(struct config *cfg);

#endif
