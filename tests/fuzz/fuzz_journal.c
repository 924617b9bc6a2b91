/* Fuzz target: what a restarted mgwd reads back from its call journal (a file, or a Redis
 * hash another node wrote): a JSON object of key -> call, through router_restore and the
 * applications' restore paths (dialogs, media ports, SDP, codec plans, streams published).
 * Whatever it holds, a call is restored whole or not at all, and nothing leaks: after each
 * input every restored call is forgotten again (as on SIGQUIT) and the port pool must be
 * full. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <urcu-qsbr.h>

#include "controlplane/apps/call.h"
#include "controlplane/apps/router.h"
#include "controlplane/apps/routes.h"
#include "controlplane/config.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/sip/sip.h"
#include "tests/unit/sip_stack.h"
#include "util/log.h"

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256];
	log_set_level(getenv("MGW_FUZZ_LOG") ? LOG_INFO : LOG_ERR); /* MGW_FUZZ_LOG=1: see why */
	rcu_register_thread();
	config_defaults(&cfg);
	cfg.media_port_min = 34000;
	cfg.media_port_max = 34100;
	struct dlg_config dc = {.t1_ms = 500, .ack_timeout_ms = 32000, .max_dialogs = 256};
	if (media_init(&cfg, err, sizeof(err)) != 0 || dlg_init(&dc) != 0 ||
	    router_init(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_journal: set-up: %s\n", err);
		abort();
	}
	if (stack_sip_init(&cfg, err, sizeof(err)) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e;
	json_t *calls = json_loadb((const char *)data, size, 0, &e);
	if (!json_is_object(calls)) {
		json_decref(calls);
		return 0;
	}
	unsigned ports_before = media_ports_free() + media_ports_cooling();
	unsigned n = router_restore(calls);
	if (n != call_count())
		abort();
	call_drop_all();
	sip_run();
	for (int i = 0; i < 3; i++) { /* the released ports come back after their grace period */
		media_poll();
		rcu_quiescent_state();
	}
	if (dlg_count() != 0 || media_ports_free() + media_ports_cooling() != ports_before) {
		fprintf(stderr, "fuzz_journal: %u dialogs, %u+%u ports free of %u after the drop\n",
			dlg_count(), media_ports_free(), media_ports_cooling(), ports_before);
		abort();
	}
	return 0;
}
