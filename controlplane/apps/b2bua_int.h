/* b2bua internals, shared by b2bua.c (set-up, media, teardown) and b2bua_fwd.c (what crosses
 * an established call). Not for other modules. */
#ifndef MGW_B2BUA_INT_H
#define MGW_B2BUA_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "controlplane/apps/b2bsdp.h"
#include "controlplane/apps/b2bua.h"
#include "controlplane/apps/call.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/sip/sdp.h"

#define LEG_A 0
#define LEG_B 1
#define B2B_MAX_FWD 4
#define B2B_SDP_MAX 1024
#define B2B_MAX_REDIRECTS 5

enum bstate {
	B_TRYING,    /* INVITE sent to a destination, nothing back yet */
	B_EARLY,     /* a provisional response from B */
	B_ANSWERED,  /* B answered; our 2xx to A waits for A's ACK */
	B_CONFIRMED, /* both legs up */
};

/* An in-dialog request taken from one leg and sent on to the other, until its answer. */
struct b2b_fwd {
	osip_transaction_t *server; /* from leg @from */
	osip_transaction_t *client; /* to the other leg */
	int from;
	bool invite;                /* a re-INVITE: its 2xx needs our ACK and our own 2xx */
	struct sdp_stream *offer;   /* the SDP offer it carried (rewritten on its way): leg
				     * @from's SDP once the other leg accepts it; NULL for none */
};

struct leg {
	struct dlg *dlg;            /* NULL for B before its first attempt */
	struct media_ep ep;
	struct sdp_stream sdp;      /* what this leg last said */
	bool have_sdp;
	uint64_t sess_id, sdp_ver;  /* our o= line towards this leg */
	char sdp_out[B2B_SDP_MAX];  /* our last SDP towards this leg */
	int sdp_out_len;
	struct in_addr seen_ip;     /* where its RTP really comes from */
	uint16_t seen_port;
};

struct bcall {
	struct call call;
	struct leg leg[2];
	enum bstate state;
	char user[64];
	char b_call_id[64];         /* leg B's Call-ID, the same for every attempt */
	int hops;                   /* Max-Forwards for B */
	struct route_dest dests[ROUTE_MAX_DESTS + B2B_MAX_REDIRECTS];
	unsigned n_dests, next_dest, redirects;
	osip_transaction_t *b_ict;  /* our INVITE to B, until its final response */
	bool b_provisional;         /* B sent a provisional response: a CANCEL may go */
	int best_code;
	char best_reason[64];
	struct b2bsdp_plan plan;
	bool have_plan;
	bool cancelled;             /* A cancelled: B is being cancelled */
	struct b2b_fwd fwd[B2B_MAX_FWD];
	unsigned dtmf_info_sent;    /* digits sent as SIP INFO to a leg without telephone-event */
	unsigned dtmf_4733_sent;    /* digits from a leg's SIP INFO played as RFC 4733 */
	unsigned talk_spurts[2];    /* media.talk_events: times each leg's peer started talking */
	uint32_t moh_gen[2];        /* music on hold playing to this leg (its play), 0 = none */
	uint32_t ringback_gen;      /* media.ringback playing to A while B rings, 0 = none */
	bool early_a;               /* A got our answer before B's (for the ringback): its codec
				     * and telephone-event, fixed from then on: */
	struct sdp_codec early_codec;
	int early_te;
	struct timer media_timer;
	bool journaled;             /* the journal holds it (established) */
};

extern const struct config *b2b_cfg;
extern const struct dlg_ops b2b_dlg_ops;

static inline struct bcall *b2b_of(struct dlg *d) { return d->app; }
/* The call's name in the log: the caller's Call-ID. */
static inline const char *b2b_id(const struct bcall *c)
{
	return c->leg[LEG_A].dlg ? c->leg[LEG_A].dlg->call_id : "-";
}

void b2b_end(struct bcall *c, const char *reason, bool bye_a, bool bye_b);
int b2b_apply_media(struct bcall *c);
/** Leg @side's packet time: what its SDP asked for, else media.ptime; one its codec sends. */
unsigned b2b_ptime(const struct bcall *c, int side);
int b2b_sdp_for(struct bcall *c, int side, const struct sdp_stream *offer, bool as_offer,
		enum sdp_dir dir);
void b2b_media_watch(struct bcall *c);
/** Play @digit (@ms long) to leg @to as RFC 4733 in its telephone-event payload type.
 *  Returns 0 or -1. */
int b2b_play_digit(struct bcall *c, int to, char digit, unsigned ms);
/* Keep the call in the journal as it is now (established calls only). */
void b2b_persist(struct bcall *c);

/* b2bua_fwd.c: the legs' in-dialog requests and the responses to what was forwarded */
void b2b_request(struct dlg *d, osip_transaction_t *tr, osip_message_t *req);
void b2b_fwd_response(struct bcall *c, osip_transaction_t *tr, osip_message_t *resp);
void b2b_fwd_ended(struct bcall *c, osip_transaction_t *tr);
void b2b_fwd_free_all(struct bcall *c);
void b2b_a_ack(struct dlg *d, const osip_message_t *ack);

#endif
