/* hostnet: check and configure the kernel side of the tap port (see hostnet.h). */
#include "controlplane/ops/hostnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Host-order mask of a prefix length (0..32). */
static uint32_t hostnet_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

static unsigned hostnet_prefix_len(uint32_t mask)
{
	unsigned n = 0;
	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	return n;
}

/* Two prefixes overlap when one contains the other's network: compare under the shorter. */
static bool hostnet_overlap(uint32_t a, unsigned pa, uint32_t b, unsigned pb)
{
	uint32_t m = hostnet_mask(pa < pb ? pa : pb);
	return (a & m) == (b & m);
}

static void hostnet_fmt(char *buf, size_t len, uint32_t host_addr, unsigned prefix)
{
	struct in_addr a = {.s_addr = htonl(host_addr)};
	char s[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, s, sizeof(s));
	snprintf(buf, len, "%s/%u", s, prefix);
}

static bool hostnet_is_own(const char *name, const char *own_iface)
{
	return own_iface && own_iface[0] && strcmp(name, own_iface) == 0;
}

static int hostnet_check_addrs(uint32_t net, unsigned prefix, const char *own_iface,
			       char *err, size_t err_len)
{
	struct ifaddrs *list;
	if (getifaddrs(&list) < 0) {
		snprintf(err, err_len, "cannot list interface addresses: %s", strerror(errno));
		return -1;
	}
	int rc = 0;
	for (struct ifaddrs *ifa = list; ifa && rc == 0; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET || !ifa->ifa_netmask ||
		    hostnet_is_own(ifa->ifa_name, own_iface))
			continue;
		uint32_t addr = ntohl(((struct sockaddr_in *)ifa->ifa_addr)->sin_addr.s_addr);
		uint32_t mask = ntohl(((struct sockaddr_in *)ifa->ifa_netmask)->sin_addr.s_addr);
		unsigned plen = hostnet_prefix_len(mask);
		if (plen == 0 || !hostnet_overlap(net, prefix, addr, plen))
			continue;
		char ours[32], theirs[32];
		hostnet_fmt(ours, sizeof(ours), net, prefix);
		hostnet_fmt(theirs, sizeof(theirs), addr, plen);
		snprintf(err, err_len, "%s overlaps %s on %s", ours, theirs, ifa->ifa_name);
		rc = -1;
	}
	freeifaddrs(list);
	return rc;
}

/* /proc/net/route prints each 32-bit field as the raw word in host byte order, so reading it
 * back with %X on the same host gives the address in network byte order. */
static int hostnet_check_routes(uint32_t net, unsigned prefix, const char *own_iface,
				char *err, size_t err_len)
{
	FILE *f = fopen("/proc/net/route", "r");
	if (!f) {
		snprintf(err, err_len, "cannot read /proc/net/route: %s", strerror(errno));
		return -1;
	}
	char line[512];
	int rc = 0;
	if (!fgets(line, sizeof(line), f)) /* header */
		line[0] = '\0';
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char iface[IFNAMSIZ + 1];
		unsigned dst, gw, flags, mask;
		if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", iface, &dst, &gw, &flags, &mask) !=
		    5)
			continue;
		if (!(flags & 0x1) || hostnet_is_own(iface, own_iface)) /* RTF_UP */
			continue;
		uint32_t rdst = ntohl(dst), rmask = ntohl(mask);
		unsigned plen = hostnet_prefix_len(rmask);
		if (plen == 0 || !hostnet_overlap(net, prefix, rdst, plen))
			continue;
		char ours[32], theirs[32];
		hostnet_fmt(ours, sizeof(ours), net, prefix);
		hostnet_fmt(theirs, sizeof(theirs), rdst & rmask, plen);
		snprintf(err, err_len, "%s overlaps route %s via %s", ours, theirs, iface);
		rc = -1;
	}
	fclose(f);
	return rc;
}

int hostnet_check_free(struct in_addr addr, unsigned prefix, const char *own_iface, char *err,
		       size_t err_len)
{
	if (prefix > 32) {
		snprintf(err, err_len, "invalid prefix length /%u", prefix);
		return -1;
	}
	uint32_t net = ntohl(addr.s_addr) & hostnet_mask(prefix);
	if (hostnet_check_addrs(net, prefix, own_iface, err, err_len) < 0)
		return -1;
	return hostnet_check_routes(net, prefix, own_iface, err, err_len);
}

static void hostnet_disable_ipv6(const char *iface)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", iface);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* no IPv6 on this host: nothing to disable */
	if (write(fd, "1", 1) != 1) {
		/* best effort: the port works without it, it only sees a few more packets */
	}
	close(fd);
}

static void hostnet_set_sin(struct sockaddr *sa, uint32_t net_addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = net_addr};
	memcpy(sa, &sin, sizeof(sin));
}

int hostnet_configure(const char *iface, struct in_addr addr, unsigned prefix)
{
	if (!iface || iface[0] == '\0' || strlen(iface) >= IFNAMSIZ || prefix > 32)
		return -EINVAL;
	hostnet_disable_ipv6(iface);

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, iface, strlen(iface) + 1);

	int rc = 0;
	hostnet_set_sin(&ifr.ifr_addr, addr.s_addr);
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		goto fail;
	hostnet_set_sin(&ifr.ifr_netmask, htonl(hostnet_mask(prefix)));
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		goto fail;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}
