/* mgwd: the media gateway daemon. Sets up both planes from the configuration, runs the
 * control plane's single epoll loop on the main lcore, and tears everything down on
 * SIGINT/SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <stddef.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <urcu-qsbr.h>

#include "controlplane/ops/api.h"
#include "controlplane/apps/b2bua.h"
#include "controlplane/apps/call.h"
#include "controlplane/apps/echo.h"
#include "controlplane/ops/journal.h"
#include "controlplane/ops/metrics.h"
#include "controlplane/ng/ng.h"
#include "controlplane/ng/ngcall.h"
#include "controlplane/apps/router.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/config.h"
#include "controlplane/ops/hostnet.h"
#include "controlplane/media/media.h"
#include "controlplane/media/pairs.h"
#include "controlplane/media/playapi.h"
#include "controlplane/apps/routes.h"
#include "controlplane/ops/cdr.h"
#include "controlplane/sip/sip.h"
#include "controlplane/ops/status.h"
#include "dataplane/dp.h"
#include "dataplane/dtmf.h"
#include "dataplane/vad.h"
#include "dataplane/actions/transcode.h"
#include "util/log.h"
#include "util/time.h"
#include "util/timer.h"

#define MGW_VERSION "0.1.0"
#define EXIT_CONFIG 2
/* The loop sleeps until its next timer, I/O, or this long at most: the workers' event ring
 * (first RTP of a stream, neighbours learnt) is drained at least this often. */
#define LOOP_MAX_WAIT_MS 20
#define LINK_POLL_MS 200

static void usage(FILE *f)
{
	fprintf(f, "usage: mgwd [-c FILE] | --check-config FILE | --version\n"
		   "  with no arguments mgwd runs on its embedded default: DPDK without\n"
		   "  hugepages, a net_tap port mgw0 (198.18.0.1/24 on the host side,\n"
		   "  media on 198.18.0.2), SIP on udp 127.0.0.1:5060.\n");
}

/* Returns 0 to run, 1 to exit 0, -1 to exit with EXIT_CONFIG. */
static int parse_args(int argc, char **argv, struct config *cfg, const char **path)
{
	bool check_only = false;
	*path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
			*path = argv[++i];
		} else if (strcmp(a, "--check-config") == 0 && i + 1 < argc) {
			*path = argv[++i];
			check_only = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("mgwd %s\n", MGW_VERSION);
			return 1;
		} else {
			fprintf(stderr, "mgwd: unknown argument '%s'\n", a);
			usage(stderr);
			return -1;
		}
	}
	config_defaults(cfg);
	char err[512];
	if (*path && (config_load(cfg, *path, err, sizeof(err)) != 0 ||
		      config_validate(cfg, *path, err, sizeof(err)) != 0)) {
		fprintf(stderr, "mgwd: %s\n", err);
		return -1;
	}
	struct routes *r = routes_load(*path, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "mgwd: %s\n", err);
		return -1;
	}
	if (check_only) {
		printf("%s: ok (%u route%s)\n", *path, routes_count(r), routes_count(r) == 1 ? "" : "s");
		routes_free(r);
		return 1;
	}
	routes_free(router_set_routes(r));
	return 0;
}

/* Another DPDK primary process holding the lock on this file prefix's runtime config (EAL
 * fails then without saying why): its pid, or 0. */
static pid_t eal_prefix_owner(const char *prefix)
{
	char path[512];
	const char *run = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
	snprintf(path, sizeof(path), "%s/dpdk/%s/config", run ? run : "/tmp", prefix);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	pid_t owner = fcntl(fd, F_GETLK, &lk) == 0 && lk.l_type != F_UNLCK ? lk.l_pid : 0;
	close(fd);
	return owner;
}

static int eal_start(const struct config *cfg)
{
	pid_t owner = eal_prefix_owner(cfg->eal_file_prefix);
	if (owner) {
		LOG_E("main", "DPDK file prefix \"%s\" is in use by process %d (another mgwd?): "
			      "give this one its own eal.file_prefix",
		      cfg->eal_file_prefix, (int)owner);
		return -1;
	}
	char *argv[64];
	int argc = 0;
	char mem[16];
	snprintf(mem, sizeof(mem), "%u", cfg->eal_memory_mb);
	argv[argc++] = "mgwd";
	argv[argc++] = "--lcores";
	argv[argc++] = (char *)cfg->eal_lcores;
	argv[argc++] = "-m";
	argv[argc++] = mem;
	if (cfg->eal_no_huge)
		argv[argc++] = "--no-huge";
	if (cfg->eal_no_pci)
		argv[argc++] = "--no-pci";
	argv[argc++] = "--file-prefix";
	argv[argc++] = (char *)cfg->eal_file_prefix;
	if (cfg->dp_vdev[0]) {
		argv[argc++] = "--vdev";
		argv[argc++] = (char *)cfg->dp_vdev;
	}
	for (unsigned i = 0; i < cfg->eal_n_extra && argc < 62; i++)
		argv[argc++] = (char *)cfg->eal_extra[i];
	argv[argc] = NULL;
	int rc = rte_eal_init(argc, argv);
	if (rc < 0)
		LOG_E("main", "DPDK EAL init failed%s%s (its own messages above say more)",
		      rte_errno ? ": " : "", rte_errno ? rte_strerror(rte_errno) : "");
	return rc;
}

