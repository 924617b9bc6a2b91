/* Unit tests for controlplane/api.c: a real api on a UNIX socket in a temporary directory,
 * driven by plain client sockets from the test. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "controlplane/ops/api.h"
#include "util/log.h"

struct fixture {
	char dir[64];
	char path[128];
	struct api *api;
	int echo_calls;
};

struct conn {
	int fd;
	char buf[1 << 16];
	size_t len;
	bool eof;
};

static json_t *h_echo(json_t *req, char *err, size_t err_len, void *ctx)
{
	struct fixture *f = ctx;
	const char *x = json_string_value(json_object_get(req, "x"));

	(void)err;
	(void)err_len;
	f->echo_calls++;
	return json_pack("{s:s, s:i}", "x", x ? x : "none", "n", f->echo_calls);
}

static json_t *h_fail(json_t *req, char *err, size_t err_len, void *ctx)
{
	(void)req;
	(void)ctx;
	snprintf(err, err_len, "it \"broke\"");
	return NULL;
}

static json_t *h_nothing(json_t *req, char *err, size_t err_len, void *ctx)
{
	(void)req;
	(void)err;
	(void)err_len;
	(void)ctx;
	return json_null();
}

static json_t *h_big(json_t *req, char *err, size_t err_len, void *ctx)
{
	static char blob[512 * 1024];

	(void)req;
	(void)err;
	(void)err_len;
	(void)ctx;
	memset(blob, 'b', sizeof(blob) - 1);
	return json_string(blob);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/mgw-test-api-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/run/mgw/api.sock", f->dir);
	f->api = api_create(f->path, err, sizeof(err));
	if (!f->api) {
		print_error("api_create: %s\n", err);
		return -1;
	}
	if (api_register(f->api, "echo", h_echo, f) < 0 ||
	    api_register(f->api, "fail", h_fail, f) < 0 ||
	    api_register(f->api, "nothing", h_nothing, f) < 0 ||
	    api_register(f->api, "big", h_big, f) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char sub[160];

	api_destroy(f->api);
	snprintf(sub, sizeof(sub), "%s/run/mgw", f->dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/run", f->dir);
	rmdir(sub);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_str(struct conn *c, const char *s)
{
	assert_int_equal(send(c->fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Poll the api until @c has a full line (copied to @line, newline removed) or EOF, for at most
 * @timeout_s seconds. Returns the line length, or -1 on timeout or EOF. */
static int read_line(struct fixture *f, struct conn *c, char *line, size_t cap, double timeout_s)
{
	double end = now_s() + timeout_s;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);

		if (nl) {
			size_t n = (size_t)(nl - c->buf);

			assert_true(n < cap);
			memcpy(line, c->buf, n);
			line[n] = '\0';
			c->len -= n + 1;
			memmove(c->buf, nl + 1, c->len);
			return (int)n;
		}
		if (c->eof || now_s() > end)
			return -1;
		api_poll(f->api);
		ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			c->eof = true;
		else if (r > 0)
			c->len += (size_t)r;
		else
			usleep(1000);
	}
}

static void expect_reply(struct fixture *f, struct conn *c, const char *want)
{
	char line[4096];

	assert_true(read_line(f, c, line, sizeof(line), 2.0) >= 0);
	assert_string_equal(line, want);
}

static void open_conn(struct fixture *f, struct conn *c)
{
	c->fd = connect_to(f->path);
	c->len = 0;
	c->eof = false;
}

