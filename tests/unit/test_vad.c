/* Voice activity on G.711 (dataplane/vad.c): speech-level audio is voice, silence and quiet
 * noise are not, in both laws; what has no payload is not voice. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/actions/transcode.h"
#include "dataplane/vad.h"
#include "shared/stream.h"

static uint8_t pkt[12 + 160];

/* a packet of 160 samples of a 440 Hz tone of amplitude @amp (16-bit), in @law */
static size_t tone(double amp, uint8_t law)
{
	memset(pkt, 0, 12);
	pkt[0] = 0x80;
	for (int i = 0; i < 160; i++) {
		int16_t x = (int16_t)(amp * sin(2 * M_PI * 440 * i / 8000.0));
		pkt[12 + i] = law == STREAM_VAD_PCMU ? transcode_linear_to_ulaw(x)
						     : transcode_linear_to_alaw(x);
	}
	return sizeof(pkt);
}

static void speech_levels_are_voice(void **state)
{
	(void)state;
	for (uint8_t law = STREAM_VAD_PCMU; law <= STREAM_VAD_PCMA; law++) {
		/* -20 dBFS: speech */
		assert_true(vad_voice(pkt, tone(3277, law), law));
		/* a mean magnitude just above the threshold (a sine's is 0.64 of its peak) */
		assert_true(vad_voice(pkt, tone(VAD_THRESHOLD * 1.7, law), law));
		/* -60 dBFS noise and digital silence: not voice */
		assert_false(vad_voice(pkt, tone(33, law), law));
		assert_false(vad_voice(pkt, tone(0, law), law));
	}
	/* the silence bytes senders use */
	memset(pkt + 12, 0xff, 160);
	assert_false(vad_voice(pkt, sizeof(pkt), STREAM_VAD_PCMU));
	memset(pkt + 12, 0xd5, 160);
	assert_false(vad_voice(pkt, sizeof(pkt), STREAM_VAD_PCMA));
	/* loud mu-law bytes read as A-law are still judged by A-law's table */
	memset(pkt + 12, 0x80, 160);
	assert_true(vad_voice(pkt, sizeof(pkt), STREAM_VAD_PCMU));
}

static void no_payload_is_not_voice(void **state)
{
	(void)state;
	tone(8000, STREAM_VAD_PCMU);
	assert_false(vad_voice(pkt, 12, STREAM_VAD_PCMU));  /* header only */
	pkt[0] = 0x80 | 0x20;                               /* padding larger than the payload */
	pkt[sizeof(pkt) - 1] = 200;
	assert_false(vad_voice(pkt, sizeof(pkt), STREAM_VAD_PCMU));
}

static int setup(void **state)
{
	(void)state;
	transcode_init();
	vad_init();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(speech_levels_are_voice),
		cmocka_unit_test(no_payload_is_not_voice),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
