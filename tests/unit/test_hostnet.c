/* Unit tests for controlplane/hostnet.c: the clash check, and the configuration of the tap's
 * host side.
 *
 * The tests do not depend on what the host happens to have: before any test runs, the process
 * moves into a network namespace of its own (a user namespace too when not root) and builds a
 * known set of interfaces, addresses and routes there:
 *   lo      up: 127.0.0.1/8
 *   hnt0    a tap device, up, 10.99.1.1/24 (so the kernel adds the route 10.99.1.0/24)
 *           and a route 10.200.0.0/16 via 10.99.1.254
 *   hnt1    a tap device left unconfigured, for hostnet_configure
 * Only ioctls on a socket and /dev/net/tun are used, never the code under test. The namespace
 * goes away with the process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "controlplane/ops/hostnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TH_IF "hnt0"
#define TH_IF_CONF "hnt1"

static int th_tap_fd[2] = {-1, -1};

static struct in_addr th_addr(const char *s)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* ---- the namespace ---- */

static int th_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A network namespace of our own; without root, inside a user namespace in which we are root
 * (which gives CAP_NET_ADMIN over the new network namespace). */
static int th_unshare(void)
{
	if (geteuid() == 0)
		return unshare(CLONE_NEWNET);
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (th_write_file("/proc/self/uid_map", map) != 0)
		return -1;
	if (th_write_file("/proc/self/setgroups", "deny") != 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	return th_write_file("/proc/self/gid_map", map);
}

static void th_sin(struct sockaddr *sa, const char *ip)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	inet_pton(AF_INET, ip, &sin.sin_addr);
	memcpy(sa, &sin, sizeof(sin));
}

static void th_ifr(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
}

