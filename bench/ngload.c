/* mgw-ngload: NG protocol load (offer, answer, delete per call) against any NG server (mgwd or
 * rtpengine), so that both are measured with the same client: one thread, one UDP socket,
 * WINDOW calls in flight, each one request at a time; replies matched by cookie; a request
 * without a reply for 1 s is sent again under the same cookie (counted).
 *
 *   mgw-ngload [--target 127.0.0.1:2223] [--duration 10] [--window 32] [--preload 1000]
 *              [--sdp-ip 127.0.0.1] [--rate CALLS_PER_S] [--json]
 *
 * --preload N: N sessions offered and answered before the measurement and deleted after it,
 * so that it runs against a table that is not empty. --rate: calls start at that rate at most
 * (load beside another measurement) instead of as fast as the window allows. Output: calls/s (offer+answer+delete),
 * transactions/s, latency per transaction (p50/p99/max, microseconds), errors, resends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WINDOW 4096
#define RESEND_NS 1000000000ull
#define LAT_BUCKETS 4096 /* 10 us each: 0 .. 41 ms, beyond in the last */

enum step { OFFER, ANSWER, DELETE };

struct slot {
	enum step step;
	uint64_t call;        /* call number */
	uint64_t sent_ns;     /* first send of the current request */
	uint64_t last_tx_ns;  /* last (re)send */
	uint32_t seq;         /* cookie = slot.seq */
	bool busy, measured;
	bool pending;         /* a call waits for its turn (--rate) */
	char req[2048];
	size_t req_len;
};

static int fd;
static struct sockaddr_in target;
static char sdp_ip[64] = "127.0.0.1";
static struct slot slots[MAX_WINDOW];
static uint64_t lat[LAT_BUCKETS], lat_n, lat_max, errors, resends;
static char first_error[256];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* bencoded string */
static size_t bstr(char *p, const char *s)
{
	return (size_t)sprintf(p, "%zu:%s", strlen(s), s);
}

static void build(struct slot *s, unsigned idx, const char *prefix)
{
	char cid[64], sdp[512], *p = s->req;
	snprintf(cid, sizeof(cid), "%s-%llu", prefix, (unsigned long long)s->call);
	p += sprintf(p, "%u_%u_%d d", idx, s->seq, (int)getpid()); /* unique across runs */
	if (s->step != DELETE) {
		unsigned port = 20000 + (unsigned)(s->call % 20000) * 2 + (s->step == ANSWER ? 1 : 0);
		snprintf(sdp, sizeof(sdp),
			 "v=0\r\no=- %llu 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
			 "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
			 "a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n",
			 (unsigned long long)s->call, sdp_ip, sdp_ip, port);
	}
	p += bstr(p, "call-id");
	p += bstr(p, cid);
	p += bstr(p, "command");
	p += bstr(p, s->step == OFFER ? "offer" : s->step == ANSWER ? "answer" : "delete");
	p += bstr(p, "flags");
	p += sprintf(p, "l");
	p += bstr(p, "trust-address");
	p += sprintf(p, "e");
	p += bstr(p, "from-tag");
	p += bstr(p, "ft");
	if (s->step != DELETE) {
		p += bstr(p, "replace");
		p += sprintf(p, "l");
		p += bstr(p, "origin");
		p += sprintf(p, "e");
		p += bstr(p, "sdp");
		p += bstr(p, sdp);
	}
	if (s->step != OFFER) {
		p += bstr(p, "to-tag");
		p += bstr(p, "tt");
	}
	p += sprintf(p, "e");
	s->req_len = (size_t)(p - s->req);
}

static void send_slot(struct slot *s, uint64_t t)
{
	if (sendto(fd, s->req, s->req_len, 0, (struct sockaddr *)&target, sizeof(target)) < 0 &&
	    errno != EAGAIN && errno != ENOBUFS) {
		perror("ngload: sendto");
		exit(1);
	}
	s->last_tx_ns = t;
}

