/* Fuzz target: what a client writes to the control socket, through the real API server
 * (controlplane/ops/api.c: line framing, JSON parsing with jansson, dispatch) and the media
 * commands behind it (media.create, media.delete, media.stats with their argument checks,
 * port allocation and stream publication). The input plus a newline is written to a connected
 * client; the server is polled until it has answered or closed the client (then a new one
 * connects). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "controlplane/config.h"
#include "controlplane/media/media.h"
#include "controlplane/media/pairs.h"
#include "controlplane/ops/api.h"
#include "util/log.h"

#include "fuzz_media.h"

static struct api *api;
static struct config cfg;
static char path[108];
static int cl = -1;

static void client_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (cl >= 0)
		close(cl);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (cl < 0 || connect(cl, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		abort();
	api_poll(api);
}

static void cleanup(void)
{
	if (cl >= 0)
		close(cl);
	pairs_shutdown();
	media_poll();
	api_destroy(api);
	media_shutdown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256];
	fuzz_media_config(&cfg, 33000);
	snprintf(path, sizeof(path), "/tmp/mgw-fuzz-api-%d.sock", (int)getpid());
	if (media_init(&cfg, err, sizeof(err)) != 0 ||
	    (api = api_create(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_api: set-up: %s\n", err);
		abort();
	}
	pairs_register(api);
	client_connect();
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[65536];
	size_t off = 0;

	/* write it all (with the line's end), polling the server as the socket fills */
	while (off <= size) {
		const void *p = off < size ? (const void *)(data + off) : "\n";
		size_t n = off < size ? size - off : 1;
		ssize_t w = send(cl, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN) { /* the server closed us: a new client next time */
			client_connect();
			return 0;
		}
		api_poll(api);
		while (recv(cl, buf, sizeof(buf), 0) > 0)
			;
	}
	/* until the server has nothing more to say this round */
	for (int i = 0; i < 4; i++) {
		api_poll(api);
		media_poll();
		rcu_quiescent_state();
		ssize_t r;
		while ((r = recv(cl, buf, sizeof(buf), 0)) > 0)
			;
		if (r == 0) {
			client_connect();
			break;
		}
	}
	return 0;
}
