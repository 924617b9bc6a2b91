/* dialog: one SIP dialog as one leg of a call sees it (RFC 3261 12): identities with tags,
 * Call-ID, CSeq counters, the remote target, and where requests are sent. Builds in-dialog
 * requests (BYE, re-INVITE, UPDATE, INFO, OPTIONS, ACK) for the leg. */
#ifndef MGW_DIALOG_H
#define MGW_DIALOG_H

#include <netinet/in.h>
#include <stdint.h>

#include <osipparser2/osip_parser.h>

struct dialog {
	char *call_id;
	osip_from_t *local;   /* our identity, with our tag */
	osip_to_t *remote;    /* the peer's, with its tag once known */
	osip_uri_t *target;   /* the peer's Contact: Request-URI of in-dialog requests */
	uint32_t local_cseq;  /* last CSeq number we used */
	uint32_t remote_cseq; /* last CSeq number the peer used */
	struct sockaddr_in peer; /* signalling address requests go to */
};

/** The dialog of a UAS: from a received initial request, with @local_tag as our tag. */
int dialog_init_uas(struct dialog *d, const osip_message_t *req, const char *local_tag,
		    const struct sockaddr_in *src);
/** The dialog of a UAC, before the peer answers: @from (with our tag), @to, @target. */
int dialog_init_uac(struct dialog *d, const char *call_id, const osip_from_t *from,
		    const osip_to_t *to, const osip_uri_t *target, const struct sockaddr_in *dst);
void dialog_free(struct dialog *d);

/** The peer answered (UAC): take its tag and Contact from @resp. */
void dialog_update_from_response(struct dialog *d, const osip_message_t *resp);
/** A target refresh from the peer (re-INVITE, UPDATE): take its Contact. */
void dialog_update_target(struct dialog *d, const osip_message_t *req);

/**
 * A new in-dialog request @method (no Via yet: sip_request_send adds it). CSeq is the next
 * local number, except for ACK, which takes @cseq. Returns NULL on allocation failure.
 */
osip_message_t *dialog_request(struct dialog *d, const char *method, uint32_t cseq);

/** Copy @src's body and Content-Type into @dst, or @sdp as application/sdp when not NULL. */
int dialog_copy_body(osip_message_t *dst, const osip_message_t *src, const char *sdp, int sdp_len);

/** @m's whole Call-ID ("number@host", or "number") in @buf; "" when it has none. */
const char *dialog_call_id_of(const osip_message_t *m, char *buf, size_t len);

/** The user part of a request's Request-URI ("" when none). */
const char *dialog_ruri_user(const osip_message_t *req);

#endif
