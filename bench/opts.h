/* opts: mgw-bench's command line, parsed into one struct that the other modules read. */
#ifndef MGW_BENCH_OPTS_H
#define MGW_BENCH_OPTS_H

#include <stdbool.h>
#include <stdint.h>

enum opts_target { OPTS_TARGET_MGWD, OPTS_TARGET_LIMIT };

struct opts {
	enum opts_target target;
	const char *ctl_socket;   /* mgwd control socket */
	const char *memif_socket; /* memif UNIX socket (the target is the server) */
	const char *lcores;       /* EAL --lcores */
	const char *file_prefix;  /* EAL --file-prefix */
	unsigned memory_mb;       /* EAL -m */
	unsigned mbufs;           /* per pool (TX and RX) */
	bool zero_copy;           /* memif zero-copy=yes */
	uint32_t streams;         /* streams, i.e. streams / 2 relay pairs */
	unsigned frame_bytes;     /* Ethernet frame without FCS */
	uint64_t pps;             /* offered rate, 0 = flat out */
	double duration_s;        /* measured window */
	double warmup_s;          /* before the window, not measured */
	unsigned drain_ms;        /* after the window: receive only */
	uint32_t ip;              /* first bench address, host order; address k is ip + 256 k */
	uint32_t media_ip;        /* limit mode only: first synthetic target address, host order */
	double delete_half_at_s;  /* < 0: never; else seconds into the window */
	const char *pairs_file;   /* reuse / save the created pairs */
	bool keep;                /* do not delete the pairs at the end */
	bool one_way;             /* send only towards leg A */
	const char *announce;     /* mgwd: play this on every pair's leg A (media.play, "tone:dial"
				   * or a WAV) instead of sending; measure what arrives */
	const char *transcode;    /* mgwd: the pairs' B legs speak this codec (G722, G729, opus),
				   * their A legs PCMU: both directions carry real audio and mgwd
				   * transcodes; measure what arrives per stream, as --announce */
	unsigned idle_probes;     /* after the run: single frames separated by idle spells */
	unsigned idle_gap_ms;     /* length of each idle spell */
	bool json;
	const char *label;        /* free text copied into the JSON object */
};

/** Parse argv (after the EAL has been given its own arguments: mgw-bench builds those itself).
 *  Returns 0, 1 when help was printed, or -1 after printing a message on stderr. */
int opts_parse(struct opts *o, int argc, char **argv);

#endif
