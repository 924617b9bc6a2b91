/* Unit tests for controlplane/config.c: defaults, overrides, and the operator-facing errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "controlplane/config.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tc_path[64];
static char tc_err[512];

/* Writes @text to a fresh temporary file whose name is left in tc_path. */
static void tc_write(const char *text)
{
	snprintf(tc_path, sizeof(tc_path), "/tmp/mgw-test-config-XXXXXX");
	int fd = mkstemp(tc_path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Loads @text over the defaults; returns config_load's result, error in tc_err. */
static int tc_load(struct config *cfg, const char *text)
{
	config_defaults(cfg);
	tc_write(text);
	tc_err[0] = '\0';
	int rc = config_load(cfg, tc_path, tc_err, sizeof(tc_err));
	unlink(tc_path);
	return rc;
}

/* Asserts that tc_err starts with "<tc_path>:<line>: " and contains @needle. */
static void tc_expect_err(int line, const char *needle)
{
	char prefix[96];
	snprintf(prefix, sizeof(prefix), "%s:%d: ", tc_path, line);
	if (strncmp(tc_err, prefix, strlen(prefix)) != 0 || !strstr(tc_err, needle))
		fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", tc_err, prefix, needle);
}

static const char *tc_ip(struct in_addr a)
{
	static char buf[INET_ADDRSTRLEN];
	return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

static void defaults_are_the_documented_embedded_setup(void **state)
{
	(void)state;
	struct config c;
	config_defaults(&c);
	assert_string_equal(c.eal_lcores, "0@0,1@1");
	assert_int_equal(c.eal_memory_mb, 512);
	assert_true(c.eal_no_huge);
	assert_true(c.eal_no_pci);
	assert_string_equal(c.eal_file_prefix, "mgw");
	assert_int_equal(c.eal_n_extra, 1);
	assert_string_equal(c.eal_extra[0], "--log-level=notice");
	assert_int_equal(c.dp_workers, 1);
	assert_int_equal(c.dp_mbufs, 8191);
	assert_int_equal(c.dp_rx_desc, 1024);
	assert_int_equal(c.dp_tx_desc, 1024);
	assert_string_equal(c.dp_vdev, "net_tap0,iface=mgw0");
	assert_string_equal(c.dp_tap_iface, "mgw0");
	assert_string_equal(tc_ip(c.dp_tap_addr), "198.18.0.1");
	assert_int_equal(c.dp_tap_prefix, 24);
	assert_string_equal(tc_ip(c.dp_media_ip), "198.18.0.2");
	assert_string_equal(tc_ip(c.dp_gateway), "0.0.0.0");
	assert_int_equal(c.media_port_min, 10000);
	assert_int_equal(c.media_port_max, 20000);
	assert_int_equal(c.media_n_codecs, 3);
	assert_string_equal(c.media_codecs[0], "PCMU");
	assert_string_equal(c.media_codecs[1], "PCMA");
	assert_string_equal(c.media_codecs[2], "telephone-event");
	assert_int_equal(c.media_ptime, 20);
	assert_string_equal(tc_ip(c.sip_listen), "127.0.0.1");
	assert_int_equal(c.sip_port, 5060);
	assert_int_equal(c.sip_t1_ms, 500);
	assert_string_equal(c.sip_user_agent, "mgw");
	assert_string_equal(c.control_socket, "/run/mgw/mgwd.sock");
	assert_int_equal(c.limits_max_calls, 10000);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(config_validate(&c, "defaults", tc_err, sizeof(tc_err)), 0);
}

static void full_file_overrides_every_value(void **state)
{
	(void)state;
	struct config c;
	static const char text[] =
		"eal = { lcores = \"(0-1)@0,2@1\"; memory_mb = 1024; no_huge = false;\n"
		"  no_pci = false; file_prefix = \"gw2\"; extra = [\"-a\", \"0000:01:00.0\"]; };\n"
		"dataplane = { workers = 4; mbufs = 16383; rx_desc = 2048; tx_desc = 512;\n"
		"  vdev = \"\"; tap_iface = \"gw9\"; tap_address = \"10.99.0.1/16\";\n"
		"  media_ip = \"10.99.3.4\"; gateway = \"10.99.0.254\"; };\n"
		"media = { port_min = 30000; port_max = 30100; codecs = [\"pcma\"];\n"
		"  ptime = 30; };\n"
		"sip = { listen = \"0.0.0.0\"; port = 5080; t1_ms = 250; user_agent = \"x\"; };\n"
		"control = { socket = \"/tmp/m.sock\"; };\n"
		"limits = { max_calls = 7; };\n"
		"log = { level = \"debug\"; };\n";
	int rc = tc_load(&c, text);
	if (rc != 0)
		fail_msg("%s", tc_err);
	assert_string_equal(c.eal_lcores, "(0-1)@0,2@1");
	assert_int_equal(c.eal_memory_mb, 1024);
	assert_false(c.eal_no_huge);
	assert_false(c.eal_no_pci);
	assert_string_equal(c.eal_file_prefix, "gw2");
	assert_int_equal(c.eal_n_extra, 2);
	assert_string_equal(c.eal_extra[1], "0000:01:00.0");
	assert_int_equal(c.dp_workers, 4);
	assert_int_equal(c.dp_mbufs, 16383);
	assert_int_equal(c.dp_rx_desc, 2048);
	assert_int_equal(c.dp_tx_desc, 512);
	assert_string_equal(c.dp_vdev, "");
	assert_string_equal(c.dp_tap_iface, "gw9");
	assert_string_equal(tc_ip(c.dp_tap_addr), "10.99.0.1");
	assert_int_equal(c.dp_tap_prefix, 16);
	assert_string_equal(tc_ip(c.dp_media_ip), "10.99.3.4");
	assert_string_equal(tc_ip(c.dp_gateway), "10.99.0.254");
	assert_int_equal(c.media_port_min, 30000);
	assert_int_equal(c.media_port_max, 30100);
	assert_int_equal(c.media_n_codecs, 1);
	assert_string_equal(c.media_codecs[0], "PCMA"); /* canonical spelling */
	assert_int_equal(c.media_ptime, 30);
	assert_string_equal(tc_ip(c.sip_listen), "0.0.0.0");
	assert_int_equal(c.sip_port, 5080);
	assert_int_equal(c.sip_t1_ms, 250);
	assert_string_equal(c.sip_user_agent, "x");
	assert_string_equal(c.control_socket, "/tmp/m.sock");
	assert_int_equal(c.limits_max_calls, 7);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_int_equal(config_validate(&c, tc_path, tc_err, sizeof(tc_err)), 0);
}

static void keys_absent_from_the_file_keep_their_defaults(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "sip = { port = 5070; };\n"), 0);
	assert_int_equal(c.sip_port, 5070);
	assert_int_equal(c.sip_t1_ms, 500);
	assert_int_equal(c.media_port_min, 10000);
	assert_int_equal(c.media_n_codecs, 3);
}

static void unknown_key_is_named_with_file_and_line(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "sip = {\n  port = 5060;\n  prot = 5061;\n};\n"), -1);
	tc_expect_err(3, "sip.prot: unknown key");
}

