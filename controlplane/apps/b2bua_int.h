/* b2bua internals, shared by b2bua.c (call set-up and teardown) and b2bua_dlg.c (in-dialog
 * requests, timers, reporting). Not for other modules. */
#ifndef MGW_B2BUA_INT_H
#define MGW_B2BUA_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "controlplane/apps/b2bsdp.h"
#include "controlplane/apps/b2bua.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/sip/sdp.h"
#include "controlplane/sip/sip.h"

#define LEG_A 0
#define LEG_B 1
#define B2B_MAX_FWD 4
#define B2B_SDP_MAX 1024
#define B2B_MAX_REDIRECTS 5

enum bstate {
	B_TRYING,     /* INVITE sent to a destination, nothing back yet */
	B_EARLY,      /* a provisional response from B */
	B_ANSWERED,   /* B answered; our 2xx to A waits for A's ACK */
	B_CONFIRMED,  /* both legs up */
};

/* An in-dialog request taken from one leg and sent on to the other, until its answer. */
struct b2b_fwd {
	osip_transaction_t *server; /* from leg @from */
	osip_transaction_t *client; /* to the other leg */
	int from;
	bool invite;                /* a re-INVITE: its 2xx needs our ACK and our own 2xx */
	bool offer;                 /* it carried an SDP offer that we rewrote */
	struct sdp_stream sdp;      /* that offer: leg @from's SDP once the other leg accepts it */
};

struct bcall;

/* A leg in the Call-ID hash (each leg has its own Call-ID). */
struct b2b_hnode {
	struct b2b_hnode *next;
	struct bcall *call;
	int side;
};

struct leg {
	struct b2b_hnode hnode;
	struct dialog dlg;
	bool dlg_up;                /* dlg is initialised */
	struct media_ep ep;
	struct sdp_stream sdp;      /* what this leg last said */
	bool have_sdp;
	uint64_t sess_id, sdp_ver;  /* our o= line towards this leg */
	char sdp_out[B2B_SDP_MAX];  /* our last SDP towards this leg */
	int sdp_out_len;
	/* our 2xx to this leg's INVITE, retransmitted until its ACK */
	osip_message_t *ok;
	uint32_t ok_cseq;
	uint64_t rtx_at_ms, rtx_iv_ms, ack_deadline_ms;
	osip_message_t *ack;        /* our ACK for this leg's 2xx, for its retransmissions */
	uint64_t rx_seen, rx_seen_ms;   /* packets in, and when the media check saw them move */
	struct in_addr seen_ip;
	uint16_t seen_port;
};

struct bcall {
	struct bcall *prev, *next;
	struct leg leg[2];
	enum bstate state;
	char route[32];
	char user[64];
	struct route_dest dests[ROUTE_MAX_DESTS + B2B_MAX_REDIRECTS];
	unsigned n_dests, next_dest, redirects;
	osip_transaction_t *a_ist;  /* A's initial INVITE, until its final response */
	osip_transaction_t *b_ict;  /* our INVITE to B, until its final response */
	uint32_t b_invite_cseq;
	int best_code;
	char best_reason[64];
	struct b2bsdp_plan plan;
	bool have_plan;
	bool cancelled;             /* A cancelled: B is being cancelled */
	struct b2b_fwd fwd[B2B_MAX_FWD];
	uint64_t created_ms, answered_ms, created_wall_ms, answered_wall_ms;
	char *from_uri, *to_uri;
};

extern const struct config *b2b_cfg;
extern const struct sip_txn_ops b2b_txn_ops;

struct bcall *b2b_find(const char *call_id, int *side);
/** The call of @m's whole Call-ID, or NULL. */
struct bcall *b2b_find_msg(const osip_message_t *m, int *side);
/** The first call of the list of all calls (then ->next). */
struct bcall *b2b_first(void);
void b2b_end(struct bcall *c, const char *reason, bool bye_a, bool bye_b);
int b2b_apply_media(struct bcall *c);
int b2b_sdp_for(struct bcall *c, int side, const struct sdp_stream *offer, bool as_offer,
		enum sdp_dir dir);
void b2b_leg_ok(struct bcall *c, int side, osip_message_t *ok);
void b2b_fwd_response(struct bcall *c, osip_transaction_t *tr, osip_message_t *resp);
void b2b_fwd_ended(struct bcall *c, osip_transaction_t *tr);
osip_message_t *b2b_reply(const osip_message_t *req, int code, const char *reason,
			  const struct leg *l);

#endif
