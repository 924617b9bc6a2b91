/* log: one-line, leveled logging to stderr for both planes.
 *
 * Workers must not call these on the hot path (they may block on stderr); they report through
 * the event ring instead and the control plane logs. Format: "mgwd[LEVEL] module: message". */
#ifndef MGW_LOG_H
#define MGW_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/** Set the threshold; messages above it are discarded. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/** Parse "error", "warn", "info", "debug"; returns -1 on an unknown name. */
int log_level_parse(const char *name);

/** Buffer the calling thread's lines until log_flush() (the control loop: one write per turn);
 *  off flushes and writes each line again as it comes. */
void log_buffered(bool on);
void log_flush(void);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_E(mod, ...) log_msg(LOG_ERR, mod, __VA_ARGS__)
#define LOG_W(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define LOG_I(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define LOG_D(mod, ...)                                                                      \
	do {                                                                                 \
		if (log_get_level() >= LOG_DEBUG)                                            \
			log_msg(LOG_DEBUG, mod, __VA_ARGS__);                                \
	} while (0)

#endif
