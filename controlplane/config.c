/* config: parse the libconfig file into struct config (see config.h).
 *
 * Two tables drive everything: config_keys lists every key the file may hold (its type and
 * where it lands in struct config), config_rules lists the checks on the values. config_load
 * applies the keys, then the rules, so that an operator gets the line of the offending key;
 * config_validate runs the same range checks and rules on a struct built any other way. */
#include "controlplane/config.h"
#include "controlplane/media/prompt.h"

#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

enum config_kind {
	CK_UINT,    /* unsigned, range min..max */
	CK_BOOL,    /* bool */
	CK_STR,     /* char[size] */
	CK_IPV4,    /* struct in_addr from "a.b.c.d" */
	CK_TAPADDR, /* dp_tap_addr + dp_tap_prefix from "a.b.c.d/len" */
	CK_STRLIST, /* char[max_n][size] with an unsigned count at n_off */
	CK_LOGLEVEL,
	CK_ENUM,    /* int, the index of the string in names */
};

struct config_key {
	const char *group;
	const char *name;
	enum config_kind kind;
	size_t off;
	size_t size;         /* CK_STR, CK_STRLIST: buffer size of one string */
	long long min, max;  /* CK_UINT */
	const char *msg;     /* CK_UINT: range message, NULL = generic */
	bool nonempty;       /* CK_STR: "" is an error when given in the file */
	size_t n_off, max_n; /* CK_STRLIST */
	const char *const *names; /* CK_ENUM: the accepted strings, NULL-terminated */
};

#define CFG_OFF(field) offsetof(struct config, field)
#define CFG_UINT(g, n, f, lo, hi, m)                                                         \
	{.group = g, .name = n, .kind = CK_UINT, .off = CFG_OFF(f), .min = lo, .max = hi, .msg = m}
#define CFG_BOOL(g, n, f) {.group = g, .name = n, .kind = CK_BOOL, .off = CFG_OFF(f)}
#define CFG_STR(g, n, f, ne)                                                                 \
	{.group = g, .name = n, .kind = CK_STR, .off = CFG_OFF(f),                           \
	 .size = sizeof(((struct config *)0)->f), .nonempty = ne}
#define CFG_IPV4(g, n, f) {.group = g, .name = n, .kind = CK_IPV4, .off = CFG_OFF(f)}
#define CFG_LIST(g, n, f, cnt)                                                               \
	{.group = g, .name = n, .kind = CK_STRLIST, .off = CFG_OFF(f),                       \
	 .size = sizeof(((struct config *)0)->f[0]), .n_off = CFG_OFF(cnt),                  \
	 .max_n = sizeof(((struct config *)0)->f) / sizeof(((struct config *)0)->f[0])}
#define CFG_ENUM(g, n, f, names_)                                                            \
	{.group = g, .name = n, .kind = CK_ENUM, .off = CFG_OFF(f), .names = names_}
#define CFG_SPECIAL(g, n, k) {.group = g, .name = n, .kind = k}

#define PORT_MSG "must be an even number between 1024 and 65534"

static const char *const latch_names[] = {"any", "ip", "strict", NULL}; /* enum stream_latch */
static const char *const idle_names[] = {"adaptive", "poll", NULL};    /* enum dp_idle */

