/* status: the control API commands that report on the whole daemon (status, sessions.list). */
#ifndef MGW_STATUS_H
#define MGW_STATUS_H

#include "controlplane/ops/api.h"
#include "controlplane/config.h"

/** Register "status" and "sessions.list" on @api. */
void status_register(struct api *api, const struct config *cfg, const char *version);

#endif
