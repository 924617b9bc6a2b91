#include "controlplane/ops/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "util/log.h"
#include "util/time.h"

#define JOURNAL_MIN_RECORDS 4096 /* no compaction below this many records in the file */

static char *path;
static int fd = -1, lock_fd = -1;
static json_t *live;     /* key -> call: what the file says, compacted */
static json_t *restored; /* what open read, until taken */
static char *buf;        /* the turn's records */
static size_t buf_len, buf_cap;
static unsigned long long records; /* in the file */
static struct journal_stats stats;
/* Redis instead of the file */
static redisContext *rc;
static char *rkey, *rowner, owner_id[64];
static unsigned pending;             /* commands appended, replies not read yet */
static uint64_t owner_refreshed_ms;
#define OWNER_TTL_MS 3000
#define OWNER_REFRESH_MS 1000

const struct journal_stats *journal_get_stats(void)
{
	stats.live = live ? (unsigned)json_object_size(live) : 0;
	return &stats;
}

bool journal_active(void) { return fd >= 0 || rc != NULL; }

static int buf_add(const char *s, size_t n)
{
	if (buf_len + n + 1 > buf_cap) {
		size_t cap = buf_cap ? buf_cap : 65536;
		while (cap < buf_len + n + 1)
			cap *= 2;
		char *nb = realloc(buf, cap);
		if (!nb)
			return -1;
		buf = nb;
		buf_cap = cap;
	}
	memcpy(buf + buf_len, s, n);
	buf_len += n;
	buf[buf_len++] = '\n';
	return 0;
}

static int write_all(int f, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(f, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write the live set to PATH.new and rename it over the journal. */
static int compact(void)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	int nf = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (nf < 0)
		return -1;
	const char *key;
	json_t *call;
	int rc = 0;
	unsigned long long n = 0;
	json_object_foreach(live, key, call) {
		json_t *rec = json_pack("{s:s, s:O}", "put", key, "call", call);
		char *line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
		if (!line || write_all(nf, line, strlen(line)) != 0 || write_all(nf, "\n", 1) != 0)
			rc = -1;
		free(line);
		json_decref(rec);
		n++;
		if (rc)
			break;
	}
	if (rc == 0 && (fsync(nf) != 0 || rename(tmp, path) != 0))
		rc = -1;
	close(nf);
	if (rc != 0) {
		unlink(tmp);
		return -1;
	}
	int of = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (of < 0)
		return -1;
	if (fd >= 0)
		close(fd);
	fd = of;
	records = n;
	stats.compactions++;
	return 0;
}

/* One record of the file into @live; -1 when the line is not a record. */
static int replay(const char *line, size_t len)
{
	json_error_t e;
	json_t *rec = json_loadb(line, len, 0, &e);
	const char *key = NULL;
	json_t *call = NULL;
	int rc = -1;
	if (rec && json_unpack(rec, "{s:s, s:o}", "put", &key, "call", &call) == 0 &&
	    json_is_object(call)) {
		json_object_set(live, key, call);
		rc = 0;
	} else if (rec && json_unpack(rec, "{s:s}", "del", &key) == 0) {
		json_object_del(live, key);
		rc = 0;
	}
	json_decref(rec);
	return rc;
}

/* mkdir -p of @file's directory */
static void parent_dirs(const char *file)
{
	char d[4096];
	snprintf(d, sizeof(d), "%s", file);
	for (char *s = d + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(d, 0755);
		*s = '/';
	}
}

int journal_open(const char *p, char *err, size_t err_len)
{
	char lock[4096];
	parent_dirs(p);
	path = strdup(p);
	live = json_object();
	if (!path || !live) {
		snprintf(err, err_len, "journal %s: out of memory", p);
		goto fail;
	}
	snprintf(lock, sizeof(lock), "%s.lock", p);
	lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0) {
		snprintf(err, err_len, "journal %s: %s", lock, strerror(errno));
		goto fail;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, err_len, "journal %s is in use by another mgwd (%s)", p,
			 strerror(errno));
		goto fail;
	}
	FILE *f = fopen(p, "re");
	if (f) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		while ((n = getline(&line, &cap, f)) > 0) {
			if (n == 1 && line[0] == '\n')
				continue;
			if (replay(line, (size_t)n) != 0)
				stats.bad_lines++;
		}
		free(line);
		fclose(f);
	} else if (errno != ENOENT) {
		snprintf(err, err_len, "journal %s: %s", p, strerror(errno));
		goto fail;
	}
	if (compact() != 0) {
		snprintf(err, err_len, "journal %s: cannot write it: %s", p, strerror(errno));
		goto fail;
	}
	restored = json_deep_copy(live);
	if (stats.bad_lines)
		LOG_W("journal", "%s: %llu line(s) that are not records skipped", p, stats.bad_lines);
	return 0;
