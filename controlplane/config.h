/* config: the daemon's configuration, read from a libconfig file.
 *
 * Every key is optional: config_defaults() fills in the embedded default (DPDK --no-huge, a
 * net_tap port whose kernel side mgwd configures, SIP on 127.0.0.1:5060), and config_load()
 * overrides what the file names. Unknown keys and wrong types are errors, reported with the
 * file, line and key so that an operator can fix them. */
#ifndef MGW_CONFIG_H
#define MGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define CONFIG_STR_MAX 256
#define CONFIG_MAX_EAL_EXTRA 16
#define CONFIG_MAX_TONES 16
#define CONFIG_MAX_CODECS 8
#define CONFIG_MAX_NG_ALLOW 16
#define CONFIG_MAX_NG_IFACES 8

struct config {
	/* eal { } */
	char eal_lcores[CONFIG_STR_MAX];      /* --lcores value, "" = let mgwd pick (0,1) */
	unsigned eal_memory_mb;               /* -m, default 512 */
	bool eal_no_huge;                     /* --no-huge, default true */
	bool eal_no_pci;                      /* --no-pci, default true */
	char eal_file_prefix[CONFIG_STR_MAX]; /* --file-prefix, default "mgw" */
	unsigned eal_n_extra;                 /* eal.extra: further EAL arguments, verbatim */
	char eal_extra[CONFIG_MAX_EAL_EXTRA][CONFIG_STR_MAX];

	/* dataplane { } */
	unsigned dp_workers;                /* worker lcores, default 1 */
	unsigned dp_mbufs;                  /* mbufs per port pool, default 8191 */
	unsigned dp_rx_desc, dp_tx_desc;    /* ring sizes, default 1024 */
	char dp_vdev[CONFIG_STR_MAX];       /* --vdev for the port, default "net_tap0,iface=mgw0";
					      "" = use the port(s) EAL finds (PCI) */
	char dp_tap_iface[64];              /* kernel side interface to configure, default "mgw0";
					      "" = do not touch the host */
	struct in_addr dp_tap_addr;         /* kernel side address, default 198.18.0.1 */
	unsigned dp_tap_prefix;             /* its prefix length, default 24 */
	struct in_addr dp_media_ip;         /* our (first) media address, default 198.18.0.2 */
	unsigned dp_media_ip_count;         /* media addresses from dp_media_ip on, default 1 */
	unsigned dp_media_prefix;           /* on-link prefix length of the media addresses,
					      default 24 */
	struct in_addr dp_gateway;          /* next hop for off-link peers, default 0 = none */
	int dp_idle;                        /* enum dp_idle: "adaptive" (default) or "poll" */

	/* media { } */
	unsigned media_port_min, media_port_max; /* default 10000-20000, RTP ports are even */
	unsigned media_n_codecs;                 /* codecs offered/accepted, in preference order */
	char media_codecs[CONFIG_MAX_CODECS][32]; /* default PCMU, PCMA, telephone-event */
	unsigned media_ptime;                    /* default 20 */
	unsigned media_opus_complexity;          /* Opus encoder effort 0-10 (default 5): what a
						  * transcoded call costs the worker */
	unsigned media_timeout_s;      /* end a call silent both ways this long, default 60, 0 = off */
	unsigned media_hold_timeout_s; /* the same while on hold, default 7200, 0 = off */
	bool media_talk_events;        /* B2BUA: log when each leg's peer starts talking and falls
					* silent (voice activity), count its talk spurts */
	bool media_inband_dtmf;        /* B2BUA: listen for in-band DTMF on legs without
					* telephone-event, report it and play it as RFC 4733 to
					* a leg with it */
	unsigned media_silence_timeout_s; /* end a B2BUA call when a leg's G.711 audio stays below
					   * the voice threshold this long (one-way audio), 0 = off */
	int media_latch;               /* enum stream_latch for call legs, default "any" */
	char media_tone_plan[8];       /* the national tone plan: "us" (default), "eu", "uk" */
	char media_moh[CONFIG_STR_MAX]; /* music on hold: played to a B2BUA leg the other leg puts
					 * on hold (a WAV or "tone:NAME"); "" = none */
	char media_ringback[CONFIG_STR_MAX]; /* played to a B2BUA caller while the callee rings
					      * without early media; "" = none */
	char media_tones[CONFIG_MAX_TONES][128]; /* "name=cadence": tones added or redefined */
	unsigned media_n_tones;

