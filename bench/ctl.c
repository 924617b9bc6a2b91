/* ctl: control socket client (see ctl.h). */
#include "bench/ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_TIMEOUT_MS 120000

int ctl_open(struct ctl *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(errno));
		ctl_close(c);
		return -1;
	}
	return 0;
}

void ctl_close(struct ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

int ctl_send(struct ctl *c, const char *req, char *err, size_t errlen)
{
	size_t n = strlen(req);
	char nl = '\n';
	struct iovec iov[2] = { { (void *)req, n }, { &nl, 1 } };
	size_t want = n + 1, done = 0;

	while (done < want) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "control socket: send: %s", strerror(errno));
			return -1;
		}
		done += (size_t)w;
		for (int i = 0; i < 2; i++) {
			size_t k = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			w -= (ssize_t)k;
		}
	}
	c->pending++;
	return 0;
}

/* Read what is there (waiting up to @timeout_ms for something); 0, or -1 with @err. */
static int ctl_fill(struct ctl *c, int timeout_ms, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0 && errno != EINTR) {
		snprintf(err, errlen, "control socket: poll: %s", strerror(errno));
		return -1;
	}
	if (rc <= 0)
		return 0;
	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 1 << 20;
		char *nb = realloc(c->buf, cap);
		if (!nb) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		c->buf = nb;
		c->cap = cap;
	}
	ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
	if (r <= 0) {
		snprintf(err, errlen, "control socket: %s", r ? strerror(errno) : "closed by mgwd");
		return -1;
	}
	c->len += (size_t)r;
	return 0;
}

/* Take one complete reply line off the buffer and check "ok"; 1 with the result in @res (may
 * be NULL when not wanted), 0 when no line is complete, -1 on an error reply. */
static int ctl_take(struct ctl *c, json_t **res, char *err, size_t errlen)
{
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
	if (!nl)
		return 0;
	size_t n = (size_t)(nl - c->buf);
	json_error_t jerr;
	json_t *j = json_loadb(c->buf, n, 0, &jerr);
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	c->pending--;
	if (!j) {
		snprintf(err, errlen, "mgwd: reply is not JSON: %s", jerr.text);
		return -1;
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		const char *e = json_string_value(json_object_get(j, "error"));
		snprintf(err, errlen, "mgwd: %s", e ? e : "reply without ok");
		json_decref(j);
		return -1;
	}
	if (res) {
		json_t *r = json_object_get(j, "result");
		*res = r ? json_incref(r) : json_null();
	}
	json_decref(j);
	return 1;
}

int ctl_poll(struct ctl *c, char *err, size_t errlen)
{
	int rc = ctl_take(c, NULL, err, errlen);
	if (rc != 0)
		return rc;
	if (ctl_fill(c, 0, err, errlen) != 0)
		return -1;
	return ctl_take(c, NULL, err, errlen);
}

json_t *ctl_call(struct ctl *c, const char *req, char *err, size_t errlen)
{
	json_t *res = NULL;
	if (c->pending != 0) {
		snprintf(err, errlen, "control socket: a reply is still pending");
		return NULL;
	}
	if (ctl_send(c, req, err, errlen) != 0)
		return NULL;
	for (int waited = 0; waited < CTL_TIMEOUT_MS; waited += 100) {
		int rc = ctl_take(c, &res, err, errlen);
		if (rc < 0)
			return NULL;
		if (rc > 0)
			return res ? res : json_null();
		if (ctl_fill(c, 100, err, errlen) != 0)
			return NULL;
	}
	snprintf(err, errlen, "control socket: no reply within %d s", CTL_TIMEOUT_MS / 1000);
	return NULL;
}

