#include "controlplane/media/prompt.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "dataplane/actions/transcode.h"
#include "dataplane/codec.h"

#define PROMPT_RATE 8000
#define TONE_LEVEL_DBM0 (-13.0) /* each frequency of a tone */
#define DBM0_PEAK 22706.0       /* peak of a 0 dBm0 sine in 16-bit G.711 linear (G.711's
				 * +3.14 dBm0 full scale) */
#define RESAMPLE_ZEROS 8        /* zero crossings of the low-pass kernel on each side */

/* Tone plans: the cadences ITU-T E.180's supplement lists for these administrations. */
struct tone_def {
	const char *name, *cadence;
};
static const struct tone_def plan_us[] = {
	{"dial", "350+440"},
	{"ringback", "440+480/2000,0/4000"},
	{"busy", "480+620/500,0/500"},
	{"congestion", "480+620/250,0/250"},
};
static const struct tone_def plan_eu[] = {
	{"dial", "425"},
	{"ringback", "425/1000,0/4000"},
	{"busy", "425/500,0/500"},
	{"congestion", "425/250,0/250"},
};
static const struct tone_def plan_uk[] = {
	{"dial", "350+440"},
	{"ringback", "400+450/400,0/200,400+450/400,0/2000"},
	{"busy", "400/375,0/375"},
	{"congestion", "400/400,0/350,400/225,0/525"},
};
static const struct {
	const char *name;
	const struct tone_def *tones;
	unsigned n;
} plans[] = {
	{"us", plan_us, sizeof(plan_us) / sizeof(plan_us[0])},
	{"eu", plan_eu, sizeof(plan_eu) / sizeof(plan_eu[0])},
	{"uk", plan_uk, sizeof(plan_uk) / sizeof(plan_uk[0])},
};
#define N_PLANS (sizeof(plans) / sizeof(plans[0]))
#define TONES_MAX 32

struct tone {
	char name[32];
	struct tone_seg seg[TONE_MAX_SEGS];
	unsigned n_seg;
};

struct prompt {
	char name[256];
	struct stream_prompt p;
};

static struct tone tones[TONES_MAX];
static unsigned n_tones;
static bool tones_set; /* prompt_init has run (else the "us" plan serves) */
static struct prompt *cache[PROMPT_CACHE_MAX];
static unsigned n_cache;
static size_t cache_bytes;

const char *tone_plans(void)
{
	return "us, eu, uk";
}

int tone_parse(const char *spec, struct tone_seg *segs, unsigned max, char *err, size_t err_len)
{
	unsigned n = 0;
	const char *p = spec;
	while (*p) {
		if (n == max) {
			snprintf(err, err_len, "more than %u steps in \"%s\"", max, spec);
			return -1;
		}
		char *end;
		unsigned long f1 = strtoul(p, &end, 10), f2 = 0, ms = 0;
		if (end == p)
			goto bad;
		p = end;
		if (*p == '+') {
			f2 = strtoul(p + 1, &end, 10);
			if (end == p + 1 || f2 == 0)
				goto bad;
			p = end;
		}
		if (*p == '/') {
			ms = strtoul(p + 1, &end, 10);
			if (end == p + 1 || ms == 0)
				goto bad;
			p = end;
		} else if (n == 0 && *p == '\0') {
			ms = 1000; /* a continuous tone: one second, looped */
		} else {
			goto bad;
		}
		if (f1 > 3400 || f2 > 3400 || ms > 30000 || (f1 == 0 && f2)) {
			snprintf(err, err_len,
				 "\"%s\": frequencies up to 3400 Hz, steps up to 30000 ms", spec);
			return -1;
		}
		segs[n++] = (struct tone_seg){(uint16_t)f1, (uint16_t)f2, (uint16_t)ms};
		if (*p == ',')
			p++;
		else if (*p)
			goto bad;
	}
	if (n == 0)
		goto bad;
	return (int)n;
bad:
	snprintf(err, err_len, "\"%s\" is not a cadence (e.g. \"440+480/2000,0/4000\" or \"425\")",
		 spec);
	return -1;
}

