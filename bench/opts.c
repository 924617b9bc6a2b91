/* opts: mgw-bench's command line (see opts.h). */
#include "bench/opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPTS_MAX_STREAMS (2u * 10000u * 200u) /* 200 bench addresses of 10000 pairs */

static void opts_usage(FILE *out)
{
	fprintf(out,
		"usage: mgw-bench [options]\n"
		"  --target mgwd|limit     mgwd relay pairs (default) or testpmd io forwarding\n"
		"  -s, --socket PATH       mgwd control socket (default /run/mgw/mgwd.sock)\n"
		"  --memif PATH            memif socket, the target is the server (default\n"
		"                          /run/mgw/bench.memif)\n"
		"  --streams N             streams, N/2 relay pairs (default 1000)\n"
		"  --frame-bytes N         Ethernet frame without FCS, 74..1514 (default 214)\n"
		"  --pps N                 offered packets/s, 0 = flat out (default 0)\n"
		"  --duration S            measured seconds (default 5)\n"
		"  --warmup S              seconds before the measurement (default 1)\n"
		"  --drain-ms N            receive-only time after the window (default 200)\n"
		"  --ip A.B.C.D            first bench address (default 198.19.0.1); address k is\n"
		"                          A.B.C.D + 256 k, one per 10000 pairs\n"
		"  --media-ip A.B.C.D      limit mode: first target address (default 198.19.0.10)\n"
		"  --one-way               send towards leg A only (default: both legs)\n"
		"  --announce PLAY         mgwd plays PLAY (\"tone:dial\", a WAV) on every pair's leg\n"
		"                          A, looped, and the bench only receives: per stream, loss\n"
		"                          (sequence gaps) and pacing (arrival vs 20 ms)\n"
		"  --transcode CODEC       pairs speak PCMU on leg A and CODEC (G722, G729, opus) on\n"
		"                          leg B: both directions real audio at 20 ms, mgwd\n"
		"                          transcodes; per stream loss and pacing as --announce\n"
		"  --delete-half-at S      delete every second pair S seconds into the window\n"
		"  --idle-probes N         after the run, N single frames each after an idle spell:\n"
		"                          the latency of a target that has gone to sleep\n"
		"  --idle-gap-ms N         idle spell before each probe (default 20)\n"
		"  --pairs-file PATH       load the pairs from PATH if it exists, else save them\n"
		"  --keep                  leave the pairs in mgwd at the end\n"
		"  --lcores L              EAL --lcores (default 0@0)\n"
		"  -m MB                   EAL memory (default 1024)\n"
		"  --file-prefix P         EAL file prefix (default mgw-bench-gen)\n"
		"  --mbufs N               mbufs per pool (default 16383)\n"
		"  --zero-copy             memif zero-copy=yes\n"
		"  --json                  one JSON object on stdout\n"
		"  --label TEXT            copied into the JSON object\n"
		"  -h, --help              this text\n");
}

static int opts_num(const char *name, const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "mgw-bench: %s: expected a number in %g..%g, got '%s'\n", name, lo,
			hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int opts_ip(const char *name, const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "mgw-bench: %s: not an IPv4 address: '%s'\n", name, s);
		return -1;
	}
	*out = ntohl(a.s_addr);
	return 0;
}

static void opts_defaults(struct opts *o)
{
	*o = (struct opts){
		.target = OPTS_TARGET_MGWD,
		.ctl_socket = "/run/mgw/mgwd.sock",
		.memif_socket = "/run/mgw/bench.memif",
		.lcores = "0@0",
		.file_prefix = "mgw-bench-gen",
		.memory_mb = 1024,
		.mbufs = 16383,
		.streams = 1000,
		.frame_bytes = 214,
		.duration_s = 5,
		.warmup_s = 1,
		.drain_ms = 200,
		.ip = 0xc6130001,       /* 198.19.0.1 */
		.media_ip = 0xc613000a, /* 198.19.0.10 */
		.delete_half_at_s = -1,
		.idle_gap_ms = 20,
		.label = "",
	};
}

enum {
	O_TARGET = 256, O_MEMIF, O_STREAMS, O_FRAME, O_PPS, O_DURATION, O_WARMUP, O_DRAIN, O_IP,
	O_MEDIA_IP, O_ONE_WAY, O_DELETE_HALF, O_PAIRS, O_KEEP, O_LCORES, O_PREFIX, O_MBUFS,
	O_ZC, O_JSON, O_LABEL, O_IDLE_PROBES, O_IDLE_GAP, O_ANNOUNCE, O_TRANSCODE,
};