static void unknown_group_is_named(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "log = { level = \"info\"; };\nrouting = { a = 1; };\n"), -1);
	tc_expect_err(2, "routing: unknown group");
}

static void wrong_type_names_the_key(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "sip = { port = \"x\"; };\n"), -1);
	tc_expect_err(1, "sip.port: must be an integer, not a string");
	assert_int_equal(tc_load(&c, "\n\neal = { no_huge = 1; };\n"), -1);
	tc_expect_err(3, "eal.no_huge: must be a boolean");
	assert_int_equal(tc_load(&c, "media = { codecs = \"PCMU\"; };\n"), -1);
	tc_expect_err(1, "media.codecs: must be an array of strings");
	assert_int_equal(tc_load(&c, "media = 5;\n"), -1);
	tc_expect_err(1, "media: must be a group");
}

static void odd_port_min_is_rejected(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "media = {\n port_min = 10001;\n};\n"), -1);
	tc_expect_err(2, "media.port_min: must be an even number between 1024 and 65534");
	assert_int_equal(tc_load(&c, "media = { port_min = 1000; };\n"), -1);
	tc_expect_err(1, "media.port_min: must be an even number");
	assert_int_equal(tc_load(&c, "media = { port_max = 65535; };\n"), -1);
	tc_expect_err(1, "media.port_max:");
}

static void port_range_must_not_be_empty(void **state)
{
	(void)state;
	struct config c;
	/* only port_min is in the file: the error still points at its line */
	assert_int_equal(tc_load(&c, "\nmedia = { port_min = 20000; };\n"), -1);
	tc_expect_err(2, "media.port_max: must be greater than media.port_min (20000)");

	config_defaults(&c);
	c.media_port_max = c.media_port_min;
	assert_int_equal(config_validate(&c, "x.conf", tc_err, sizeof(tc_err)), -1);
	assert_string_equal(tc_err, "x.conf: media.port_max: must be greater than media.port_min "
				    "(10000)");
}