static const struct config_key config_keys[] = {
	CFG_STR("eal", "lcores", eal_lcores, true),
	CFG_UINT("eal", "memory_mb", eal_memory_mb, 64, 1048576, NULL),
	CFG_BOOL("eal", "no_huge", eal_no_huge),
	CFG_BOOL("eal", "no_pci", eal_no_pci),
	CFG_STR("eal", "file_prefix", eal_file_prefix, true),
	CFG_LIST("eal", "extra", eal_extra, eal_n_extra),
	CFG_UINT("dataplane", "workers", dp_workers, 1, 16, NULL),
	CFG_UINT("dataplane", "mbufs", dp_mbufs, 255, 16777215, NULL),
	CFG_UINT("dataplane", "rx_desc", dp_rx_desc, 64, 32768, NULL),
	CFG_UINT("dataplane", "tx_desc", dp_tx_desc, 64, 32768, NULL),
	CFG_STR("dataplane", "vdev", dp_vdev, false),
	CFG_STR("dataplane", "tap_iface", dp_tap_iface, false),
	CFG_SPECIAL("dataplane", "tap_address", CK_TAPADDR),
	CFG_IPV4("dataplane", "media_ip", dp_media_ip),
	CFG_UINT("dataplane", "media_ip_count", dp_media_ip_count, 1, 64, NULL),
	CFG_UINT("dataplane", "media_prefix", dp_media_prefix, 8, 30, NULL),
	CFG_IPV4("dataplane", "gateway", dp_gateway),
	CFG_ENUM("dataplane", "idle", dp_idle, idle_names),
	CFG_UINT("media", "port_min", media_port_min, 1024, 65534, PORT_MSG),
	CFG_UINT("media", "port_max", media_port_max, 1024, 65534, NULL),
	CFG_LIST("media", "codecs", media_codecs, media_n_codecs),
	CFG_UINT("media", "ptime", media_ptime, 10, 200, NULL),
	CFG_UINT("media", "opus_complexity", media_opus_complexity, 0, 10, NULL),
	CFG_UINT("media", "timeout_s", media_timeout_s, 0, 86400, NULL),
	CFG_UINT("media", "hold_timeout_s", media_hold_timeout_s, 0, 86400, NULL),
	CFG_UINT("media", "silence_timeout_s", media_silence_timeout_s, 0, 86400, NULL),
	CFG_BOOL("media", "inband_dtmf", media_inband_dtmf),
	CFG_BOOL("media", "talk_events", media_talk_events),
	CFG_ENUM("media", "latch", media_latch, latch_names),
	CFG_STR("media", "tone_plan", media_tone_plan, true),
	CFG_LIST("media", "tones", media_tones, media_n_tones),
	CFG_STR("media", "moh", media_moh, false),
	CFG_STR("media", "ringback", media_ringback, false),
	CFG_STR("cdr", "file", cdr_file, false),
	CFG_IPV4("ng", "listen", ng_listen),
	CFG_UINT("ng", "port", ng_port, 0, 65535, NULL),
	CFG_LIST("ng", "allow", ng_allow, ng_n_allow),
	CFG_LIST("ng", "interfaces", ng_interfaces, ng_n_interfaces),
	CFG_IPV4("metrics", "listen", metrics_listen),
	CFG_UINT("metrics", "port", metrics_port, 0, 65535, NULL),
	CFG_STR("journal", "file", journal_file, false),
	CFG_STR("journal", "redis", journal_redis, false),
	CFG_STR("journal", "redis_key", journal_redis_key, true),
	CFG_IPV4("sip", "listen", sip_listen),
	CFG_UINT("sip", "port", sip_port, 1, 65535, NULL),
	CFG_UINT("sip", "t1_ms", sip_t1_ms, 10, 10000, NULL),
	CFG_UINT("sip", "timer_j_ms", sip_timer_j_ms, 0, 64000, NULL),
	CFG_UINT("sip", "ack_timeout_ms", sip_ack_timeout_ms, 0, 600000, NULL),
	CFG_STR("sip", "user_agent", sip_user_agent, true),
	CFG_UINT("sip", "answer_delay_ms", sip_answer_delay_ms, 0, 600000, NULL),
	CFG_STR("control", "socket", control_socket, true),
	CFG_UINT("limits", "max_calls", limits_max_calls, 1, 10000000, NULL),
	CFG_UINT("limits", "max_cps", limits_max_cps, 0, 1000000, NULL),
	CFG_UINT("limits", "source_rps", limits_source_rps, 0, 1000000, NULL),
	CFG_UINT("limits", "max_transactions", limits_max_transactions, 100, 10000000, NULL),
	CFG_SPECIAL("log", "level", CK_LOGLEVEL),
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* Codecs we know, in their canonical spelling; a file may use any case. */
static const struct {
	const char *name;
	bool audio;
} config_codecs[] = {
	{"PCMU", true},
	{"PCMA", true},
	{"G722", true},
	{"G729", true},
	{"opus", true},
	{"telephone-event", false},
};

#define N_CODECS (sizeof(config_codecs) / sizeof(config_codecs[0]))

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->eal_lcores, sizeof(cfg->eal_lcores), "0@0,1@1");
	cfg->eal_memory_mb = 512;
	cfg->eal_no_huge = true;
	cfg->eal_no_pci = true;
	snprintf(cfg->eal_file_prefix, sizeof(cfg->eal_file_prefix), "mgw");
	cfg->eal_n_extra = 1;
	snprintf(cfg->eal_extra[0], sizeof(cfg->eal_extra[0]), "--log-level=notice");

	cfg->dp_workers = 1;
	cfg->dp_mbufs = 8191;
	cfg->dp_rx_desc = 1024;
	cfg->dp_tx_desc = 1024;
	snprintf(cfg->dp_vdev, sizeof(cfg->dp_vdev), "net_tap0,iface=mgw0");
	snprintf(cfg->dp_tap_iface, sizeof(cfg->dp_tap_iface), "mgw0");
	inet_pton(AF_INET, "198.18.0.1", &cfg->dp_tap_addr);
	cfg->dp_tap_prefix = 24;
	inet_pton(AF_INET, "198.18.0.2", &cfg->dp_media_ip);
	cfg->dp_media_ip_count = 1;
	cfg->dp_media_prefix = 24;
	cfg->dp_gateway.s_addr = htonl(INADDR_ANY);

	cfg->media_port_min = 10000;
	cfg->media_port_max = 20000;
	static const char *const defaults[] = {"PCMU", "PCMA", "telephone-event"};
	cfg->media_n_codecs = 3;
	for (unsigned i = 0; i < cfg->media_n_codecs; i++)
		snprintf(cfg->media_codecs[i], sizeof(cfg->media_codecs[i]), "%s", defaults[i]);
	cfg->media_ptime = 20;
	cfg->media_opus_complexity = 5;
	snprintf(cfg->media_tone_plan, sizeof(cfg->media_tone_plan), "us");
	cfg->media_timeout_s = 60;
	cfg->media_hold_timeout_s = 7200;

	inet_pton(AF_INET, "127.0.0.1", &cfg->sip_listen);
	cfg->sip_port = 5060;
	cfg->sip_t1_ms = 500;
	cfg->sip_timer_j_ms = 5000;
	snprintf(cfg->sip_user_agent, sizeof(cfg->sip_user_agent), "mgw");

	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "/run/mgw/mgwd.sock");
	inet_pton(AF_INET, "127.0.0.1", &cfg->metrics_listen);
	cfg->metrics_port = 9180;
	inet_pton(AF_INET, "127.0.0.1", &cfg->ng_listen);
	cfg->ng_port = 2223;
	cfg->ng_n_allow = 1;
	snprintf(cfg->ng_allow[0], sizeof(cfg->ng_allow[0]), "127.0.0.1");
	snprintf(cfg->journal_file, sizeof(cfg->journal_file), "/run/mgw/calls.journal");
	snprintf(cfg->journal_redis_key, sizeof(cfg->journal_redis_key), "mgw:calls");
	cfg->limits_max_calls = 10000;
	cfg->limits_max_transactions = 100000;
	cfg->log_level = LOG_INFO;
}

