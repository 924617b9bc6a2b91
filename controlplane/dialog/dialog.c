#include "controlplane/dialog/dialog.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/sip/sip.h"

static int uri_addr(const osip_uri_t *u, struct sockaddr_in *out)
{
	if (!u || !u->host)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, u->host, &a.sin_addr) != 1)
		return -1;
	a.sin_port = htons((uint16_t)(u->port ? atoi(u->port) : 5060));
	*out = a;
	return 0;
}

static osip_uri_t *contact_uri(const osip_message_t *m)
{
	osip_contact_t *c = NULL;
	if (osip_message_get_contact(m, 0, &c) < 0 || !c || !c->url)
		return NULL;
	return c->url;
}

int dialog_init_uas(struct dialog *d, const osip_message_t *req, const char *local_tag,
		    const struct sockaddr_in *src)
{
	memset(d, 0, sizeof(*d));
	char id[256];
	d->call_id = strdup(dialog_call_id_of(req, id, sizeof(id)));
	if (!d->call_id || osip_to_clone(req->to, &d->local) != 0 ||
	    osip_from_clone(req->from, &d->remote) != 0)
		return -1;
	osip_generic_param_t *tag = NULL;
	if (osip_to_get_tag(d->local, &tag) != 0)
		osip_to_set_tag(d->local, osip_strdup(local_tag));
	osip_uri_t *c = contact_uri(req);
	if (osip_uri_clone(c ? c : req->from->url, &d->target) != 0)
		return -1;
	d->remote_cseq = (uint32_t)strtoul(req->cseq->number, NULL, 10);
	d->local_cseq = (uint32_t)(random() & 0xffff) + 1;
	d->peer = *src; /* requests go back where the peer signals from (symmetric, NAT) */
	return 0;
}

int dialog_init_uac(struct dialog *d, const char *call_id, const osip_from_t *from,
		    const osip_to_t *to, const osip_uri_t *target, const struct sockaddr_in *dst)
{
	memset(d, 0, sizeof(*d));
	d->call_id = strdup(call_id);
	if (!d->call_id || osip_from_clone((osip_from_t *)from, &d->local) != 0 ||
	    osip_to_clone((osip_to_t *)to, &d->remote) != 0 ||
	    osip_uri_clone(target, &d->target) != 0)
		return -1;
	d->local_cseq = 1;
	d->peer = *dst;
	return 0;
}

void dialog_free(struct dialog *d)
{
	free(d->call_id);
	if (d->local)
		osip_from_free(d->local);
	if (d->remote)
		osip_to_free(d->remote);
	if (d->target)
		osip_uri_free(d->target);
	memset(d, 0, sizeof(*d));
}

void dialog_update_from_response(struct dialog *d, const osip_message_t *resp)
{
	osip_generic_param_t *tag = NULL;
	if (resp->to && osip_to_get_tag(resp->to, &tag) == 0 && tag && tag->gvalue) {
		osip_generic_param_t *have = NULL;
		if (osip_to_get_tag(d->remote, &have) != 0)
			osip_to_set_tag(d->remote, osip_strdup(tag->gvalue));
	}
	dialog_update_target(d, resp);
}

void dialog_update_target(struct dialog *d, const osip_message_t *m)
{
	osip_uri_t *c = contact_uri(m), *copy = NULL;
	if (!c || osip_uri_clone(c, &copy) != 0)
		return;
	osip_uri_free(d->target);
	d->target = copy;
	/* in-dialog requests follow the target when it is a literal address */
	struct sockaddr_in a;
	if (uri_addr(copy, &a) == 0)
		d->peer = a;
}

osip_message_t *dialog_request(struct dialog *d, const char *method, uint32_t cseq)
{
	osip_message_t *m = NULL;
	if (osip_message_init(&m) != 0)
		return NULL;
	char num[16];
	if (strcmp(method, "ACK") != 0 && strcmp(method, "CANCEL") != 0)
		cseq = ++d->local_cseq;
	snprintf(num, sizeof(num), "%u", cseq);
	osip_cseq_t *cs = NULL;
	int rc = osip_cseq_init(&cs);
	if (rc == 0) {
		osip_cseq_set_number(cs, osip_strdup(num));
		osip_cseq_set_method(cs, osip_strdup(method));
		m->cseq = cs;
	}
	osip_message_set_method(m, osip_strdup(method));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	if (rc == 0)
		rc = osip_uri_clone(d->target, &m->req_uri);
	if (rc == 0)
		rc = osip_from_clone(d->local, &m->from);
	if (rc == 0)
		rc = osip_to_clone(d->remote, &m->to);
	if (rc == 0)
		rc = osip_message_set_call_id(m, d->call_id);
	if (rc == 0)
		rc = osip_message_set_max_forwards(m, "70");
	if (rc == 0)
		rc = osip_message_set_contact(m, sip_contact());
	if (rc != 0) {
		osip_message_free(m);
		return NULL;
	}
	return m;
}

int dialog_copy_body(osip_message_t *dst, const osip_message_t *src, const char *sdp, int sdp_len)
{
	if (sdp) {
		if (osip_message_set_body(dst, sdp, (size_t)sdp_len) != 0)
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

const char *dialog_call_id_of(const osip_message_t *m, char *buf, size_t len)
{
	const osip_call_id_t *c = m->call_id;
	if (!c || !c->number)
		snprintf(buf, len, "%s", "");
	else if (c->host)
		snprintf(buf, len, "%s@%s", c->number, c->host);
	else
		snprintf(buf, len, "%s", c->number);
	return buf;
}

const char *dialog_ruri_user(const osip_message_t *req)
{
	return req->req_uri && req->req_uri->username ? req->req_uri->username : "";
}