static struct tone *tone_find(const char *name)
{
	for (unsigned i = 0; i < n_tones; i++)
		if (strcmp(tones[i].name, name) == 0)
			return &tones[i];
	return NULL;
}

static int tone_set(const char *name, const char *cadence, char *err, size_t err_len)
{
	struct tone *t = tone_find(name);
	if (!t) {
		if (n_tones == TONES_MAX) {
			snprintf(err, err_len, "more than %d tones", TONES_MAX);
			return -1;
		}
		t = &tones[n_tones++];
		snprintf(t->name, sizeof(t->name), "%s", name);
	}
	int n = tone_parse(cadence, t->seg, TONE_MAX_SEGS, err, err_len);
	if (n < 0)
		return -1;
	t->n_seg = (unsigned)n;
	return 0;
}

int prompt_init(const char *plan, const char (*extra)[128], unsigned n, char *err,
		size_t err_len)
{
	unsigned pi = 0;
	while (pi < N_PLANS && strcmp(plans[pi].name, plan) != 0)
		pi++;
	if (pi == N_PLANS) {
		snprintf(err, err_len, "unknown tone plan \"%s\" (known: %s)", plan, tone_plans());
		return -1;
	}
	n_tones = 0;
	tones_set = true;
	for (unsigned i = 0; i < plans[pi].n; i++)
		if (tone_set(plans[pi].tones[i].name, plans[pi].tones[i].cadence, err, err_len))
			return -1;
	for (unsigned i = 0; i < n; i++) {
		char name[32];
		const char *eq = strchr(extra[i], '=');
		if (!eq || eq == extra[i] || (size_t)(eq - extra[i]) >= sizeof(name)) {
			snprintf(err, err_len, "\"%s\": a tone is \"name=cadence\"", extra[i]);
			return -1;
		}
		memcpy(name, extra[i], (size_t)(eq - extra[i]));
		name[eq - extra[i]] = '\0';
		if (tone_set(name, eq + 1, err, err_len) != 0)
			return -1;
	}
	return 0;
}

void prompt_shutdown(void)
{
	for (unsigned i = 0; i < n_cache; i++) {
		free((void *)cache[i]->p.data);
		free((void *)cache[i]->p.pkt);
		free(cache[i]);
	}
	n_cache = 0;
	cache_bytes = 0;
}

unsigned prompt_count(void)
{
	return n_cache;
}

size_t prompt_bytes(void)
{
	return cache_bytes;
}

/* One cadence of @t, 8 kHz linear. */
static float *tone_render(const struct tone *t, size_t *n_out)
{
	size_t n = 0;
	for (unsigned i = 0; i < t->n_seg; i++)
		n += (size_t)t->seg[i].ms * (PROMPT_RATE / 1000);
	float *x = malloc(n * sizeof(*x));
	if (!x)
		return NULL;
	double amp = DBM0_PEAK * pow(10.0, TONE_LEVEL_DBM0 / 20.0);
	size_t k = 0;
	for (unsigned i = 0; i < t->n_seg; i++) {
		size_t len = (size_t)t->seg[i].ms * (PROMPT_RATE / 1000);
		for (size_t j = 0; j < len; j++, k++) {
			/* the phase runs on across steps, so a cadence loops without a click when
			 * each step holds whole periods (every plan's does, to 1 Hz) */
			double tt = (double)k / PROMPT_RATE, v = 0;
			if (t->seg[i].f1)
				v += sin(2 * M_PI * t->seg[i].f1 * tt);
			if (t->seg[i].f2)
				v += sin(2 * M_PI * t->seg[i].f2 * tt);
			x[k] = (float)(amp * v);
		}
	}
	*n_out = n;
	return x;
}

