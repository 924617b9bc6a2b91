/* The control-plane stack as the unit tests and fuzz targets bring it up and down around the
 * SIP layer: the SIP socket on a free loopback port (tried at random, mgwd's own 5060 may be
 * taken), and the teardown in the order mgwd's main uses. Header-only. */
#ifndef MGW_TEST_SIP_STACK_H
#define MGW_TEST_SIP_STACK_H

#include <stdlib.h>

#include "controlplane/apps/router.h"
#include "controlplane/apps/routes.h"
#include "controlplane/config.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/sip/sip.h"

/* sip_init on a random free port of 20000-59999 (written into @cfg). Returns 0 or -1. */
static inline int stack_sip_init(struct config *cfg, char *err, size_t len)
{
	for (int tries = 0; tries < 50; tries++) {
		cfg->sip_port = 20000 + (unsigned)(random() % 40000);
		if (sip_init(cfg, err, len) == 0)
			return 0;
		sip_shutdown();
	}
	return -1;
}

/* End every call, then the dialog core, routes, SIP and media, as mgwd does at exit. */
static inline void stack_down(void)
{
	router_shutdown();
	sip_run();
	dlg_shutdown();
	routes_free(router_set_routes(NULL));
	media_poll();
	sip_shutdown();
	media_shutdown();
}

#endif
