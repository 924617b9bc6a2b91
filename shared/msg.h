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
};

struct msg_cmd {
	uint32_t type;
	uint32_t arg;
	uint32_t ip;            /* MSG_CMD_NEIGH: network order */
	uint8_t mac[6];
	uint16_t pad;
};

enum msg_event_type {
	MSG_EV_STREAM_FIRST_RX = 1, /* first RTP packet on a stream: where media really comes from */
	MSG_EV_ARP_LEARNT = 2,      /* a neighbour's MAC was learnt or changed */
};

struct msg_event {
	uint16_t type;
	uint16_t worker;
	uint16_t local_port;  /* host order */
	uint16_t peer_port;   /* network order */
	uint32_t local_ip;    /* network order */
	uint32_t peer_ip;     /* network order */
	uint64_t stream_id;
	uint8_t mac[6];
	uint16_t pad;
};

#define MSG_CMD_RING_SIZE 64
#define MSG_EVENT_RING_SIZE 4096

#endif
