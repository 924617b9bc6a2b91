/* mgwctl: command-line client of the mgwd control socket (docs/api.md).
 *
 * Sends one JSON request line, reads one reply line, and prints it for people (tables) or, with
 * --json, verbatim for scripts. Exit status: 0 ok, 1 the daemon reported an error, 2 usage or
 * connection problems. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define CTL_DEFAULT_SOCKET "/run/mgw/mgwd.sock"
#define CTL_TIMEOUT_MS 5000
#define CTL_REPLY_MAX (16u << 20)
#define CTL_CELL 512

enum { CTL_EXIT_OK = 0, CTL_EXIT_FAILED = 1, CTL_EXIT_USAGE = 2 };

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mgwctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  status                     daemon summary, ports and workers\n"
		"  sessions                   one line per media session\n"
		"  reload                     re-read routes and the call record file\n"
		"  media create [count=N tag=T peer_a=IP:PORT peer_b=IP:PORT latch=false translate=true]\n"
		"                             relay pairs without SIP (at most 10000 a request)\n"
		"  media delete tag=T         remove relay pairs (also by ids in the raw API)\n"
		"  media stats [tag=T | id=N] their counters, summed or for one pair\n"
		"  media play stream=IP:PORT play=FILE.wav|tone:NAME [loops=N pt=0|8]\n"
		"                             play to a stream's peer (loops=0: until stopped)\n"
		"  media dtmf stream=IP:PORT digits=D [pt=101 duration=MS gap=MS]\n"
		"                             send RFC 4733 digits to a stream's peer\n"
		"  media stop stream=IP:PORT  stop what plays there\n"
		"  call CMD [key=value ...]   send any command; integers go as numbers,\n"
		"                             true/false as booleans\n"
		"\n"
		"options:\n"
		"  -s, --socket SOCKET   control socket (default $MGW_SOCKET or %s)\n"
		"  --json                print the raw reply line\n"
		"  -h, --help            this text\n"
		"\n"
		"exit status: 0 ok, 1 the command failed, 2 usage or connection error\n",
		CTL_DEFAULT_SOCKET);
}

/* ---- talking to the daemon ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @events on @fd until @deadline (ms); returns 0, or -ETIMEDOUT / -errno. */
static int ctl_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static int ctl_send(int fd, const char *buf, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		int rc;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		rc = ctl_wait(fd, POLLOUT, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Read one line into a malloc'ed string (newline removed) in *@line. */
static int ctl_recv_line(int fd, char **line, int64_t deadline)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
		char *nl;

		if (n > 0) {
			nl = memchr(buf + len, '\n', (size_t)n);
			len += (size_t)n;
			if (nl) {
				*nl = '\0';
				*line = buf;
				return 0;
			}
			if (len + 1 == cap) {
				char *p = cap < CTL_REPLY_MAX ? realloc(buf, cap * 2) : NULL;

				if (!p) {
					rc = -EMSGSIZE;
					break;
				}
				buf = p;
				cap *= 2;
			}
			continue;
		}
		if (n == 0) {
			rc = -ECONNRESET;
			break;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			rc = -errno;
			break;
		}
		rc = ctl_wait(fd, POLLIN, deadline);
		if (rc < 0)
			break;
	}
	free(buf);
	return rc;
}

/* One request, one reply line; prints what went wrong (naming @path) and returns -1. */
static int ctl_exchange(const char *path, const char *req, char **reply)
{
	int64_t deadline = now_ms() + CTL_TIMEOUT_MS;
	const char *what = "cannot connect to";
	int fd, rc;

	fd = ctl_connect(path);
	rc = fd;
	if (fd >= 0) {
		what = "cannot send to";
		rc = ctl_send(fd, req, strlen(req), deadline);
		if (rc == 0)
			rc = ctl_send(fd, "\n", 1, deadline);
		if (rc == 0) {
			what = "no reply from";
			rc = ctl_recv_line(fd, reply, deadline);
		}
		close(fd);
	}
	if (rc < 0) {
		fprintf(stderr, "mgwctl: %s %s: %s\n", what, path,
			rc == -ECONNRESET ? "connection closed" : strerror(-rc));
		return -1;
	}
	return 0;
}

/* ---- building the request ---- */