fail:
	journal_close();
	return -1;
}

int journal_open_redis(const char *addr, const char *key, char *err, size_t err_len)
{
	char host[256];
	int port = 6379;
	const char *colon = strrchr(addr, ':');
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - addr) : (int)strlen(addr), addr);
	if (colon)
		port = atoi(colon + 1);
	live = json_object();
	rkey = strdup(key);
	size_t ol = strlen(key) + 8;
	rowner = malloc(ol);
	if (!live || !rkey || !rowner) {
		snprintf(err, err_len, "journal: out of memory");
		goto fail;
	}
	snprintf(rowner, ol, "%s:owner", key);
	char hn[128] = "";
	gethostname(hn, sizeof(hn) - 1);
	snprintf(owner_id, sizeof(owner_id), "%.40s/%d", hn, (int)getpid());
	struct timeval tv = {.tv_sec = 2};
	rc = redisConnectWithTimeout(host, port, tv);
	if (!rc || rc->err) {
		snprintf(err, err_len, "journal: redis %s: %s", addr, rc ? rc->errstr : "no memory");
		goto fail;
	}
	redisSetTimeout(rc, tv);
	redisReply *r = redisCommand(rc, "SET %s %s NX PX %d", rowner, owner_id, OWNER_TTL_MS);
	bool owned = r && r->type == REDIS_REPLY_STATUS;
	if (r)
		freeReplyObject(r);
	if (!owned) {
		r = redisCommand(rc, "GET %s", rowner);
		snprintf(err, err_len, "journal: redis %s: the calls in %s belong to a live mgwd (%s)",
			 addr, key, r && r->type == REDIS_REPLY_STRING ? r->str : "?");
		if (r)
			freeReplyObject(r);
		goto fail;
	}
	owner_refreshed_ms = time_now_ms();
	r = redisCommand(rc, "HGETALL %s", key);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		snprintf(err, err_len, "journal: redis %s: HGETALL %s: %s", addr, key,
			 r && r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
		if (r)
			freeReplyObject(r);
		goto fail;
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		json_error_t e;
		json_t *call = json_loadb(r->element[i + 1]->str, r->element[i + 1]->len, 0, &e);
		if (json_is_object(call))
			json_object_set_new(live, r->element[i]->str, call);
		else {
			json_decref(call);
			stats.bad_lines++;
		}
	}
	freeReplyObject(r);
	restored = json_deep_copy(live);
	return 0;
fail:
	journal_close();
	return -1;
}

json_t *journal_take_restored(void)
{
	json_t *r = restored;
	restored = NULL;
	return r;
}

static void record(json_t *rec)
{
	char *line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	if (!line || buf_add(line, strlen(line)) != 0)
		stats.write_errors++;
	free(line);
	json_decref(rec);
}

void journal_put(const char *key, json_t *call)
{
	if (!journal_active() || !call) {
		json_decref(call);
		return;
	}
	stats.puts++;
	if (rc) {
		char *v = json_dumps(call, JSON_COMPACT);
		if (v && redisAppendCommand(rc, "HSET %s %s %s", rkey, key, v) == REDIS_OK)
			pending++;
		else
			stats.write_errors++;
		free(v);
	} else {
		record(json_pack("{s:s, s:O}", "put", key, "call", call));
	}
	json_object_set_new(live, key, call);
}