static void out_of_range_integers_are_rejected(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "dataplane = { workers = 17; };\n"), -1);
	tc_expect_err(1, "dataplane.workers: must be an integer between 1 and 16");
	assert_int_equal(tc_load(&c, "dataplane = { workers = 0; };\n"), -1);
	tc_expect_err(1, "dataplane.workers");
	assert_int_equal(tc_load(&c, "sip = { t1_ms = 5; };\n"), -1);
	tc_expect_err(1, "sip.t1_ms");
	assert_int_equal(tc_load(&c, "sip = { t1_ms = -1; };\n"), -1);
	tc_expect_err(1, "sip.t1_ms");
	assert_int_equal(tc_load(&c, "limits = { max_calls = 9999999999L; };\n"), -1);
	tc_expect_err(1, "limits.max_calls");

	config_defaults(&c);
	c.dp_workers = 0;
	assert_int_equal(config_validate(&c, "v.conf", tc_err, sizeof(tc_err)), -1);
	assert_non_null(strstr(tc_err, "v.conf: dataplane.workers:"));
}

static void codecs_must_be_known_and_include_audio(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "media = { codecs = [\"PCMU\", \"iLBC\"]; };\n"), -1);
	tc_expect_err(1, "media.codecs: unknown codec \"iLBC\"");
	assert_int_equal(tc_load(&c, "media = { codecs = [\"telephone-event\"]; };\n"), -1);
	tc_expect_err(1, "media.codecs: must list at least one audio codec");
	assert_int_equal(tc_load(&c, "media = { codecs = []; };\n"), -1);
	tc_expect_err(1, "media.codecs");
	assert_int_equal(tc_load(&c, "media = { codecs = [\"pcmu\", \"PCMU\"]; };\n"), -1);
	tc_expect_err(1, "listed twice");
	assert_int_equal(tc_load(&c, "media = { codecs = [\"Telephone-Event\", \"pcmu\"]; };\n"),
			 0);
	assert_string_equal(c.media_codecs[0], "telephone-event");
	assert_string_equal(c.media_codecs[1], "PCMU");
	/* the codecs mgw transcodes to, in their canonical spelling */
	assert_int_equal(tc_load(&c, "media = { codecs = [\"OPUS\", \"g722\", \"G729\"]; };\n"),
			 0);
	assert_string_equal(c.media_codecs[0], "opus");
	assert_string_equal(c.media_codecs[1], "G722");
}

static void tap_subnet_rules_are_enforced(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "dataplane = {\n tap_address = \"198.18.0.1/31\"; };\n"), -1);
	tc_expect_err(2, "dataplane.tap_address: prefix length must be between 8 and 30");
	assert_int_equal(tc_load(&c, "dataplane = { tap_address = \"198.18.0.1\"; };\n"), -1);
	tc_expect_err(1, "dataplane.tap_address: must be an IPv4 address with a prefix");
	assert_int_equal(tc_load(&c, "dataplane = { tap_address = \"198.18.0.1/x\"; };\n"), -1);
	tc_expect_err(1, "dataplane.tap_address");
	assert_int_equal(tc_load(&c, "dataplane = {\n\n media_ip = \"198.18.1.2\"; };\n"), -1);
	tc_expect_err(3, "dataplane.media_ip: 198.18.1.2 is outside the tap subnet 198.18.0.1/24");
	assert_int_equal(tc_load(&c, "dataplane = { media_ip = \"198.18.0.1\"; };\n"), -1);
	tc_expect_err(1, "dataplane.media_ip: 198.18.0.1 is the kernel side's address");
	assert_int_equal(tc_load(&c, "dataplane = { media_ip = \"198.18.0.300\"; };\n"), -1);
	tc_expect_err(1, "dataplane.media_ip: must be an IPv4 address");
	/* moving only the tap subnet leaves the default media IP outside: the tap line is named */
	assert_int_equal(tc_load(&c, "\ndataplane = { tap_address = \"10.0.0.1/24\"; };\n"), -1);
	tc_expect_err(2, "dataplane.media_ip: 198.18.0.2 is outside");
	/* the media address pool must stay in its subnet and off the tap's address */
	assert_int_equal(tc_load(&c, "dataplane = { media_ip = \"198.18.0.250\"; "
				     "media_ip_count = 6; };\n"), -1);
	tc_expect_err(1, "dataplane.media_ip: 198.18.0.250 and the 5 addresses after it");
	assert_int_equal(tc_load(&c, "dataplane = { tap_address = \"198.18.0.9/24\";\n"
				     "media_ip_count = 16; };\n"), -1);
	tc_expect_err(1, "include the kernel side's address");
	assert_int_equal(tc_load(&c, "dataplane = { media_ip_count = 32; };\n"), 0);
	assert_int_equal(c.dp_media_ip_count, 32);
	/* with no tap to configure, media_ip may be anything */
	assert_int_equal(tc_load(&c, "dataplane = { tap_iface = \"\"; media_ip = \"10.1.1.1\"; };"),
			 0);
}