/* Integers without leading zeros that fit in int64 go as numbers; "007" stays a string. */
static bool looks_int(const char *s, int64_t *v)
{
	const char *d = s[0] == '-' ? s + 1 : s;
	char *end;

	if (!*d || strspn(d, "0123456789") != strlen(d) || (d[0] == '0' && d[1]))
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* key=value arguments as members: integers as numbers, true/false as booleans. */
static int put_args(json_t *req, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		int64_t v;

		if (!eq || eq == argv[i] || strncmp(argv[i], "cmd=", 4) == 0) {
			fprintf(stderr, "mgwctl: bad argument '%s' (want key=value)\n", argv[i]);
			return -1;
		}
		*eq = '\0';
		json_t *val;
		if (looks_int(eq + 1, &v))
			val = json_integer((json_int_t)v);
		else if (strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "false") == 0)
			val = json_boolean(eq[1] == 't');
		else
			val = json_string(eq + 1);
		if (!val || json_object_set_new(req, argv[i], val) != 0) {
			fprintf(stderr, "mgwctl: bad argument '%s' (not UTF-8?)\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

/* The request object, or NULL after printing a usage error. */
static json_t *build_request(const char *cmd, int argc, char **argv)
{
	json_t *req = json_object();
	const char *name = cmd;
	char buf[32];
	int rc = 0;
	if (!req)
		return NULL;
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "sessions") == 0 ||
	    strcmp(cmd, "reload") == 0) {
		if (argc > 0) {
			fprintf(stderr, "mgwctl: %s takes no arguments\n", cmd);
			rc = -1;
		}
		if (strcmp(cmd, "sessions") == 0)
			name = "sessions.list";
	} else if (strcmp(cmd, "media") == 0) {
		if (argc < 1 || (strcmp(argv[0], "create") != 0 && strcmp(argv[0], "delete") != 0 &&
				 strcmp(argv[0], "stats") != 0)) {
			fprintf(stderr, "mgwctl: media needs create, delete or stats\n");
			rc = -1;
		} else {
			snprintf(buf, sizeof(buf), "media.%s", argv[0]);
			name = buf;
			rc = put_args(req, argc - 1, argv + 1);
		}
	} else if (strcmp(cmd, "call") == 0) {
		if (argc < 1) {
			fprintf(stderr, "mgwctl: call needs a command name\n");
			rc = -1;
		} else {
			name = argv[0];
			rc = put_args(req, argc - 1, argv + 1);
		}
	} else {
		fprintf(stderr, "mgwctl: unknown command '%s'\n", cmd);
		rc = -1;
	}
	if (rc == 0)
		rc = json_object_set_new(req, "cmd", json_string(name));
	if (rc != 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

/* ---- printing for people ---- */

static const char *fmt_val(const json_t *v, char *buf, size_t n)
{
	if (!v || json_is_null(v))
		return "-";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_boolean(v))
		return json_is_true(v) ? "yes" : "no";
	if (json_is_integer(v)) {
		snprintf(buf, n, "%" PRId64, (int64_t)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, n, "%.3f", json_real_value(v));
		return buf;
	}
	if (json_is_array(v)) {
		snprintf(buf, n, "[%zu items]", json_array_size(v));
		return buf;
	}
	return "{...}";
}

static const char *fmt_uptime(const json_t *v, char *buf, size_t n)
{
	uint64_t s, d, h, m;

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fmt_val(v, buf, n);
	s = (uint64_t)json_integer_value(v);
	d = s / 86400;
	h = s / 3600 % 24;
	m = s / 60 % 60;
	if (d)
		snprintf(buf, n, "%" PRIu64 "d %02" PRIu64 "h%02" PRIu64 "m", d, h, m);
	else if (h)
		snprintf(buf, n, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", h, m, s % 60);
	else if (m)
		snprintf(buf, n, "%" PRIu64 "m%02" PRIu64 "s", m, s % 60);
	else
		snprintf(buf, n, "%" PRIu64 "s", s);
	return buf;
}

struct col {
	const char *head;
	const char *key;
	bool right;
	void (*fmt)(const json_t *row, char *buf, size_t n); /* instead of @key */
};

/* An aligned table of the objects in @arr; missing members print as "-". */
static void print_table(const json_t *arr, const struct col *cols, size_t ncols)
{
	size_t rows = json_array_size(arr), r, c, width[16] = { 0 };
	char (*cell)[CTL_CELL] = calloc(rows * ncols + 1, CTL_CELL);

	if (!cell || ncols > 16) {
		free(cell);
		return;
	}
	for (c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].head);
	for (r = 0; r < rows; r++) {
		const json_t *row = json_array_get(arr, r);
		for (c = 0; c < ncols; c++) {
			char *out = cell[r * ncols + c], tmp[64];

			if (cols[c].fmt)
				cols[c].fmt(row, out, CTL_CELL);
			else
				snprintf(out, CTL_CELL, "%s",
					 fmt_val(json_object_get(row, cols[c].key), tmp,
						 sizeof(tmp)));
			if (strlen(out) > width[c])
				width[c] = strlen(out);
		}
	}
	for (r = 0; r <= rows; r++) {
		for (c = 0; c < ncols; c++) {
			const char *s = r == 0 ? cols[c].head : cell[(r - 1) * ncols + c];
			int w = c + 1 < ncols || cols[c].right ? (int)width[c] : 0;

			printf("%s%*s", c ? "  " : "", cols[c].right ? w : -w, s);
		}
		printf("\n");
	}
	free(cell);
}

static void fmt_drops(const json_t *row, char *buf, size_t n)
{
	const json_t *d = json_object_get(row, "drops");
	const char *key;
	json_t *v;
	size_t len = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)d, key, v) {
		if (!json_is_integer(v) || json_integer_value(v) == 0 || len >= n)
			continue;
		len += (size_t)snprintf(buf + len, n - len, "%s%s=%" PRId64, len ? " " : "", key,
					(int64_t)json_integer_value(v));
	}
	if (!buf[0])
		snprintf(buf, n, "-");
}

