/* Fuzz target: an NG control datagram (rtpengine's protocol: cookie, space, bencoded
 * dictionary) through ng_handle, the way the NG socket hands it on: decoding, the command's
 * handling, the reply and the retransmission cache. The reply must itself be a cookie and a
 * bencoded dictionary that decodes. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/ng/bencode.h"
#include "controlplane/ng/ng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct be_buf out;
	static struct be_doc doc;
	struct sockaddr_in src = {.sin_family = AF_INET,
				  .sin_port = htons(40000),
				  .sin_addr.s_addr = htonl(0x7f000001)};
	ng_handle((const char *)data, size, &src, &out);
	if (out.len == 0)
		return 0;
	const char *sp = memchr(out.p, ' ', out.len);
	if (!sp || !be_decode(&doc, sp + 1, out.len - (size_t)(sp - out.p) - 1))
		abort(); /* a reply that is not NG */
	return 0;
}