/* Cookies are never reused (slot, sequence, pid): servers answer a cookie they know from
 * their reply cache without running the command. */
static uint32_t cookie_seq;

static void start(struct slot *s, unsigned idx, const char *prefix, uint64_t t)
{
	s->seq = ++cookie_seq;
	build(s, idx, prefix);
	s->sent_ns = t;
	s->busy = true;
	send_slot(s, t);
}

static uint64_t period_ns, next_start_ns; /* --rate: one call start every period_ns */

/* May a call start at @t (--rate pacing; always without it)? */
static bool may_start(uint64_t t)
{
	if (!period_ns)
		return true;
	if (t < next_start_ns)
		return false;
	next_start_ns += period_ns;
	if (next_start_ns + 100000000ull < t)
		next_start_ns = t; /* after a stall: no burst to catch up */
	return true;
}

/* Calls through every slot until @until (ns) or, with @calls, that many: each call the
 * requests from @first to @last (OFFER..DELETE measured, OFFER..ANSWER a preload, DELETE
 * alone its cleanup). Returns calls finished. */
static uint64_t run(unsigned window, uint64_t until, uint64_t calls, enum step first,
		    enum step last, bool measure, const char *prefix)
{
	char buf[65536];
	uint64_t done = 0, next_call = 0;
	unsigned active = 0;
	uint64_t t = now_ns();
	for (unsigned i = 0; i < window; i++) {
		if (calls && next_call >= calls)
			break;
		slots[i] = (struct slot){.step = first, .call = next_call++, .measured = measure};
		if (may_start(t))
			start(&slots[i], i, prefix, t);
		else
			slots[i].pending = true;
		active++;
	}
	while (active) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		poll(&pfd, 1, period_ns ? 1 : 100);
		t = now_ns();
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
			if (n <= 0)
				break;
			buf[n] = '\0';
			unsigned idx, seq;
			if (sscanf(buf, "%u_%u ", &idx, &seq) != 2 || idx >= window)
				continue;
			struct slot *s = &slots[idx];
			if (!s->busy || seq != s->seq)
				continue; /* a late reply to a resent request */
			if (!strstr(buf, "6:result2:ok") && !strstr(buf, "6:result4:pong")) {
				if (!errors++)
					snprintf(first_error, sizeof(first_error),
						 "%.120s (to: %.120s)", buf, s->req);
			}
			uint64_t us = (t - s->sent_ns) / 1000;
			if (s->measured) {
				lat[us / 10 < LAT_BUCKETS ? us / 10 : LAT_BUCKETS - 1]++;
				lat_n++;
				if (us > lat_max)
					lat_max = us;
			}
			s->busy = false;
			if (s->step < last) {
				s->step++;
				start(s, idx, prefix, t);
				continue;
			}
			done++;
			bool more = calls ? next_call < calls : t < until;
			if (!more) {
				active--;
				continue;
			}
			s->step = first;
			s->call = next_call++;
			if (may_start(t))
				start(s, idx, prefix, t);
			else
				s->pending = true;
		}
		t = now_ns();
		for (unsigned i = 0; i < window && period_ns; i++)
			if (slots[i].pending && may_start(t)) {
				slots[i].pending = false;
				start(&slots[i], i, prefix, t);
			}
		for (unsigned i = 0; i < window; i++)
			if (slots[i].busy && t - slots[i].last_tx_ns > RESEND_NS) {
				resends++;
				send_slot(&slots[i], t);
			}
	}
	return done;
}

static uint64_t pct(double p)
{
	uint64_t want = (uint64_t)(p * (double)lat_n), acc = 0;
	for (unsigned i = 0; i < LAT_BUCKETS; i++) {
		acc += lat[i];
		if (acc > want)
			return (uint64_t)i * 10 + 5;
	}
	return lat_max;
}