/* ---- rules: checks on values, shared by config_load and config_validate ---- */

static uint32_t prefix_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

static int rule_lcores(const struct config *cfg, char *msg, size_t len)
{
	/* DPDK --lcores syntax: "0@0,1@1", "(0-3)@(0,1)", "0-3" */
	size_t bad = strspn(cfg->eal_lcores, "0123456789,@()-");
	if (cfg->eal_lcores[bad] == '\0')
		return 0;
	snprintf(msg, len, "unexpected character '%c' (expected an EAL --lcores list such as "
		 "\"0@0,1@1\")", cfg->eal_lcores[bad]);
	return -1;
}

static int rule_file_prefix(const struct config *cfg, char *msg, size_t len)
{
	if (cfg->eal_file_prefix[0] != '\0' && !strchr(cfg->eal_file_prefix, '/'))
		return 0;
	snprintf(msg, len, "must be a non-empty name without '/'");
	return -1;
}

static int rule_tap_iface(const struct config *cfg, char *msg, size_t len)
{
	const char *name = cfg->dp_tap_iface;
	if (strlen(name) < IF_NAMESIZE && strcspn(name, "/ \t:") == strlen(name))
		return 0;
	snprintf(msg, len, "must be an interface name of at most %d characters without '/', ':' "
		 "or spaces", IF_NAMESIZE - 1);
	return -1;
}