	/* cdr { } */
	char cdr_file[CONFIG_STR_MAX]; /* call records, one JSON line per call; "" = the log */

	/* ng { }: the rtpengine NG control protocol */
	struct in_addr ng_listen; /* default 127.0.0.1 */
	unsigned ng_port;         /* UDP, default 2223; 0 = off */
	char ng_allow[CONFIG_MAX_NG_ALLOW][16]; /* IPv4 sources answered, default 127.0.0.1 */
	unsigned ng_n_allow;
	/* "name/address": the NG direction names (rtpengine's interface names), each one of the
	 * media pool's addresses; none = direction is refused */
	char ng_interfaces[CONFIG_MAX_NG_IFACES][64];
	unsigned ng_n_interfaces;

	/* metrics { }: Prometheus at http://listen:port/metrics */
	struct in_addr metrics_listen; /* default 127.0.0.1 */
	unsigned metrics_port;         /* default 9180; 0 = off */

	/* journal { } */
	char journal_file[CONFIG_STR_MAX]; /* established calls, taken back after a restart;
					      default /run/mgw/calls.journal, "" = none */
	char journal_redis[CONFIG_STR_MAX]; /* "host:port": the journal in Redis instead of the
					       file; "" = the file (default) */
	char journal_redis_key[CONFIG_STR_MAX]; /* the hash holding the calls, default
						   "mgw:calls" */

	/* sip { } */
	struct in_addr sip_listen;  /* default 127.0.0.1 */
	unsigned sip_port;          /* default 5060 */
	unsigned sip_t1_ms;         /* RFC 3261 T1, default 500 */
	unsigned sip_timer_j_ms;    /* how long a completed non-INVITE server transaction absorbs
				       retransmissions (RFC 3261 Timer J, 64*T1 = 32 s), default
				       5000 */
	unsigned sip_ack_timeout_ms; /* how long an answered INVITE waits for its ACK before the
					call is ended (2xx retransmitted meanwhile); 0 = 64*T1,
					the RFC 3261 value (the default) */
	char sip_user_agent[64];    /* default "mgw" */
	unsigned sip_answer_delay_ms; /* echo app rings this long before answering, default 0 */

	/* control { } */
	char control_socket[CONFIG_STR_MAX]; /* default /run/mgw/mgwd.sock */

	/* limits { } */
	unsigned limits_max_calls; /* default 10000 */
	unsigned limits_max_cps;   /* new calls admitted per second (503 beyond), 0 = no limit
				      (default) */
	unsigned limits_source_rps; /* SIP datagrams per second from one source IP (dropped
				       beyond, burst 2 s worth), 0 = no limit (default) */
	unsigned limits_max_transactions; /* live SIP transactions (new requests 503 beyond),
					     default 100000 */

	/* log { } */
	int log_level; /* enum log_level, default LOG_INFO */
};

/** Fill @cfg with the embedded default. */
void config_defaults(struct config *cfg);

/**
 * Load @path over the current contents of @cfg (call config_defaults() first).
 * On error returns -1 and writes a one-line message naming file, line and key into @err
 * (e.g. "mgw.conf:12: media.port_min: must be an even number between 1024 and 65534").
 * Returns 0 on success.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t err_len);

/** "an integer", "a string"... for a libconfig CONFIG_TYPE_* (error messages of the modules
 *  that read the same file: config, routes). */
const char *config_type_name(int type);

/** Cross-field checks (port range, prefix, workers...); same error convention as config_load. */
int config_validate(const struct config *cfg, const char *path, char *err, size_t err_len);

/** ng.interfaces[@i] split: its name into @name, the index of its address in the media pool
 *  into @addr_idx. Returns 0, -1 (not name/address) or -2 (not a media address). */
int config_ng_interface(const struct config *cfg, unsigned i, char *name, size_t name_len,
			unsigned *addr_idx);

#endif