static void socket_is_created_in_new_directory_and_removed_on_destroy(void **state)
{
	struct fixture *f = *state;
	char path[160], err[256];
	struct stat st;
	struct api *api;

	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	snprintf(path, sizeof(path), "%s/run/mgw", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);

	snprintf(path, sizeof(path), "%s/other.sock", f->dir);
	api = api_create(path, err, sizeof(err));
	assert_non_null(api);
	assert_int_equal(stat(path, &st), 0);
	api_destroy(api);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void stale_socket_is_replaced_but_live_one_is_kept(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[160], err[256] = "";
	struct api *api;
	int fd;

	/* A live api on the path: a second one must not steal it. */
	assert_null(api_create(f->path, err, sizeof(err)));
	assert_non_null(strstr(err, f->path));

	/* A socket file nobody listens on is stale and replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	api = api_create(path, err, sizeof(err));
	assert_non_null(api);
	api_destroy(api);
}

static void request_gets_handler_result(void **state)
{
	struct fixture *f = *state;
	struct conn c;

	open_conn(f, &c);
	send_str(&c, "{\"cmd\":\"echo\",\"x\":\"hi\"}\n");
	expect_reply(f, &c, "{\"ok\":true,\"result\":{\"x\":\"hi\",\"n\":1}}");
	send_str(&c, "{\"cmd\":\"nothing\"}\r\n");
	expect_reply(f, &c, "{\"ok\":true,\"result\":null}");
	send_str(&c, "{\"cmd\":\"fail\"}\n");
	expect_reply(f, &c, "{\"ok\":false,\"error\":\"it \\\"broke\\\"\"}");
	assert_int_equal(api_clients(f->api), 1);
	close(c.fd);
}

static void two_requests_in_one_write_get_two_replies_in_order(void **state)
{
	struct fixture *f = *state;
	struct conn c;

	open_conn(f, &c);
	send_str(&c, "{\"cmd\":\"echo\",\"x\":\"a\"}\n\n{\"cmd\":\"echo\",\"x\":\"b\"}\n");
	expect_reply(f, &c, "{\"ok\":true,\"result\":{\"x\":\"a\",\"n\":1}}");
	expect_reply(f, &c, "{\"ok\":true,\"result\":{\"x\":\"b\",\"n\":2}}");
	close(c.fd);
}

static void request_split_across_writes_is_answered_once_complete(void **state)
{
	struct fixture *f = *state;
	char line[256];
	struct conn c;

	open_conn(f, &c);
	send_str(&c, "{\"cmd\":\"ec");
	assert_int_equal(read_line(f, &c, line, sizeof(line), 0.1), -1);
	assert_false(c.eof);
	assert_int_equal(f->echo_calls, 0);
	send_str(&c, "ho\",\"x\":\"split\"}\n");
	expect_reply(f, &c, "{\"ok\":true,\"result\":{\"x\":\"split\",\"n\":1}}");
	close(c.fd);
}

static void malformed_requests_get_errors_and_connection_stays_open(void **state)
{
	struct fixture *f = *state;
	char line[512];
	struct conn c;

	open_conn(f, &c);
	send_str(&c, "this is not json\n");
	assert_true(read_line(f, &c, line, sizeof(line), 2.0) > 0);
	assert_non_null(strstr(line, "{\"ok\":false,\"error\":\"bad request: "));
	send_str(&c, "[1,2]\n");
	expect_reply(f, &c, "{\"ok\":false,\"error\":\"bad request: not a JSON object\"}");
	send_str(&c, "{\"cmd\":5}\n");
	expect_reply(f, &c,
		     "{\"ok\":false,\"error\":\"bad request: missing string member \\\"cmd\\\"\"}");
	send_str(&c, "{\"cmd\":\"echo\",\"cmd\":\"fail\"}\n");
	assert_true(read_line(f, &c, line, sizeof(line), 2.0) > 0);
	assert_non_null(strstr(line, "{\"ok\":false,\"error\":\"bad request: duplicate"));
	send_str(&c, "{\"cmd\":\"nope\"}\n");
	expect_reply(f, &c, "{\"ok\":false,\"error\":\"unknown command 'nope'\"}");
	send_str(&c, "{\"cmd\":\"echo\"}\n");
	expect_reply(f, &c, "{\"ok\":true,\"result\":{\"x\":\"none\",\"n\":1}}");
	close(c.fd);
}

static void help_lists_registered_commands(void **state)
{
	struct fixture *f = *state;
	struct conn c;

	open_conn(f, &c);
	send_str(&c, "{\"cmd\":\"help\"}\n");
	expect_reply(f, &c,
		     "{\"ok\":true,\"result\":[\"help\",\"echo\",\"fail\",\"nothing\",\"big\"]}");
	assert_int_equal(api_register(f->api, "echo", h_echo, f), -EEXIST);
	close(c.fd);
}

static void unterminated_last_line_is_answered_at_shutdown(void **state)
{
	struct fixture *f = *state;
	struct conn c;
	char line[256];

	open_conn(f, &c);
	send_str(&c, "{\"cmd\":\"echo\",\"x\":\"eof\"}");
	shutdown(c.fd, SHUT_WR);
	expect_reply(f, &c, "{\"ok\":true,\"result\":{\"x\":\"eof\",\"n\":1}}");
	assert_int_equal(read_line(f, &c, line, sizeof(line), 2.0), -1);
	assert_true(c.eof);
	close(c.fd);
}

static void overlong_line_gets_error_then_close(void **state)
{
	struct fixture *f = *state;
	size_t n = 70 * 1024;
	char *big = malloc(n + 1);
	char line[256];
	struct conn c;
	size_t off = 0;

	memset(big, 'x', n);
	big[n] = '\0';
	open_conn(f, &c);
	while (off < n) {
		ssize_t w = send(c.fd, big + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t)w;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			break; /* the api may close before taking it all */
		api_poll(f->api);
	}
	expect_reply(f, &c, "{\"ok\":false,\"error\":\"request line longer than 65536 bytes\"}");
	assert_int_equal(read_line(f, &c, line, sizeof(line), 2.0), -1);
	assert_true(c.eof);
	assert_int_equal(api_clients(f->api), 0);
	free(big);
	close(c.fd);
}