size_t prompt_resampled_len(size_t n_frames, unsigned rate)
{
	return rate ? (size_t)((uint64_t)n_frames * PROMPT_RATE / rate) : 0;
}

/* Mono input sample @i (channels mixed), 0 outside the signal. */
static inline double mono_at(const float *in, size_t n, unsigned ch, long i)
{
	if (i < 0 || (size_t)i >= n)
		return 0;
	double s = 0;
	for (unsigned c = 0; c < ch; c++)
		s += in[(size_t)i * ch + c];
	return s / ch;
}

size_t prompt_resample(const float *in, size_t n_frames, unsigned ch, unsigned rate, float *out)
{
	size_t n_out = prompt_resampled_len(n_frames, rate);
	if (rate == PROMPT_RATE) {
		for (size_t k = 0; k < n_out; k++)
			out[k] = (float)mono_at(in, n_frames, ch, (long)k);
		return n_out;
	}
	/* windowed-sinc low-pass below the lower Nyquist frequency, evaluated at each output
	 * instant (Blackman window, RESAMPLE_ZEROS zero crossings a side) */
	double ratio = (double)rate / PROMPT_RATE;
	double fc = 0.5 * (ratio > 1 ? 1 / ratio : 1) * 0.95; /* cycles per input sample */
	double half = RESAMPLE_ZEROS / (2 * fc);
	for (size_t k = 0; k < n_out; k++) {
		double t = k * ratio, acc = 0, wsum = 0;
		long lo = (long)ceil(t - half), hi = (long)floor(t + half);
		for (long i = lo; i <= hi; i++) {
			double x = i - t;
			double s = x == 0 ? 1 : sin(2 * M_PI * fc * x) / (2 * M_PI * fc * x);
			double wpos = (x + half) / (2 * half);
			double w = 0.42 - 0.5 * cos(2 * M_PI * wpos) + 0.08 * cos(4 * M_PI * wpos);
			acc += s * w * mono_at(in, n_frames, ch, i);
			wsum += s * w;
		}
		out[k] = (float)(wsum != 0 ? acc / wsum : 0);
	}
	return n_out;
}

/* A WAV (or any format libsndfile reads) as 8 kHz mono linear. */
static float *wav_load(const char *path, size_t *n_out, char *err, size_t err_len)
{
	SF_INFO info = {0};
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (!f) {
		snprintf(err, err_len, "%s: %s", path, sf_strerror(NULL));
		return NULL;
	}
	float *in = NULL, *out = NULL;
	if (info.channels < 1 || info.channels > 8 || info.samplerate < 4000 ||
	    info.samplerate > 192000) {
		snprintf(err, err_len, "%s: %d channel(s) at %d Hz is not audio mgw plays", path,
			 info.channels, info.samplerate);
		goto out;
	}
	if (info.frames <= 0 || info.frames > (sf_count_t)info.samplerate * PROMPT_MAX_SECONDS) {
		snprintf(err, err_len, "%s: %lld samples: empty, or longer than %d s", path,
			 (long long)info.frames, PROMPT_MAX_SECONDS);
		goto out;
	}
	in = malloc((size_t)info.frames * (size_t)info.channels * sizeof(*in));
	if (!in) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto out;
	}
	sf_count_t got = sf_readf_float(f, in, info.frames);
	if (got <= 0) {
		snprintf(err, err_len, "%s: no audio could be read (%s)", path, sf_strerror(f));
		goto out;
	}
	size_t n = prompt_resampled_len((size_t)got, (unsigned)info.samplerate);
	if (n == 0) {
		snprintf(err, err_len, "%s: too short", path);
		goto out;
	}
	out = malloc(n * sizeof(*out));
	if (!out) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto out;
	}
	*n_out = prompt_resample(in, (size_t)got, (unsigned)info.channels,
				 (unsigned)info.samplerate, out);
	for (size_t i = 0; i < *n_out; i++)
		out[i] *= 32767.0f; /* libsndfile's full scale is 1.0 */