static int th_up(int s, const char *name)
{
	struct ifreq ifr;
	th_ifr(&ifr, name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* A tap device @name that exists as long as the returned descriptor is open. */
static int th_tap(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	th_ifr(&ifr, name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int th_setup_fail(const char *what, int s)
{
	fprintf(stderr, "test_hostnet: cannot build the test namespace: %s: %s\n", what,
		strerror(errno));
	if (s >= 0)
		close(s);
	return -1;
}

static int th_netns_setup(void **state)
{
	(void)state;
	int s = -1;
	if (th_unshare() != 0)
		return th_setup_fail("unshare", s);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return th_setup_fail("socket", s);
	if (th_up(s, "lo") != 0)
		return th_setup_fail("lo up", s);

	th_tap_fd[0] = th_tap(TH_IF);
	th_tap_fd[1] = th_tap(TH_IF_CONF);
	if (th_tap_fd[0] < 0 || th_tap_fd[1] < 0)
		return th_setup_fail("tap device", s);
	struct ifreq ifr;
	th_ifr(&ifr, TH_IF);
	th_sin(&ifr.ifr_addr, "10.99.1.1");
	if (ioctl(s, SIOCSIFADDR, &ifr) != 0)
		return th_setup_fail(TH_IF " address", s);
	th_ifr(&ifr, TH_IF);
	th_sin(&ifr.ifr_netmask, "255.255.255.0");
	if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0)
		return th_setup_fail(TH_IF " netmask", s);
	if (th_up(s, TH_IF) != 0)
		return th_setup_fail(TH_IF " up", s);

	struct rtentry rt;
	char dev[] = TH_IF;
	memset(&rt, 0, sizeof(rt));
	th_sin(&rt.rt_dst, "10.200.0.0");
	th_sin(&rt.rt_genmask, "255.255.0.0");
	th_sin(&rt.rt_gateway, "10.99.1.254");
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = dev;
	if (ioctl(s, SIOCADDRT, &rt) != 0)
		return th_setup_fail("route 10.200.0.0/16 via 10.99.1.254", s);
	close(s);
	return 0;
}

static int th_netns_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++)
		if (th_tap_fd[i] >= 0)
			close(th_tap_fd[i]);
	return 0;
}

/* ---- the clash check ---- */

static void expect_busy(const char *ip, unsigned prefix, const char *own, const char *want)
{
	char err[256] = "";
	if (hostnet_check_free(th_addr(ip), prefix, own, err, sizeof(err)) != -1)
		fail_msg("%s/%u (own %s) reported free, expected \"%s\"", ip, prefix,
			 own ? own : "none", want);
	if (!strstr(err, want))
		fail_msg("%s/%u: error \"%s\" does not say \"%s\"", ip, prefix, err, want);
}

static void expect_free(const char *ip, unsigned prefix, const char *own)
{
	char err[256] = "";
	if (hostnet_check_free(th_addr(ip), prefix, own, err, sizeof(err)) != 0)
		fail_msg("%s/%u (own %s) reported busy: %s", ip, prefix, own ? own : "none", err);
}

static void subnet_inside_loopback_clashes_with_lo(void **state)
{
	(void)state;
	expect_busy("127.5.0.1", 16, NULL, "127.5.0.0/16 overlaps 127.0.0.1/8 on lo");
}

static void subnet_containing_loopback_clashes_too(void **state)
{
	(void)state;
	expect_busy("127.0.0.0", 7, "", "126.0.0.0/7 overlaps 127.0.0.1/8 on lo");
}

/* The same subnet as an interface's address, one inside it, one containing it. */
static void subnets_overlapping_an_address_are_busy(void **state)
{
	(void)state;
	expect_busy("10.99.1.77", 24, NULL, "10.99.1.0/24 overlaps 10.99.1.1/24 on " TH_IF);
	expect_busy("10.99.1.200", 25, NULL, "10.99.1.128/25 overlaps 10.99.1.1/24 on " TH_IF);
	expect_busy("10.99.0.0", 16, "lo", "10.99.0.0/16 overlaps 10.99.1.1/24 on " TH_IF);
	expect_busy("10.0.0.0", 8, NULL, "10.0.0.0/8 overlaps 10.99.1.1/24 on " TH_IF);
}

/* A route's destination with no address in it: only the route makes it busy. */
static void subnets_overlapping_a_route_are_busy(void **state)
{
	(void)state;
	expect_busy("10.200.7.1", 24, NULL, "10.200.7.0/24 overlaps route 10.200.0.0/16 via " TH_IF);
	expect_busy("10.200.0.0", 15, NULL, "10.200.0.0/15 overlaps route 10.200.0.0/16 via " TH_IF);
}

static void neighbouring_and_unused_subnets_are_free(void **state)
{
	(void)state;
	expect_free("198.51.100.1", 24, NULL);
	expect_free("10.99.0.1", 24, NULL);   /* next to the address's /24 */
	expect_free("10.98.0.0", 16, NULL);
	expect_free("10.201.0.1", 16, NULL);  /* next to the route's /16 */
	expect_free("10.199.255.1", 24, NULL);
}

/* The interface being configured is not a clash with itself, nor are routes through it;
 * another interface's still are. */
static void own_interface_is_not_a_clash(void **state)
{
	(void)state;
	expect_free("127.5.0.1", 16, "lo");
	expect_free("10.99.1.1", 24, TH_IF);
	expect_free("10.200.7.1", 24, TH_IF);
	expect_busy("10.99.1.1", 24, TH_IF_CONF, "on " TH_IF);
	expect_busy("10.200.7.1", 24, TH_IF_CONF, "via " TH_IF);
}

/* Every route the namespace has (default aside) makes its own subnet busy, naming the route's
 * device; the namespace has at least the two routes built above. */
static void subnets_of_all_routes_are_busy(void **state)
{
	(void)state;
	FILE *f = fopen("/proc/net/route", "r");
	assert_non_null(f);
	char line[512], iface[32], err[256];
	unsigned dst, flags, mask, n = 0, ours = 0;
	while (fgets(line, sizeof(line), f)) {
		int got = sscanf(line, "%31s %x %*x %x %*d %*d %*d %x", iface, &dst, &flags, &mask);
		if (got != 4 || !(flags & 1) || mask == 0)
			continue;
		struct in_addr a = {.s_addr = dst};
		err[0] = '\0';
		assert_int_equal(hostnet_check_free(a, 32, NULL, err, sizeof(err)), -1);
		if (!strstr(err, iface))
			fail_msg("route via %s: unexpected error: %s", iface, err);
		n++;
		ours += strcmp(iface, TH_IF) == 0;
	}
	fclose(f);
	if (n < 2 || ours < 2)
		fail_msg("expected the two routes via %s in /proc/net/route, found %u (%u of ours)",
			 TH_IF, n, ours);
}

static void prefix_over_32_is_rejected(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(hostnet_check_free(th_addr("198.51.100.1"), 33, NULL, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "/33"));
}

/* ---- configuring the tap's host side ---- */

static void configure_sets_address_prefix_and_up(void **state)
{
	(void)state;
	expect_free("198.18.0.1", 24, NULL);
	assert_int_equal(hostnet_configure(TH_IF_CONF, th_addr("198.18.0.1"), 24), 0);

	struct ifaddrs *list, *ifa;
	int found = 0;
	assert_int_equal(getifaddrs(&list), 0);
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		if (strcmp(ifa->ifa_name, TH_IF_CONF) != 0 || !ifa->ifa_addr ||
		    ifa->ifa_addr->sa_family != AF_INET)
			continue;
		char a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, a, sizeof(a));
		inet_ntop(AF_INET, &((struct sockaddr_in *)ifa->ifa_netmask)->sin_addr, m, sizeof(m));
		if (strcmp(a, "198.18.0.1") || strcmp(m, "255.255.255.0") || !(ifa->ifa_flags & IFF_UP))
			fail_msg("%s: %s mask %s flags %#x", TH_IF_CONF, a, m, ifa->ifa_flags);
		found++;
	}
	freeifaddrs(list);
	assert_int_equal(found, 1);

	/* Now the subnet is taken, except for the interface itself. */
	expect_busy("198.18.0.0", 16, NULL, "198.18.0.0/16 overlaps 198.18.0.1/24 on " TH_IF_CONF);
	expect_free("198.18.0.1", 24, TH_IF_CONF);
	assert_int_equal(hostnet_configure("", th_addr("198.18.0.1"), 24), -EINVAL);
	assert_int_equal(hostnet_configure(TH_IF_CONF, th_addr("198.18.0.1"), 33), -EINVAL);
	assert_int_equal(hostnet_configure("nosuchif0", th_addr("198.18.0.1"), 24), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subnet_inside_loopback_clashes_with_lo),
		cmocka_unit_test(subnet_containing_loopback_clashes_too),
		cmocka_unit_test(subnets_overlapping_an_address_are_busy),
		cmocka_unit_test(subnets_overlapping_a_route_are_busy),
		cmocka_unit_test(neighbouring_and_unused_subnets_are_free),
		cmocka_unit_test(own_interface_is_not_a_clash),
		cmocka_unit_test(subnets_of_all_routes_are_busy),
		cmocka_unit_test(prefix_over_32_is_rejected),
		cmocka_unit_test(configure_sets_address_prefix_and_up),
	};
	return cmocka_run_group_tests(tests, th_netns_setup, th_netns_teardown);
}