static void client_not_reading_replies_is_disconnected(void **state)
{
	struct fixture *f = *state;
	struct conn c;
	double end;
	int i;

	open_conn(f, &c);
	api_poll(f->api);
	assert_int_equal(api_clients(f->api), 1);
	for (i = 0; i < 12; i++)
		send_str(&c, "{\"cmd\":\"big\"}\n");
	end = now_s() + 2.0;
	while (api_clients(f->api) > 0 && now_s() < end) {
		api_poll(f->api);
		usleep(1000);
	}
	assert_int_equal(api_clients(f->api), 0);
	close(c.fd);
}

static void clients_beyond_limit_are_closed_at_once(void **state)
{
	struct fixture *f = *state;
	struct conn *cs = calloc(65, sizeof(*cs));
	char line[256];
	int i;

	for (i = 0; i < 65; i++) {
		open_conn(f, &cs[i]);
		api_poll(f->api);
	}
	for (i = 0; i < 5; i++)
		api_poll(f->api);
	assert_int_equal(api_clients(f->api), 64);
	assert_int_equal(read_line(f, &cs[64], line, sizeof(line), 2.0), -1);
	assert_true(cs[64].eof);
	send_str(&cs[0], "{\"cmd\":\"nothing\"}\n");
	expect_reply(f, &cs[0], "{\"ok\":true,\"result\":null}");
	for (i = 0; i < 65; i++)
		close(cs[i].fd);
	for (i = 0; i < 5; i++)
		api_poll(f->api);
	assert_int_equal(api_clients(f->api), 0);
	free(cs);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(socket_is_created_in_new_directory_and_removed_on_destroy),
		T(stale_socket_is_replaced_but_live_one_is_kept),
		T(request_gets_handler_result),
		T(two_requests_in_one_write_get_two_replies_in_order),
		T(request_split_across_writes_is_answered_once_complete),
		T(malformed_requests_get_errors_and_connection_stays_open),
		T(help_lists_registered_commands),
		T(unterminated_last_line_is_answered_at_shutdown),
		T(overlong_line_gets_error_then_close),
		T(client_not_reading_replies_is_disconnected),
		T(clients_beyond_limit_are_closed_at_once),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
