/* pmd_guard: no worker inside a PMD while that PMD takes its memory away.
 *
 * net_memif unmaps a connection's shared regions in DPDK's interrupt thread when its peer goes
 * away (memif_disconnect(), e.g. when mgw-bench is killed), with nothing to keep the data
 * path's rx and tx out of them: a worker in the middle of a burst then reads unmapped memory
 * and the process dies (seen about one kill in six at full rate). The PMD offers no event
 * before it does so, so mgwd interposes munmap(): when DPDK's interrupt thread unmaps while
 * the workers run, they are first held at the top of their loop (dp_workers_pause()), which is
 * outside every rx and tx function, and released once the memory is gone; the PMD has marked
 * the connection down before, so their next poll of it returns nothing. Any other munmap goes
 * straight through. (Upstream should order memif's disconnect with its data path.) */
#include <dlfcn.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_interrupts.h>

#include "dataplane/dp.h"

static int (*next_munmap)(void *, size_t);
static bool resolving;

static int munmap_next(void *addr, size_t len)
{
	if (!next_munmap && !resolving) {
		resolving = true; /* dlsym may itself unmap: the raw call meanwhile */
		next_munmap = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
		resolving = false;
	}
	if (next_munmap)
		return next_munmap(addr, len);
	return (int)syscall(SYS_munmap, addr, len);
}

int munmap(void *addr, size_t len)
{
	if (!rte_thread_is_intr())
		return munmap_next(addr, len);
	dp_workers_pause();
	int rc = munmap_next(addr, len);
	dp_workers_resume();
	return rc;
}