/* "a.b.c.d:port" -> host order. */
static int ctl_parse_ep(const char *s, uint32_t *ip, uint16_t *port)
{
	char buf[32];
	const char *colon = s ? strrchr(s, ':') : NULL;
	struct in_addr a;

	if (!colon || (size_t)(colon - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	long p = strtol(colon + 1, NULL, 10);
	if (inet_pton(AF_INET, buf, &a) != 1 || p <= 0 || p > 65535)
		return -1;
	*ip = ntohl(a.s_addr);
	*port = (uint16_t)p;
	return 0;
}

static void ctl_ep_str(char *out, size_t len, uint32_t ip, uint16_t port)
{
	snprintf(out, len, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff, port);
}

/* One media.create of @count pairs starting at pair @first. */
static int ctl_create_batch(struct ctl *c, const struct flow_table *t, uint32_t first,
			    uint32_t count, struct flow_pair *pairs, char *err, size_t errlen)
{
	char req[320], pa[32], pb[32], codecs[64] = "";
	uint32_t ip;
	uint16_t port;

	flow_peer(t, first, 0, &ip, &port);
	ctl_ep_str(pa, sizeof(pa), ip, port);
	flow_peer(t, first, 1, &ip, &port);
	ctl_ep_str(pb, sizeof(pb), ip, port);
	if (t->audio)
		snprintf(codecs, sizeof(codecs), ",\"codec_a\":\"PCMU\",\"codec_b\":\"%s\"",
			 t->audio->codec_b);
	snprintf(req, sizeof(req),
		 "{\"cmd\":\"media.create\",\"count\":%u,\"tag\":\"bench\",\"peer_a\":\"%s\","
		 "\"peer_b\":\"%s\",\"peer_step\":%u%s}",
		 count, pa, pb, FLOW_PEER_STEP, codecs);
	json_t *res = ctl_call(c, req, err, errlen);
	if (!res)
		return -1;
	json_t *arr = json_object_get(res, "pairs");
	int rc = -1;
	if (!json_is_array(arr) || json_array_size(arr) != count) {
		snprintf(err, errlen, "media.create: expected %u pairs in the reply", count);
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		json_t *p = json_array_get(arr, i);
		struct flow_pair *fp = &pairs[first + i];
		fp->id = (uint64_t)json_integer_value(json_object_get(p, "id"));
		if (ctl_parse_ep(json_string_value(json_object_get(p, "a")), &fp->a_ip, &fp->a_port) ||
		    ctl_parse_ep(json_string_value(json_object_get(p, "b")), &fp->b_ip, &fp->b_port)) {
			snprintf(err, errlen, "media.create: pair %u: bad endpoint", i);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(res);
	return rc;
}

int ctl_create(struct ctl *c, const struct flow_table *t, struct flow_pair *pairs, char *err,
	       size_t errlen)
{
	for (uint32_t first = 0; first < t->n_pairs; first += CTL_BATCH) {
		uint32_t count = t->n_pairs - first < CTL_BATCH ? t->n_pairs - first : CTL_BATCH;
		if (ctl_create_batch(c, t, first, count, pairs, err, errlen) != 0)
			return -1;
	}
	return 0;
}

long ctl_delete_tag(struct ctl *c, char *err, size_t errlen)
{
	json_t *res = ctl_call(c, "{\"cmd\":\"media.delete\",\"tag\":\"bench\"}", err, errlen);
	if (!res)
		return -1;
	long n = (long)json_integer_value(json_object_get(res, "deleted"));
	json_decref(res);
	return n;
}

int ctl_send_delete_odd(struct ctl *c, const struct flow_pair *pairs, uint32_t n_pairs,
			char *err, size_t errlen)
{
	int sent = 0;

	for (uint32_t j = 1; j < n_pairs;) {
		json_t *ids = json_array();
		json_t *req = json_pack("{s:s, s:o}", "cmd", "media.delete", "ids", ids);
		for (uint32_t k = 0; ids && k < CTL_DELETE_IDS && j < n_pairs; k++, j += 2)
			json_array_append_new(ids, json_integer((json_int_t)pairs[j].id));
		char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
		json_decref(req);
		if (!line) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		int rc = ctl_send(c, line, err, errlen);
		free(line);
		if (rc != 0)
			return -1;
		sent++;
	}
	return sent;
}

/* A counter that mgwd writes as a JSON integer (a real for very old replies). */
static uint64_t ctl_u64(json_t *v)
{
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	return json_is_real(v) ? (uint64_t)json_real_value(v) : 0;
}

/* Add one worker's drop counters to @st. */
static void ctl_add_drops(struct ctl_status *st, json_t *drops, uint64_t *by,
			  const char **names, size_t *n_names)
{
	const char *key;
	json_t *x;

	json_object_foreach(drops, key, x) {
		uint64_t v = ctl_u64(x);
		size_t k = 0;
		while (k < *n_names && strcmp(names[k], key) != 0)
			k++;
		if (k == *n_names) {
			if (k == 32)
				continue;
			names[(*n_names)++] = key;
		}
		by[k] += v;
		st->drops += v;
	}
}

static void ctl_read_workers(struct ctl_status *st, json_t *ws)
{
	uint64_t by[32] = { 0 };
	const char *names[32];
	size_t n_names = 0, off = 0, i;
	json_t *w;

	json_array_foreach(ws, i, w) {
		st->rx += ctl_u64(json_object_get(w, "rx"));
		st->tx += ctl_u64(json_object_get(w, "tx"));
		st->played += ctl_u64(json_object_get(w, "played"));
		st->play_lost += ctl_u64(json_object_get(w, "play_lost"));
		st->play_busy_ns += ctl_u64(json_object_get(w, "play_busy_ns"));
		st->xcode_sent += ctl_u64(json_object_get(w, "xcode_sent"));
		st->xcode_concealed += ctl_u64(json_object_get(w, "xcode_concealed"));
		st->xcode_bad += ctl_u64(json_object_get(w, "xcode_bad"));
		st->xcode_late += ctl_u64(json_object_get(w, "xcode_late"));
		st->xcode_busy_ns += ctl_u64(json_object_get(w, "xcode_busy_ns"));
		json_t *gap = json_object_get(w, "loop_gap_max_ns");
		if (json_is_number(gap)) {
			st->have_loop_gap = 1;
			if (ctl_u64(gap) > st->loop_gap_max_ns)
				st->loop_gap_max_ns = ctl_u64(gap);
		}
		ctl_add_drops(st, json_object_get(w, "drops"), by, names, &n_names);
	}
	st->drops_by[0] = '\0';
	for (size_t k = 0; k < n_names && off < sizeof(st->drops_by); k++) {
		if (by[k])
			off += (size_t)snprintf(st->drops_by + off, sizeof(st->drops_by) - off,
						"%s%s=%" PRIu64, off ? " " : "", names[k], by[k]);
	}
}

int ctl_status(struct ctl *c, struct ctl_status *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	json_t *res = ctl_call(c, "{\"cmd\":\"status\"}", err, errlen);
	if (!res)
		return -1;
	ctl_read_workers(st, json_object_get(res, "worker_stats"));
	json_decref(res);
	return 0;
}

int ctl_stats_reset(struct ctl *c, char *err, size_t errlen)
{
	json_t *res = ctl_call(c, "{\"cmd\":\"stats.reset\"}", err, errlen);
	json_decref(res);
	return res ? 0 : -1;
}

int ctl_pairs_save(const char *path, const struct flow_pair *pairs, uint32_t n_pairs)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "mgw-bench pairs %u\n", n_pairs);
	for (uint32_t j = 0; j < n_pairs; j++)
		fprintf(f, "%" PRIu64 " %u %u %u %u\n", pairs[j].id, pairs[j].a_ip, pairs[j].a_port,
			pairs[j].b_ip, pairs[j].b_port);
	return fclose(f) == 0 ? 0 : -EIO;
}

int ctl_pairs_load(const char *path, struct flow_pair *pairs, uint32_t n_pairs)
{
	FILE *f = fopen(path, "r");
	unsigned n = 0;
	int rc = -1;

	if (!f)
		return errno == ENOENT ? -ENOENT : -1;
	if (fscanf(f, "mgw-bench pairs %u\n", &n) != 1 || n != n_pairs)
		goto out;
	for (uint32_t j = 0; j < n_pairs; j++) {
		unsigned ap, bp;
		if (fscanf(f, "%" SCNu64 " %u %u %u %u\n", &pairs[j].id, &pairs[j].a_ip, &ap,
			   &pairs[j].b_ip, &bp) != 5)
			goto out;
		pairs[j].a_port = (uint16_t)ap;
		pairs[j].b_port = (uint16_t)bp;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}
