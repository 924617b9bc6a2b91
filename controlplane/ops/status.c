#include "controlplane/ops/status.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>

#include <rte_cycles.h>

#include "controlplane/apps/call.h"
#include "controlplane/apps/router.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/media/pairs.h"
#include "controlplane/ng/ng.h"
#include "controlplane/ng/ngcall.h"
#include "controlplane/sip/sip.h"
#include "dataplane/dp.h"
#include "util/time.h"
#include "util/timer.h"

/* jemalloc's statistics when mgwd is linked with it (release builds), glibc's otherwise */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
	__attribute__((weak));

/* Bytes the control plane has allocated from the heap. */
static uint64_t heap_bytes(void)
{
	if (mallctl) {
		uint64_t epoch = 1;
		size_t allocated = 0, len = sizeof(allocated);
		mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)); /* refresh the statistics */
		if (mallctl("stats.allocated", &allocated, &len, NULL, 0) == 0)
			return allocated;
	}
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static const struct config *cfg;
static const char *version;
static uint64_t started_ms;
static uint64_t tsc_hz;

#define U64(v) json_integer((json_int_t)(v))

static json_t *status_ports(void)
{
	json_t *arr = json_array();
	for (unsigned p = 0; arr && p < dp_n_ports(); p++) {
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
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id",
				      (json_int_t)p, "name", pi.name, "mac", mac, "link",
				      pi.link_up ? "up" : "down", "rx", U64(pi.rx), "tx", U64(pi.tx),
				      "drop", U64(dropped), "nic_drop", U64(pi.drop));
		if (o && pi.speed_mbps)
			json_object_set_new(o, "speed_mbps", U64(pi.speed_mbps));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *status_workers(void)
{
	json_t *arr = json_array();
	for (unsigned i = 0; arr && i < dp_n_workers(); i++) {
		const struct dp_worker_stats *s = dp_worker_stats(i);
		json_t *drops = json_object();
		for (unsigned d = 0; drops && d < DP_DROP_MAX; d++)
			json_object_set_new(drops, dp_drop_name(d), U64(ctr_get(&s->drop[d])));
		uint64_t gap = ctr_get(&s->loop_gap_max);
		json_t *o = json_pack(
			"{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			"s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"id", (json_int_t)i, "lcore", (json_int_t)dp_worker_lcore(i), "rx",
			U64(ctr_get(&s->rx)), "tx", U64(ctr_get(&s->tx)), "loops",
			U64(ctr_get(&s->loops)), "busy", U64(ctr_get(&s->busy)), "idle",
			U64(ctr_get(&s->idle)), "sleeps", U64(ctr_get(&s->sleeps)), "handoff_out",
			U64(ctr_get(&s->handoff_out)), "handoff_in", U64(ctr_get(&s->handoff_in)),
			"rtcp", U64(ctr_get(&s->rtcp)), "rtcp_sent", U64(ctr_get(&s->rtcp_sent)), "arp_replies", U64(ctr_get(&s->arp_replies)),
			"icmp_replies", U64(ctr_get(&s->icmp_replies)), "events_lost",
			U64(ctr_get(&s->events_lost)), "dtmf", U64(ctr_get(&s->dtmf)), "dtmf_absurd",
			U64(ctr_get(&s->dtmf_absurd)), "played", U64(ctr_get(&s->played)),
			"play_lost", U64(ctr_get(&s->play_lost)), "play_busy_ns",
			U64(tsc_hz ? (uint64_t)((double)ctr_get(&s->play_cycles) * 1e9 /
						(double)tsc_hz)
				   : 0),
			"play_late_max_ns",
			U64(tsc_hz ? (uint64_t)((double)ctr_get(&s->play_late_max) * 1e9 /
						(double)tsc_hz)
				   : 0),
			"loop_gap_max_ns",
			U64(tsc_hz ? (uint64_t)((double)gap * 1e9 / (double)tsc_hz) : 0), "drops",
			drops);
		if (o) {
			/* the transcoding pipelines */
			json_object_set_new(o, "xcode_sent", U64(ctr_get(&s->xcode_sent)));
			json_object_set_new(o, "xcode_concealed", U64(ctr_get(&s->xcode_concealed)));
			json_object_set_new(o, "xcode_bad", U64(ctr_get(&s->xcode_bad)));
			json_object_set_new(o, "xcode_late", U64(ctr_get(&s->xcode_late)));
			json_object_set_new(
				o, "xcode_busy_ns",
				U64(tsc_hz ? (uint64_t)((double)ctr_get(&s->xcode_cycles) * 1e9 /
							(double)tsc_hz)
					   : 0));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *status_sip(void)
{
	const struct sip_stats *ss = sip_get_stats();
	const struct dlg_stats *ds = dlg_get_stats();
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			 "s:o, s:o, s:o, s:o, s:o}",
			 "listen", sip_listen_str(), "rx", U64(ss->rx), "tx", U64(ss->tx), "bad",
			 U64(ss->bad), "bad_answered", U64(ss->bad_answered), "dropped",
			 U64(ss->bad - ss->bad_answered), "stray", U64(ss->stray), "retransmits",
			 U64(ss->retransmits), "tx_errors", U64(ss->tx_errors), "no_memory",
			 U64(ss->no_memory), "transactions", U64(sip_transactions()), "dialogs",
			 U64(dlg_count()), "timers", U64(timer_count()), "retransmitted_2xx",
			 U64(ds->retransmitted_2xx), "ack_timeouts", U64(ds->ack_timeouts),
			 "absorbed_invites", U64(ds->absorbed_invites), "acks_resent",
			 U64(ds->acks_resent), "loops", U64(ds->loops), "cseq_errors",
			 U64(ds->cseq_errors));
}

/* What admission control refused (config limits { }). */
static json_t *status_limits(void)
{
	const struct sip_stats *ss = sip_get_stats();
	const struct router_stats *rs = router_get_stats();
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "max_calls_refused",
			 U64(rs->max_calls_refused), "max_cps_refused", U64(rs->max_cps_refused),
			 "transactions_refused", U64(ss->txn_limited), "source_dropped",
			 U64(ss->source_limited), "source_evictions", U64(ss->source_evictions));
}

/* The NG control protocol (ng.h). */
static json_t *status_ng(void)
{
	const struct ng_stats *n = ng_get_stats();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "rx", U64(n->rx),
			 "refused", U64(n->refused), "bad", U64(n->bad), "replies", U64(n->replies),
			 "errors", U64(n->errors), "resent", U64(n->resent), "pings", U64(n->pings),
			 "commands", U64(n->commands), "sessions", U64(ngcall_count()));
}

static json_t *cmd_status(json_t *req, char *err, size_t err_len, void *ctx)
{
	(void)req;
	(void)err;
	(void)err_len;
	(void)ctx;
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &cfg->dp_media_ip, ip, sizeof(ip));
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
			 "s:o, s:o, s:o, s:o, s:o}",
			 "version", version, "uptime_s", U64((time_now_ms() - started_ms) / 1000),
			 "workers", U64(dp_n_workers()), "calls", U64(call_count()), "streams",
			 U64(media_streams()), "media_pairs", U64(pairs_count()), "stream_bytes",
			 U64(media_stream_bytes()), "table_bytes", U64(media_table_bytes()),
			 "media_addresses", U64(media_n_addrs()), "ports_free",
			 U64(media_ports_free()), "ports_total", U64(media_ports_total()),
			 "ports_cooling", U64(media_ports_cooling()), "heap_bytes", U64(heap_bytes()),
			 "media_ip", ip, "sip",
			 status_sip(), "limits", status_limits(), "ng", status_ng(), "ports",
			 status_ports(),
			 "worker_stats", status_workers());
}

static json_t *cmd_sessions(json_t *req, char *err, size_t err_len, void *ctx)
{
	(void)req;
	(void)err;
	(void)err_len;
	(void)ctx;
	return call_list_json();
}

static json_t *cmd_stats_reset(json_t *req, char *err, size_t err_len, void *ctx)
{
	(void)req;
	(void)ctx;
	struct msg_cmd cmd = {.type = MSG_CMD_STATS_RESET};
	if (dp_send_cmd(-1, &cmd) != 0) {
		snprintf(err, err_len, "a worker's command ring is full");
		return NULL;
	}
	return json_null();
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
