/* prompt: what mgw's player plays, prepared on the control plane: WAV files (libsndfile,
 * mixed to mono, resampled to 8 kHz, encoded once per G.711 law) and tones of a national tone
 * plan (ringback, busy, congestion, dial; one cadence, looped by the player). Prompts are
 * cached by name and law and kept until shutdown: a worker may be playing any of them.
 *
 * A play source is named by one string: "tone:NAME" for a tone of the plan, anything else is
 * a WAV file's path. */
#ifndef MGW_PROMPT_H
#define MGW_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include "shared/stream.h"

#define PROMPT_MAX_SECONDS 600 /* a file longer than this is refused */
#define PROMPT_CACHE_MAX 256   /* distinct (name, law) prompts */
#define PROMPT_CACHE_BYTES (256u << 20) /* and their samples, in all */
#define TONE_MAX_SEGS 8

/* One step of a tone's cadence: f1 (+ f2) Hz for ms, or silence when f1 is 0. */
struct tone_seg {
	uint16_t f1, f2;
	uint16_t ms;
};

/** Parse a cadence "f1[+f2]/ms,0/ms,..." ("425" alone: continuous) into @segs. Returns the
 *  number of segments, or -1 with a message in @err. */
int tone_parse(const char *spec, struct tone_seg *segs, unsigned max, char *err, size_t err_len);
/** The built-in tone plans' names, for messages ("us, eu, uk"). */
const char *tone_plans(void);

/** Set the tone plan (@plan: "us", "eu", "uk") and the @n overrides or additions @tones
 *  ("name=cadence"). Returns 0, or -1 with a message. Before any prompt is asked for. */
int prompt_init(const char *plan, const char (*tones)[128], unsigned n, char *err,
		size_t err_len);
/** Free every prompt (at shutdown, once no worker plays). */
void prompt_shutdown(void);
/** The prompt @name ("tone:NAME" or a WAV path) encoded for payload type @pt (0 PCMU, 8 PCMA,
 *  9 G.722: a byte per 8 kHz sample each; 18 G.729: 10 bytes per 80 samples), loaded on
 *  first use. NULL with a message (naming the file and what is wrong with it). */
const struct stream_prompt *prompt_get(const char *name, uint8_t pt, char *err, size_t err_len);
/** The same for codec @codec (any mgw knows; Opus: 20 ms packets, encoded at 8 kHz, its
 *  48 kHz timestamps; the play names the stream's payload type). */
const struct stream_prompt *prompt_for(const char *name, enum stream_codec codec, char *err,
				       size_t err_len);
/** Prompts held, and their bytes. */
unsigned prompt_count(void);
size_t prompt_bytes(void);

/* For tests: @n 16-bit samples at @rate Hz, @ch interleaved channels -> @out (8 kHz mono,
 * room for prompt_resampled_len()). Returns the samples written. */
size_t prompt_resampled_len(size_t n_frames, unsigned rate);
size_t prompt_resample(const float *in, size_t n_frames, unsigned ch, unsigned rate, float *out);

#endif