static int rule_tap_address(const struct config *cfg, char *msg, size_t len)
{
	if (cfg->dp_tap_prefix < 8 || cfg->dp_tap_prefix > 30) {
		snprintf(msg, len, "prefix length must be between 8 and 30 (got /%u)",
			 cfg->dp_tap_prefix);
		return -1;
	}
	uint32_t mask = prefix_mask(cfg->dp_tap_prefix);
	uint32_t host = ntohl(cfg->dp_tap_addr.s_addr) & ~mask;
	if (host == 0 || host == ~mask) {
		snprintf(msg, len, "must be a host address, not the network or broadcast address");
		return -1;
	}
	return 0;
}

static int rule_media_ip(const struct config *cfg, char *msg, size_t len)
{
	if (cfg->dp_media_ip.s_addr == htonl(INADDR_ANY)) {
		snprintf(msg, len, "must not be 0.0.0.0");
		return -1;
	}
	uint32_t media = ntohl(cfg->dp_media_ip.s_addr);
	uint32_t last = media + cfg->dp_media_ip_count - 1;
	char a[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &cfg->dp_media_ip, a, sizeof(a));
	uint32_t pmask = prefix_mask(cfg->dp_media_prefix);
	if (last < media || (last & pmask) != (media & pmask) || (last & ~pmask) == ~pmask) {
		snprintf(msg, len, "%s and the %u addresses after it (dataplane.media_ip_count) "
			 "leave the /%u subnet (dataplane.media_prefix)",
			 a, cfg->dp_media_ip_count - 1, cfg->dp_media_prefix);
		return -1;
	}
	if (cfg->dp_tap_iface[0] == '\0')
		return 0;
	uint32_t mask = prefix_mask(cfg->dp_tap_prefix);
	uint32_t tap = ntohl(cfg->dp_tap_addr.s_addr);
	if (tap > media && tap <= last) {
		snprintf(msg, len, "the media addresses from %s (dataplane.media_ip_count %u) "
			 "include the kernel side's address", a, cfg->dp_media_ip_count);
		return -1;
	}
	inet_ntop(AF_INET, &cfg->dp_tap_addr, t, sizeof(t));
	if ((tap & mask) != (media & mask)) {
		snprintf(msg, len, "%s is outside the tap subnet %s/%u (dataplane.tap_address)", a,
			 t, cfg->dp_tap_prefix);
		return -1;
	}
	if (media == tap) {
		snprintf(msg, len, "%s is the kernel side's address (dataplane.tap_address)", a);
		return -1;
	}
	if ((media & ~mask) == ~mask || (media & ~mask) == 0) {
		snprintf(msg, len, "%s is the network or broadcast address of %s/%u", a, t,
			 cfg->dp_tap_prefix);
		return -1;
	}
	return 0;
}

static int rule_port_min(const struct config *cfg, char *msg, size_t len)
{
	if (cfg->media_port_min % 2 == 0)
		return 0;
	snprintf(msg, len, PORT_MSG " (got %u)", cfg->media_port_min);
	return -1;
}

static int rule_port_max(const struct config *cfg, char *msg, size_t len)
{
	if (cfg->media_port_max > cfg->media_port_min)
		return 0;
	snprintf(msg, len, "must be greater than media.port_min (%u)", cfg->media_port_min);
	return -1;
}

static int codec_index(const char *name)
{
	for (unsigned i = 0; i < N_CODECS; i++)
		if (strcasecmp(name, config_codecs[i].name) == 0)
			return (int)i;
	return -1;
}

