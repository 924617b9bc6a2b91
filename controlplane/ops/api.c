/* api: the control socket (see api.h). Level-triggered epoll over the listening socket and up
 * to API_MAX_CLIENTS non-blocking clients; one request line in, one reply line out. */
#include "controlplane/ops/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"

#define API_MAX_CLIENTS 64
#define API_LINE_MAX (64 * 1024)      /* longest request line, newline excluded */
#define API_OUT_MAX (4 * 1024 * 1024) /* reply bytes buffered for one client */
#define API_BACKLOG 16
#define API_EVENTS 32
#define API_LISTEN_TAG UINT64_MAX

struct api_cmd {
	char *name;
	api_handler_fn fn;
	void *ctx;
};

struct api_client {
	int fd; /* -1: free slot */
	uint32_t gen;
	bool closing;   /* close once the output buffer is drained */
	uint32_t events; /* current epoll mask */
	char *in;       /* API_LINE_MAX + 1 bytes */
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
};

struct api {
	int lfd, epfd;
	bool bound; /* the socket file is ours to remove */
	char *path;
	unsigned nclients;
	struct api_client clients[API_MAX_CLIENTS];
	struct api_cmd *cmds;
	size_t ncmds;
};

static void api_set_err(char *err, size_t err_len, const char *what, const char *path, int e)
{
	if (err && err_len)
		snprintf(err, err_len, "%s %s: %s", what, path, strerror(e));
}