static const struct option opts_long[] = {
	{ "target", required_argument, NULL, O_TARGET },
	{ "socket", required_argument, NULL, 's' },
	{ "memif", required_argument, NULL, O_MEMIF },
	{ "streams", required_argument, NULL, O_STREAMS },
	{ "frame-bytes", required_argument, NULL, O_FRAME },
	{ "pps", required_argument, NULL, O_PPS },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "drain-ms", required_argument, NULL, O_DRAIN },
	{ "ip", required_argument, NULL, O_IP },
	{ "media-ip", required_argument, NULL, O_MEDIA_IP },
	{ "one-way", no_argument, NULL, O_ONE_WAY },
	{ "announce", required_argument, NULL, O_ANNOUNCE },
	{ "transcode", required_argument, NULL, O_TRANSCODE },
	{ "delete-half-at", required_argument, NULL, O_DELETE_HALF },
	{ "pairs-file", required_argument, NULL, O_PAIRS },
	{ "keep", no_argument, NULL, O_KEEP },
	{ "lcores", required_argument, NULL, O_LCORES },
	{ "file-prefix", required_argument, NULL, O_PREFIX },
	{ "mbufs", required_argument, NULL, O_MBUFS },
	{ "zero-copy", no_argument, NULL, O_ZC },
	{ "json", no_argument, NULL, O_JSON },
	{ "label", required_argument, NULL, O_LABEL },
	{ "idle-probes", required_argument, NULL, O_IDLE_PROBES },
	{ "idle-gap-ms", required_argument, NULL, O_IDLE_GAP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Options that take a number. */
static int opts_set_num(struct opts *o, int c, const char *arg)
{
	double v;
	switch (c) {
	case O_STREAMS:
		if (opts_num("--streams", arg, 2, OPTS_MAX_STREAMS, &v))
			return -1;
		o->streams = (uint32_t)v & ~1u;
		return 0;
	case O_FRAME:
		if (opts_num("--frame-bytes", arg, 74, 1514, &v))
			return -1;
		o->frame_bytes = (unsigned)v & ~1u; /* even: keeps checksum words aligned */
		return 0;
	case O_PPS:
		if (opts_num("--pps", arg, 0, 1e9, &v))
			return -1;
		o->pps = (uint64_t)v;
		return 0;
	case O_DURATION:
		return opts_num("--duration", arg, 0.1, 86400, &o->duration_s);
	case O_WARMUP:
		return opts_num("--warmup", arg, 0, 3600, &o->warmup_s);
	case O_DRAIN:
		if (opts_num("--drain-ms", arg, 0, 60000, &v))
			return -1;
		o->drain_ms = (unsigned)v;
		return 0;
	case O_IDLE_PROBES:
		if (opts_num("--idle-probes", arg, 0, 100000, &v))
			return -1;
		o->idle_probes = (unsigned)v;
		return 0;
	case O_IDLE_GAP:
		if (opts_num("--idle-gap-ms", arg, 1, 60000, &v))
			return -1;
		o->idle_gap_ms = (unsigned)v;
		return 0;
	case O_DELETE_HALF:
		return opts_num("--delete-half-at", arg, 0, 86400, &o->delete_half_at_s);
	case 'm':
		if (opts_num("-m", arg, 64, 1 << 20, &v))
			return -1;
		o->memory_mb = (unsigned)v;
		return 0;
	case O_MBUFS:
		if (opts_num("--mbufs", arg, 1023, 1 << 24, &v))
			return -1;
		o->mbufs = (unsigned)v;
		return 0;
	}
	return -1;
}

static int opts_set(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case O_TARGET:
		if (strcmp(arg, "mgwd") == 0)
			o->target = OPTS_TARGET_MGWD;
		else if (strcmp(arg, "limit") == 0)
			o->target = OPTS_TARGET_LIMIT;
		else {
			fprintf(stderr, "mgw-bench: --target: mgwd or limit, got '%s'\n", arg);
			return -1;
		}
		return 0;
	case 's': o->ctl_socket = arg; return 0;
	case O_MEMIF: o->memif_socket = arg; return 0;
	case O_IP: return opts_ip("--ip", arg, &o->ip);
	case O_MEDIA_IP: return opts_ip("--media-ip", arg, &o->media_ip);
	case O_ONE_WAY: o->one_way = true; return 0;
	case O_ANNOUNCE: o->announce = arg; return 0;
	case O_TRANSCODE: o->transcode = arg; return 0;
	case O_PAIRS: o->pairs_file = arg; return 0;
	case O_KEEP: o->keep = true; return 0;
	case O_LCORES: o->lcores = arg; return 0;
	case O_PREFIX: o->file_prefix = arg; return 0;
	case O_ZC: o->zero_copy = true; return 0;
	case O_JSON: o->json = true; return 0;
	case O_LABEL: o->label = arg; return 0;
	}
	return opts_set_num(o, c, arg);
}

int opts_parse(struct opts *o, int argc, char **argv)
{
	int c;

	opts_defaults(o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:m:h", opts_long, NULL)) != -1) {
		if (c == 'h') {
			opts_usage(stdout);
			return 1;
		}
		if (c == '?' || opts_set(o, c, optarg) != 0) {
			if (c == '?')
				opts_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mgw-bench: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->transcode && (o->target != OPTS_TARGET_MGWD || o->announce || o->one_way)) {
		fprintf(stderr, "mgw-bench: --transcode needs --target mgwd, both ways, no "
			"--announce\n");
		return -1;
	}
	if (o->delete_half_at_s >= 0 && o->target != OPTS_TARGET_MGWD) {
		fprintf(stderr, "mgw-bench: --delete-half-at needs --target mgwd\n");
		return -1;
	}
	return 0;
}
