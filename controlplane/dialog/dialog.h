/* dialog: the dialog core. Every SIP dialog mgw takes part in is a struct dlg, one leg of a
 * call, held in one table keyed by the whole Call-ID and the local tag (RFC 3261 12). The
 * SIP layer hands everything to it; it finds the leg and calls the leg's ops, which the
 * application owning the leg (echo, the B2BUA, later announcements, conference, transfer)
 * provides. What every application would otherwise write again is here, once:
 *
 *   - identity: Call-ID (whole, compared exactly), local and remote tags, CSeq in both
 *     directions, the remote target and where requests go;
 *   - as UAS: our 2xx to an INVITE retransmitted (T1 doubling to T2) until its ACK, the ACK
 *     deadline, retransmitted INVITEs absorbed, CANCEL of the initial INVITE (200 to the
 *     CANCEL, 487 to the INVITE), requests with an out-of-order CSeq refused (500);
 *   - as UAC: the ACK for a 2xx built, sent, and sent again when the 2xx is retransmitted;
 *     BYE and CANCEL built and sent;
 *   - in-dialog requests built from the dialog state; responses with our tag;
 *   - which leg a stream belongs to (worker events carry stream ids).
 *
 * New INVITEs (no To tag) go to the router the applications register (dlg_set_router()).
 * Every timer is on the control plane's wheel; nothing here walks the dialogs.
 */
#ifndef MGW_DIALOG_H
#define MGW_DIALOG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <osip2/osip.h>

#include "controlplane/media/media.h"
#include "controlplane/sip/sip.h"
#include "util/timer.h"

struct dlg;

/* What a leg's application hears. Every callback may end the call (dlg_free its legs). */
struct dlg_ops {
	/* an in-dialog request (re-INVITE, BYE, UPDATE, INFO, NOTIFY, OPTIONS, ...) in server
	 * transaction @tr, CSeq already checked; the application answers it */
	void (*request)(struct dlg *d, osip_transaction_t *tr, osip_message_t *req);
	/* the caller cancelled the initial INVITE: the core answered 200 to the CANCEL and
	 * 487 to the INVITE (UAS legs before their final response) */
	void (*cancelled)(struct dlg *d);
	/* the ACK for our 2xx (@ack carries the answer when our 2xx carried the offer) */
	void (*ack)(struct dlg *d, const osip_message_t *ack);
	/* no ACK for our 2xx within the ACK deadline */
	void (*ack_timeout)(struct dlg *d);
	/* a response to a request the application sent in this dialog (dlg_send) */
	void (*response)(struct dlg *d, osip_transaction_t *tr, osip_message_t *resp);
	/* a request sent in this dialog got no final response (Timer B/F) */
	void (*timeout)(struct dlg *d, osip_transaction_t *tr);
	/* a client or server transaction of this dialog ended (forget any pointer to @tr) */
	void (*txn_ended)(struct dlg *d, osip_transaction_t *tr);
	/* the first RTP packet of a stream watched by this leg (dlg_watch_stream) */
	void (*media)(struct dlg *d, uint64_t stream_id, struct in_addr ip, uint16_t port);
	/* an RFC 4733 event (a digit) received on a stream watched by this leg */
	void (*dtmf)(struct dlg *d, uint64_t stream_id, const struct media_dtmf *ev);
	/* what mgw's player played on a stream watched by this leg (play @gen) ended: played
	 * to its end (@ok), or it could not be played */
	void (*play_done)(struct dlg *d, uint64_t stream_id, uint32_t gen, bool ok);
	/* the peer of a stream watched by this leg started talking (@talking) or fell silent */
	void (*talk)(struct dlg *d, uint64_t stream_id, bool talking);
};

enum dlg_role { DLG_UAS, DLG_UAC };

struct dlg {
	/* identity (the table's key is call_id + local tag) */
	char *call_id;
	osip_from_t *local;      /* our side, with our tag */
	osip_to_t *remote;       /* the peer's, with its tag once known */
	osip_uri_t *target;      /* the peer's Contact: Request-URI of in-dialog requests */
	uint32_t local_cseq;     /* last CSeq number we used */
	uint32_t remote_cseq;    /* last CSeq number the peer used, 0 = none yet */
	struct sockaddr_in peer; /* signalling address requests go to */
	enum dlg_role role;
	/* the application's */
	const struct dlg_ops *ops;
	void *app;
	int side;                /* the application's name for this leg */
	/* UAS: the initial INVITE until its final response */
	osip_transaction_t *invite_tr;
	uint32_t invite_cseq;
	bool answered;           /* a final response was sent to (UAS) / received for (UAC) the
				  * initial INVITE */
	bool cancelled;
	/* our 2xx retransmitted until its ACK (UAS side of any INVITE) */
	osip_message_t *ok;
	uint32_t ok_cseq;
	uint64_t ok_interval_ms;
	struct timer ok_timer, ack_deadline;
	/* our ACK for the peer's 2xx, sent again when the 2xx is (UAC side of any INVITE) */
	osip_message_t *ack;
	struct timer ack_linger;
	/* the table */
	struct dlg *hnext;
	const char *local_tag, *remote_tag; /* inside local / remote */
};

struct dlg_config {
	unsigned t1_ms;
	unsigned ack_timeout_ms;   /* how long to wait for the ACK of a 2xx (64*T1) */
	unsigned max_dialogs;      /* sizes the table */
};

int dlg_init(const struct dlg_config *cfg);
void dlg_shutdown(void);

