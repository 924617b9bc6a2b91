/* Fuzz target: a configuration file (libconfig syntax, read by controlplane/config.c and the
 * routes module) as an operator might mistype it. The input is a file in memory (memfd);
 * whatever it holds, config_load and config_validate return 0 or a one-line error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "controlplane/apps/routes.h"
#include "controlplane/config.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERR + 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char path[64], err[512];
	int fd = memfd_create("mgw-fuzz.conf", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_defaults(&cfg);
	err[0] = '\0';
	if (config_load(&cfg, path, err, sizeof(err)) == 0) {
		if (config_validate(&cfg, path, err, sizeof(err)) == 0) {
			struct routes *r = routes_load(path, err, sizeof(err));
			routes_free(r);
		}
	} else if (err[0] == '\0') {
		abort(); /* a refused file must say why */
	}
	close(fd);
	return 0;
}
