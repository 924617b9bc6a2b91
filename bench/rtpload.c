/* mgw-rtpload: RTP load over kernel UDP sockets, for a media relay that is not mgwd (today
 * rtpengine) to be measured transcoding the same calls mgw-bench sends mgwd (bench/transcode).
 *
 * Each call has two sides. Side A sends PCMU, side B the other codec (bench/audio.h: the same
 * bytes mgw-bench sends), one packet every 20 ms each, to the relay's ports for that call
 * (--ports: a file of "A_PORT B_PORT" lines, as the relay's SDP gave them). All A sides share
 * one local socket and all B sides another, as if behind one address each: the relay learns
 * them, answers each call from that call's own ports, and the source port of what arrives
 * names the call. Sending is spread over the 20 ms (one slice of the calls per millisecond),
 * in sendmmsg batches.
 *
 * Measured over --duration seconds after --warmup: what arrived per call and direction (the
 * relay's own RTP sources: sequence gaps are its losses), against 50 packets per second and
 * direction; the arrival interval against 20 ms; and, with --cpu-pid, the CPU time the relay
 * process used (all its threads) as a share of one core. One JSON line on stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/audio.h"

#define BATCH 64
#define SLICES 20            /* one per millisecond of a 20 ms packet time */
#define PKT_MAX (12 + FLOW_AUDIO_MAX)
#define DEV_BUCKETS 2000     /* arrival interval off 20 ms, 10 us buckets up to 20 ms */

struct dir_state {
	uint16_t last_seq;
	uint8_t seen;
	uint64_t last_ns;
};

struct load {
	unsigned calls;
	uint16_t *port[2];        /* the relay's port per call, side A and B */
	int32_t call_of[2][65536]; /* the relay's source port -> call, per side's socket */
	uint32_t seq[2];          /* shared per side: every call of a side on one timeline */
	struct dir_state *dir[2];
	uint64_t received, gaps, sent, send_errors;
	uint64_t dev[DEV_BUCKETS + 1], dev_n;
	int fd[2];
	struct flow_audio *audio;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_s(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	/* after "pid (comm)": state, then fields 4..13, utime (14) and stime (15) */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int open_side(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int sz = 16 << 20;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("mgw-rtpload: socket");
		return -1;
	}
	return fd;
}

static int load_ports(struct load *l, const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned a, b, cap = 1024;
	if (!f) {
		perror(path);
		return -1;
	}
	l->port[0] = malloc(cap * sizeof(uint16_t));
	l->port[1] = malloc(cap * sizeof(uint16_t));
	while (l->port[0] && l->port[1] && fscanf(f, "%u %u", &a, &b) == 2) {
		if (l->calls == cap) {
			cap *= 2;
			l->port[0] = realloc(l->port[0], cap * sizeof(uint16_t));
			l->port[1] = realloc(l->port[1], cap * sizeof(uint16_t));
			if (!l->port[0] || !l->port[1])
				break;
		}
		l->port[0][l->calls] = (uint16_t)a;
		l->port[1][l->calls] = (uint16_t)b;
		l->calls++;
	}
	fclose(f);
	return l->calls ? 0 : -1;
}

/* Send slice @slice of the calls: both sides of every call c with c % SLICES == slice. */
static void send_slice(struct load *l, unsigned slice, unsigned tick)
{
	static uint8_t pkt[2][BATCH][PKT_MAX];
	static struct sockaddr_in to[2][BATCH];
	static struct iovec iov[2][BATCH];
	static struct mmsghdr msg[2][BATCH];
	unsigned n[2] = {0, 0};
	unsigned k = tick % FLOW_AUDIO_PACKETS;
	for (unsigned c = slice; c < l->calls || n[0] || n[1]; c += SLICES) {
		for (int s = 0; s < 2 && c < l->calls; s++) {
			const struct flow_audio *a = l->audio;
			uint8_t *p = pkt[s][n[s]];
			uint16_t seq = (uint16_t)tick;
			uint32_t ts = tick * a->ts_step[s], ssrc = 2 * c + (unsigned)s + 1;
			p[0] = 0x80;
			p[1] = a->pt[s];
			p[2] = (uint8_t)(seq >> 8);
			p[3] = (uint8_t)seq;
			for (int i = 0; i < 4; i++) {
				p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
				p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
			}
			memcpy(p + 12, a->data[s][k], a->len[s][k]);
			to[s][n[s]] = (struct sockaddr_in){.sin_family = AF_INET,
							   .sin_port = htons(l->port[s][c]),
							   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			iov[s][n[s]] = (struct iovec){.iov_base = p, .iov_len = 12u + a->len[s][k]};
			msg[s][n[s]].msg_hdr = (struct msghdr){.msg_name = &to[s][n[s]],
							      .msg_namelen = sizeof(to[s][0]),
							      .msg_iov = &iov[s][n[s]],
							      .msg_iovlen = 1};
			n[s]++;
		}
		bool last = c + SLICES >= l->calls;
		for (int s = 0; s < 2; s++) {
			if (n[s] < BATCH && !(last && n[s]))
				continue;
			int r = sendmmsg(l->fd[s], msg[s], n[s], 0);
			l->sent += r > 0 ? (unsigned)r : 0;
			if (r < (int)n[s])
				l->send_errors += n[s] - (r > 0 ? (unsigned)r : 0);
			n[s] = 0;
		}
		if (last)
			break;
	}
}

static void receive(struct load *l, int s, uint64_t t, int counting)
{
	static uint8_t buf[BATCH][1500];
	static struct sockaddr_in from[BATCH];
	static struct iovec iov[BATCH];
	static struct mmsghdr msg[BATCH];
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = sizeof(buf[i])};
			msg[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
							 .msg_namelen = sizeof(from[i]),
							 .msg_iov = &iov[i], .msg_iovlen = 1};
		}
		int r = recvmmsg(l->fd[s], msg, BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return;
		for (int i = 0; i < r; i++) {
			int32_t c = l->call_of[s][ntohs(from[i].sin_port)];
			if (c < 0 || msg[i].msg_len < 12)
				continue;
			struct dir_state *d = &l->dir[s][c];
			uint16_t seq = (uint16_t)(buf[i][2] << 8 | buf[i][3]);
			if (counting && d->seen) {
				uint16_t gap = (uint16_t)(seq - d->last_seq);
				if (gap > 1 && gap < 32768)
					l->gaps += gap - 1u;
				uint64_t dt = t - d->last_ns, want = 20000000;
				uint64_t dev = (dt > want ? dt - want : want - dt) / 10000;
				l->dev[dev > DEV_BUCKETS ? DEV_BUCKETS : dev]++;
				l->dev_n++;
				l->received++;
			}
			d->seen = 1;
			d->last_seq = seq;
			d->last_ns = t;
		}
	}
}

