/* SIP peers for unit tests that drive the real control-plane stack (SIP layer, dialog core,
 * applications) in process: UDP sockets on loopback that mgwd's SIP socket talks to, the
 * messages they send written by hand, what they receive read back as text. The stack is
 * pumped between steps the way mgwd's control loop runs it. Header-only: each test file
 * includes it once. */
#ifndef MGW_TEST_SIP_PEER_H
#define MGW_TEST_SIP_PEER_H

#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "controlplane/media/media.h"
#include "controlplane/sip/sip.h"
#include "util/time.h"
#include "util/timer.h"

#define PEER_MSG_MAX 8192
#define PEER_WAIT_MS 2000

struct peer {
	int fd;
	struct sockaddr_in addr; /* its own, on loopback */
	char name[16];
};

/* What mgwd's control loop does between two waits. */
static inline void stack_pump(void)
{
	sip_on_readable();
	timer_run();
	sip_run();
	media_poll();
	rcu_quiescent_state();
}

static inline int peer_open(struct peer *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	p->addr.sin_family = AF_INET;
	p->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(p->addr);
	if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&p->addr, sizeof(p->addr)) != 0 ||
	    getsockname(p->fd, (struct sockaddr *)&p->addr, &sl) != 0)
		return -1;
	return 0;
}

static inline void peer_close(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static inline uint16_t peer_port(const struct peer *p) { return ntohs(p->addr.sin_port); }

/* Send @msg from @p to mgwd's SIP port @to_port, then let the stack run. */
static inline void peer_send(struct peer *p, uint16_t to_port, const char *msg)
{
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_port = htons(to_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	sendto(p->fd, msg, strlen(msg), 0, (struct sockaddr *)&dst, sizeof(dst));
	for (int i = 0; i < 3; i++)
		stack_pump();
}

/* The next datagram to @p within @timeout_ms (NUL-terminated in @buf), or -1. */
static inline int peer_recv(struct peer *p, char *buf, int timeout_ms)
{
	uint64_t end = time_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		ssize_t n = recv(p->fd, buf, PEER_MSG_MAX - 1, MSG_DONTWAIT);
		if (n >= 0) {
			buf[n] = '\0';
			return (int)n;
		}
		uint64_t now = time_now_ms();
		if (now >= end)
			return -1;
		stack_pump();
		struct pollfd pf = {.fd = p->fd, .events = POLLIN};
		poll(&pf, 1, end - now < 2 ? (int)(end - now) : 2);
	}
}

static inline void peer_drain(struct peer *p)
{
	char buf[PEER_MSG_MAX];
	stack_pump();
	while (recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

static inline int msg_status(const char *msg)
{
	int code;
	return sscanf(msg, "SIP/2.0 %d", &code) == 1 ? code : -1;
}

/* The method of a request, or "" for a response. */
static inline const char *msg_method(const char *msg, char *out, size_t cap)
{
	if (strncmp(msg, "SIP/2.0", 7) == 0) {
		snprintf(out, cap, "%s", "");
		return out;
	}
	snprintf(out, cap, "%.*s", (int)strcspn(msg, " "), msg);
	return out;
}

/* Header @name (full name, first occurrence) into @out; false when absent. */
static inline bool msg_header(const char *msg, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);
	const char *p = strstr(msg, "\r\n");
	while (p && p[2] != '\r' && p[2] != '\0') {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			const char *e = strstr(v, "\r\n");
			snprintf(out, cap, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
			return true;
		}
		p = strstr(p, "\r\n");
	}
	return false;
}

/* The tag of header @name (To or From). */
static inline bool msg_tag(const char *msg, const char *name, char *out, size_t cap)
{
	char h[512];
	if (!msg_header(msg, name, h, sizeof(h)))
		return false;
	const char *t = strstr(h, ";tag=");
	if (!t)
		return false;
	t += 5;
	snprintf(out, cap, "%.*s", (int)strcspn(t, ";> "), t);
	return out[0] != '\0';
}

static inline const char *msg_body(const char *msg)
{
	const char *b = strstr(msg, "\r\n\r\n");
	return b ? b + 4 : "";
}

/* The m=audio port of @msg's SDP, 0 when none. */
static inline unsigned msg_audio_port(const char *msg)
{
	const char *m = strstr(msg_body(msg), "m=audio ");
	unsigned port = 0;
	return m && sscanf(m, "m=audio %u", &port) == 1 ? port : 0;
}

/* The branch of @msg's top Via. */
static inline bool msg_branch(const char *msg, char *out, size_t cap)
{
	char via[512];
	if (!msg_header(msg, "Via", via, sizeof(via)))
		return false;
	const char *b = strstr(via, "branch=");
	if (!b)
		return false;
	b += 7;
	snprintf(out, cap, "%.*s", (int)strcspn(b, ";, "), b);
	return true;
}

/* The response @code to request @req, as the peer that received it sends it back: its Via,
 * From, To (with @to_tag added), Call-ID and CSeq; Contact of @p; @sdp as body. */
static inline int peer_response(struct peer *p, char *out, size_t cap, const char *req, int code,
				const char *reason, const char *to_tag, const char *sdp)
{
	char via[512], from[512], to[512], cid[256], cseq[64];
	if (!msg_header(req, "Via", via, sizeof(via)) || !msg_header(req, "From", from, sizeof(from)) ||
	    !msg_header(req, "To", to, sizeof(to)) || !msg_header(req, "Call-ID", cid, sizeof(cid)) ||
	    !msg_header(req, "CSeq", cseq, sizeof(cseq)))
		return -1;
	bool has_tag = strstr(to, ";tag=") != NULL;
	return snprintf(out, cap,
			"SIP/2.0 %d %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s%s%s\r\nCall-ID: %s\r\n"
			"CSeq: %s\r\nContact: <sip:peer@127.0.0.1:%u>\r\n%sContent-Length: %zu\r\n\r\n%s",
			code, reason, via, from, to, !has_tag && to_tag ? ";tag=" : "",
			!has_tag && to_tag ? to_tag : "", cid, cseq, peer_port(p),
			sdp ? "Content-Type: application/sdp\r\n" : "", sdp ? strlen(sdp) : 0,
			sdp ? sdp : "");
}

/* Answer @req with @code (to mgwd's SIP port @to_port). */
static inline void peer_answer(struct peer *p, uint16_t to_port, const char *req, int code,
			       const char *reason, const char *to_tag, const char *sdp)
{
	char out[PEER_MSG_MAX];
	if (peer_response(p, out, sizeof(out), req, code, reason, to_tag, sdp) > 0)
		peer_send(p, to_port, out);
}

/* An SDP offer or answer of a peer whose media is at 127.0.0.1:@port, PCMU (and
 * telephone-event 101), with @dir (NULL: sendrecv). */
static inline const char *peer_sdp(char *out, size_t cap, unsigned port, const char *dir)
{
	snprintf(out, cap,
		 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\na=%s\r\n",
		 port, dir ? dir : "sendrecv");
	return out;
}

#endif