static void print_kv(const char *key, const char *val)
{
	printf("%-13s %s\n", key, val);
}

static bool status_known(const char *key)
{
	static const char *const known[] = { "version", "uptime_s", "workers", "calls",
					     "streams", "ports_free", "ports_total", "sip",
					     "media_ip", "ports", "worker_stats" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(key, known[i]) == 0)
			return true;
	return false;
}

static void print_status(const json_t *res)
{
	static const struct col port_cols[] = {
		{ "ID", "id", true, NULL }, { "NAME", "name", false, NULL },
		{ "MAC", "mac", false, NULL }, { "LINK", "link", false, NULL },
		{ "RX", "rx", true, NULL }, { "TX", "tx", true, NULL },
		{ "DROP", "drop", true, NULL },
	};
	static const struct col worker_cols[] = {
		{ "ID", "id", true, NULL }, { "LCORE", "lcore", true, NULL },
		{ "RX", "rx", true, NULL }, { "TX", "tx", true, NULL },
		{ "LOOPS", "loops", true, NULL }, { "BUSY", "busy", true, NULL },
		{ "SLEEPS", "sleeps", true, NULL }, { "DROPS", NULL, false, fmt_drops },
	};
	const json_t *sip = json_object_get(res, "sip"), *arr;
	char a[64], b[64], c[64], d[64], line[320];
	const char *key;
	json_t *v;

	print_kv("version:", fmt_val(json_object_get(res, "version"), a, sizeof(a)));
	print_kv("uptime:", fmt_uptime(json_object_get(res, "uptime_s"), a, sizeof(a)));
	print_kv("workers:", fmt_val(json_object_get(res, "workers"), a, sizeof(a)));
	print_kv("calls:", fmt_val(json_object_get(res, "calls"), a, sizeof(a)));
	print_kv("streams:", fmt_val(json_object_get(res, "streams"), a, sizeof(a)));
	snprintf(line, sizeof(line), "%s free of %s",
		 fmt_val(json_object_get(res, "ports_free"), a, sizeof(a)),
		 fmt_val(json_object_get(res, "ports_total"), b, sizeof(b)));
	print_kv("media ports:", line);
	print_kv("media ip:", fmt_val(json_object_get(res, "media_ip"), a, sizeof(a)));
	print_kv("sip listen:", fmt_val(json_object_get(sip, "listen"), a, sizeof(a)));
	snprintf(line, sizeof(line), "rx %s, tx %s, bad %s, dropped %s",
		 fmt_val(json_object_get(sip, "rx"), a, sizeof(a)),
		 fmt_val(json_object_get(sip, "tx"), b, 64),
		 fmt_val(json_object_get(sip, "bad"), c, 64),
		 fmt_val(json_object_get(sip, "dropped"), d, 64));
	print_kv("sip packets:", line);
	json_object_foreach((json_t *)res, key, v) {
		if (status_known(key) || json_is_object(v) || json_is_array(v))
			continue;
		snprintf(line, sizeof(line), "%s:", key);
		print_kv(line, fmt_val(v, a, sizeof(a)));
	}
	arr = json_object_get(res, "ports");
	if (json_array_size(arr)) {
		printf("\nports\n");
		print_table(arr, port_cols, sizeof(port_cols) / sizeof(port_cols[0]));
	}
	arr = json_object_get(res, "worker_stats");
	if (json_array_size(arr)) {
		printf("\nworkers\n");
		print_table(arr, worker_cols, sizeof(worker_cols) / sizeof(worker_cols[0]));
	}
}

