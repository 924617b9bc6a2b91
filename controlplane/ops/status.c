#include "controlplane/ops/status.h"

#include <arpa/inet.h>
#include <stdio.h>

#include <rte_cycles.h>

#include "controlplane/apps/call.h"
#include "controlplane/media/media.h"
#include "controlplane/media/pairs.h"
#include "controlplane/sip/sip.h"
#include "dataplane/dp.h"
#include "util/time.h"

static const struct config *cfg;
static const char *version;
static uint64_t started_ms;
static uint64_t tsc_hz;

static void status_ports(struct jw *w)
{
	jw_arr_begin(w);
	for (unsigned p = 0; p < dp_n_ports(); p++) {
		struct dp_port_info pi;
		if (dp_port_info(p, &pi) != 0)
			continue;
		char mac[18];
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", pi.mac[0], pi.mac[1],
			 pi.mac[2], pi.mac[3], pi.mac[4], pi.mac[5]);
		uint64_t dropped = pi.drop;
		for (unsigned i = 0; i < dp_n_workers(); i++)
			for (unsigned d = 0; d < DP_DROP_MAX; d++)
				dropped += ctr_get(&dp_worker_stats(i)->drop[d]);
		jw_obj_begin(w);
		jw_kv_u64(w, "id", p);
		jw_kv_str(w, "name", pi.name);
		jw_kv_str(w, "mac", mac);
		jw_kv_str(w, "link", pi.link_up ? "up" : "down");
		if (pi.speed_mbps)
			jw_kv_u64(w, "speed_mbps", pi.speed_mbps);
		jw_kv_u64(w, "rx", pi.rx);
		jw_kv_u64(w, "tx", pi.tx);
		jw_kv_u64(w, "drop", dropped);
		jw_kv_u64(w, "nic_drop", pi.drop);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void status_workers(struct jw *w)
{
	jw_arr_begin(w);
	for (unsigned i = 0; i < dp_n_workers(); i++) {
		const struct dp_worker_stats *s = dp_worker_stats(i);
		jw_obj_begin(w);
		jw_kv_u64(w, "id", i);
		jw_kv_u64(w, "lcore", dp_worker_lcore(i));
		jw_kv_u64(w, "rx", ctr_get(&s->rx));
		jw_kv_u64(w, "tx", ctr_get(&s->tx));
		jw_kv_u64(w, "loops", ctr_get(&s->loops));
		jw_kv_u64(w, "busy", ctr_get(&s->busy));
		jw_kv_u64(w, "idle", ctr_get(&s->idle));
		jw_kv_u64(w, "sleeps", ctr_get(&s->sleeps));
		jw_kv_u64(w, "handoff_out", ctr_get(&s->handoff_out));
		jw_kv_u64(w, "handoff_in", ctr_get(&s->handoff_in));
		jw_kv_u64(w, "rtcp", ctr_get(&s->rtcp));
		jw_kv_u64(w, "arp_replies", ctr_get(&s->arp_replies));
		jw_kv_u64(w, "icmp_replies", ctr_get(&s->icmp_replies));
		jw_kv_u64(w, "events_lost", ctr_get(&s->events_lost));
		jw_kv_u64(w, "loop_gap_max_ns",
			  tsc_hz ? (uint64_t)((double)ctr_get(&s->loop_gap_max) * 1e9 /
					      (double)tsc_hz)
				 : 0);
		jw_key(w, "drops");
		jw_obj_begin(w);
		for (unsigned d = 0; d < DP_DROP_MAX; d++)
			jw_kv_u64(w, dp_drop_name(d), ctr_get(&s->drop[d]));
		jw_obj_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static int cmd_status(const struct json *req, struct jw *w, char *err, size_t err_len, void *ctx)
{
	(void)req;
	(void)err;
	(void)err_len;
	(void)ctx;
	const struct sip_stats *ss = sip_get_stats();
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &cfg->dp_media_ip, ip, sizeof(ip));
	jw_obj_begin(w);
	jw_kv_str(w, "version", version);
	jw_kv_u64(w, "uptime_s", (time_now_ms() - started_ms) / 1000);
	jw_kv_u64(w, "workers", dp_n_workers());
	jw_kv_u64(w, "calls", call_count());
	jw_kv_u64(w, "streams", media_streams());
	jw_kv_u64(w, "media_pairs", pairs_count());
	jw_kv_u64(w, "stream_bytes", media_stream_bytes());
	jw_kv_u64(w, "table_bytes", media_table_bytes());
	jw_kv_u64(w, "media_addresses", media_n_addrs());
	jw_kv_u64(w, "ports_free", media_ports_free());
	jw_kv_u64(w, "ports_total", media_ports_total());
	jw_kv_u64(w, "ports_cooling", media_ports_cooling());
	jw_kv_str(w, "media_ip", ip);
	jw_key(w, "sip");
	jw_obj_begin(w);
	jw_kv_str(w, "listen", sip_listen_str());
	jw_kv_u64(w, "rx", ss->rx);
	jw_kv_u64(w, "tx", ss->tx);
	jw_kv_u64(w, "bad", ss->bad);
	jw_kv_u64(w, "bad_answered", ss->bad_answered);
	jw_kv_u64(w, "dropped", ss->bad - ss->bad_answered);
	jw_kv_u64(w, "stray", ss->stray);
	jw_kv_u64(w, "retransmits", ss->retransmits);
	jw_kv_u64(w, "tx_errors", ss->tx_errors);
	jw_kv_u64(w, "transactions", sip_transactions());
	jw_obj_end(w);
	jw_key(w, "ports");
	status_ports(w);
	jw_key(w, "worker_stats");
	status_workers(w);
	jw_obj_end(w);
	return 0;
}

static int cmd_sessions(const struct json *req, struct jw *w, char *err, size_t err_len,
			void *ctx)
{
	(void)req;
	(void)err;
	(void)err_len;
	(void)ctx;
	call_list_json(w);
	return 0;
}

static int cmd_stats_reset(const struct json *req, struct jw *w, char *err, size_t err_len,
			   void *ctx)
{
	(void)req;
	(void)ctx;
	struct msg_cmd cmd = {.type = MSG_CMD_STATS_RESET};
	if (dp_send_cmd(-1, &cmd) != 0) {
		snprintf(err, err_len, "a worker's command ring is full");
		return -1;
	}
	jw_null(w);
	return 0;
}

void status_register(struct api *api, const struct config *c, const char *v)
{
	cfg = c;
	tsc_hz = rte_get_tsc_hz();
	version = v;
	started_ms = time_now_ms();
	api_register(api, "status", cmd_status, NULL);
	api_register(api, "sessions.list", cmd_sessions, NULL);
	api_register(api, "stats.reset", cmd_stats_reset, NULL);
}
