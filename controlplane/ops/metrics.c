#include "controlplane/ops/metrics.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "controlplane/apps/call.h"
#include "controlplane/apps/router.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/media/quality.h"
#include "controlplane/ng/ng.h"
#include "controlplane/ng/ngcall.h"
#include "controlplane/ops/journal.h"
#include "controlplane/sip/sip.h"
#include "dataplane/dp.h"

static struct MHD_Daemon *daemon_;

struct text {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	if (t->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 16384;
		while (cap < t->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(t->p, cap);
		if (!p) {
			t->oom = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct text *t, const char *name, const char *type, const char *help,
		unsigned long long v)
{
	head(t, name, type, help);
	put(t, "%s %llu\n", name, v);
}

#define ULL(x) ((unsigned long long)(x))

char *metrics_text(void)
{
	struct text t = {0};
	one(&t, "mgw_calls", "gauge", "Calls up (echo and B2BUA).", call_count());
	one(&t, "mgw_ng_sessions", "gauge", "Media sessions opened over the NG protocol.",
	    ngcall_count());
	one(&t, "mgw_streams", "gauge", "Streams published to the data plane.", media_streams());
	one(&t, "mgw_media_ports_free", "gauge", "Media ports free in the pool.",
	    media_ports_free());
	one(&t, "mgw_media_ports", "gauge", "Media ports in the pool.", media_ports_total());

	head(&t, "mgw_worker_rx_packets_total", "counter", "Packets received by a worker.");
	for (unsigned i = 0; i < dp_n_workers(); i++)
		put(&t, "mgw_worker_rx_packets_total{worker=\"%u\"} %llu\n", i,
		    ULL(ctr_get(&dp_worker_stats(i)->rx)));
	head(&t, "mgw_worker_tx_packets_total", "counter", "Packets sent by a worker.");
	for (unsigned i = 0; i < dp_n_workers(); i++)
		put(&t, "mgw_worker_tx_packets_total{worker=\"%u\"} %llu\n", i,
		    ULL(ctr_get(&dp_worker_stats(i)->tx)));
	head(&t, "mgw_dtmf_events_total", "counter",
	     "RFC 4733 events (digits) received, by worker and verdict.");
	for (unsigned i = 0; i < dp_n_workers(); i++) {
		put(&t, "mgw_dtmf_events_total{worker=\"%u\",verdict=\"reported\"} %llu\n", i,
		    ULL(ctr_get(&dp_worker_stats(i)->dtmf)));
		put(&t, "mgw_dtmf_events_total{worker=\"%u\",verdict=\"absurd\"} %llu\n", i,
		    ULL(ctr_get(&dp_worker_stats(i)->dtmf_absurd)));
	}
	head(&t, "mgw_player_packets_total", "counter",
	     "Packets mgw's player sent (announcements, tones, DTMF), and frames it could not.");
	for (unsigned i = 0; i < dp_n_workers(); i++) {
		put(&t, "mgw_player_packets_total{worker=\"%u\",result=\"sent\"} %llu\n", i,
		    ULL(ctr_get(&dp_worker_stats(i)->played)));
		put(&t, "mgw_player_packets_total{worker=\"%u\",result=\"lost\"} %llu\n", i,
		    ULL(ctr_get(&dp_worker_stats(i)->play_lost)));
	}
	head(&t, "mgw_transcode_packets_total", "counter",
	     "Transcoding pipelines: packets encoded and sent, packets' worth of audio concealed "
	     "(lost, late, jitter buffer dry), received packets they could not use, packet times "
	     "not sent (the worker held up).");
	for (unsigned i = 0; i < dp_n_workers(); i++) {
		const struct dp_worker_stats *s = dp_worker_stats(i);
		put(&t, "mgw_transcode_packets_total{worker=\"%u\",result=\"sent\"} %llu\n", i,
		    ULL(ctr_get(&s->xcode_sent)));
		put(&t, "mgw_transcode_packets_total{worker=\"%u\",result=\"concealed\"} %llu\n", i,
		    ULL(ctr_get(&s->xcode_concealed)));
		put(&t, "mgw_transcode_packets_total{worker=\"%u\",result=\"bad\"} %llu\n", i,
		    ULL(ctr_get(&s->xcode_bad)));
		put(&t, "mgw_transcode_packets_total{worker=\"%u\",result=\"late\"} %llu\n", i,
		    ULL(ctr_get(&s->xcode_late)));
	}
	head(&t, "mgw_worker_drops_total", "counter", "Packets a worker dropped, by reason.");
	for (unsigned i = 0; i < dp_n_workers(); i++)
		for (unsigned d = 0; d < DP_DROP_MAX; d++)
			put(&t, "mgw_worker_drops_total{worker=\"%u\",reason=\"%s\"} %llu\n", i,
			    dp_drop_name(d), ULL(ctr_get(&dp_worker_stats(i)->drop[d])));
	static const struct {
		const char *name, *help;
		size_t off;
	} port_families[] = {
		{"mgw_port_rx_packets_total", "Packets the NIC received, by port.",
		 offsetof(struct dp_port_info, rx)},
		{"mgw_port_tx_packets_total", "Packets the NIC sent, by port.",
		 offsetof(struct dp_port_info, tx)},
		{"mgw_port_rx_bytes_total", "Bytes the NIC received, by port.",
		 offsetof(struct dp_port_info, rx_bytes)},
		{"mgw_port_tx_bytes_total", "Bytes the NIC sent, by port.",
		 offsetof(struct dp_port_info, tx_bytes)},
		{"mgw_port_nic_drops_total", "Packets the NIC dropped, by port.",
		 offsetof(struct dp_port_info, drop)},
	};
	for (unsigned f = 0; f < sizeof(port_families) / sizeof(port_families[0]); f++) {
		head(&t, port_families[f].name, "counter", port_families[f].help);
		for (unsigned p = 0; p < dp_n_ports(); p++) {
			struct dp_port_info pi;
			if (dp_port_info(p, &pi) == 0)
				put(&t, "%s{port=\"%s\"} %llu\n", port_families[f].name, pi.name,
				    ULL(*(const uint64_t *)((const char *)&pi + port_families[f].off)));
		}
	}

	const struct sip_stats *ss = sip_get_stats();
	one(&t, "mgw_sip_datagrams_received_total", "counter", "SIP datagrams received.", ss->rx);
	one(&t, "mgw_sip_messages_sent_total", "counter", "SIP messages sent.", ss->tx);
	one(&t, "mgw_sip_bad_total", "counter", "Malformed SIP messages (400 or dropped).", ss->bad);
	head(&t, "mgw_sip_requests_total", "counter", "SIP requests received, by method.");
	for (unsigned m = 0; m < SIP_M_MAX; m++)
		put(&t, "mgw_sip_requests_total{method=\"%s\"} %llu\n", sip_method_names[m],
		    ULL(ss->requests_by_method[m]));
	head(&t, "mgw_sip_responses_total", "counter", "SIP responses received, by class.");
	for (unsigned c = 1; c <= 6; c++)
		put(&t, "mgw_sip_responses_total{class=\"%uxx\"} %llu\n", c,
		    ULL(ss->responses_by_class[c]));
	one(&t, "mgw_sip_transactions", "gauge", "SIP transactions alive.", sip_transactions());
	one(&t, "mgw_sip_dialogs", "gauge", "SIP dialogs alive.", dlg_count());

	const struct ng_stats *ns = ng_get_stats();
	head(&t, "mgw_ng_requests_total", "counter", "NG requests, by command and result.");
	for (unsigned c = 0; c < NG_C_MAX; c++) {
		put(&t, "mgw_ng_requests_total{command=\"%s\",result=\"ok\"} %llu\n",
		    ng_cmd_names[c], ULL(ns->by_command[c] - ns->errors_by_command[c]));
		put(&t, "mgw_ng_requests_total{command=\"%s\",result=\"error\"} %llu\n",
		    ng_cmd_names[c], ULL(ns->errors_by_command[c]));
	}
	one(&t, "mgw_ng_errors_total", "counter", "NG requests answered with an error.", ns->errors);
	one(&t, "mgw_ng_refused_total", "counter", "NG datagrams from sources not in ng.allow.",
	    ns->refused);
	one(&t, "mgw_ng_bad_total", "counter", "NG datagrams without a cookie or a command.",
	    ns->bad);

	const struct router_stats *rs = router_get_stats();
	head(&t, "mgw_admission_refused_total", "counter", "What admission control refused.");
	put(&t, "mgw_admission_refused_total{limit=\"max_calls\"} %llu\n", ULL(rs->max_calls_refused));
	put(&t, "mgw_admission_refused_total{limit=\"max_cps\"} %llu\n", ULL(rs->max_cps_refused));
	put(&t, "mgw_admission_refused_total{limit=\"max_transactions\"} %llu\n",
	    ULL(ss->txn_limited));
	put(&t, "mgw_admission_refused_total{limit=\"source_rps\"} %llu\n", ULL(ss->source_limited));

	unsigned nh;
	const struct quality_hist *qh = quality_hists(&nh);
	for (unsigned h = 0; h < nh; h++) {
		head(&t, qh[h].name, "histogram", qh[h].help);
		for (unsigned b = 0; b < qh[h].n; b++)
			put(&t, "%s_bucket{le=\"%g\"} %llu\n", qh[h].name, qh[h].le[b],
			    ULL(qh[h].count[b]));
		put(&t, "%s_bucket{le=\"+Inf\"} %llu\n", qh[h].name, ULL(qh[h].total));
		put(&t, "%s_sum %.6g\n%s_count %llu\n", qh[h].name, qh[h].sum, qh[h].name,
		    ULL(qh[h].total));
	}

	const struct journal_stats *js = journal_get_stats();
	one(&t, "mgw_journal_calls", "gauge", "Calls in the journal.", js->live);
	one(&t, "mgw_journal_write_errors_total", "counter", "Journal records not written.",
	    js->write_errors);
	if (t.oom) {
		free(t.p);
		return NULL;
	}
	return t.p;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *data_size, void **state)
{
	(void)cls;
	(void)version;
	(void)data;
	(void)data_size;
	(void)state;
	struct MHD_Response *r;
	unsigned code = MHD_HTTP_OK;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		static const char msg[] = "GET /metrics\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						    MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		static const char msg[] = "not found: the metrics are at /metrics\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						    MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_NOT_FOUND;
	} else {
		char *text = metrics_text();
		if (!text)
			return MHD_NO;
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
		if (r)
			MHD_add_response_header(r, "Content-Type",
						"text/plain; version=0.0.4; charset=utf-8");
		else
			free(text);
	}
	if (!r)
		return MHD_NO;
	enum MHD_Result rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

int metrics_init(const struct config *cfg, char *err, size_t err_len)
{
	if (cfg->metrics_port == 0)
		return 0;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)cfg->metrics_port),
				 .sin_addr = cfg->metrics_listen};
	daemon_ = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TURBO, (uint16_t)cfg->metrics_port, NULL,
				   NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				   MHD_OPTION_CONNECTION_LIMIT, 16U, MHD_OPTION_CONNECTION_TIMEOUT, 5U,
				   MHD_OPTION_END);
	if (!daemon_) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &cfg->metrics_listen, a, sizeof(a));
		snprintf(err, err_len, "metrics: cannot listen on %s:%u", a, cfg->metrics_port);
		return -1;
	}
	return 0;
}

int metrics_fd(void)
{
	if (!daemon_)
		return -1;
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
	return i ? i->epoll_fd : -1;
}

void metrics_run(void)
{
	if (daemon_)
		MHD_run(daemon_);
}

void metrics_shutdown(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