static void strings_are_checked(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "eal = { lcores = \"\"; };\n"), -1);
	tc_expect_err(1, "eal.lcores: must not be empty");
	assert_int_equal(tc_load(&c, "eal = { lcores = \"0 1\"; };\n"), -1);
	tc_expect_err(1, "eal.lcores: unexpected character ' '");
	assert_int_equal(tc_load(&c, "log = { level = \"verbose\"; };\n"), -1);
	tc_expect_err(1, "log.level: must be one of error, warn, info, debug");
	assert_int_equal(tc_load(&c, "dataplane = { tap_iface = \"a-very-long-ifname\"; };\n"), -1);
	tc_expect_err(1, "dataplane.tap_iface");
	assert_int_equal(tc_load(&c, "sip = { user_agent = \"0123456789012345678901234567890123"
				     "456789012345678901234567890123456789\"; };\n"),
			 -1);
	tc_expect_err(1, "sip.user_agent: too long (at most 63 characters)");
	assert_int_equal(tc_load(&c, "eal = { extra = (\"a\", 1); };\n"), -1);
	tc_expect_err(1, "eal.extra: entry 2 must be a string");
}

static void syntax_error_names_the_line(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(tc_load(&c, "sip = {\n  port = 5060;\n  listen = ;\n};\n"), -1);
	tc_expect_err(3, "syntax error: ");
}

static void missing_file_is_reported(void **state)
{
	(void)state;
	struct config c;
	config_defaults(&c);
	assert_int_equal(config_load(&c, "/nonexistent/mgw.conf", tc_err, sizeof(tc_err)), -1);
	assert_string_equal(tc_err,
			    "/nonexistent/mgw.conf: cannot read: No such file or directory");
	assert_int_equal(c.sip_port, 5060); /* untouched */
}

/* The directory docs/examples of this source tree, found from this file's own path. */
static void tc_examples_dir(char *buf, size_t len)
{
	char self[512];
	snprintf(self, sizeof(self), "%s", __FILE__);
	snprintf(buf, len, "%s/../../docs/examples", dirname(self));
}

static void every_example_config_loads_and_validates(void **state)
{
	(void)state;
	char dir[600], path[900];
	tc_examples_dir(dir, sizeof(dir));
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open %s", dir);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct config c;
		config_defaults(&c);
		if (config_load(&c, path, tc_err, sizeof(tc_err)) != 0 ||
		    config_validate(&c, path, tc_err, sizeof(tc_err)) != 0)
			fail_msg("%s", tc_err);
		n++;
	}
	closedir(d);
	assert_true(n >= 1);
}

static void example_mgw_conf_matches_the_defaults(void **state)
{
	(void)state;
	char dir[600], path[900];
	tc_examples_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/mgw.conf", dir);
	struct config loaded, defaults;
	config_defaults(&defaults);
	/* start from all zeroes so that a key missing from the example shows */
	memset(&loaded, 0, sizeof(loaded));
	if (config_load(&loaded, path, tc_err, sizeof(tc_err)) != 0)
		fail_msg("%s", tc_err);
	assert_memory_equal(&loaded, &defaults, sizeof(loaded));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_the_documented_embedded_setup),
		cmocka_unit_test(full_file_overrides_every_value),
		cmocka_unit_test(keys_absent_from_the_file_keep_their_defaults),
		cmocka_unit_test(unknown_key_is_named_with_file_and_line),
		cmocka_unit_test(unknown_group_is_named),
		cmocka_unit_test(wrong_type_names_the_key),
		cmocka_unit_test(odd_port_min_is_rejected),
		cmocka_unit_test(port_range_must_not_be_empty),
		cmocka_unit_test(out_of_range_integers_are_rejected),
		cmocka_unit_test(codecs_must_be_known_and_include_audio),
		cmocka_unit_test(tap_subnet_rules_are_enforced),
		cmocka_unit_test(strings_are_checked),
		cmocka_unit_test(syntax_error_names_the_line),
		cmocka_unit_test(missing_file_is_reported),
		cmocka_unit_test(every_example_config_loads_and_validates),
		cmocka_unit_test(example_mgw_conf_matches_the_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
