/* What the control-plane fuzz targets that publish media set up alike: a quiet log, this
 * thread as an RCU reader, and the default configuration with a small port range of its own
 * (from @port_min, 100 ports) so that targets never share ports. */
#ifndef MGW_FUZZ_MEDIA_H
#define MGW_FUZZ_MEDIA_H

#include <urcu-qsbr.h>

#include "controlplane/config.h"
#include "util/log.h"

static inline void fuzz_media_config(struct config *cfg, unsigned port_min)
{
	log_set_level(LOG_ERR);
	rcu_register_thread();
	config_defaults(cfg);
	cfg->media_port_min = port_min;
	cfg->media_port_max = port_min + 100;
}

#endif