static int rule_codecs(const struct config *cfg, char *msg, size_t len)
{
	bool seen[N_CODECS] = {false}, audio = false;
	for (unsigned i = 0; i < cfg->media_n_codecs; i++) {
		int c = codec_index(cfg->media_codecs[i]);
		if (c < 0) {
			snprintf(msg, len, "unknown codec \"%s\" (known: PCMU, PCMA, G722, G729, "
				 "opus, telephone-event)", cfg->media_codecs[i]);
			return -1;
		}
		if (seen[c]) {
			snprintf(msg, len, "codec \"%s\" listed twice", cfg->media_codecs[i]);
			return -1;
		}
		seen[c] = true;
		audio |= config_codecs[c].audio;
	}
	if (audio)
		return 0;
	snprintf(msg, len, "must list at least one audio codec (PCMU, PCMA, G722, G729 or opus)");
	return -1;
}

/* The tone plan and its additions, as prompt_init() will take them. */
static int rule_tones(const struct config *cfg, char *msg, size_t len)
{
	return prompt_init(cfg->media_tone_plan, (const char(*)[128])cfg->media_tones,
			   cfg->media_n_tones, msg, len) == 0 ? 0 : -1;
}

/* What mgw plays by itself must be audio it can play (loaded now, in both laws). */
static int check_prompt(const char *name, char *msg, size_t len)
{
	if (!name[0])
		return 0;
	return prompt_get(name, 0, msg, len) && prompt_get(name, 8, msg, len) ? 0 : -1;
}

static int rule_moh(const struct config *cfg, char *msg, size_t len)
{
	return check_prompt(cfg->media_moh, msg, len);
}

static int rule_ringback(const struct config *cfg, char *msg, size_t len)
{
	return check_prompt(cfg->media_ringback, msg, len);
}

static int rule_control_socket(const struct config *cfg, char *msg, size_t len)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	size_t n = strlen(cfg->control_socket);
	if (n > 0 && n <= max)
		return 0;
	snprintf(msg, len, "must be a path of 1 to %zu characters", max);
	return -1;
}

static int rule_log_level(const struct config *cfg, char *msg, size_t len)
{
	if (cfg->log_level >= LOG_ERR && cfg->log_level <= LOG_DEBUG)
		return 0;
	snprintf(msg, len, "must be one of error, warn, info, debug");
	return -1;
}

static int rule_ng_allow(const struct config *cfg, char *msg, size_t len)
{
	struct in_addr a;
	for (unsigned i = 0; i < cfg->ng_n_allow; i++)
		if (inet_pton(AF_INET, cfg->ng_allow[i], &a) != 1) {
			snprintf(msg, len, "\"%s\" is not an IPv4 address", cfg->ng_allow[i]);
			return -1;
		}
	return 0;
}

int config_ng_interface(const struct config *cfg, unsigned i, char *name, size_t name_len,
			unsigned *addr_idx)
{
	const char *s = cfg->ng_interfaces[i];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	if (!slash || slash == s || (size_t)(slash - s) >= name_len ||
	    inet_pton(AF_INET, slash + 1, &a) != 1)
		return -1;
	snprintf(name, name_len, "%.*s", (int)(slash - s), s);
	uint32_t first = ntohl(cfg->dp_media_ip.s_addr), x = ntohl(a.s_addr);
	if (x < first || x - first >= cfg->dp_media_ip_count)
		return -2;
	*addr_idx = x - first;
	return 0;
}

static int rule_ng_interfaces(const struct config *cfg, char *msg, size_t len)
{
	for (unsigned i = 0; i < cfg->ng_n_interfaces; i++) {
		char name[32], other[32];
		unsigned idx, j_idx;
		int rc = config_ng_interface(cfg, i, name, sizeof(name), &idx);
		if (rc == -1) {
			snprintf(msg, len, "\"%s\" is not name/IPv4-address (a name of 1 to 31 characters)",
				 cfg->ng_interfaces[i]);
			return -1;
		}
		if (rc == -2) {
			snprintf(msg, len, "\"%s\": the address is not one of the media addresses "
				 "(dataplane.media_ip and the media_ip_count after it)",
				 cfg->ng_interfaces[i]);
			return -1;
		}
		for (unsigned j = 0; j < i; j++)
			if (config_ng_interface(cfg, j, other, sizeof(other), &j_idx) == 0 &&
			    strcmp(name, other) == 0) {
				snprintf(msg, len, "interface \"%s\" is named twice", name);
				return -1;
			}
	}
	return 0;
}

