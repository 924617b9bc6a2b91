#include "controlplane/media/playapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/media/media.h"
#include "controlplane/media/pairs.h"
#include "controlplane/media/prompt.h"
#include "dataplane/player.h"
#include "util/log.h"

/* "stream": "ip:port", a stream's local media address (sessions.list shows them). */
static int stream_arg(json_t *req, unsigned *ai, uint16_t *port, char *err, size_t len)
{
	const char *s = json_string_value(json_object_get(req, "stream"));
	char ip[INET_ADDRSTRLEN];
	unsigned p;
	struct in_addr a;
	const char *colon = s ? strrchr(s, ':') : NULL;
	if (!colon || (size_t)(colon - s) >= sizeof(ip) ||
	    sscanf(colon + 1, "%u", &p) != 1 || p == 0 || p > 65535) {
		snprintf(err, len, "needs \"stream\": \"address:port\" (a local media address)");
		return -1;
	}
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	int i = inet_pton(AF_INET, ip, &a) == 1 ? media_addr_index(a.s_addr) : -1;
	if (i < 0) {
		snprintf(err, len, "%s is not a media address of this mgwd", ip);
		return -1;
	}
	*ai = (unsigned)i;
	*port = (uint16_t)(p & ~1u);
	return 0;
}

/* An optional integer member in [lo, hi], @def when absent. */
static int int_arg(json_t *req, const char *key, long lo, long hi, long def, long *out,
		   char *err, size_t len)
{
	json_t *v = json_object_get(req, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, len, "\"%s\" must be an integer from %ld to %ld", key, lo, hi);
		return -1;
	}
	*out = (long)json_integer_value(v);
	return 0;
}

/* @tmpl played on the stream at (@ai, @port). Returns the play's gen, or 0 with a message. */
static uint32_t play_one(unsigned ai, uint16_t port, const struct stream_play *tmpl,
			 char *err, size_t len)
{
	int rc;
	uint32_t gen = media_play_copy(ai, port, tmpl, &rc);
	if (!gen)
		snprintf(err, len, "%s:%u: %s", inet_ntoa(media_addr(ai)), port,
			 rc == -ENOENT ? "no stream on that port" : strerror(-rc));
	return gen;
}

struct each_ctx {
	const struct stream_play *tmpl;
	char *err;
	size_t len;
	unsigned n;
};

static int play_leg(const struct media_ep *ep, void *ctx)
{
	struct each_ctx *e = ctx;
	if (!play_one(ep->addr_idx, ep->port, e->tmpl, e->err, e->len))
		return -1;
	e->n++;
	return 0;
}

/* Start @tmpl where the request says: "stream": "ip:port", or "tag" (relay pairs made by
 * media.create) with "leg": "a" (default) or "b". */
static json_t *play_targets(json_t *req, const struct stream_play *tmpl, const char *what,
			    char *err, size_t len)
{
	const char *tag = json_string_value(json_object_get(req, "tag"));
	if (tag) {
		const char *leg = json_string_value(json_object_get(req, "leg"));
		if (leg && strcmp(leg, "a") != 0 && strcmp(leg, "b") != 0) {
			snprintf(err, len, "\"leg\" is \"a\" or \"b\"");
			return NULL;
		}
		struct each_ctx e = {.tmpl = tmpl, .err = err, .len = len};
		int rc = pairs_each_leg(tag, leg && leg[0] == 'b', play_leg, &e);
		if (rc == -ENOENT)
			snprintf(err, len, "no pair tagged \"%s\"", tag);
		if (rc != 0)
			return NULL;
		LOG_I("media", "%u plays on the pairs tagged %s: %s", e.n, tag, what);
		return json_pack("{s:I}", "plays", (json_int_t)e.n);
	}
	unsigned ai;
	uint16_t port;
	if (stream_arg(req, &ai, &port, err, len) != 0)
		return NULL;
	uint32_t gen = play_one(ai, port, tmpl, err, len);
	if (!gen)
		return NULL;
	LOG_I("media", "play %u on %s:%u: %s", gen, inet_ntoa(media_addr(ai)), port, what);
	return json_pack("{s:I}", "play", (json_int_t)gen);
}

/* media.play {"stream":"ip:port", "play":"tone:ringback" | "/path/file.wav",
 *             "loops":N (1; 0 = until stopped), "pt":0|8 (0), "ptime":ms (20)} */
