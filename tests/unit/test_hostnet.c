/* Unit tests for controlplane/hostnet.c: the clash check, read-only against the host's real
 * addresses and routes. hostnet_configure changes the host and is left to integration tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "controlplane/ops/hostnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static struct in_addr th_addr(const char *s)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void subnet_inside_loopback_clashes_with_lo(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(hostnet_check_free(th_addr("127.5.0.1"), 16, NULL, err, sizeof(err)), -1);
	if (!strstr(err, "127.5.0.0/16 overlaps 127.0.0.1/8 on lo"))
		fail_msg("unexpected error: %s", err);
}

static void subnet_containing_loopback_clashes_too(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(hostnet_check_free(th_addr("127.0.0.0"), 7, "", err, sizeof(err)), -1);
	if (!strstr(err, "126.0.0.0/7 overlaps 127.0.0.1/8 on lo"))
		fail_msg("unexpected error: %s", err);
}

static void unused_test_net_is_free(void **state)
{
	(void)state;
	char err[256] = "";
	if (hostnet_check_free(th_addr("198.51.100.1"), 24, NULL, err, sizeof(err)) != 0)
		fail_msg("198.51.100.0/24 reported busy: %s", err);
}

static void own_interface_is_not_a_clash(void **state)
{
	(void)state;
	char err[256] = "";
	if (hostnet_check_free(th_addr("127.5.0.1"), 16, "lo", err, sizeof(err)) != 0)
		fail_msg("127.5.0.0/16 with lo excluded reported busy: %s", err);
}

/* Every route the host has (default aside) makes its own subnet busy, on the route's device. */
static void subnets_of_host_routes_are_busy(void **state)
{
	(void)state;
	FILE *f = fopen("/proc/net/route", "r");
	if (!f)
		skip();
	char line[512], iface[32], err[256];
	unsigned dst, flags, mask, n = 0;
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
	}
	fclose(f);
	if (n == 0)
		skip();
}

static void prefix_over_32_is_rejected(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(hostnet_check_free(th_addr("198.51.100.1"), 33, NULL, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "/33"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subnet_inside_loopback_clashes_with_lo),
		cmocka_unit_test(subnet_containing_loopback_clashes_too),
		cmocka_unit_test(unused_test_net_is_free),
		cmocka_unit_test(own_interface_is_not_a_clash),
		cmocka_unit_test(subnets_of_host_routes_are_busy),
		cmocka_unit_test(prefix_over_32_is_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