struct config_rule {
	const char *key;   /* named in the message */
	const char *other; /* a related key whose line serves when @key is not in the file */
	int (*check)(const struct config *cfg, char *msg, size_t len);
};

static const struct config_rule config_rules[] = {
	{"eal.lcores", NULL, rule_lcores},
	{"eal.file_prefix", NULL, rule_file_prefix},
	{"dataplane.tap_iface", NULL, rule_tap_iface},
	{"dataplane.tap_address", NULL, rule_tap_address},
	{"dataplane.media_ip", "dataplane.tap_address", rule_media_ip},
	{"media.port_min", NULL, rule_port_min},
	{"media.port_max", "media.port_min", rule_port_max},
	{"media.codecs", NULL, rule_codecs},
	{"control.socket", NULL, rule_control_socket},
	{"log.level", NULL, rule_log_level},
	{"ng.allow", NULL, rule_ng_allow},
	{"ng.interfaces", NULL, rule_ng_interfaces},
	{"media.tones", "media.tone_plan", rule_tones},
	{"media.moh", NULL, rule_moh},
	{"media.ringback", NULL, rule_ringback},
};

#define N_RULES (sizeof(config_rules) / sizeof(config_rules[0]))

/* Range of a CK_UINT key; the value is passed apart so that load can check before storing. */
static int key_range(const struct config_key *k, long long v, char *msg, size_t len)
{
	if (v >= k->min && v <= k->max)
		return 0;
	if (k->msg)
		snprintf(msg, len, "%s (got %lld)", k->msg, v);
	else
		snprintf(msg, len, "must be an integer between %lld and %lld (got %lld)", k->min,
			 k->max, v);
	return -1;
}

/* Runs every range check and rule; returns the index of the failing rule, N_RULES + key index
 * for a failing range, or -1 when all pass. */
static int config_check_all(const struct config *cfg, char *msg, size_t len)
{
	for (unsigned i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (k->kind != CK_UINT)
			continue;
		const unsigned *v = (const unsigned *)((const char *)cfg + k->off);
		if (key_range(k, *v, msg, len) < 0)
			return (int)(N_RULES + i);
	}
	for (unsigned i = 0; i < N_RULES; i++)
		if (config_rules[i].check(cfg, msg, len) < 0)
			return (int)i;
	return -1;
}

int config_validate(const struct config *cfg, const char *path, char *err, size_t err_len)
{
	char msg[256];
	int bad = config_check_all(cfg, msg, sizeof(msg));
	if (bad < 0)
		return 0;
	if ((unsigned)bad < N_RULES) {
		snprintf(err, err_len, "%s: %s: %s", path ? path : "config", config_rules[bad].key,
			 msg);
	} else {
		const struct config_key *k = &config_keys[bad - (int)N_RULES];
		snprintf(err, err_len, "%s: %s.%s: %s", path ? path : "config", k->group, k->name,
			 msg);
	}
	return -1;
}

/* ---- loading ---- */

const char *config_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "unknown";
	}
}