/* New INVITEs: the router (the applications' front door) takes them. It answers every one:
 * with a dialog (dlg_new_uas) or a refusal (sip_txn_reply). */
typedef void (*dlg_router_fn)(osip_transaction_t *tr, osip_message_t *req,
			      const struct sockaddr_in *src);
void dlg_set_router(dlg_router_fn fn);

/** A UAS leg for the initial INVITE @req in server transaction @tr, with a fresh local tag.
 *  Returns NULL (nothing answered) when out of memory. */
struct dlg *dlg_new_uas(osip_transaction_t *tr, const osip_message_t *req,
			const struct sockaddr_in *src, const struct dlg_ops *ops, void *app,
			int side);
/** A UAC leg towards @dst: a new Call-ID (or @call_id), @from with our fresh tag, @to,
 *  Request-URI @target. Returns NULL when out of memory. */
struct dlg *dlg_new_uac(const char *call_id, const osip_from_t *from, const osip_to_t *to,
			const osip_uri_t *target, const struct sockaddr_in *dst,
			const struct dlg_ops *ops, void *app, int side);
/** Forget the leg: its timers, its table entry, its transactions' reports. */
void dlg_free(struct dlg *d);

/** An established leg as the call journal keeps it (identity, target, CSeqs, signalling
 *  address), a new reference; NULL when out of memory. */
json_t *dlg_to_json(const struct dlg *d);
/** The leg @j describes, established (a restart restoring a call): in the table again, able
 *  to take and send in-dialog requests. NULL (and nothing kept) when @j is not a leg. */
struct dlg *dlg_restore(const json_t *j, const struct dlg_ops *ops, void *app, int side);

/** Our tag on this leg. */
static inline const char *dlg_local_tag(const struct dlg *d) { return d->local_tag; }

/* ---- answering (UAS) ---- */

/** A response to @req on this leg (our tag in To), with @reason instead of the default
 *  phrase when not NULL, @sdp as body when not NULL. NULL when out of memory. */
osip_message_t *dlg_response(struct dlg *d, const osip_message_t *req, int code,
			     const char *reason, const char *sdp, size_t sdp_len);
/** Build and send a bodiless response to server transaction @tr. */
void dlg_reply(struct dlg *d, osip_transaction_t *tr, int code, const char *reason);
/** Send @resp in @tr; a 2xx to an INVITE is then retransmitted until its ACK. A final
 *  response to the initial INVITE marks the leg answered. */
void dlg_respond(struct dlg *d, osip_transaction_t *tr, osip_message_t *resp);

/* ---- requests (both roles) ---- */

/** A new in-dialog request @method: next local CSeq, Route-less, our Contact, no Via yet.
 *  NULL when out of memory. */
osip_message_t *dlg_request(struct dlg *d, const char *method);
/** Send @req in a client transaction whose responses go to the leg's ops. Returns the
 *  transaction or NULL (and @req freed). */
osip_transaction_t *dlg_send(struct dlg *d, osip_message_t *req);
/** The initial INVITE of a UAC leg (or a re-INVITE): as dlg_send, remembering its CSeq. */
osip_transaction_t *dlg_send_invite(struct dlg *d, osip_message_t *inv);
/** ACK the 2xx @resp to our INVITE (with @sdp as body when not NULL); the ACK is kept and
 *  sent again if the 2xx is retransmitted. */
void dlg_ack(struct dlg *d, const osip_message_t *resp, const char *sdp, size_t sdp_len);
/** Send BYE (nobody hears of its answer). */
void dlg_bye(struct dlg *d);
/** CANCEL the INVITE of client transaction @ict (RFC 3261 9.1). */
void dlg_cancel(struct dlg *d, osip_transaction_t *ict);
/** The peer answered our INVITE or a target refresh (UAC): its tag and Contact. */
void dlg_take_response(struct dlg *d, const osip_message_t *resp);
/** A target refresh from the peer (re-INVITE, UPDATE): its Contact. */
void dlg_take_target(struct dlg *d, const osip_message_t *req);

/* ---- media ---- */

/** Worker events about stream @stream_id (its first RTP packet) go to @d. */
void dlg_watch_stream(struct dlg *d, uint64_t stream_id);
void dlg_unwatch_stream(uint64_t stream_id);
/** A worker saw the first RTP packet of @stream_id from @ip:@port (network order). */
void dlg_media_seen(uint64_t stream_id, uint32_t ip, uint16_t port);
/** An RFC 4733 event on stream @stream_id, for the leg watching it. Returns false when no
 *  leg watches the stream. */
bool dlg_dtmf(uint64_t stream_id, const struct media_dtmf *ev);
/** Play @gen on stream @stream_id ended (media_play_event), for the leg watching it. */
void dlg_play_done(uint64_t stream_id, uint32_t gen, bool ok);
/** The peer of stream @stream_id started talking or fell silent, for the leg watching it. */
void dlg_talk(uint64_t stream_id, bool talking);

/* ---- reporting ---- */
unsigned dlg_count(void);
struct dlg_stats {
	uint64_t retransmitted_2xx; /* our 2xx sent again */
	uint64_t ack_timeouts;      /* 2xx never acknowledged */
	uint64_t absorbed_invites;  /* INVITEs retransmitted after our 2xx */
	uint64_t acks_resent;       /* our ACK sent again for a retransmitted 2xx */
	uint64_t loops;             /* requests refused 482 */
	uint64_t cseq_errors;       /* in-dialog requests refused for their CSeq */
	uint64_t no_dialog;         /* in-dialog requests for no dialog (481) */
};
const struct dlg_stats *dlg_get_stats(void);

#endif
