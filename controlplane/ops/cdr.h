/* cdr: call records, one JSON object per line for every ended call, appended to the file
 * named by cdr.file (reopened on reload, so that log rotation works) or written to the log. */
#ifndef MGW_CDR_H
#define MGW_CDR_H

#include <stdint.h>

#include <jansson.h>

/** Open @path for appending ("" = records go to the log). Returns 0 or -errno. */
int cdr_open(const char *path);
void cdr_close(void);
/** A new record with "time" and "kind" set, or NULL when out of memory. */
json_t *cdr_begin(const char *kind);
/** Write @rec as one line and release it. */
void cdr_emit(json_t *rec);
/** ISO 8601 UTC time of a wall-clock millisecond timestamp, into @buf (>= 32 bytes). */
void cdr_time(uint64_t wall_ms, char *buf, unsigned len);
uint64_t cdr_wall_ms(void);

#endif
