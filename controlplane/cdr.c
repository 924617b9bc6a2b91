#include "controlplane/cdr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shared/log.h"

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
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(wall_ms % 1000));
}

void cdr_begin(struct jw *w, const char *kind)
{
	char now[32];
	cdr_time(cdr_wall_ms(), now, sizeof(now));
	jw_reset(w);
	jw_obj_begin(w);
	jw_kv_str(w, "time", now);
	jw_kv_str(w, "kind", kind);
}

void cdr_emit(struct jw *w)
{
	jw_obj_end(w);
	if (w->err)
		return;
	if (cdr_file)
		fprintf(cdr_file, "%.*s\n", (int)w->len, w->buf);
	else
		LOG_I("cdr", "%.*s", (int)w->len, w->buf);
}
