/* msg: building and reading SIP messages, one implementation for every user: responses,
 * Via, tags and tokens, Call-ID and CSeq, bodies, Request-URI and contact addresses. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "controlplane/sip/sip_int.h"

void sip_random_token(char *buf, size_t len)
{
	/* unguessable (a peer that could guess tags and branches could cancel or end others'
	 * calls), from glibc's arc4random: no system call per token */
	uint64_t r[2];
	arc4random_buf(r, sizeof(r));
	snprintf(buf, len, "%016llx%08llx", (unsigned long long)r[0],
		 (unsigned long long)(r[1] & 0xffffffffu));
}

const char *sip_tag(const osip_from_t *h)
{
	osip_generic_param_t *tag = NULL;
	if (!h || osip_from_get_tag((osip_from_t *)h, &tag) != 0 || !tag || !tag->gvalue)
		return NULL;
	return tag->gvalue;
}

const char *sip_call_id(const osip_message_t *m, char *buf, size_t len)
{
	const osip_call_id_t *c = m->call_id;
	if (!c || !c->number)
		return NULL;
	if (!c->host)
		return c->number;
	int n = snprintf(buf, len, "%s@%s", c->number, c->host);
	return n < 0 || (size_t)n >= len ? NULL : buf;
}

uint32_t sip_cseq(const osip_message_t *m)
{
	if (!m->cseq || !m->cseq->number)
		return 0;
	char *end = NULL;
	unsigned long v = strtoul(m->cseq->number, &end, 10);
	if (!end || *end || end == m->cseq->number || v >= (1ul << 31))
		return 0;
	return (uint32_t)v;
}

const char *sip_app_body(const osip_message_t *m, const char *subtype, size_t *len)
{
	const osip_content_type_t *ct = m->content_type;
	osip_body_t *b = NULL;
	if (!ct || !ct->type || !ct->subtype || strcasecmp(ct->type, "application") != 0 ||
	    strcasecmp(ct->subtype, subtype) != 0 || osip_message_get_body(m, 0, &b) != 0 || !b ||
	    !b->body || !b->length)
		return NULL;
	*len = b->length;
	return b->body;
}

const char *sip_sdp_body(const osip_message_t *m, size_t *len)
{
	return sip_app_body(m, "sdp", len);
}

bool sip_has_body(const osip_message_t *m)
{
	osip_body_t *b = NULL;
	return osip_message_get_body(m, 0, &b) == 0 && b && b->body && b->length;
}

const char *sip_ruri_user(const osip_message_t *req)
{
	return req->req_uri && req->req_uri->username ? req->req_uri->username : "";
}

int sip_uri_addr(const osip_uri_t *u, struct sockaddr_in *out)
{
	if (!u || !u->host)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5060)};
	if (inet_pton(AF_INET, u->host, &a.sin_addr) != 1)
		return -1;
	if (u->port && *u->port) {
		char *end = NULL;
		unsigned long p = strtoul(u->port, &end, 10);
		if (*end || p == 0 || p > 65535)
			return -1;
		a.sin_port = htons((uint16_t)p);
	}
	*out = a;
	return 0;
}

int sip_copy_body(osip_message_t *dst, const osip_message_t *src, const char *sdp, size_t sdp_len)
{
	if (sdp) {
		if (osip_message_set_body(dst, sdp, sdp_len) != 0)
			return -1;
		return osip_message_set_content_type(dst, "application/sdp");
	}
	osip_body_t *body = NULL;
	if (!src || osip_message_get_body(src, 0, &body) != 0 || !body || !body->body)
		return 0;
	if (osip_message_set_body(dst, body->body, body->length) != 0)
		return -1;
	char *ct = NULL;
	if (src->content_type && osip_content_type_to_str(src->content_type, &ct) == 0 && ct) {
		int rc = osip_message_set_content_type(dst, ct);
		osip_free(ct);
		return rc;
	}
	return 0;
}

int sip_add_via(osip_message_t *req)
{
	char branch[32], via[160];
	sip_random_token(branch, sizeof(branch));
	snprintf(via, sizeof(via), "SIP/2.0/UDP %s;branch=z9hG4bK%s;rport", sip_listen_str(),
		 branch);
	osip_via_t *v = NULL;
	if (osip_via_init(&v) != 0)
		return -1;
	if (osip_via_parse(v, via) != 0 || osip_list_add(&req->vias, v, 0) < 0) {
		osip_via_free(v);
		return -1;
	}
	return 0;
}
