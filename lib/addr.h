/* The testbed's address plan, the one definition every part uses.
 *
 * Host i (0-based) has IP 10.77.0.0 + i + 1 in a /16 and MAC 02:a5:ee
 * followed by i + 1 in 24 bits; every peer listens on ADDR_PEER_PORT.
 * The namespaces, both shaping backends, the harness and the capture
 * filter derive addresses from here, so changing the plan is one edit.
 */
#ifndef ANYSEE_ADDR_H
#define ANYSEE_ADDR_H

#include <stdint.h>

#define ADDR_NET 0x0a4d0000u /* 10.77.0.0, host byte order */
#define ADDR_PREFIX_LEN 16
#define ADDR_NETMASK 0xffff0000u
#define ADDR_PEER_PORT 7000
#define ADDR_PEER_PORT_STR "7000"

/* Host i's IPv4 address, host byte order. */
uint32_t addr_host_ip(uint32_t i);
/* The host index owning ip, or -1 when ip is outside the plan. */
int64_t addr_ip_host(uint32_t ip);
void addr_host_mac(uint32_t i, uint8_t mac[6]);
/* The host index owning a MAC of the plan, or -1. */
int64_t addr_mac_host(const uint8_t mac[6]);
/* Dotted quad of a host-byte-order address. */
void addr_ip_str(uint32_t ip, char buf[16]);

#endif