static double dev_p99_us(const struct load *l)
{
	uint64_t want = l->dev_n - l->dev_n / 100, acc = 0;
	for (unsigned b = 0; b <= DEV_BUCKETS; b++)
		if ((acc += l->dev[b]) >= want && l->dev_n)
			return b * 10.0;
	return 0;
}

int main(int argc, char **argv)
{
	static struct load l;
	const char *ports = NULL, *codec = NULL;
	double duration = 5, warmup = 2;
	unsigned la = 0, lb = 0;
	int pid = 0;
	static const struct option lo[] = {
		{"ports", required_argument, NULL, 'p'}, {"codec", required_argument, NULL, 'c'},
		{"local-a", required_argument, NULL, 'a'}, {"local-b", required_argument, NULL, 'b'},
		{"duration", required_argument, NULL, 'd'}, {"warmup", required_argument, NULL, 'w'},
		{"cpu-pid", required_argument, NULL, 'P'}, {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'p': ports = optarg; break;
		case 'c': codec = optarg; break;
		case 'a': la = (unsigned)atoi(optarg); break;
		case 'b': lb = (unsigned)atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'P': pid = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: mgw-rtpload --ports FILE --codec G722|G729|opus "
				"--local-a PORT --local-b PORT [--duration S] [--warmup S] "
				"[--cpu-pid PID]\n");
			return 2;
		}
	}
	if (!ports || !codec || !la || !lb || load_ports(&l, ports) != 0 ||
	    !(l.audio = audio_loops_new(codec))) {
		fprintf(stderr, "mgw-rtpload: need --ports (a non-empty file), a known --codec, "
			"--local-a and --local-b\n");
		return 2;
	}
	memset(l.call_of, 0xff, sizeof(l.call_of));
	for (unsigned c = 0; c < l.calls; c++)
		for (int s = 0; s < 2; s++)
			l.call_of[s][l.port[s][c]] = (int32_t)c;
	l.dir[0] = calloc(l.calls, sizeof(struct dir_state));
	l.dir[1] = calloc(l.calls, sizeof(struct dir_state));
	if (!l.dir[0] || !l.dir[1] || (l.fd[0] = open_side((uint16_t)la)) < 0 ||
	    (l.fd[1] = open_side((uint16_t)lb)) < 0)
		return 1;
	uint64_t t_start = now_ns(), t0 = t_start + (uint64_t)(warmup * 1e9);
	uint64_t t1 = t0 + (uint64_t)(duration * 1e9), t_end = t1 + 200000000ull;
	uint64_t next = t_start, sent0 = 0;
	unsigned slot = 0;
	double cpu0 = -1, cpu1 = -1;
	for (;;) {
		uint64_t t = now_ns();
		if (t >= t_end)
			break;
		int counting = t >= t0 && t < t1;
		if (cpu0 < 0 && t >= t0) {
			cpu0 = pid ? cpu_s(pid) : 0;
			sent0 = l.sent;
		}
		if (cpu1 < 0 && t >= t1)
			cpu1 = pid ? cpu_s(pid) : 0;
		if (t >= next && t < t1) {
			send_slice(&l, slot % SLICES, slot / SLICES);
			slot++;
			next += 1000000; /* a slice per millisecond */
		}
		receive(&l, 0, t, counting);
		receive(&l, 1, t, counting);
		if (next > t + 200000) {
			struct timespec ts = {0, 100000};
			nanosleep(&ts, NULL);
		}
	}
	uint64_t expected = (uint64_t)((double)l.calls * 2 * 50 * duration);
	double share = pid && cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) / duration : -1;
	printf("{\"codec\":\"%s\",\"calls\":%u,\"expected\":%" PRIu64 ",\"received\":%" PRIu64
	       ",\"seq_gaps\":%" PRIu64 ",\"sent_in_window\":%" PRIu64 ",\"send_errors\":%" PRIu64
	       ",\"pacing_dev_p99_us\":%.0f,\"cpu_share\":%.3f}\n",
	       l.audio->codec_b, l.calls, expected, l.received, l.gaps, l.sent - sent0,
	       l.send_errors, dev_p99_us(&l), share);
	return 0;
}