static int host_side_check(const struct config *cfg)
{
	if (!cfg->dp_tap_iface[0])
		return 0;
	char err[256];
	if (hostnet_check_free(cfg->dp_tap_addr, cfg->dp_tap_prefix, cfg->dp_tap_iface, err,
			       sizeof(err)) != 0) {
		LOG_E("main", "refusing to configure %s: %s (set dataplane.tap_address and "
			      "dataplane.media_ip to a free subnet)",
		      cfg->dp_tap_iface, err);
		return -1;
	}
	return 0;
}

static int dataplane_start(const struct config *cfg)
{
	transcode_init(); /* tables read by the workers without synchronisation */
	vad_init();
	dtmf_init();
	char err[256];
	uint32_t mask = cfg->dp_media_prefix ? htonl(~0u << (32 - cfg->dp_media_prefix)) : 0;
	struct dp_config dc = {
		.n_workers = cfg->dp_workers,
		.idle = (unsigned)cfg->dp_idle,
		.n_mbufs = cfg->dp_mbufs,
		.rx_desc = cfg->dp_rx_desc,
		.tx_desc = cfg->dp_tx_desc,
		.media_ip = cfg->dp_media_ip.s_addr,
		.subnet = cfg->dp_media_ip.s_addr & mask,
		.netmask = mask,
		.gateway = cfg->dp_gateway.s_addr,
	};
	if (dp_init(&dc, media_table(), err, sizeof(err)) != 0) {
		LOG_E("main", "data plane: %s", err);
		return -1;
	}
	if (cfg->dp_tap_iface[0]) {
		int rc = hostnet_configure(cfg->dp_tap_iface, cfg->dp_tap_addr, cfg->dp_tap_prefix);
		if (rc != 0) {
			LOG_E("main", "cannot configure %s: %s", cfg->dp_tap_iface, strerror(-rc));
			return -1;
		}
	}
	if (dp_start(err, sizeof(err)) != 0) {
		LOG_E("main", "data plane: %s", err);
		return -1;
	}
	return 0;
}

static const char *config_path; /* NULL: the embedded default */

/* Routes and the call record file, re-read without touching calls in progress. */
static int reload(char *err, size_t err_len)
{
	struct routes *r = routes_load(config_path, err, err_len);
	if (!r) {
		LOG_E("main", "reload failed, keeping the current routes: %s", err);
		return -1;
	}
	routes_free(router_set_routes(r));
	struct config fresh;
	config_defaults(&fresh);
	if (config_path && config_load(&fresh, config_path, err, err_len) == 0 &&
	    cdr_open(fresh.cdr_file) != 0)
		LOG_W("main", "cannot open %s for call records", fresh.cdr_file);
	LOG_I("main", "reloaded: %u route(s)", routes_count(r));
	return 0;
}

static json_t *cmd_reload(json_t *req, char *err, size_t err_len, void *ctx)
{
	(void)req;
	(void)ctx;
	if (reload(err, err_len) != 0)
		return NULL;
	return json_null();
}

