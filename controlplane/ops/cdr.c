#include "controlplane/ops/cdr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

static FILE *cdr_file;

int cdr_open(const char *path)
{
	cdr_close();
	if (!path || !path[0])
		return 0;
	cdr_file = fopen(path, "a");
	if (!cdr_file)
		return -errno;
	setvbuf(cdr_file, NULL, _IOLBF, 0);
	return 0;
}

void cdr_close(void)
{
	if (cdr_file)
		fclose(cdr_file);
	cdr_file = NULL;
}

uint64_t cdr_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cdr_time(uint64_t wall_ms, char *buf, unsigned len)
{
	time_t s = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	/* strftime bounds every field, so no truncation warning at -O3 (the year has 4 digits
	 * until 9999; a buffer too small gives "") */
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0 || n + 6 > len) {
		if (len)
			buf[0] = '\0';
		return;
	}
	snprintf(buf + n, len - n, ".%03uZ", (unsigned)(wall_ms % 1000));
}

json_t *cdr_begin(const char *kind)
{
	char now[32];
	cdr_time(cdr_wall_ms(), now, sizeof(now));
	json_t *rec = json_object();
	if (rec) {
		json_object_set_new(rec, "time", json_string(now));
		json_object_set_new(rec, "kind", json_string(kind));
	}
	return rec;
}

void cdr_emit(json_t *rec)
{
	if (!rec)
		return;
	char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(rec);
	if (!line)
		return;
	if (cdr_file)
		fprintf(cdr_file, "%s\n", line);
	else
		LOG_I("cdr", "%s", line);
	free(line);
}
