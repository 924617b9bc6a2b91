#include "controlplane/ng/bencode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct be_in {
	const char *p, *end;
	struct be_doc *doc;
};

static struct be_node *be_new(struct be_in *in, enum be_type t)
{
	if (in->doc->used >= BE_MAX_NODES) {
		in->doc->err = "too many values";
		return NULL;
	}
	struct be_node *n = &in->doc->nodes[in->doc->used++];
	memset(n, 0, sizeof(*n));
	n->type = t;
	return n;
}

/* Digits of a length or integer: at most 19, no leading zero unless alone. */
static bool be_digits(struct be_in *in, uint64_t *out)
{
	const char *start = in->p;
	uint64_t v = 0;
	while (in->p < in->end && *in->p >= '0' && *in->p <= '9') {
		if (in->p - start >= 18)
			return false; /* beyond any length or int64 we take */
		v = v * 10 + (uint64_t)(*in->p - '0');
		in->p++;
	}
	if (in->p == start || (*start == '0' && in->p - start > 1))
		return false;
	*out = v;
	return true;
}

static struct be_node *be_value(struct be_in *in, unsigned depth);

static bool be_string_at(struct be_in *in, const char **s, uint32_t *n)
{
	uint64_t len;
	if (!be_digits(in, &len) || in->p >= in->end || *in->p != ':') {
		in->doc->err = "bad string length";
		return false;
	}
	in->p++;
	if (len > (uint64_t)(in->end - in->p) || len > UINT32_MAX) {
		in->doc->err = "string longer than the message";
		return false;
	}
	*s = in->p;
	*n = (uint32_t)len;
	in->p += len;
	return true;
}

static struct be_node *be_members(struct be_in *in, enum be_type t, unsigned depth)
{
	struct be_node *c = be_new(in, t), **tail;
	if (!c)
		return NULL;
	tail = &c->first;
	in->p++; /* 'l' or 'd' */
	while (in->p < in->end && *in->p != 'e') {
		const char *key = NULL;
		uint32_t key_len = 0;
		if (t == BE_DICT) {
			if (c->n >= BE_MAX_KEYS) {
				in->doc->err = "too many keys";
				return NULL;
			}
			if (*in->p < '0' || *in->p > '9') {
				in->doc->err = "dictionary key is not a string";
				return NULL;
			}
			if (!be_string_at(in, &key, &key_len))
				return NULL;
			for (struct be_node *m = c->first; m; m = m->next)
				if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0) {
					in->doc->err = "duplicate key";
					return NULL;
				}
		}
		struct be_node *v = be_value(in, depth + 1);
		if (!v)
			return NULL;
		v->key = key;
		v->key_len = key_len;
		*tail = v;
		tail = &v->next;
		c->n++;
	}
	if (in->p >= in->end) {
		in->doc->err = t == BE_DICT ? "unterminated dictionary" : "unterminated list";
		return NULL;
	}
	in->p++; /* 'e' */
	return c;
}

static struct be_node *be_value(struct be_in *in, unsigned depth)
{
	if (depth > BE_MAX_DEPTH) {
		in->doc->err = "nested too deep";
		return NULL;
	}
	if (in->p >= in->end) {
		in->doc->err = "truncated";
		return NULL;
	}
	char c = *in->p;
	if (c == 'd')
		return be_members(in, BE_DICT, depth);
	if (c == 'l')
		return be_members(in, BE_LIST, depth);
	if (c == 'i') {
		in->p++;
		bool neg = in->p < in->end && *in->p == '-';
		if (neg)
			in->p++;
		uint64_t v;
		if (!be_digits(in, &v) || in->p >= in->end || *in->p != 'e' || (neg && v == 0)) {
			in->doc->err = "bad integer";
			return NULL;
		}
		in->p++;
		struct be_node *n = be_new(in, BE_INT);
		if (n)
			n->i = neg ? -(int64_t)v : (int64_t)v;
		return n;
	}
	if (c >= '0' && c <= '9') {
		struct be_node *n = be_new(in, BE_STR);
		if (n && !be_string_at(in, &n->s, &n->n))
			return NULL;
		return n;
	}
	in->doc->err = "not a bencoded value";
	return NULL;
}

struct be_node *be_decode(struct be_doc *doc, const char *buf, size_t len)
{
	struct be_in in = {.p = buf, .end = buf + len, .doc = doc};
	doc->used = 0;
	doc->err = NULL;
	struct be_node *root = be_value(&in, 0);
	if (root && in.p != in.end) {
		doc->err = "data after the message";
		return NULL;
	}
	return root;
}

const struct be_node *be_dict_get(const struct be_node *dict, const char *key)
{
	if (!dict || dict->type != BE_DICT)
		return NULL;
	size_t kl = strlen(key);
	for (const struct be_node *m = dict->first; m; m = m->next)
		if (m->key_len == kl && memcmp(m->key, key, kl) == 0)
			return m;
	return NULL;
}

bool be_str_is(const struct be_node *n, const char *s)
{
	return n && n->type == BE_STR && n->n == strlen(s) && memcmp(n->s, s, n->n) == 0;
}

/* ---- encoding ---- */

void be_raw(struct be_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void be_str(struct be_buf *b, const char *s, size_t n)
{
	char len[24];
	int l = snprintf(len, sizeof(len), "%zu:", n);
	be_raw(b, len, (size_t)l);
	be_raw(b, s, n);
}

void be_cstr(struct be_buf *b, const char *s) { be_str(b, s, strlen(s)); }

void be_int(struct be_buf *b, int64_t v)
{
	char s[32];
	int l = snprintf(s, sizeof(s), "i%llde", (long long)v);
	be_raw(b, s, (size_t)l);
}

void be_dict(struct be_buf *b) { be_raw(b, "d", 1); }
void be_list(struct be_buf *b) { be_raw(b, "l", 1); }
void be_end(struct be_buf *b) { be_raw(b, "e", 1); }

void be_kv_str(struct be_buf *b, const char *key, const char *value)
{
	be_cstr(b, key);
	be_cstr(b, value);
}

void be_kv_int(struct be_buf *b, const char *key, int64_t value)
{
	be_cstr(b, key);
	be_int(b, value);
}

void be_buf_free(struct be_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
