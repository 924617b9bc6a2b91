/* msg: fixed-size messages between the planes, carried by rte_ring (elem API, no allocation).
 *
 *   control -> worker: one SPSC ring per worker (msg_cmd), for what the table cannot express.
 *   worker -> control: one MPSC ring (msg_event), drained by the control loop on every wake-up.
 * A worker that finds the event ring full drops the event and counts it; it never waits. */
#ifndef MGW_MSG_H
#define MGW_MSG_H

#include <stdint.h>

enum msg_cmd_type {
	MSG_CMD_QUIT = 1,       /* leave the poll loop */
	MSG_CMD_ARP_FLUSH = 2,  /* forget learnt neighbours */
	MSG_CMD_STATS_RESET = 3, /* restart the worst-loop-gap measurement */
	MSG_CMD_NEIGH = 4,      /* another worker learnt a neighbour: ip is at mac */
	MSG_CMD_PLAY = 5,       /* play what the config of (addr_idx, port, stream_id) carries
				 * (stream_cfg.play, its gen in arg) */
	MSG_CMD_RTCP = 6,       /* send RTCP reports on the echo stream (addr_idx, port,
				 * stream_id) */
};

struct msg_cmd {
	uint32_t type;
	uint32_t arg;
	uint32_t ip;            /* MSG_CMD_NEIGH: network order */
	uint8_t mac[6];
	uint16_t port;          /* MSG_CMD_PLAY, _RTCP: the stream's local port, host order */
	uint64_t stream_id;     /* MSG_CMD_PLAY, _RTCP */
	uint8_t addr_idx;       /* MSG_CMD_PLAY, _RTCP */
	uint8_t pad[7];
};

enum msg_event_type {
	MSG_EV_STREAM_FIRST_RX = 1, /* first RTP packet on a stream: where media really comes from */
	MSG_EV_ARP_LEARNT = 2,      /* a neighbour's MAC was learnt or changed */
	MSG_EV_DTMF = 3,            /* an RFC 4733 event (a digit) received on a stream */
	MSG_EV_PLAY = 4,            /* the player finished, or cannot play, a stream's play */
	MSG_EV_TALK = 6,            /* the peer of a stream started talking or fell silent */
	MSG_EV_RTCP_MOVED = 5,      /* MSG_CMD_RTCP reached a worker that does not own the stream
				     * (play.owner does) */
};

/* MSG_EV_PLAY: how it went */
enum { MSG_PLAY_DONE = 1,     /* played to its end */
       MSG_PLAY_MOVED = 2,    /* another worker owns the stream: ask it (play.owner) */
       MSG_PLAY_FULL = 3 };   /* this worker plays as many streams as it can */

/* MSG_EV_DTMF: what was received (RFC 4733 section 2.3) */
enum { MSG_DTMF_ENDED = 1,   /* its end packet came */
       MSG_DTMF_CUT = 2,     /* it stopped without one (lost, or the next event began) */
       MSG_DTMF_INBAND = 4 }; /* heard as tones in the audio, not RFC 4733 */

struct msg_event {
	uint16_t type;
	uint16_t worker;
	uint16_t local_port;  /* host order */
	uint16_t peer_port;   /* network order */
	uint32_t local_ip;    /* network order */
	uint32_t peer_ip;     /* network order */
	uint64_t stream_id;
	union {
		uint8_t mac[6];      /* MSG_EV_ARP_LEARNT */
		struct {             /* MSG_EV_DTMF */
			uint8_t event;   /* 0-9, * (10), # (11), A-D (12-15), flash (16) */
			uint8_t volume;  /* dBm0 below 0 */
			uint16_t duration; /* timestamp units */
			uint8_t flags;   /* MSG_DTMF_* */
			uint8_t pad;
		} dtmf;
		struct {             /* MSG_EV_TALK */
			uint8_t talking; /* 1 = started talking, 0 = fell silent */
		} talk;
		struct {             /* MSG_EV_PLAY; the play's gen is in peer_ip */
			uint8_t status;  /* MSG_PLAY_* */
			uint8_t owner;   /* MSG_PLAY_MOVED: the owner worker */
			uint32_t packets; /* packets the player sent */
		} __attribute__((packed)) play;
	};
	uint16_t pad;
};
_Static_assert(sizeof(struct msg_event) == 32, "one event, half a cache line");

/* a play command per announcement started: more than this wait on the control plane
 * (media_play_pending) */
#define MSG_CMD_RING_SIZE 4096
#define MSG_EVENT_RING_SIZE 4096

#endif
