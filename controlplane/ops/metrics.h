/* metrics: Prometheus text exposition at GET /metrics over HTTP (libmicrohttpd), served on
 * the control thread: the daemon runs without threads of its own, its epoll fd sits in the
 * control loop's epoll set, and each scrape reads the same single-writer counters `status`
 * reads, on the thread that writes most of them (the workers' are per-worker counters read
 * word by word). Never on a worker. */
#ifndef MGW_METRICS_H
#define MGW_METRICS_H

#include <stddef.h>

#include "controlplane/config.h"

/** Listen on metrics.listen:metrics.port (port 0: off). Returns 0, or -1 with @err. */
int metrics_init(const struct config *cfg, char *err, size_t err_len);
/** The fd to watch for EPOLLIN, -1 when off. */
int metrics_fd(void);
/** Serve what is waiting (accept, read, answer); never blocks. */
void metrics_run(void);
void metrics_shutdown(void);
/** The exposition text now (a new string, free() it); NULL when out of memory. */
char *metrics_text(void);

#endif
