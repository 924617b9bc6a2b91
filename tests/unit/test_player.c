/* What mgw's player sends, frame by frame (dataplane/player.c play_frame): a prompt in ptime
 * frames with the last one padded, loops that run on into the prompt's beginning, plays that
 * end; RFC 4733 digits as event packets that the data plane's own receiver (dataplane/dtmf.c)
 * reports as exactly those digits, once each, with their durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/dtmf.h"
#include "dataplane/player.h"

static uint8_t data[400];
static struct stream_prompt prompt = {.data = data, .n_samples = 400, .pt = 0};

static void setup_data(void)
{
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
}

static void test_audio_frames(void **state)
{
	(void)state;
	setup_data();
	struct stream_play p = {.kind = STREAM_PLAY_AUDIO, .pt = 0, .ptime_ms = 20, .loops = 1,
				.prompt = &prompt};
	uint8_t out[PLAY_FRAME_MAX];
	struct play_frame fr;
	/* 400 samples: 160 + 160 + 80 and 80 of silence, then the end */
	assert_int_equal(play_frame(&p, 0, out, &fr), 1);
	assert_int_equal(fr.len, 160);
	assert_true(fr.marker);
	assert_int_equal(fr.ts_off, 0);
	assert_memory_equal(out, data, 160);
	assert_int_equal(play_frame(&p, 1, out, &fr), 1);
	assert_false(fr.marker);
	assert_int_equal(fr.ts_off, 160);
	assert_memory_equal(out, data + 160, 160);
	assert_int_equal(play_frame(&p, 2, out, &fr), 1);
	assert_int_equal(fr.len, 160);
	assert_memory_equal(out, data + 320, 80);
	for (unsigned i = 80; i < 160; i++)
		assert_int_equal(out[i], 0xff); /* mu-law silence */
	assert_int_equal(play_frame(&p, 3, out, &fr), 0);
	/* A-law pads with its own silence */
	struct stream_prompt pa = prompt;
	pa.pt = 8;
	p.prompt = &pa;
	p.pt = 8;
	assert_int_equal(play_frame(&p, 2, out, &fr), 1);
	assert_int_equal(out[100], 0xd5);
}

/* G.729 prompts: 10 bytes per 80 samples; packets carry whole frames, the last one shorter
 * rather than padded, a cut play ends at a frame's end; timestamps stay 8 kHz samples. */
static void test_g729_frames(void **state)
{
	(void)state;
	setup_data();
	struct stream_prompt g = {.data = data, .n_samples = 400 * 8, .pt = 18, .shift = 3,
				  .frame = 80};
	struct stream_play p = {.kind = STREAM_PLAY_AUDIO, .pt = 18, .ptime_ms = 30, .loops = 1,
				.prompt = &g};
	uint8_t out[PLAY_FRAME_MAX];
	struct play_frame fr;
	/* 3,200 samples at 30 ms (240 each): 13 packets of 30 bytes, then 80 samples in 10 */
	for (uint32_t f = 0; f < 13; f++) {
		assert_int_equal(play_frame(&p, f, out, &fr), 1);
		assert_int_equal(fr.len, 30);
		assert_int_equal(fr.ts_off, f * 240);
		assert_memory_equal(out, data + f * 30, 30);
	}
	assert_int_equal(play_frame(&p, 13, out, &fr), 1);
	assert_int_equal(fr.len, 10);
	assert_memory_equal(out, data + 390, 10);
	assert_int_equal(play_frame(&p, 14, out, &fr), 0);
	/* looped: the second round's first packet runs on from the prompt's end */
	p.loops = 2;
	assert_int_equal(play_frame(&p, 13, out, &fr), 1);
	assert_int_equal(fr.len, 30);
	assert_memory_equal(out, data + 390, 10);
	assert_memory_equal(out + 10, data, 20);
	/* cut at 250 samples: three whole frames (240), nothing of the fourth */
	p.limit = 250;
	assert_int_equal(play_frame(&p, 0, out, &fr), 1);
	assert_int_equal(fr.len, 30);
	assert_int_equal(play_frame(&p, 1, out, &fr), 0);
}

/* Opus prompts: a packet of its own size per 20 ms whatever the play's ptime, timestamps in
 * the 48 kHz clock, loops running on into the first packet. */
static void test_packet_frames(void **state)
{
	(void)state;
	setup_data();
	static const uint32_t off[] = {0, 30, 75, 140}; /* three packets of 30, 45, 65 bytes */
	struct stream_prompt o = {.data = data, .pkt = off, .n_samples = 480, .pt = 0xff,
				  .ts_mult = 6, .frame = 160};
	struct stream_play p = {.kind = STREAM_PLAY_AUDIO, .pt = 111, .ptime_ms = 20, .loops = 2,
				.prompt = &o};
	uint8_t out[PLAY_FRAME_MAX];
	struct play_frame fr;
	static const uint16_t len[] = {30, 45, 65, 30, 45, 65};
	for (uint32_t f = 0; f < 6; f++) {
		assert_int_equal(play_frame(&p, f, out, &fr), 1);
		assert_int_equal(fr.len, len[f]);
		assert_int_equal(fr.ts_off, f * 960);
		assert_memory_equal(out, data + off[f % 3], len[f]);
		assert_int_equal(fr.marker, f == 0);
	}
	assert_int_equal(play_frame(&p, 6, out, &fr), 0);
	/* cut at 300 samples: the first packet only (packets are whole) */
	p.limit = 300;
	assert_int_equal(play_frame(&p, 0, out, &fr), 1);
	assert_int_equal(play_frame(&p, 1, out, &fr), 0);
}

