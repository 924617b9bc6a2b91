/* journal: the established calls, kept on disk so that a restarted mgwd takes them back.
 *
 * A file of JSON lines, each {"put": KEY, "call": {...}} or {"del": KEY}, appended by the
 * control thread as calls are established, change (re-INVITE, hold, a peer latched
 * elsewhere) and end. Records collect during a control-loop turn and go to the kernel in one
 * write at its end (journal_flush), so a kill -9 loses at most the last turn's changes; the
 * packet path never waits for it. At open the file is read back, the live calls kept, and the
 * file rewritten with only them; it is rewritten the same way when it grows to several times
 * its live content. An exclusive lock (KEY.lock beside it) keeps two mgwds off one journal.
 *
 * With Redis (journal_open_redis) the same records are fields of one hash (HSET/HDEL,
 * pipelined once per turn), read back with HGETALL at start. A second mgwd on the same media
 * addresses and the same Redis can then take a dead node's calls: ownership is a key
 * (HASH:owner) that the live mgwd refreshes every second with a 3 s expiry; a new mgwd
 * refuses to start while another holds it, and takes it once it has expired.
 *
 * Single-threaded: the control thread. Without journal_open() every call is a no-op. */
#ifndef MGW_JOURNAL_H
#define MGW_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/** Open (create) the journal at @path, read the calls it holds, compact it. Returns 0, or -1
 *  with a message naming the file in @err (unreadable, locked by another mgwd). Lines that
 *  are not records (a torn last line) are skipped and counted. */
int journal_open(const char *path, char *err, size_t err_len);
/** The same on Redis at @addr ("host:port"), the calls in hash @key. -1 with a message when
 *  Redis cannot be reached or another live mgwd owns @key. */
int journal_open_redis(const char *addr, const char *key, char *err, size_t err_len);
/** The calls read at open, key -> call object (a new reference; later calls get NULL). */
json_t *journal_take_restored(void);
/** Record that call @key is now @call (steals the reference). */
void journal_put(const char *key, json_t *call);
/** Record that call @key has ended. */
void journal_del(const char *key);
/** Hand what the turn recorded to the kernel (one write). */
void journal_flush(void);
void journal_close(void);
bool journal_active(void);

struct journal_stats {
	unsigned long long puts, dels, writes, write_errors, compactions, bad_lines;
	unsigned live;
};
const struct journal_stats *journal_get_stats(void);

#endif
