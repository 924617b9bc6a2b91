#include "util/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF 65536

static enum log_level log_threshold = LOG_INFO;
/* Lines of the buffering thread wait here until log_flush() (one write per loop turn
 * instead of one per line); other threads write straight through. */
static char log_buf[LOG_BUF];
static size_t log_len;
static bool log_buffering;
static pthread_t log_owner;
static const char *const log_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level) { log_threshold = level; }

enum log_level log_get_level(void) { return log_threshold; }

int log_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, log_names[i]) == 0)
			return i;
	return -1;
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	if (level > log_threshold)
		return;
	char line[1024];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld mgwd[%s] %s: ", tm.tm_hour,
			 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_names[level], module);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = strnlen(line, sizeof(line) - 1);
	line[len++] = '\n';
	if (!log_buffering || !pthread_equal(pthread_self(), log_owner)) {
		fwrite(line, 1, len, stderr);
		return;
	}
	if (log_len + len > sizeof(log_buf))
		log_flush();
	memcpy(log_buf + log_len, line, len);
	log_len += len;
}

void log_flush(void)
{
	size_t off = 0;
	while (off < log_len) {
		ssize_t n = write(STDERR_FILENO, log_buf + off, log_len - off);
		if (n <= 0)
			break; /* nowhere to write: lose the lines rather than stall */
		off += (size_t)n;
	}
	log_len = 0;
}

void log_buffered(bool on)
{
	if (!on)
		log_flush();
	fflush(stderr);
	log_owner = pthread_self();
	log_buffering = on;
}