/* mkdir -p of the directory holding @path. */
static int api_mkdir_parent(const char *path)
{
	char *dir = strdup(path);
	char *p;
	int rc = 0;

	if (!dir)
		return -ENOMEM;
	p = strrchr(dir, '/');
	if (!p || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			rc = -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	free(dir);
	return rc;
}

/* Remove a socket file left by a previous run; refuse to steal one that is still served. */
static int api_unlink_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int api_epoll_add(struct api *api, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(api->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int api_listen(struct api *api, char *err, size_t err_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	if (strlen(api->path) >= sizeof(sa.sun_path)) {
		api_set_err(err, err_len, "socket path too long:", api->path, ENAMETOOLONG);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, api->path);
	rc = api_mkdir_parent(api->path);
	if (rc < 0) {
		api_set_err(err, err_len, "cannot create the directory of", api->path, -rc);
		return rc;
	}
	rc = api_unlink_stale(&sa);
	if (rc < 0) {
		api_set_err(err, err_len, "cannot replace", api->path, -rc);
		return rc;
	}
	api->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (api->lfd < 0 || bind(api->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	api->bound = true;
	if (listen(api->lfd, API_BACKLOG) < 0)
		goto fail;
	return 0;
fail:
	rc = -errno;
	api_set_err(err, err_len, "cannot listen on", api->path, -rc);
	return rc;
}

static json_t *api_help(json_t *req, char *err, size_t err_len, void *ctx)
{
	const struct api *api = ctx;
	json_t *names = json_array();

	(void)req;
	(void)err;
	(void)err_len;
	for (size_t i = 0; names && i < api->ncmds; i++)
		json_array_append_new(names, json_string(api->cmds[i].name));
	return names;
}

struct api *api_create(const char *path, char *err, size_t err_len)
{
	struct api *api = calloc(1, sizeof(*api));
	int i, rc;

	if (!api || !(api->path = strdup(path))) {
		api_set_err(err, err_len, "out of memory for", path, ENOMEM);
		free(api);
		return NULL;
	}
	api->lfd = -1;
	for (i = 0; i < API_MAX_CLIENTS; i++)
		api->clients[i].fd = -1;
	api->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (api->epfd < 0) {
		api_set_err(err, err_len, "epoll_create1 for", path, errno);
		goto fail;
	}
	if (api_listen(api, err, err_len) < 0)
		goto fail;
	rc = api_epoll_add(api, api->lfd, API_LISTEN_TAG);
	if (rc == 0)
		rc = api_register(api, "help", api_help, api);
	if (rc < 0) {
		api_set_err(err, err_len, "cannot set up", path, -rc);
		goto fail;
	}
	LOG_I("api", "listening on %s", path);
	return api;
fail:
	api_destroy(api);
	return NULL;
}

static void api_client_close(struct api *api, struct api_client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(api->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->in_len = c->out_len = c->out_off = c->out_cap = 0;
	c->closing = false;
	c->events = 0;
	c->fd = -1;
	c->gen++;
	api->nclients--;
}

void api_destroy(struct api *api)
{
	size_t i;

	if (!api)
		return;
	for (i = 0; i < API_MAX_CLIENTS; i++)
		api_client_close(api, &api->clients[i]);
	if (api->lfd >= 0)
		close(api->lfd);
	if (api->bound)
		unlink(api->path);
	if (api->epfd >= 0)
		close(api->epfd);
	for (i = 0; i < api->ncmds; i++)
		free(api->cmds[i].name);
	free(api->cmds);
	free(api->path);
	free(api);
}

int api_register(struct api *api, const char *cmd, api_handler_fn fn, void *ctx)
{
	struct api_cmd *cmds;
	size_t i;
	char *name;

	if (!api || !cmd || !*cmd || !fn)
		return -EINVAL;
	for (i = 0; i < api->ncmds; i++)
		if (strcmp(api->cmds[i].name, cmd) == 0)
			return -EEXIST;
	name = strdup(cmd);
	cmds = name ? realloc(api->cmds, (api->ncmds + 1) * sizeof(*cmds)) : NULL;
	if (!cmds) {
		free(name);
		return -ENOMEM;
	}
	api->cmds = cmds;
	cmds[api->ncmds++] = (struct api_cmd){ .name = name, .fn = fn, .ctx = ctx };
	return 0;
}

int api_fd(const struct api *api)
{
	return api->epfd;
}

unsigned api_clients(const struct api *api)
{
	return api->nclients;
}

static uint64_t api_client_tag(const struct api *api, const struct api_client *c)
{
	return ((uint64_t)c->gen << 32) | (uint64_t)(c - api->clients);
}

/* Read while open, write while output is pending; a closing client is only written to, so
 * that unread input from it cannot keep a level-triggered epoll busy. */
static void api_update_events(struct api *api, struct api_client *c)
{
	uint32_t want = (c->closing ? 0 : EPOLLIN) | (c->out_len > c->out_off ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.u64 = api_client_tag(api, c) };

	if (c->events == want)
		return;
	if (epoll_ctl(api->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

/* Send what is buffered; returns -1 when the client is gone (and closed). */
static int api_flush(struct api *api, struct api_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			api_client_close(api, c);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->closing) {
			api_client_close(api, c);
			return -1;
		}
	}
	api_update_events(api, c);
	return 0;
}

/* Queue @n bytes plus a newline; a client that lets more than API_OUT_MAX pile up is closed. */
static int api_queue(struct api *api, struct api_client *c, const char *s, size_t n)
{
	size_t need;

	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	need = c->out_len + n + 1;
	if (need > API_OUT_MAX) {
		LOG_W("api", "client fd %d does not read its replies, closing it", c->fd);
		api_client_close(api, c);
		return -1;
	}
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			api_client_close(api, c);
			return -1;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, n);
	c->out[c->out_len + n] = '\n';
	c->out_len = need;
	return 0;
}

/* Queue @reply as one line and release it. */
static int api_queue_json(struct api *api, struct api_client *c, json_t *reply)
{
	char *line = reply ? json_dumps(reply, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(reply);
	if (!line) {
		static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}";
		return api_queue(api, c, oom, sizeof(oom) - 1);
	}
	int rc = api_queue(api, c, line, strlen(line));
	free(line);
	return rc;
}

static int api_reply_error(struct api *api, struct api_client *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int api_reply_error(struct api *api, struct api_client *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_queue_json(api, c, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

static const struct api_cmd *api_find(const struct api *api, const char *name)
{
	for (size_t i = 0; i < api->ncmds; i++)
		if (strcmp(api->cmds[i].name, name) == 0)
			return &api->cmds[i];
	return NULL;
}

static int api_request(struct api *api, struct api_client *c, const char *line, size_t len)
{
	json_error_t jerr;
	/* a request line is one object; duplicate keys and a trailing value are errors */
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req)
		return api_reply_error(api, c, "bad request: %s (column %d)", jerr.text,
				       jerr.column);
	int rc;
	const char *name = json_string_value(json_object_get(req, "cmd"));
	const struct api_cmd *h = NULL;
	if (!json_is_object(req))
		rc = api_reply_error(api, c, "bad request: not a JSON object");
	else if (!name)
		rc = api_reply_error(api, c, "bad request: missing string member \"cmd\"");
	else if (!(h = api_find(api, name)))
		rc = api_reply_error(api, c, "unknown command '%.200s'", name);
	else {
		char err[512] = "";
		json_t *res = h->fn(req, err, sizeof(err), h->ctx);
		if (!res)
			rc = api_reply_error(api, c, "%s", err[0] ? err : "command failed");
		else
			rc = api_queue_json(api, c, json_pack("{s:b, s:o}", "ok", 1, "result", res));
	}
	json_decref(req);
	return rc;
}

/* Handle every complete line in the input buffer; returns -1 if the client was closed. */
static int api_lines(struct api *api, struct api_client *c)
{
	size_t off = 0;

	while (off < c->in_len && !c->closing) {
		char *nl = memchr(c->in + off, '\n', c->in_len - off);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (c->in + off));
		if (len > 0 && c->in[off + len - 1] == '\r')
			len--;
		if (len > 0 && api_request(api, c, c->in + off, len) < 0)
			return -1;
		off = (size_t)(nl - c->in) + 1;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (c->in_len > API_LINE_MAX && !c->closing) {
		c->closing = true;
		c->in_len = 0;
		return api_reply_error(api, c, "request line longer than %d bytes", API_LINE_MAX);
	}
	return 0;
}

static void api_client_read(struct api *api, struct api_client *c)
{
	int i;

	/* A bounded number of reads per poll keeps one chatty client from starving the rest. */
	for (i = 0; i < 16 && !c->closing; i++) {
		ssize_t n = recv(c->fd, c->in + c->in_len, API_LINE_MAX + 1 - c->in_len,
				 MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			api_client_close(api, c);
			return;
		}
		if (n == 0) {
			/* Peer shut down its side: an unterminated last line still counts. */
			if (c->in_len > 0 && c->in_len <= API_LINE_MAX)
				c->in[c->in_len++] = '\n';
			if (api_lines(api, c) < 0)
				return;
			c->closing = true;
			break;
		}
		c->in_len += (size_t)n;
		if (api_lines(api, c) < 0)
			return;
	}
	api_flush(api, c);
}

static void api_accept(struct api *api)
{
	int i, fd;

	for (;;) {
		struct api_client *c = NULL;

		fd = accept4(api->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				LOG_W("api", "accept on %s: %s", api->path, strerror(errno));
			return;
		}
		for (i = 0; i < API_MAX_CLIENTS && !c; i++)
			if (api->clients[i].fd < 0)
				c = &api->clients[i];
		if (!c || !(c->in = malloc(API_LINE_MAX + 1))) {
			LOG_W("api", "too many clients (%u), refusing one", api->nclients);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		api->nclients++;
		if (api_epoll_add(api, fd, api_client_tag(api, c)) < 0)
			api_client_close(api, c);
	}
}

void api_poll(struct api *api)
{
	struct epoll_event evs[API_EVENTS];
	int i, n;

	n = epoll_wait(api->epfd, evs, API_EVENTS, 0);
	for (i = 0; i < n; i++) {
		uint64_t tag = evs[i].data.u64;
		struct api_client *c;

		if (tag == API_LISTEN_TAG) {
			api_accept(api);
			continue;
		}
		c = &api->clients[(uint32_t)tag % API_MAX_CLIENTS];
		if (c->fd < 0 || c->gen != (uint32_t)(tag >> 32))
			continue; /* closed (and maybe reused) earlier in this batch */
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			api_client_read(api, c);
		else if (evs[i].events & EPOLLOUT)
			api_flush(api, c);
	}
}
