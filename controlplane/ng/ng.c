#include "controlplane/ng/ng.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "controlplane/ng/ngcall.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/time.h"

#define NG_MAX_DATAGRAM 65535
#define NG_COOKIE_MAX 64
#define NG_CACHE 1024         /* replies kept for retransmitted requests */
#define NG_CACHE_MS 30000     /* and for how long */

static int sock = -1;
static uint32_t allow[CONFIG_MAX_NG_ALLOW];
static unsigned n_allow;
static struct ng_stats stats;

/* The last replies by cookie and source: a request sent again gets the same answer. */
struct ng_cached {
	char cookie[NG_COOKIE_MAX];
	uint8_t cookie_len;
	struct sockaddr_in src;
	uint64_t at_ms;
	char *reply;
	size_t reply_len;
};
static struct ng_cached cache[NG_CACHE];

const struct ng_stats *ng_get_stats(void) { return &stats; }

const char *const ng_cmd_names[NG_C_MAX] = {"ping", "offer", "answer", "delete", "query",
					    "list", "statistics", "other"};

static unsigned command_index(const struct be_node *cmd)
{
	unsigned i = 0;
	while (i < NG_C_OTHER && !be_str_is(cmd, ng_cmd_names[i]))
		i++;
	return i;
}
int ng_fd(void) { return sock; }

static struct ng_cached *cache_slot(const char *cookie, size_t len, const struct sockaddr_in *src)
{
	uint32_t h = hash_bytes(cookie, len, HASH_FNV_INIT);
	h = hash_bytes(&src->sin_addr, sizeof(src->sin_addr), h);
	h = hash_bytes(&src->sin_port, sizeof(src->sin_port), h);
	return &cache[h % NG_CACHE];
}

static bool cache_hit(const struct ng_cached *c, const char *cookie, size_t len,
		      const struct sockaddr_in *src)
{
	return c->reply && c->cookie_len == len && memcmp(c->cookie, cookie, len) == 0 &&
	       c->src.sin_addr.s_addr == src->sin_addr.s_addr &&
	       c->src.sin_port == src->sin_port && time_now_ms() - c->at_ms < NG_CACHE_MS;
}

static void reply_begin(struct be_buf *out, const char *cookie, size_t len)
{
	be_raw(out, cookie, len);
	be_raw(out, " ", 1);
	be_dict(out);
}

static void reply_error(struct be_buf *out, const char *reason)
{
	be_kv_str(out, "result", "error");
	be_kv_str(out, "error-reason", reason);
}

/* The commands of the protocol mgw does not carry out yet: a clear error, not silence. */
static const char *const later[] = {
	"start recording",
	"stop recording", "pause recording", "start forwarding", "stop forwarding",
	"subscribe request", "subscribe answer", "unsubscribe", "publish", NULL};

void ng_handle(const char *buf, size_t len, const struct sockaddr_in *src, struct be_buf *out)
{
	out->len = 0;
	const char *sp = memchr(buf, ' ', len < NG_COOKIE_MAX + 1 ? len : NG_COOKIE_MAX + 1);
	if (!sp || sp == buf) {
		stats.bad++; /* without a cookie there is nothing to answer to */
		return;
	}
	size_t clen = (size_t)(sp - buf);
	struct ng_cached *slot = cache_slot(buf, clen, src);
	if (cache_hit(slot, buf, clen, src)) {
		stats.resent++;
		be_raw(out, slot->reply, slot->reply_len);
		return;
	}
	static struct be_doc doc;
	const struct be_node *root = be_decode(&doc, sp + 1, len - clen - 1);
	const struct be_node *cmd = be_dict_get(root, "command");
	reply_begin(out, buf, clen);
	size_t body = out->len; /* after "COOKIE d" */
	int ci = root && cmd && cmd->type == BE_STR ? (int)command_index(cmd) : -1;
	if (ci >= 0)
		stats.by_command[ci]++;
	if (!root || root->type != BE_DICT) {
		stats.bad++;
		char why[96];
		snprintf(why, sizeof(why), "not a bencoded dictionary: %s",
			 root ? "another kind of value" : doc.err);
		reply_error(out, why);
	} else if (!cmd || cmd->type != BE_STR) {
		stats.bad++;
		reply_error(out, "no command");
	} else if (be_str_is(cmd, "ping")) {
		stats.pings++;
		be_kv_str(out, "result", "pong");
	} else if (ngcall_command(root, out) == 0) {
		stats.commands++;
	} else {
		char why[160];
		bool known = false;
		for (unsigned i = 0; later[i] && !known; i++)
			known = be_str_is(cmd, later[i]);
		snprintf(why, sizeof(why), known ? "'%.*s' is not supported by this mgwd yet"
						 : "unknown command '%.*s'",
			 (int)(cmd->n > 64 ? 64 : cmd->n), cmd->s);
		reply_error(out, why);
	}
	be_end(out);
	if (out->oom) {
		out->len = 0;
		return;
	}
	/* every reply, whoever wrote it, begins with its result */
	static const char err_mark[] = "6:result5:error";
	if (out->len - body >= sizeof(err_mark) &&
	    memcmp(out->p + body, err_mark, sizeof(err_mark) - 1) == 0) {
		stats.errors++;
		if (ci >= 0)
			stats.errors_by_command[ci]++;
	}
	/* kept for a retransmission of the same request */
	char *copy = malloc(out->len);
	if (copy) {
		free(slot->reply);
		memcpy(copy, out->p, out->len);
		memcpy(slot->cookie, buf, clen);
		slot->cookie_len = (uint8_t)clen;
		slot->src = *src;
		slot->at_ms = time_now_ms();
		slot->reply = copy;
		slot->reply_len = out->len;
	}
}

static bool allowed(const struct sockaddr_in *src)
{
	for (unsigned i = 0; i < n_allow; i++)
		if (allow[i] == src->sin_addr.s_addr)
			return true;
	return false;
}

void ng_on_readable(void)
{
	static char buf[NG_MAX_DATAGRAM];
	struct be_buf out = {0};
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in src;
		socklen_t sl = sizeof(src);
		ssize_t n = recvfrom(sock, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&src,
				     &sl);
		if (n < 0)
			break;
		stats.rx++;
		if (!allowed(&src)) {
			stats.refused++;
			continue;
		}
		ng_handle(buf, (size_t)n, &src, &out);
		if (out.len > 0 && sendto(sock, out.p, out.len, 0, (struct sockaddr *)&src,
					  sizeof(src)) == (ssize_t)out.len)
			stats.replies++;
	}
	be_buf_free(&out);
}

int ng_init(const struct config *cfg, char *err, size_t err_len)
{
	memset(&stats, 0, sizeof(stats));
	n_allow = 0;
	for (unsigned i = 0; i < cfg->ng_n_allow && i < CONFIG_MAX_NG_ALLOW; i++) {
		struct in_addr a;
		if (inet_pton(AF_INET, cfg->ng_allow[i], &a) == 1)
			allow[n_allow++] = a.s_addr;
	}
	if (cfg->ng_port == 0)
		return 0;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)cfg->ng_port),
				 .sin_addr = cfg->ng_listen};
	if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &cfg->ng_listen, a, sizeof(a));
		snprintf(err, err_len, "ng: bind %s:%u: %s", a, cfg->ng_port, strerror(errno));
		if (sock >= 0)
			close(sock);
		sock = -1;
		return -1;
	}
	return 0;
}

void ng_shutdown(void)
{
	if (sock >= 0)
		close(sock);
	sock = -1;
	for (unsigned i = 0; i < NG_CACHE; i++) {
		free(cache[i].reply);
		cache[i].reply = NULL;
	}
}