out:
	free(in);
	sf_close(f);
	return out;
}

/* @n samples at 8 kHz (a whole number of frames) into @out: G.711 by its law, G.722 at
 * 64 kbit/s in its 8 kHz mode (a byte per 8 kHz sample, on the same 8 kHz RTP clock), G.729
 * (10 bytes per 80 samples), or Opus (a packet per STREAM_PROMPT_PACKET samples, of its own
 * size, each one's start in @pkt), one encoder running through the whole prompt. Returns the
 * bytes written, or -1. */
static long prompt_encode(enum stream_codec c, const int16_t *pcm, size_t n, uint8_t *out,
			  uint32_t *pkt)
{
	if (c == STREAM_CODEC_PCMU || c == STREAM_CODEC_PCMA) {
		transcode_encode(pcm, n, out, c == STREAM_CODEC_PCMA);
		return (long)n;
	}
	struct codec_enc *e = codec_enc_new(c, 8000);
	long rc = e ? 0 : -1;
	unsigned step = c == STREAM_CODEC_G729   ? 80 * 6
			: c == STREAM_CODEC_OPUS ? STREAM_PROMPT_PACKET
						 : CODEC_MAX_PAYLOAD;
	for (size_t i = 0; rc >= 0 && i < n; i += step) {
		unsigned k = n - i < step ? (unsigned)(n - i) : step;
		if (pkt)
			pkt[i / step] = (uint32_t)rc;
		int len = codec_encode(e, pcm + i, k, out + rc);
		rc = len > 0 ? rc + len : -1;
	}
	if (pkt && rc >= 0)
		pkt[n / step] = (uint32_t)rc;
	codec_enc_free(e);
	return rc;
}

const struct stream_prompt *prompt_get(const char *name, uint8_t pt, char *err, size_t err_len)
{
	enum stream_codec c = pt == 0    ? STREAM_CODEC_PCMU
			      : pt == 8  ? STREAM_CODEC_PCMA
			      : pt == 9  ? STREAM_CODEC_G722
			      : pt == 18 ? STREAM_CODEC_G729
					 : STREAM_CODEC_NONE;
	if (c == STREAM_CODEC_NONE) {
		snprintf(err, err_len, "prompts are PCMU (0), PCMA (8), G.722 (9), G.729 (18) or "
			 "Opus, not payload type %u", pt);
		return NULL;
	}
	return prompt_for(name, c, err, err_len);
}