/* A result of a command without a table of its own: strings as text, the rest as JSON. */
static void print_json(const json_t *v)
{
	if (json_is_null(v))
		return;
	if (json_is_string(v)) {
		printf("%s\n", json_string_value(v));
		return;
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	printf("%s\n", s ? s : "(cannot print the result, use --json)");
	free(s);
}

static void print_sessions(const json_t *res)
{
	static const struct col cols[] = {
		{ "CALL-ID", "call_id", false, NULL }, { "STATE", "state", false, NULL },
		{ "LOCAL", "local", false, NULL },     { "REMOTE", "remote", false, NULL },
		{ "CODEC", "codec", false, NULL },     { "ACTION", "action", false, NULL },
		{ "PKTS-IN", "pkts_in", true, NULL },  { "PKTS-OUT", "pkts_out", true, NULL },
		{ "AGE", "age_s", true, NULL },
	};

	if (!json_is_array(res)) {
		print_json(res);
		return;
	}
	if (json_array_size(res) == 0) {
		printf("no sessions\n");
		return;
	}
	print_table(res, cols, sizeof(cols) / sizeof(cols[0]));
}

/* ---- main ---- */

struct ctl_opts {
	const char *sock;
	bool json;
	const char *cmd;
	int argc;
	char **argv;
};

/* Returns 0, 1 for --help, or -1 on a usage error. Options may also follow the command. */
static int parse_args(int argc, char **argv, struct ctl_opts *o)
{
	int i, n = 0;

	o->sock = getenv("MGW_SOCKET");
	if (!o->sock || !*o->sock)
		o->sock = CTL_DEFAULT_SOCKET;
	o->argv = calloc((size_t)argc, sizeof(char *));
	if (!o->argv)
		return -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return 1;
		if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			if (++i == argc)
				return -1;
			o->sock = argv[i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			o->sock = a + 9;
		} else if (a[0] == '-' && !o->cmd) {
			fprintf(stderr, "mgwctl: unknown option '%s'\n", a);
			return -1;
		} else if (!o->cmd) {
			o->cmd = a;
		} else {
			o->argv[n++] = argv[i];
		}
	}
	o->argc = n;
	return o->cmd ? 0 : -1;
}

static int run(const struct ctl_opts *o)
{
	json_t *req = build_request(o->cmd, o->argc, o->argv), *rep = NULL;
	char *line = NULL, *text = NULL;
	int rc = CTL_EXIT_USAGE;
	json_error_t jerr;

	if (!req)
		goto out;
	text = json_dumps(req, JSON_COMPACT);
	if (!text) {
		fprintf(stderr, "mgwctl: cannot build the request\n");
		goto out;
	}
	if (ctl_exchange(o->sock, text, &line) < 0)
		goto out;
	rep = json_loads(line, 0, &jerr);
	if (!json_is_object(rep)) {
		fprintf(stderr, "mgwctl: bad reply from %s: %s\n", o->sock,
			rep ? "not an object" : jerr.text);
		goto out;
	}
	if (o->json)
		printf("%s\n", line);
	if (!json_is_true(json_object_get(rep, "ok"))) {
		const char *e = json_string_value(json_object_get(rep, "error"));
		fprintf(stderr, "mgwctl: %s\n", e ? e : "unknown error");
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	rc = CTL_EXIT_OK;
	json_t *res = json_object_get(rep, "result");
	if (o->json || !res)
		goto out;
	if (strcmp(o->cmd, "status") == 0)
		print_status(res);
	else if (strcmp(o->cmd, "sessions") == 0)
		print_sessions(res);
	else
		print_json(res);
out:
	json_decref(rep);
	json_decref(req);
	free(line);
	free(text);
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl_opts o = { 0 };
	int rc = parse_args(argc, argv, &o);

	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		free(o.argv);
		return rc > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	rc = run(&o);
	free(o.argv);
	return rc;
}
