#include "analysis/overhead.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <string.h>

#include "lib/rundir.h"
#include "lib/util.h"

#define ETH_HDR 14u
#define SLL_HDR 16u
#define SLL2_HDR 20u
#define ETHERTYPE_IPV4 0x0800u
#define IPV4_MIN_HDR 20u
#define IP_PROTO_UDP 17u
#define IP_FRAG_OFFSET 0x1fffu
#define UDP_HDR 8u

enum frame_class { FRAME_ANYSEE, FRAME_OTHER, FRAME_MALFORMED };

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where the link-layer header of linktype keeps the EtherType. */
static int link_layout(int linktype, uint32_t *hdr_len, uint32_t *proto_off)
{
	switch (linktype) {
	case DLT_EN10MB:
		*hdr_len = ETH_HDR;
		*proto_off = 12;
		return 0;
	case DLT_LINUX_SLL:
		*hdr_len = SLL_HDR;
		*proto_off = 14;
		return 0;
	case DLT_LINUX_SLL2:
		*hdr_len = SLL2_HDR;
		*proto_off = 0;
		return 0;
	default:
		return -1;
	}
}

/* Classify one frame; for an AnySee message *type is its wire_type. */
static enum frame_class classify(const uint8_t *f, uint32_t caplen, uint32_t hdr_len,
                                 uint32_t proto_off, int *type)
{
	if (caplen < hdr_len)
		return FRAME_MALFORMED;
	if (be16(f + proto_off) != ETHERTYPE_IPV4)
		return FRAME_OTHER;
	const uint8_t *ip = f + hdr_len;
	uint32_t left = caplen - hdr_len;
	if (left < IPV4_MIN_HDR)
		return FRAME_MALFORMED;
	uint32_t ihl = (ip[0] & 0xfu) * 4u;
	uint32_t tot_len = be16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < IPV4_MIN_HDR || tot_len < ihl || left < ihl)
		return FRAME_MALFORMED;
	/* Later fragments carry no UDP header (AnySee never fragments). */
	if (ip[9] != IP_PROTO_UDP || (be16(ip + 6) & IP_FRAG_OFFSET))
		return FRAME_OTHER;
	const uint8_t *udp = ip + ihl;
	left -= ihl;
	if (left < UDP_HDR)
		return FRAME_MALFORMED;
	uint32_t udp_len = be16(udp + 4);
	if (udp_len < UDP_HDR || udp_len > tot_len - ihl)
		return FRAME_MALFORMED;
	const uint8_t *msg = udp + UDP_HDR;
	uint32_t msg_len = udp_len - UDP_HDR;
	left -= UDP_HDR;
	if (msg_len < 2)
		return FRAME_OTHER;
	if (left < 2)
		return FRAME_MALFORMED;
	if (be16(msg) != WIRE_MAGIC)
		return FRAME_OTHER;
	if (msg_len < WIRE_HDR_LEN || left < WIRE_HDR_LEN)
		return FRAME_MALFORMED;
	if (msg[2] != WIRE_VERSION || msg[3] == 0 || msg[3] >= WIRE_TYPE_MAX ||
	    WIRE_HDR_LEN + be16(msg + 4) != msg_len)
		return FRAME_MALFORMED;
	*type = msg[3];
	return FRAME_ANYSEE;
}

static void count(struct overhead_count *c, uint64_t bytes)
{
	c->packets++;
	c->bytes += bytes;
}

int overhead_load(const char *path, struct overhead *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	FILE *file = rundir_fopen(path, "rb");
	if (!file)
		return err_set(err, errlen, "open capture %s: %s", path, strerror(errno));
	/* pcap_close closes file. */
	pcap_t *p = pcap_fopen_offline(file, ebuf);
	if (!p) {
		fclose(file);
		return err_set(err, errlen, "open capture %s: %s", path, ebuf);
	}
	o->linktype = pcap_datalink(p);
	uint32_t hdr_len, proto_off;
	if (link_layout(o->linktype, &hdr_len, &proto_off)) {
		const char *name = pcap_datalink_val_to_name(o->linktype);
		err_set(err, errlen, "read capture %s: link type %s (%d) not supported", path,
		        name ? name : "unknown", o->linktype);
		pcap_close(p);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *f;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &f)) == 1) {
		o->frames++;
		uint64_t wire = h->len >= hdr_len ? h->len - hdr_len + ETH_HDR : h->len;
		int type = 0;
		switch (classify(f, h->caplen, hdr_len, proto_off, &type)) {
		case FRAME_ANYSEE:
			count(&o->anysee, wire);
			count(&o->type[type], wire);
			break;
		case FRAME_OTHER:
			count(&o->other, wire);
			break;
		case FRAME_MALFORMED:
			count(&o->malformed, wire);
			break;
		}
	}
	/* A harness killed mid-write leaves a partial last record; what came
	 * before it is still a valid measurement. */
	o->truncated = rc == PCAP_ERROR;
	pcap_close(p);
	return 0;
}

double overhead_control_fraction(const struct overhead *o)
{
	if (!o->anysee.bytes)
		return 0;
	return (double)(o->anysee.bytes - o->type[WIRE_SEG_DATA].bytes) / (double)o->anysee.bytes;
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

void overhead_print(const struct overhead *o, FILE *out)
{
	fprintf(out,
	        "control overhead: %.2f%% of %" PRIu64 " AnySee bytes in %" PRIu64 " messages\n",
	        100.0 * overhead_control_fraction(o), o->anysee.bytes, o->anysee.packets);
	fprintf(out, "  %-18s %10s %14s %8s\n", "type", "packets", "bytes", "bytes%");
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		const struct overhead_count *c = &o->type[t];
		if (c->packets)
			fprintf(out, "  %-18s %10" PRIu64 " %14" PRIu64 " %7.2f%%\n",
			        wire_type_name(t), c->packets, c->bytes,
			        share(c->bytes, o->anysee.bytes));
	}
	fprintf(out,
	        "  not AnySee: %" PRIu64 " frames, %" PRIu64 " bytes; malformed: %" PRIu64
	        " frames, %" PRIu64 " bytes\n",
	        o->other.packets, o->other.bytes, o->malformed.packets, o->malformed.bytes);
	if (o->truncated)
		fprintf(out,
		        "  the capture ends inside a damaged record after %" PRIu64 " frames\n",
		        o->frames);
}

static void json_count(struct json *j, const char *key, const struct overhead_count *c)
{
	json_key(j, key);
	json_obj_begin(j);
	json_ku64(j, "packets", c->packets);
	json_ku64(j, "bytes", c->bytes);
	json_obj_end(j);
}

const char *overhead_type_key(int type, char *buf, size_t len)
{
	snprintf(buf, len, "%s", wire_type_name(type));
	for (char *s = buf; *s; s++)
		if (*s == ' ')
			*s = '_';
	return buf;
}

void overhead_write_json(const struct overhead *o, struct json *j)
{
	json_obj_begin(j);
	json_kdouble(j, "control_fraction", overhead_control_fraction(o), 6);
	json_count(j, "anysee", &o->anysee);
	json_key(j, "by_type");
	json_obj_begin(j);
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		char key[32];
		json_count(j, overhead_type_key(t, key, sizeof(key)), &o->type[t]);
	}
	json_obj_end(j);
	json_count(j, "other", &o->other);
	json_count(j, "malformed", &o->malformed);
	json_ku64(j, "frames", o->frames);
	json_kbool(j, "truncated", o->truncated);
	json_obj_end(j);
}
