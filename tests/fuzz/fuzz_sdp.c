/* Fuzz target: an SDP body from the network, through everything mgwd does with one: parse
 * (controlplane/sip/sdp.c over libosip2's parser), negotiate against our codecs, write the
 * answer, and take it as the answer to an offer of ours. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "controlplane/sip/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ours[] = {"PCMU", "PCMA", "telephone-event"};
	struct sdp_stream offer, media;
	struct sdp_nego nego;
	char answer[4096];
	struct in_addr local = {.s_addr = htonl(0xc6120002)};

	if (sdp_parse((const char *)data, size, &offer) == SDP_OK &&
	    sdp_negotiate(&offer, ours, 3, &nego) == SDP_OK) {
		int n = sdp_write_answer(answer, sizeof(answer), &offer, &nego, local, 10000, 1, 1);
		if (n > 0)
			(void)sdp_take_answer(answer, (size_t)n, ours, 3, &media, &nego);
	}
	(void)sdp_take_answer((const char *)data, size, ours, 3, &media, &nego);
	return 0;
}