void journal_del(const char *key)
{
	if (!journal_active() || !json_object_get(live, key))
		return;
	stats.dels++;
	if (rc) {
		if (redisAppendCommand(rc, "HDEL %s %s", rkey, key) == REDIS_OK)
			pending++;
		else
			stats.write_errors++;
	} else {
		record(json_pack("{s:s}", "del", key));
	}
	json_object_del(live, key);
}

/* Keep ownership of the hash alive (only while it is still ours). */
static const char owner_refresh_lua[] =
	"if redis.call('get', KEYS[1]) == ARGV[1] then "
	"return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

static void redis_flush(void)
{
	uint64_t now = time_now_ms();
	bool refresh = now - owner_refreshed_ms >= OWNER_REFRESH_MS;
	if (refresh && redisAppendCommand(rc, "EVAL %s 1 %s %s %d", owner_refresh_lua, rowner,
					  owner_id, OWNER_TTL_MS) == REDIS_OK)
		pending++;
	else
		refresh = false;
	if (pending == 0)
		return;
	stats.writes++;
	for (unsigned i = 0; i < pending; i++) {
		redisReply *r = NULL;
		if (redisGetReply(rc, (void **)&r) != REDIS_OK) {
			stats.write_errors += pending - i;
			LOG_W("journal", "redis: %s", rc->errstr);
			break;
		}
		bool last = refresh && i + 1 == pending;
		if (r->type == REDIS_REPLY_ERROR) {
			stats.write_errors++;
			LOG_W("journal", "redis: %s", r->str);
		} else if (last && r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
			LOG_E("journal", "redis: %s is no longer ours: another mgwd took the calls",
			      rowner);
		}
		freeReplyObject(r);
	}
	pending = 0;
	if (refresh)
		owner_refreshed_ms = now;
	if (rc->err) { /* the connection is gone: once a turn, try a new one */
		LOG_W("journal", "redis: reconnecting after: %s", rc->errstr);
		redisReconnect(rc);
	}
}

void journal_flush(void)
{
	if (rc) {
		redis_flush();
		return;
	}
	if (fd < 0 || buf_len == 0)
		return;
	if (write_all(fd, buf, buf_len) != 0) {
		stats.write_errors++;
		LOG_W("journal", "%s: write failed: %s", path, strerror(errno));
	} else {
		stats.writes++;
	}
	for (size_t i = 0; i < buf_len; i++)
		records += buf[i] == '\n';
	buf_len = 0;
	size_t n_live = json_object_size(live);
	if (records > JOURNAL_MIN_RECORDS && records > 4 * (unsigned long long)n_live &&
	    compact() != 0)
		LOG_W("journal", "%s: compaction failed: %s", path, strerror(errno));
}

void journal_close(void)
{
	journal_flush();
	if (rc) {
		/* ownership ends with us; the calls stay (a SIGQUIT leaves them for the next) */
		redisReply *r = redisCommand(rc, "EVAL %s 1 %s %s", 
					     "if redis.call('get', KEYS[1]) == ARGV[1] then "
					     "return redis.call('del', KEYS[1]) else return 0 end",
					     rowner, owner_id);
		if (r)
			freeReplyObject(r);
		redisFree(rc);
		rc = NULL;
	}
	free(rkey);
	free(rowner);
	rkey = rowner = NULL;
	pending = 0;
	if (fd >= 0)
		close(fd);
	if (lock_fd >= 0)
		close(lock_fd);
	fd = lock_fd = -1;
	json_decref(live);
	json_decref(restored);
	live = restored = NULL;
	free(path);
	path = NULL;
	free(buf);
	buf = NULL;
	buf_len = buf_cap = 0;
	records = 0;
}