const struct stream_prompt *prompt_for(const char *name, enum stream_codec codec, char *err,
				       size_t err_len)
{
	const struct codec_info *ci = codec_info(codec);
	if (!ci) {
		snprintf(err, err_len, "no prompts for codec %u", codec);
		return NULL;
	}
	bool opus = codec == STREAM_CODEC_OPUS;
	unsigned frame = codec == STREAM_CODEC_G729 ? 80 : opus ? STREAM_PROMPT_PACKET : 1;
	unsigned shift = codec == STREAM_CODEC_G729 ? 3 : 0;
	for (unsigned i = 0; i < n_cache; i++)
		if (cache[i]->p.codec == codec && strcmp(cache[i]->name, name) == 0)
			return &cache[i]->p;
	if (strlen(name) >= sizeof(cache[0]->name)) {
		snprintf(err, err_len, "prompt name longer than %zu bytes", sizeof(cache[0]->name) - 1);
		return NULL;
	}
	if (n_cache == PROMPT_CACHE_MAX) {
		snprintf(err, err_len, "%d prompts held already", PROMPT_CACHE_MAX);
		return NULL;
	}
	float *lin;
	size_t n = 0;
	if (strncmp(name, "dtmf:", 5) == 0) {
		/* a DTMF digit in-band (ITU-T Q.23): its row and column frequencies, 1 s, for
		 * plays that cut it to the digit's length */
		static const char keys[] = "123A456B789C*0#D";
		static const uint16_t row[4] = {697, 770, 852, 941}, col[4] = {1209, 1336, 1477, 1633};
		const char *k = name[5] && !name[6] ? strchr(keys, name[5]) : NULL;
		if (!k) {
			snprintf(err, err_len, "\"%s\" is not a DTMF digit (dtmf:0-9, *, #, A-D)", name);
			return NULL;
		}
		struct tone t = {.n_seg = 1};
		size_t i = (size_t)(k - keys);
		t.seg[0] = (struct tone_seg){row[i / 4], col[i % 4], 1000};
		lin = tone_render(&t, &n);
		if (!lin)
			snprintf(err, err_len, "out of memory");
	} else if (strncmp(name, "tone:", 5) == 0) {
		if (!tones_set) /* asked before any configuration: the default plan */
			prompt_init("us", NULL, 0, err, err_len);
		const struct tone *t = tone_find(name + 5);
		if (!t) {
			snprintf(err, err_len, "no tone \"%s\" in the tone plan", name + 5);
			return NULL;
		}
		lin = tone_render(t, &n);
		if (!lin)
			snprintf(err, err_len, "out of memory");
	} else {
		lin = wav_load(name, &n, err, err_len);
	}
	if (!lin)
		return NULL;
	size_t whole = (n + frame - 1) / frame * frame; /* the last frame filled with silence */
	if (whole != n) {
		float *l = realloc(lin, whole * sizeof(*lin));
		if (!l) {
			free(lin);
			snprintf(err, err_len, "out of memory");
			return NULL;
		}
		lin = l;
		memset(lin + n, 0, (whole - n) * sizeof(*lin));
		n = whole;
	}
	/* Opus: at most CODEC_MAX_PAYLOAD a packet; what it takes is known once encoded */
	size_t bytes = opus ? n / STREAM_PROMPT_PACKET * CODEC_MAX_PAYLOAD : n >> shift;
	if (cache_bytes + (n >> shift) > PROMPT_CACHE_BYTES) {
		free(lin);
		snprintf(err, err_len, "%s: the prompts held would pass %u MB", name,
			 PROMPT_CACHE_BYTES >> 20);
		return NULL;
	}
	struct prompt *p = calloc(1, sizeof(*p));
	uint8_t *data = malloc(bytes);
	uint32_t *pkt = opus ? malloc((n / STREAM_PROMPT_PACKET + 1) * sizeof(*pkt)) : NULL;
	if (!p || !data || (opus && !pkt)) {
		free(p);
		free(data);
		free(pkt);
		free(lin);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	int16_t *pcm = malloc(n * sizeof(*pcm));
	for (size_t i = 0; pcm && i < n; i++) {
		float v = lin[i];
		pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : (int16_t)lrintf(v);
	}
	free(lin);
	long got = pcm ? prompt_encode(codec, pcm, n, data, pkt) : -1;
	free(pcm);
	if (got < 0) {
		free(data);
		free(pkt);
		free(p);
		snprintf(err, err_len, "%s: cannot encode it in %s", name, ci->name);
		return NULL;
	}
	bytes = (size_t)got;
	if (opus) { /* what the packets took */
		uint8_t *d = realloc(data, bytes);
		data = d ? d : data;
		if (cache_bytes + bytes > PROMPT_CACHE_BYTES) {
			free(data);
			free(pkt);
			free(p);
			snprintf(err, err_len, "%s: the prompts held would pass %u MB", name,
				 PROMPT_CACHE_BYTES >> 20);
			return NULL;
		}
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->p = (struct stream_prompt){.data = data, .pkt = pkt, .n_samples = (uint32_t)n,
				      .pt = ci->static_pt, .codec = (uint8_t)codec,
				      .shift = (uint8_t)shift, .frame = (uint16_t)frame,
				      .ts_mult = (uint8_t)(ci->rtp_clock / 8000)};
	cache[n_cache++] = p;
	cache_bytes += bytes;
	return &p->p;
}
