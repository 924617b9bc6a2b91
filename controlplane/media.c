#include "controlplane/media.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/ports.h"

static struct ports *pool;
static struct stream_table *table;
static struct in_addr local_ip;
static uint64_t next_stream_id = 1;

int media_init(const struct config *cfg, char *err, size_t err_len)
{
	local_ip = cfg->dp_media_ip;
	pool = ports_create(cfg->media_port_min, cfg->media_port_max);
	if (!pool) {
		snprintf(err, err_len, "media: bad port range %u-%u", cfg->media_port_min,
			 cfg->media_port_max);
		return -1;
	}
	uint32_t addr = local_ip.s_addr;
	table = stream_table_create(&addr, 1);
	if (!table) {
		snprintf(err, err_len, "media: cannot allocate the session table");
		return -1;
	}
	return 0;
}

void media_shutdown(void)
{
	stream_table_destroy(table);
	table = NULL;
	ports_destroy(pool);
	pool = NULL;
}

struct stream_table *media_table(void) { return table; }
struct in_addr media_ip(void) { return local_ip; }
unsigned media_ports_free(void) { return pool ? ports_free(pool) : 0; }
unsigned media_ports_total(void) { return pool ? ports_total(pool) : 0; }
unsigned media_streams(void) { return table ? table->n_streams : 0; }

int media_ep_alloc(struct media_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->port = ports_alloc(pool);
	return ep->port ? 0 : -1;
}

static uint32_t media_random32(void)
{
	return ((uint32_t)random() << 16) ^ (uint32_t)random();
}

int media_ep_echo(struct media_ep *ep, struct in_addr peer, uint16_t peer_port)
{
	struct stream *s = stream_alloc();
	if (!s)
		return -ENOMEM;
	s->local_ip = local_ip.s_addr;
	s->local_port = ep->port;
	s->action = STREAM_ECHO;
	s->peer_ip = peer.s_addr;
	s->peer_port = htons(peer_port);
	s->ssrc = media_random32();
	s->ts_base = media_random32();
	s->seq_base = (uint16_t)random();
	s->id = next_stream_id++;
	int rc = ep->stream_id ? stream_table_replace(table, s) : stream_table_add(table, s);
	if (rc != 0) {
		free(s);
		return rc;
	}
	ep->stream_id = s->id;
	return 0;
}

void media_ep_release(struct media_ep *ep)
{
	if (ep->stream_id)
		stream_table_del(table, local_ip.s_addr, ep->port);
	if (ep->port)
		ports_release(pool, ep->port);
	memset(ep, 0, sizeof(*ep));
}

int media_ep_stats(const struct media_ep *ep, struct stream_rt *out)
{
	if (!ep->stream_id)
		return -1;
	const struct stream *s = stream_table_get(table, local_ip.s_addr, ep->port);
	if (!s)
		return -1;
	*out = s->rt;
	return 0;
}
