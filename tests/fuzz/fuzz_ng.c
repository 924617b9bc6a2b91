/* Fuzz target: an NG control datagram (rtpengine's protocol: cookie, space, bencoded
 * dictionary) through ng_handle, the way the NG socket hands it on: decoding, the command's
 * handling (offer and answer allocate ports, rewrite SDP and publish relay streams), the reply
 * and the retransmission cache. The reply must itself be a cookie and a bencoded dictionary
 * that decodes, and after each input's sessions are deleted every port is back. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "controlplane/config.h"
#include "controlplane/media/media.h"
#include "controlplane/ng/bencode.h"
#include "controlplane/ng/ng.h"
#include "controlplane/ng/ngcall.h"
#include "util/log.h"

#include "fuzz_media.h"

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256];
	fuzz_media_config(&cfg, 35000);
	snprintf(cfg.ng_interfaces[0], sizeof(cfg.ng_interfaces[0]), "internal/198.18.0.2");
	snprintf(cfg.ng_interfaces[1], sizeof(cfg.ng_interfaces[1]), "external/198.18.0.2");
	cfg.ng_n_interfaces = 2;
	if (media_init(&cfg, err, sizeof(err)) != 0)
		abort();
	ngcall_init(&cfg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct be_buf out;
	static struct be_doc doc;
	struct sockaddr_in src = {.sin_family = AF_INET,
				  .sin_port = htons(40000),
				  .sin_addr.s_addr = htonl(0x7f000001)};
	/* an input is one or more datagrams separated by NUL bytes (a session's offer, answers,
	 * deletes in a row), each handled as it would arrive */
	for (size_t i = 0; i < size;) {
		const uint8_t *nul = memchr(data + i, 0, size - i);
		size_t n = nul ? (size_t)(nul - (data + i)) : size - i;
		ng_handle((const char *)data + i, n, &src, &out);
		if (out.len > 0) {
			const char *sp = memchr(out.p, ' ', out.len);
			if (!sp || !be_decode(&doc, sp + 1, out.len - (size_t)(sp - out.p) - 1))
				abort(); /* a reply that is not NG */
		}
		i += n + 1;
	}
	/* sessions do not outlive an input: every port must come back */
	ngcall_shutdown();
	for (int i = 0; i < 3; i++) {
		media_poll();
		rcu_quiescent_state();
	}
	if (media_ports_free() + media_ports_cooling() != media_ports_total())
		abort();
	return 0;
}
