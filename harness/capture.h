/* Packet capture in the hub namespace: one harness thread enters the hub
 * (only that thread changes namespace) and writes a pcap file with libpcap.
 *
 * Every frame is written once: the thread captures on the hub's "any" device
 * in the inbound direction only, and a frame enters the hub once, from the
 * sender's veth end p<i>; the copy a bridge or the userspace switch sends out
 * of p<j> is outbound. A bridge also passes broadcasts (all frames, when it
 * is promiscuous) up to itself, where they enter a second time; frames
 * entering by a bridge that exists when the capture starts are skipped, so
 * a filter that lets broadcasts through still sees each once. The file uses
 * DLT_LINUX_SLL2, which records the interface a frame entered by: its
 * sender's veth.
 */
#ifndef ANYSEE_CAPTURE_H
#define ANYSEE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

/* Enough for the SLL2 header (20), IPv4 with options (60), UDP (8) and the
 * AnySee header (12): classifying control versus media needs no more. */
#define CAPTURE_SNAPLEN_HEADERS 128
#define CAPTURE_FILTER_DEFAULT "udp port " ADDR_PEER_PORT_STR

struct capture;

struct capture_stats {
	uint64_t packets;      /* written to the file */
	uint64_t bytes;        /* size of the file, headers included */
	uint64_t kernel_drops; /* dropped by the kernel before libpcap read them */
	uint64_t capped;       /* captured but not written: the file hit max_bytes */
};

/* Start capturing in namespace hub_ns into out_path. bpf_filter NULL means
 * CAPTURE_FILTER_DEFAULT; max_bytes 0 means no size cap. Returns once the
 * capture is running, or NULL with one line in err naming the namespace,
 * device and operation that failed. */
struct capture *capture_start(const char *hub_ns, const char *out_path, int snaplen,
                              const char *bpf_filter, uint64_t max_bytes, char *err, size_t errlen);

/* Stop the thread, flush and close the file, free c. stats may be NULL.
 * Returns 0, or -1 with err set when the file could not be written in full
 * (stats are filled either way). */
int capture_stop(struct capture *c, struct capture_stats *stats, char *err, size_t errlen);

#endif
