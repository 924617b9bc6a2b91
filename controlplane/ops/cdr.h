/* cdr: call records, one JSON object per line for every ended call, appended to the file
 * named by cdr.file (reopened on reload, so that log rotation works) or written to the log. */
#ifndef MGW_CDR_H
#define MGW_CDR_H

#include <stdint.h>

#include "util/json.h"

/** Open @path for appending ("" = records go to the log). Returns 0 or -errno. */
int cdr_open(const char *path);
void cdr_close(void);
/** Begin a record in @w (an object is open afterwards, with "time" set); end with cdr_emit. */
void cdr_begin(struct jw *w, const char *kind);
/** Close the object begun by cdr_begin and write the line. */
void cdr_emit(struct jw *w);
/** ISO 8601 UTC time of a wall-clock millisecond timestamp, into @buf (>= 32 bytes). */
void cdr_time(uint64_t wall_ms, char *buf, unsigned len);
uint64_t cdr_wall_ms(void);

#endif
