/* sip internals shared by sip.c (transport, input) and txn.c (transactions). Not for other
 * modules. */
#ifndef MGW_SIP_INT_H
#define MGW_SIP_INT_H

#include "controlplane/sip/sip.h"

/* Per-transaction context (osip's "your instance"). */
struct sip_txn {
	osip_transaction_t *tr;
	struct sockaddr_in addr;      /* server: where the request came from (responses go back
				       * there, as with rport); client: where the request goes */
	void *owner;
	const struct sip_txn_ops *ops;
	struct sip_txn *hnext;        /* branch index chain */
	struct sip_txn *pnext;        /* run queue */
	char *key;                    /* index key, NULL when not indexed */
	struct timer timer;           /* the next of osip's timers for this transaction */
	bool pending, killed;
};

extern osip_t *sip_osip;
extern unsigned sip_timer_j_ms; /* a completed NIST's life */
extern struct sip_stats sip_stats;

/** The index key of @m as @side ('s' server, 'c' client) for @method into @buf (or malloc'd
 *  when longer): RFC 3261 branch + sent-by + method, or for an RFC 2543 request without a
 *  magic-cookie branch Call-ID, CSeq, From tag, sent-by and method. NULL without a Via. */
char *sip_txn_key(char side, const osip_message_t *m, const char *method, char *buf, size_t len);
/** The transaction indexed under @key, or NULL. */
struct sip_txn *sip_txn_lookup(const char *key);
/** Give @tr the event @ev and queue it to run. */
void sip_txn_event(osip_transaction_t *tr, osip_event_t *ev);
/** A new server transaction for the request in @ev from @src; the event is the transaction's
 *  afterwards. Returns the transaction or NULL (then @ev is still the caller's). */
osip_transaction_t *sip_txn_new_server(osip_event_t *ev, const struct sockaddr_in *src,
				       const char *key);
void sip_txn_set_callbacks(void);
void sip_txn_shutdown(void);
unsigned sip_txn_count(void);

#endif