static void on_event(const struct msg_event *ev, void *ctx)
{
	(void)ctx;
	struct in_addr a = {.s_addr = ev->peer_ip};
	switch (ev->type) {
	case MSG_EV_STREAM_FIRST_RX:
		dlg_media_seen(ev->stream_id, ev->peer_ip, ev->peer_port);
		break;
	case MSG_EV_DTMF: {
		struct media_dtmf d = {.digit = dtmf_char(ev->dtmf.event),
				     .volume = ev->dtmf.volume,
				     .duration = ev->dtmf.duration,
				     .cut = ev->dtmf.flags & MSG_DTMF_CUT,
				     .inband = ev->dtmf.flags & MSG_DTMF_INBAND};
		if (!dlg_dtmf(ev->stream_id, &d) && !ngcall_dtmf(ev->stream_id, &d))
			LOG_I("dp", "DTMF '%c' on %s:%u (no call), %u ms", d.digit,
			      inet_ntoa((struct in_addr){.s_addr = ev->local_ip}), ev->local_port,
			      d.duration / 8u);
		break;
	}
	case MSG_EV_PLAY: {
		uint32_t gen;
		int r = media_play_event(ev, &gen);
		if (r != 0) {
			LOG_I("media", "play %u on %s:%u %s, %u packets", gen,
			      inet_ntoa((struct in_addr){.s_addr = ev->local_ip}), ev->local_port,
			      r > 0 ? "ended" : "could not be played", ev->play.packets);
			dlg_play_done(ev->stream_id, gen, r > 0);
		}
		break;
	}
	case MSG_EV_TALK:
		dlg_talk(ev->stream_id, ev->talk.talking);
		break;
	case MSG_EV_RTCP_MOVED:
		media_rtcp_moved(ev);
		break;
	case MSG_EV_ARP_LEARNT:
		dp_share_neighbour(ev);
		LOG_D("dp", "worker %u: %s is at %02x:%02x:%02x:%02x:%02x:%02x", ev->worker,
		      inet_ntoa(a), ev->mac[0], ev->mac[1], ev->mac[2], ev->mac[3], ev->mac[4],
		      ev->mac[5]);
		break;
	default:
		break;
	}
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* A fatal signal: the log lines still in the buffer are what tells what happened. */
static void on_fatal(int sig)
{
	log_flush();
	signal(sig, SIG_DFL);
	raise(sig);
}
#endif

static int signals_fd(void)
{
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	/* (sanitizer builds keep their own handlers, which report) */
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], on_fatal);
#endif
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* systemd's readiness protocol (sd_notify): one datagram to $NOTIFY_SOCKET, when set. */
static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path)));
	close(fd);
}

/* SIGQUIT with a journal: stop without ending the calls, for the next mgwd to take back */
static bool keep_calls;

/* The control plane: one epoll loop; RCU-offline while it waits. */
static void control_loop(struct api *api, int sig_fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	int fds[] = {sip_fd(), api_fd(api), sig_fd, ng_fd(), metrics_fd()};
	for (int i = 0; i < 5; i++) {
		if (fds[i] < 0)
			continue; /* NG or metrics off */
		ev.data.fd = fds[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	bool running = true;
	uint64_t next_link_poll = 0;
	while (running) {
		timer_run();
		sip_run(); /* what the timers answered goes out before the wait */
		/* play commands a full ring did not take go again within a millisecond */
		int timeout = timer_wait_ms(media_play_pending() ? 1 : LOOP_MAX_WAIT_MS);
		struct epoll_event evs[8];
		stream_rcu_offline();
		int n = epoll_wait(ep, evs, 8, timeout);
		rcu_thread_online();
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == sip_fd()) {
				sip_on_readable();
			} else if (fd == api_fd(api)) {
				api_poll(api);
			} else if (fd == ng_fd()) {
				ng_on_readable();
			} else if (fd == metrics_fd()) {
				metrics_run();
			} else if (fd == sig_fd) {
				struct signalfd_siginfo si;
				while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						char err[512];
						reload(err, sizeof(err));
						continue;
					}
					if (si.ssi_signo == SIGQUIT && journal_active()) {
						LOG_I("main", "SIGQUIT: stopping, the calls stay in "
							      "the journal for the next mgwd");
						keep_calls = true;
					} else {
						LOG_I("main", "signal %u: shutting down",
						      si.ssi_signo);
					}
					running = false;
				}
			}
		}
		sip_run();
		dp_poll_events(on_event, NULL, 1024);
		media_poll();
		journal_flush();
		log_flush();
		uint64_t now = time_now_ms();
		if (now >= next_link_poll) {
			metrics_run(); /* its connections' timeouts */
			dp_poll_links();
			next_link_poll = now + LINK_POLL_MS;
		}
		stream_rcu_quiescent();
	}
	close(ep);
}

static void log_ready(const struct config *cfg)
{
	char media[INET_ADDRSTRLEN], tap[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &cfg->dp_media_ip, media, sizeof(media));
	inet_ntop(AF_INET, &cfg->dp_tap_addr, tap, sizeof(tap));
	char host_side[128] = "";
	if (cfg->dp_tap_iface[0])
		snprintf(host_side, sizeof(host_side), " (host side %s %s/%u)", cfg->dp_tap_iface,
			 tap, cfg->dp_tap_prefix);
	LOG_I("main",
	      "mgwd %s ready: SIP udp:%s, media %s on %u port(s)%s, RTP ports %u-%u, "
	      "%u worker(s), control %s",
	      MGW_VERSION, sip_listen_str(), media, dp_n_ports(), host_side,
	      cfg->media_port_min, cfg->media_port_max, dp_n_workers(), cfg->control_socket);
}