static int set_str(char *dst, size_t size, const char *s, bool nonempty, char *msg, size_t len)
{
	if (nonempty && s[0] == '\0') {
		snprintf(msg, len, "must not be empty");
		return -1;
	}
	if (strlen(s) >= size) {
		snprintf(msg, len, "too long (at most %zu characters)", size - 1);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int set_tapaddr(struct config *cfg, const char *s, char *msg, size_t len)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	if (slash && (size_t)(slash - s) < sizeof(buf)) {
		memcpy(buf, s, (size_t)(slash - s));
		buf[slash - s] = '\0';
		errno = 0;
		unsigned long prefix = strtoul(slash + 1, &end, 10);
		if (inet_pton(AF_INET, buf, &cfg->dp_tap_addr) == 1 && slash[1] >= '0' &&
		    slash[1] <= '9' && *end == '\0' && errno == 0 && prefix <= 32) {
			cfg->dp_tap_prefix = (unsigned)prefix;
			return 0;
		}
	}
	snprintf(msg, len, "must be an IPv4 address with a prefix length, e.g. \"198.18.0.1/24\"");
	return -1;
}

static int set_strlist(struct config *cfg, const struct config_key *k, const config_setting_t *s,
		       char *msg, size_t len)
{
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		snprintf(msg, len, "must be an array of strings, not %s", config_type_name(type));
		return -1;
	}
	int n = config_setting_length(s);
	if (n < 0 || (size_t)n > k->max_n) {
		snprintf(msg, len, "at most %zu entries", k->max_n);
		return -1;
	}
	char *base = (char *)cfg + k->off;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			snprintf(msg, len, "entry %d must be a string, not %s", i + 1,
				 config_type_name(config_setting_type(e)));
			return -1;
		}
		if (set_str(base + (size_t)i * k->size, k->size, config_setting_get_string(e), true,
			    msg, len) < 0)
			return -1;
	}
	*(unsigned *)((char *)cfg + k->n_off) = (unsigned)n;
	return 0;
}

/* Stores one setting; on a type or format error writes @msg and returns -1. */
static int set_key(struct config *cfg, const struct config_key *k, const config_setting_t *s,
		   char *msg, size_t len)
{
	int type = config_setting_type(s);
	void *dst = (char *)cfg + k->off;
	static const int want[] = {
		[CK_UINT] = CONFIG_TYPE_INT, [CK_BOOL] = CONFIG_TYPE_BOOL,
		[CK_STR] = CONFIG_TYPE_STRING, [CK_IPV4] = CONFIG_TYPE_STRING,
		[CK_TAPADDR] = CONFIG_TYPE_STRING, [CK_LOGLEVEL] = CONFIG_TYPE_STRING,
		[CK_ENUM] = CONFIG_TYPE_STRING,
	};
	if (k->kind == CK_STRLIST)
		return set_strlist(cfg, k, s, msg, len);
	if (type != want[k->kind] && !(k->kind == CK_UINT && type == CONFIG_TYPE_INT64)) {
		snprintf(msg, len, "must be %s, not %s", config_type_name(want[k->kind]), config_type_name(type));
		return -1;
	}
	switch (k->kind) {
	case CK_UINT: {
		long long v = config_setting_get_int64(s);
		if (key_range(k, v, msg, len) < 0)
			return -1;
		*(unsigned *)dst = (unsigned)v;
		return 0;
	}
	case CK_BOOL:
		*(bool *)dst = config_setting_get_bool(s) != 0;
		return 0;
	case CK_STR:
		return set_str(dst, k->size, config_setting_get_string(s), k->nonempty, msg, len);
	case CK_IPV4:
		if (inet_pton(AF_INET, config_setting_get_string(s), dst) == 1)
			return 0;
		snprintf(msg, len, "must be an IPv4 address, e.g. \"198.18.0.2\"");
		return -1;
	case CK_TAPADDR:
		return set_tapaddr(cfg, config_setting_get_string(s), msg, len);
	case CK_LOGLEVEL: {
		int level = log_level_parse(config_setting_get_string(s));
		if (level < 0) {
			snprintf(msg, len, "must be one of error, warn, info, debug");
			return -1;
		}
		cfg->log_level = level;
		return 0;
	}
	case CK_ENUM: {
		const char *v = config_setting_get_string(s);
		int n = snprintf(msg, len, "must be one of");
		for (int i = 0; k->names[i]; i++) {
			if (strcmp(v, k->names[i]) == 0) {
				*(int *)dst = i;
				return 0;
			}
			if (n >= 0 && (size_t)n < len)
				n += snprintf(msg + n, len - (size_t)n, "%s %s", i ? "," : "",
					      k->names[i]);
		}
		return -1;
	}
	case CK_STRLIST:
		break;
	}
	return -1;
}

static const struct config_key *find_key(const char *group, const char *name)
{
	for (unsigned i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].group, group) == 0 &&
		    (!name || strcmp(config_keys[i].name, name) == 0))
			return &config_keys[i];
	return NULL;
}