static void test_audio_loops(void **state)
{
	(void)state;
	setup_data();
	struct stream_play p = {.kind = STREAM_PLAY_AUDIO, .pt = 0, .ptime_ms = 30, .loops = 2,
				.prompt = &prompt};
	uint8_t out[PLAY_FRAME_MAX];
	struct play_frame fr;
	/* 240-sample frames over 800 samples: the second frame runs from 240 to 399, then on
	 * into the prompt's beginning */
	assert_int_equal(play_frame(&p, 1, out, &fr), 1);
	assert_int_equal(fr.len, 240);
	assert_memory_equal(out, data + 240, 160);
	assert_memory_equal(out + 160, data, 80);
	assert_int_equal(fr.ts_off, 240);
	assert_int_equal(play_frame(&p, 3, out, &fr), 1); /* 720..799 then silence */
	assert_memory_equal(out, data + 320, 80);
	assert_int_equal(out[80], 0xff);
	assert_int_equal(play_frame(&p, 4, out, &fr), 0);
	/* a limit cuts the play short, the last frame padded: 300 samples of the 800 */
	p.limit = 300;
	assert_int_equal(play_frame(&p, 1, out, &fr), 1);
	assert_memory_equal(out, data + 240, 60);
	assert_int_equal(out[60], 0xff);
	assert_int_equal(play_frame(&p, 2, out, &fr), 0);
	p.limit = 0;
	/* loops 0: until stopped */
	p.loops = 0;
	assert_int_equal(play_frame(&p, 1000000, out, &fr), 1);
	assert_int_equal(fr.ts_off, (uint32_t)(1000000u * 240u));
	/* nothing to play, or a ptime longer than a frame can hold */
	struct stream_prompt empty = {.data = data, .n_samples = 0};
	p.prompt = &empty;
	assert_int_equal(play_frame(&p, 0, out, &fr), 0);
	p.prompt = &prompt;
	p.ptime_ms = 70;
	assert_int_equal(play_frame(&p, 0, out, &fr), 0);
}

/* The digits a play sends, as the receiver on the far side reports them. */
static void play_digits(const char *digits, unsigned ms, unsigned gap, unsigned ptime,
			char *heard, unsigned *dur_ms)
{
	struct stream_play p = {.kind = STREAM_PLAY_DTMF, .pt = 101, .ptime_ms = (uint8_t)ptime,
				.digit_ms = (uint16_t)ms, .gap_ms = (uint16_t)gap, .volume = 10};
	snprintf(p.digits, sizeof(p.digits), "%s", digits);
	struct stream_dtmf rx = {0};
	uint8_t pkt[12 + PLAY_FRAME_MAX];
	struct play_frame fr;
	unsigned n = 0, markers = 0, events = 0;
	uint32_t last_ts = 0;
	for (uint32_t f = 0; play_frame(&p, f, pkt + 12, &fr); f++) {
		assert_true(f < 10000);
		if (!fr.len)
			continue;
		assert_int_equal(fr.len, 4);
		memset(pkt, 0, 12);
		pkt[0] = 0x80;
		pkt[1] = 101;
		uint32_t ts = 1000 + fr.ts_off;
		pkt[4] = (uint8_t)(ts >> 24);
		pkt[5] = (uint8_t)(ts >> 16);
		pkt[6] = (uint8_t)(ts >> 8);
		pkt[7] = (uint8_t)ts;
		if (fr.marker) {
			markers++;
			assert_true(events == 0 || ts != last_ts); /* a new event, a new timestamp */
		}
		if (ts != last_ts)
			events++;
		last_ts = ts;
		struct dtmf_report r;
		if (dtmf_rx(&rx, pkt, 16, true, &r) == DTMF_REPORT) {
			assert_int_equal(r.flags, MSG_DTMF_ENDED);
			heard[n] = dtmf_char(r.event);
			dur_ms[n++] = r.duration / 8u;
		}
	}
	heard[n] = '\0';
	assert_int_equal(markers, events);
}

static void test_dtmf_round_trip(void **state)
{
	(void)state;
	char heard[40];
	unsigned dur[40];
	play_digits("0123456789*#ABCD", 100, 60, 20, heard, dur);
	assert_string_equal(heard, "0123456789*#ABCD");
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(dur[i], 100);
	/* a length that is not a whole number of frames: rounded up to one */
	play_digits("55", 90, 100, 20, heard, dur);
	assert_string_equal(heard, "55"); /* the same digit twice: two events */
	assert_int_equal(dur[0], 100);
	/* 30 ms frames, the shortest gap (the three end packets still fit) */
	play_digits("#1", 240, 40, 30, heard, dur);
	assert_string_equal(heard, "#1");
	assert_int_equal(dur[1], 240);
}

static void test_dtmf_codes(void **state)
{
	(void)state;
	assert_int_equal(play_dtmf_event('0'), 0);
	assert_int_equal(play_dtmf_event('9'), 9);
	assert_int_equal(play_dtmf_event('*'), 10);
	assert_int_equal(play_dtmf_event('#'), 11);
	assert_int_equal(play_dtmf_event('a'), 12);
	assert_int_equal(play_dtmf_event('D'), 15);
	assert_int_equal(play_dtmf_event('E'), -1);
	assert_int_equal(play_dtmf_event(' '), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audio_frames),
		cmocka_unit_test(test_audio_loops),
		cmocka_unit_test(test_g729_frames),
		cmocka_unit_test(test_packet_frames),
		cmocka_unit_test(test_dtmf_round_trip),
		cmocka_unit_test(test_dtmf_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
