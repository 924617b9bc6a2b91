/* Fuzz target: a UDP datagram to mgwd's SIP port, through the whole control-plane stack as
 * mgwd runs it: the SIP layer (libosip2's parser and transactions), the dialog core, the
 * router, the echo application and the B2BUA (whose B legs go to a local socket that drains
 * them), SDP negotiation and media port allocation. Time runs on a clock the harness moves:
 * each input is followed by a second of timers, and every 64 inputs by enough time for every
 * transaction and dialog to end, so state does not pile up across inputs. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "controlplane/apps/router.h"
#include "controlplane/apps/routes.h"
#include "controlplane/config.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/sip/sip.h"
#include "tests/unit/sip_stack.h"
#include "util/log.h"
#include "util/timer.h"

#define T1 100

static struct config cfg;
static int callee_fd = -1;
static uint64_t fake_now = 1000000;
static unsigned inputs;

static uint64_t fake_clock(void) { return fake_now; }

static void drain(void)
{
	char buf[65536];
	while (recv(callee_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void pump(void)
{
	sip_on_readable();
	timer_run();
	sip_run();
	media_poll();
	rcu_quiescent_state();
}

/* @ms of time in a few steps (the wheel fires whatever fell due, however large the step) */
static void advance(uint64_t ms)
{
	uint64_t step = ms / 4 > T1 ? ms / 4 : T1;
	for (uint64_t t = 0; t < ms; t += step) {
		fake_now += step;
		pump();
	}
	drain();
}

static int bind_local(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &sl) != 0)
		abort();
	*port = ntohs(a.sin_port);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256], conf[64];
	uint16_t callee_port;

	log_set_level(LOG_ERR);
	rcu_register_thread();
	timer_set_clock(fake_clock);
	callee_fd = bind_local(&callee_port);
	config_defaults(&cfg);
	cfg.media_port_min = 32000;
	cfg.media_port_max = 32200;
	cfg.sip_t1_ms = T1;
	cfg.sip_timer_j_ms = 64 * T1;
	snprintf(conf, sizeof(conf), "/tmp/mgw-fuzz-sip-%d.conf", (int)getpid());
	FILE *f = fopen(conf, "w");
	if (f == NULL)
		abort();
	fprintf(f,
		"routes = ( { name = \"out\"; prefix = \"1\"; destinations = ( \"127.0.0.1:%u\" ); },\n"
		"  { name = \"echo\"; prefix = \"\"; app = \"echo\"; } );\n",
		callee_port);
	fclose(f);
	struct dlg_config dc = {.t1_ms = T1, .ack_timeout_ms = 64 * T1, .max_dialogs = 256};
	struct routes *r = routes_load(conf, err, sizeof(err));
	unlink(conf);
	if (r == NULL || media_init(&cfg, err, sizeof(err)) != 0 || dlg_init(&dc) != 0 ||
	    router_init(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_sip: set-up: %s\n", err);
		abort();
	}
	routes_free(router_set_routes(r));
	if (stack_sip_init(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_sip: no SIP port\n");
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the sender: a port on loopback nobody listens on (replies to it are lost) */
	struct sockaddr_in src = {.sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	sip_input((const char *)data, size, &src);
	advance(1000);
	if (++inputs % 64 == 0)
		advance(2 * 64 * T1 + 1000);
	return 0;
}