static json_t *cmd_play(json_t *req, char *err, size_t len, void *ctx)
{
	(void)ctx;
	long loops, pt, ptime;
	const char *what = json_string_value(json_object_get(req, "play"));
	if (int_arg(req, "loops", 0, 1000000, 1, &loops, err, len) != 0 ||
	    int_arg(req, "pt", 0, 18, 0, &pt, err, len) != 0 ||
	    int_arg(req, "ptime", 10, 60, 20, &ptime, err, len) != 0)
		return NULL;
	if (!what) {
		snprintf(err, len, "needs \"play\": \"tone:NAME\" or a WAV file's path");
		return NULL;
	}
	if ((pt != 0 && pt != 8 && pt != 9 && pt != 18) || ptime % 10) {
		snprintf(err, len, "\"pt\" is 0 (PCMU), 8 (PCMA), 9 (G.722) or 18 (G.729), "
			 "\"ptime\" 10, 20 ... 60");
		return NULL;
	}
	const struct stream_prompt *pr = prompt_get(what, (uint8_t)pt, err, len);
	if (!pr)
		return NULL;
	struct stream_play tmpl = {.kind = STREAM_PLAY_AUDIO, .pt = (uint8_t)pt,
				   .ptime_ms = (uint8_t)ptime, .loops = (uint32_t)loops,
				   .prompt = pr};
	return play_targets(req, &tmpl, what, err, len);
}

/* media.dtmf {"stream":"ip:port", "digits":"123#", "pt":101, "duration":ms (100),
 *             "gap":ms (60), "volume":dBm0 below 0 (10)} */
static json_t *cmd_dtmf(json_t *req, char *err, size_t len, void *ctx)
{
	(void)ctx;
	long pt, dur, gap, vol;
	const char *digits = json_string_value(json_object_get(req, "digits"));
	if (int_arg(req, "pt", 96, 127, 101, &pt, err, len) != 0 ||
	    int_arg(req, "duration", 40, 5000, 100, &dur, err, len) != 0 ||
	    int_arg(req, "gap", 40, 5000, 60, &gap, err, len) != 0 ||
	    int_arg(req, "volume", 0, 63, 10, &vol, err, len) != 0)
		return NULL;
	size_t n = digits ? strlen(digits) : 0;
	bool ok = n > 0 && n <= STREAM_PLAY_DIGITS_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = play_dtmf_event(digits[i]) >= 0;
	if (!ok) {
		snprintf(err, len, "needs \"digits\": 1 to %d of 0-9 * # A-D",
			 STREAM_PLAY_DIGITS_MAX);
		return NULL;
	}
	struct stream_play tmpl = {.kind = STREAM_PLAY_DTMF, .pt = (uint8_t)pt, .ptime_ms = 20,
				   .digit_ms = (uint16_t)dur, .gap_ms = (uint16_t)gap,
				   .volume = (uint8_t)vol};
	memcpy(tmpl.digits, digits, n + 1);
	char what[48];
	snprintf(what, sizeof(what), "DTMF %s", digits);
	return play_targets(req, &tmpl, what, err, len);
}

static int stop_leg(const struct media_ep *ep, void *ctx)
{
	(void)ctx;
	return media_ep_play_stop(ep);
}

/* media.stop {"stream":"ip:port"} or {"tag":T, "leg":"a"|"b"} */
static json_t *cmd_stop(json_t *req, char *err, size_t len, void *ctx)
{
	(void)ctx;
	const char *tag = json_string_value(json_object_get(req, "tag"));
	int rc;
	if (tag) {
		const char *leg = json_string_value(json_object_get(req, "leg"));
		rc = pairs_each_leg(tag, leg && leg[0] == 'b', stop_leg, NULL);
	} else {
		unsigned ai;
		uint16_t port;
		if (stream_arg(req, &ai, &port, err, len) != 0)
			return NULL;
		rc = media_play_stop(ai, port);
	}
	if (rc != 0) {
		snprintf(err, len, "%s", rc == -ENOENT ? "no stream there" : strerror(-rc));
		return NULL;
	}
	return json_null();
}

void playapi_register(struct api *api)
{
	api_register(api, "media.play", cmd_play, NULL);
	api_register(api, "media.dtmf", cmd_dtmf, NULL);
	api_register(api, "media.stop", cmd_stop, NULL);
}