/* jemalloc (release builds): hand unused pages back after 10 s rather than at once, so that a
 * steady call rate does not fault the same memory in again and again, while what an overload
 * took returns soon after it: jemalloc's background thread purges on that schedule even when
 * the control plane is idle and allocates nothing. */
const char *malloc_conf = "background_thread:true,dirty_decay_ms:10000,muzzy_decay_ms:10000";

/* The control plane allocates and frees in small pieces at the rate of calls (every SIP
 * message is parsed into its own allocations): keep the heap instead of handing its top back
 * to the kernel and faulting zeroed pages in again a moment later. */
static void heap_tune(void)
{
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

int main(int argc, char **argv)
{
	static struct config cfg;
	char err0[512];
	heap_tune();
	const char *path;
	int rc = parse_args(argc, argv, &cfg, &path);
	if (rc != 0)
		return rc > 0 ? 0 : EXIT_CONFIG;
	config_path = path;
	log_set_level((enum log_level)cfg.log_level);
	if (cdr_open(cfg.cdr_file) != 0) {
		fprintf(stderr, "mgwd: cannot open %s for call records\n", cfg.cdr_file);
		return EXIT_CONFIG;
	}
	if (host_side_check(&cfg) != 0)
		return 1;
	if (cfg.journal_redis[0] ? journal_open_redis(cfg.journal_redis, cfg.journal_redis_key,
						       err0, sizeof(err0)) != 0
				 : cfg.journal_file[0] &&
					   journal_open(cfg.journal_file, err0, sizeof(err0)) != 0) {
		fprintf(stderr, "mgwd: %s\n", err0);
		return 1;
	}
	int sig_fd = signals_fd();
	char err[512];
	if (eal_start(&cfg) < 0)
		return 1;
	int status = 1;
	struct api *api = NULL;
	rcu_register_thread();
	struct dlg_config dc = {.t1_ms = cfg.sip_t1_ms,
				.ack_timeout_ms = cfg.sip_ack_timeout_ms ? cfg.sip_ack_timeout_ms
								  : 64 * cfg.sip_t1_ms,
				.max_dialogs = cfg.limits_max_calls * 2};
	if (media_init(&cfg, err, sizeof(err)) != 0 || dlg_init(&dc) != 0 ||
	    router_init(&cfg, err, sizeof(err)) != 0) {
		LOG_E("main", "%s", err);
		goto out;
	}
	if (dataplane_start(&cfg) != 0)
		goto out;
	if (sip_init(&cfg, err, sizeof(err)) != 0) {
		LOG_E("main", "%s", err);
		goto out;
	}
	router_restore(journal_take_restored());
	journal_flush();
	ngcall_init(&cfg);
	if (ng_init(&cfg, err, sizeof(err)) != 0 || metrics_init(&cfg, err, sizeof(err)) != 0) {
		LOG_E("main", "%s", err);
		goto out;
	}
	api = api_create(cfg.control_socket, err, sizeof(err));
	if (!api) {
		LOG_E("main", "control socket: %s", err);
		goto out;
	}
	status_register(api, &cfg, MGW_VERSION);
	pairs_register(api);
	playapi_register(api);
	api_register(api, "reload", cmd_reload, NULL);
	log_ready(&cfg);
	notify_systemd("READY=1");
	log_buffered(true);
	control_loop(api, sig_fd);
	notify_systemd("STOPPING=1");
	log_buffered(false);
	status = 0;
out:
	if (keep_calls) {
		journal_close(); /* what it holds stays as it is */
		call_drop_all();
	}
	router_shutdown();
	sip_run(); /* the BYEs and refusals of shutdown go out */
	dlg_shutdown();
	pairs_shutdown();
	dp_stop();
	media_poll(); /* what the calls' ends retired */
	dp_close();
	if (api)
		api_destroy(api);
	sip_shutdown();
	metrics_shutdown();
	ng_shutdown();
	ngcall_shutdown();
	media_poll();
	media_shutdown();
	rcu_unregister_thread();
	rte_eal_cleanup();
	routes_free(router_set_routes(NULL));
	cdr_close();
	journal_close();
	LOG_I("main", "stopped");
	return status;
}