int main(int argc, char **argv)
{
	char tgt[64] = "127.0.0.1:2223";
	double duration = 10;
	unsigned window = 32, preload = 1000;
	bool json = false;
	static const struct option opts[] = {
		{"target", required_argument, 0, 't'}, {"duration", required_argument, 0, 'd'},
		{"window", required_argument, 0, 'w'}, {"preload", required_argument, 0, 'p'},
		{"sdp-ip", required_argument, 0, 's'}, {"json", no_argument, 0, 'j'},
		{"rate", required_argument, 0, 'r'},
		{0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': snprintf(tgt, sizeof(tgt), "%s", optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'w': window = (unsigned)atoi(optarg); break;
		case 'p': preload = (unsigned)atoi(optarg); break;
		case 's': snprintf(sdp_ip, sizeof(sdp_ip), "%s", optarg); break;
		case 'j': json = true; break;
		case 'r': period_ns = atof(optarg) > 0 ? (uint64_t)(1e9 / atof(optarg)) : 0; break;
		default:
			fprintf(stderr, "usage: mgw-ngload [--target IP:PORT] [--duration S] "
					"[--window N] [--preload N] [--sdp-ip IP] [--rate CALLS_PER_S] [--json]\n");
			return 2;
		}
	}
	char *colon = strrchr(tgt, ':');
	if (!colon || window == 0 || window > MAX_WINDOW || duration <= 0) {
		fprintf(stderr, "ngload: bad --target, --window (1..%d) or --duration\n", MAX_WINDOW);
		return 2;
	}
	*colon = '\0';
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, tgt, &target.sin_addr) != 1) {
		fprintf(stderr, "ngload: bad target address %s\n", tgt);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sz = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "ngl%d", (int)getpid());
	char held[40];
	snprintf(held, sizeof(held), "%s-held", prefix);

	uint64_t paced = period_ns;
	period_ns = 0; /* the preload goes as fast as it can */
	if (preload)
		run(window < preload ? window : preload, 0, preload, OFFER, ANSWER, false, held);
	period_ns = paced;
	uint64_t t0 = now_ns();
	next_start_ns = t0;
	uint64_t done = run(window, t0 + (uint64_t)(duration * 1e9), 0, OFFER, DELETE, true, prefix);
	double secs = (double)(now_ns() - t0) / 1e9;
	uint64_t errors_measured = errors;
	uint64_t resends_measured = resends;
	period_ns = 0;
	if (preload) /* the held sessions go: the same call-ids, a delete each */
		run(window < preload ? window : preload, 0, preload, DELETE, DELETE, false, held);
	double cps = (double)done / secs;
	if (json)
		printf("{\"calls\": %llu, \"seconds\": %.3f, \"calls_per_s\": %.0f, "
		       "\"transactions_per_s\": %.0f, \"p50_us\": %llu, \"p99_us\": %llu, "
		       "\"max_us\": %llu, \"errors\": %llu, \"resends\": %llu, \"window\": %u, "
		       "\"preload\": %u}\n",
		       (unsigned long long)done, secs, cps, cps * 3, (unsigned long long)pct(0.5),
		       (unsigned long long)pct(0.99), (unsigned long long)lat_max,
		       (unsigned long long)errors_measured, (unsigned long long)resends_measured, window,
		       preload);
	else
		printf("%llu calls in %.2f s: %.0f calls/s (%.0f transactions/s), latency p50 %llu "
		       "us p99 %llu us max %llu us, errors %llu, resends %llu\n",
		       (unsigned long long)done, secs, cps, cps * 3, (unsigned long long)pct(0.5),
		       (unsigned long long)pct(0.99), (unsigned long long)lat_max,
		       (unsigned long long)errors_measured, (unsigned long long)resends_measured);
	if (errors)
		fprintf(stderr, "ngload: %llu error replies, the first: %s\n",
			(unsigned long long)errors, first_error);
	return errors_measured ? 1 : 0;
}