static void setting_error(const config_setting_t *s, const char *path, const char *key,
			  const char *msg, char *err, size_t err_len)
{
	const char *file = config_setting_source_file(s);
	snprintf(err, err_len, "%s:%u: %s: %s", file ? file : path,
		 (unsigned)config_setting_source_line(s), key, msg);
}

/* Canonical spelling of the codec names, so that the rest of mgwd may compare with strcmp. */
static void canonical_codecs(struct config *cfg)
{
	for (unsigned i = 0; i < cfg->media_n_codecs; i++) {
		int c = codec_index(cfg->media_codecs[i]);
		if (c >= 0)
			snprintf(cfg->media_codecs[i], sizeof(cfg->media_codecs[i]), "%s",
				 config_codecs[c].name);
	}
}

static int apply_group(struct config *cfg, const config_setting_t *group, const char *path,
		       char *err, size_t err_len)
{
	const char *gname = config_setting_name(group);
	char key[128], msg[256];
	if (config_setting_type(group) != CONFIG_TYPE_GROUP) {
		snprintf(msg, sizeof(msg), "must be a group { ... }, not %s",
			 config_type_name(config_setting_type(group)));
		setting_error(group, path, gname, msg, err, err_len);
		return -1;
	}
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct config_key *k = find_key(gname, name);
		snprintf(key, sizeof(key), "%s.%s", gname, name);
		if (!k) {
			setting_error(s, path, key, "unknown key", err, err_len);
			return -1;
		}
		if (set_key(cfg, k, s, msg, sizeof(msg)) < 0) {
			setting_error(s, path, key, msg, err, err_len);
			return -1;
		}
	}
	return 0;
}

/* The line of @key in the file, else of @other, else 0. */
static const config_setting_t *rule_setting(const config_t *lc, const struct config_rule *r)
{
	const config_setting_t *s = config_lookup(lc, r->key);
	if (!s && r->other)
		s = config_lookup(lc, r->other);
	return s;
}

static int apply_file(struct config *cfg, const config_t *lc, const char *path, char *err,
		      size_t err_len)
{
	const config_setting_t *root = config_root_setting(lc);
	int n = config_setting_length(root);
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(root, (unsigned)i);
		if (strcmp(config_setting_name(g), "routes") == 0)
			continue; /* read by routes.c (routes_load) */
		if (!find_key(config_setting_name(g), NULL)) {
			setting_error(g, path, config_setting_name(g), "unknown group", err,
				      err_len);
			return -1;
		}
		if (apply_group(cfg, g, path, err, err_len) < 0)
			return -1;
	}
	canonical_codecs(cfg);

	char msg[256];
	int bad = config_check_all(cfg, msg, sizeof(msg));
	if (bad < 0)
		return 0;
	if ((unsigned)bad >= N_RULES)
		return config_validate(cfg, path, err, err_len); /* bad before loading */
	const config_setting_t *s = rule_setting(lc, &config_rules[bad]);
	if (s)
		setting_error(s, path, config_rules[bad].key, msg, err, err_len);
	else
		snprintf(err, err_len, "%s: %s: %s", path, config_rules[bad].key, msg);
	return -1;
}

int config_load(struct config *cfg, const char *path, char *err, size_t err_len)
{
	/* libconfig does not tell an unreadable file apart well: open it ourselves first. */
	FILE *f = fopen(path, "r");
	if (!f || (getc(f) == EOF && ferror(f))) { /* ferror: a directory opens but won't read */
		snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);

	config_t lc;
	config_init(&lc);
	int rc = -1;
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, err_len, "%s: cannot read: %s", path,
				 config_error_text(&lc) ? config_error_text(&lc) : "I/O error");
		else
			snprintf(err, err_len, "%s:%d: syntax error: %s",
				 config_error_file(&lc) ? config_error_file(&lc) : path,
				 config_error_line(&lc), config_error_text(&lc));
	} else {
		rc = apply_file(cfg, &lc, path, err, err_len);
	}
	config_destroy(&lc);
	return rc;
}
