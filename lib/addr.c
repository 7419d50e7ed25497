#include "lib/addr.h"

#include <stdio.h>
#include <string.h>

static const uint8_t mac_prefix[3] = {0x02, 0xa5, 0xee};

uint32_t addr_host_ip(uint32_t i)
{
	return ADDR_NET + i + 1;
}

int64_t addr_ip_host(uint32_t ip)
{
	if ((ip & ADDR_NETMASK) != ADDR_NET || ip == ADDR_NET)
		return -1;
	return (int64_t)(ip - ADDR_NET - 1);
}

void addr_host_mac(uint32_t i, uint8_t mac[6])
{
	uint32_t v = i + 1;
	memcpy(mac, mac_prefix, 3);
	mac[3] = (uint8_t)(v >> 16);
	mac[4] = (uint8_t)(v >> 8);
	mac[5] = (uint8_t)v;
}

int64_t addr_mac_host(const uint8_t mac[6])
{
	if (memcmp(mac, mac_prefix, 3) != 0)
		return -1;
	uint32_t v = (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
	return v ? (int64_t)v - 1 : -1;
}

void addr_ip_str(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}
