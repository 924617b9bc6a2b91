/* json: writer and recursive-descent parser for the control API (see json.h). */
#include "util/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_PARSE_MAX_DEPTH 64
#define JSON_NUM_MAX 64 /* longest number text accepted by the parser */

/* ---- writer ---- */

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
	w->first[0] = true;
}

void jw_free(struct jw *w)
{
	free(w->buf);
	jw_init(w);
}

void jw_reset(struct jw *w)
{
	char *buf = w->buf;
	size_t cap = w->cap;

	jw_init(w);
	w->buf = buf;
	w->cap = cap;
	if (buf)
		buf[0] = '\0';
}

/* Keep room for @n more bytes plus the terminating NUL. */
static bool jw_reserve(struct jw *w, size_t n)
{
	size_t need, cap;
	char *p;

	if (w->err)
		return false;
	need = w->len + n + 1;
	if (need <= w->cap)
		return true;
	cap = w->cap ? w->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p) {
		w->err = -ENOMEM;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void jw_put(struct jw *w, const char *s, size_t n)
{
	if (!jw_reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void jw_putc(struct jw *w, char c)
{
	jw_put(w, &c, 1);
}

/* Separator before a value: none after a key, a comma between siblings, and only one value at
 * the top level. */
static void jw_sep(struct jw *w)
{
	if (w->err)
		return;
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth]) {
		if (w->depth == 0) {
			w->err = -EINVAL;
			return;
		}
		jw_putc(w, ',');
	}
	w->first[w->depth] = false;
}

static void jw_quoted(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	jw_putc(w, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_put(w, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			jw_put(w, esc, 2);
		} else {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			jw_put(w, esc, 6);
		}
	}
	jw_put(w, s + run, n - run);
	jw_putc(w, '"');
}

static void jw_open(struct jw *w, char c)
{
	jw_sep(w);
	if (w->err)
		return;
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->err = -EINVAL;
		return;
	}
	jw_putc(w, c);
	w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(struct jw *w, char c)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->after_key) {
		w->err = -EINVAL;
		return;
	}
	jw_putc(w, c);
	w->depth--;
}

void jw_obj_begin(struct jw *w)
{
	jw_open(w, '{');
}

void jw_obj_end(struct jw *w)
{
	jw_close(w, '}');
}

void jw_arr_begin(struct jw *w)
{
	jw_open(w, '[');
}

void jw_arr_end(struct jw *w)
{
	jw_close(w, ']');
}

void jw_key(struct jw *w, const char *key)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->after_key || !key) {
		w->err = -EINVAL;
		return;
	}
	if (!w->first[w->depth])
		jw_putc(w, ',');
	w->first[w->depth] = false;
	jw_quoted(w, key, strlen(key));
	jw_putc(w, ':');
	w->after_key = true;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	if (!w->err)
		jw_quoted(w, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

static void jw_raw(struct jw *w, const char *s)
{
	jw_sep(w);
	jw_put(w, s, strlen(s));
}

void jw_u64(struct jw *w, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	jw_raw(w, b);
}

void jw_i64(struct jw *w, int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRId64, v);
	jw_raw(w, b);
}

/* Shortest %g text that reads back as @v; integers below 2^53 print without an exponent. */
void jw_double(struct jw *w, double v)
{
	char b[32];
	int prec;

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v) {
		jw_i64(w, (int64_t)v);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(b, sizeof(b), "%.*g", prec, v);
		if (strtod(b, NULL) == v)
			break;
	}
	jw_raw(w, b);
}

void jw_bool(struct jw *w, bool v)
{
	jw_raw(w, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
	jw_raw(w, "null");
}

void jw_kv_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

void jw_kv_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_u64(w, v);
}

void jw_kv_i64(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_i64(w, v);
}

void jw_kv_double(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	jw_double(w, v);
}

void jw_kv_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

/* ---- parser ---- */

struct jp {
	const char *start, *p, *end;
	int depth;
	char *err;
	size_t err_len;
	bool failed;
};

static struct json *jp_value(struct jp *jp);

__attribute__((format(printf, 2, 3))) static struct json *jp_fail(struct jp *jp,
								   const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (jp->failed)
		return NULL;
	jp->failed = true;
	if (!jp->err || jp->err_len == 0)
		return NULL;
	n = snprintf(jp->err, jp->err_len, "offset %td: ", jp->p - jp->start);
	if (n >= 0 && (size_t)n < jp->err_len) {
		va_start(ap, fmt);
		vsnprintf(jp->err + n, jp->err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

static void jp_ws(struct jp *jp)
{
	while (jp->p < jp->end &&
	       (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static struct json *jp_node(struct jp *jp, enum json_type type)
{
	struct json *j = calloc(1, sizeof(*j));

	if (!j)
		return jp_fail(jp, "out of memory");
	j->type = type;
	return j;
}

static struct json *jp_literal(struct jp *jp)
{
	static const struct {
		const char *text;
		enum json_type type;
		bool b;
	} lits[] = { { "true", JSON_BOOL, true },
		     { "false", JSON_BOOL, false },
		     { "null", JSON_NULL, false } };
	size_t i, left = (size_t)(jp->end - jp->p);
	struct json *j;

	for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		size_t n = strlen(lits[i].text);

		if (left < n || memcmp(jp->p, lits[i].text, n) != 0)
			continue;
		j = jp_node(jp, lits[i].type);
		if (j)
			j->b = lits[i].b;
		jp->p += n;
		return j;
	}
	return jp_fail(jp, "unexpected character '%c'", *jp->p);
}

static bool jp_digit(const struct jp *jp, const char *q)
{
	return q < jp->end && *q >= '0' && *q <= '9';
}

static struct json *jp_number(struct jp *jp)
{
	const char *q = jp->p;
	char buf[JSON_NUM_MAX + 1];
	struct json *j;
	size_t n;
	double v;

	if (q < jp->end && *q == '-')
		q++;
	if (!jp_digit(jp, q))
		return jp_fail(jp, "bad number");
	if (*q == '0')
		q++;
	else
		while (jp_digit(jp, q))
			q++;
	if (q < jp->end && *q == '.') {
		if (!jp_digit(jp, ++q))
			return jp_fail(jp, "bad number: digit expected after '.'");
		while (jp_digit(jp, q))
			q++;
	}
	if (q < jp->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < jp->end && (*q == '+' || *q == '-'))
			q++;
		if (!jp_digit(jp, q))
			return jp_fail(jp, "bad number: digit expected in exponent");
		while (jp_digit(jp, q))
			q++;
	}
	n = (size_t)(q - jp->p);
	if (n > JSON_NUM_MAX)
		return jp_fail(jp, "number too long");
	memcpy(buf, jp->p, n);
	buf[n] = '\0';
	v = strtod(buf, NULL);
	if (!isfinite(v))
		return jp_fail(jp, "number out of range");
	j = jp_node(jp, JSON_NUMBER);
	if (j)
		j->num = v;
	jp->p = q;
	return j;
}

static int jp_hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode \uXXXX (and its low-surrogate partner) at jp->p, which points just past the 'u'. */
static int jp_unicode(struct jp *jp, char *o, size_t *on)
{
	unsigned cp, lo;

	if (jp->end - jp->p < 4 || jp_hex4(jp->p, &cp) < 0)
		return jp_fail(jp, "bad \\u escape"), -1;
	jp->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jp_fail(jp, "lone low surrogate"), -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (jp->end - jp->p < 6 || jp->p[0] != '\\' || jp->p[1] != 'u' ||
		    jp_hex4(jp->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return jp_fail(jp, "high surrogate without low surrogate"), -1;
		jp->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return jp_fail(jp, "\\u0000 is not supported"), -1;
	*on += utf8_put(o + *on, cp);
	return 0;
}

static int jp_escape(struct jp *jp, char *o, size_t *on)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (jp->p >= jp->end)
		return jp_fail(jp, "unterminated string"), -1;
	if (*jp->p == 'u') {
		jp->p++;
		return jp_unicode(jp, o, on);
	}
	hit = *jp->p ? strchr(from, *jp->p) : NULL;
	if (!hit)
		return jp_fail(jp, "bad escape '\\%c'", *jp->p), -1;
	o[(*on)++] = to[hit - from];
	jp->p++;
	return 0;
}

/* Parse a string at jp->p (on the opening quote) into a malloc'ed NUL-terminated copy. The
 * decoded text is never longer than the source, so one allocation of the source span is enough. */
static char *jp_string_raw(struct jp *jp)
{
	const char *q = jp->p + 1;
	size_t on = 0;
	char *o;

	while (q < jp->end && *q != '"') {
		if (*q == '\\' && jp->end - q < 2)
			break;
		q += (*q == '\\') ? 2 : 1;
	}
	if (q >= jp->end || *q != '"')
		return jp_fail(jp, "unterminated string"), NULL;
	o = malloc((size_t)(q - jp->p));
	if (!o)
		return jp_fail(jp, "out of memory"), NULL;
	jp->p++;
	while (*jp->p != '"') {
		unsigned char c = (unsigned char)*jp->p;

		if (c < 0x20) {
			free(o);
			return jp_fail(jp, "control character in string"), NULL;
		}
		if (c != '\\') {
			o[on++] = (char)c;
			jp->p++;
			continue;
		}
		jp->p++;
		if (jp_escape(jp, o, &on) < 0) {
			free(o);
			return NULL;
		}
	}
	jp->p++;
	o[on] = '\0';
	return o;
}

static struct json *jp_string(struct jp *jp)
{
	char *s = jp_string_raw(jp);
	struct json *j;

	if (!s)
		return NULL;
	j = jp_node(jp, JSON_STRING);
	if (!j) {
		free(s);
		return NULL;
	}
	j->str = s;
	return j;
}

/* Append @item (and @key for objects) to @j; takes ownership of both, even on failure. */
static int jp_add(struct jp *jp, struct json *j, char *key, struct json *item)
{
	struct json **items;
	char **keys;

	items = realloc(j->items, (j->n + 1) * sizeof(*items));
	if (items)
		j->items = items;
	if (items && j->type == JSON_OBJECT) {
		keys = realloc(j->keys, (j->n + 1) * sizeof(*keys));
		if (keys)
			j->keys = keys;
		else
			items = NULL;
	}
	if (!items) {
		free(key);
		json_free(item);
		return jp_fail(jp, "out of memory"), -1;
	}
	if (j->type == JSON_OBJECT)
		j->keys[j->n] = key;
	j->items[j->n++] = item;
	return 0;
}

/* One member (object) or element (array) at jp->p, white space already skipped. */
static int jp_member(struct jp *jp, struct json *j)
{
	struct json *item;
	char *key = NULL;

	if (j->type == JSON_OBJECT) {
		if (jp->p >= jp->end || *jp->p != '"')
			return jp_fail(jp, "expected a string key"), -1;
		key = jp_string_raw(jp);
		if (!key)
			return -1;
		jp_ws(jp);
		if (jp->p >= jp->end || *jp->p != ':') {
			free(key);
			return jp_fail(jp, "expected ':'"), -1;
		}
		jp->p++;
	}
	item = jp_value(jp);
	if (!item) {
		free(key);
		return -1;
	}
	return jp_add(jp, j, key, item);
}

static struct json *jp_container(struct jp *jp, enum json_type type)
{
	char close = type == JSON_OBJECT ? '}' : ']';
	struct json *j;

	if (++jp->depth > JSON_PARSE_MAX_DEPTH)
		return jp_fail(jp, "nesting deeper than %d", JSON_PARSE_MAX_DEPTH);
	jp->p++;
	j = jp_node(jp, type);
	if (!j)
		return NULL;
	jp_ws(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		jp->depth--;
		return j;
	}
	for (;;) {
		jp_ws(jp);
		if (jp_member(jp, j) < 0)
			break;
		jp_ws(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp->p++;
			continue;
		}
		if (jp->p < jp->end && *jp->p == close) {
			jp->p++;
			jp->depth--;
			return j;
		}
		jp_fail(jp, "expected ',' or '%c'", close);
		break;
	}
	json_free(j);
	return NULL;
}

static struct json *jp_value(struct jp *jp)
{
	jp_ws(jp);
	if (jp->p >= jp->end)
		return jp_fail(jp, "unexpected end of input");
	switch (*jp->p) {
	case '{':
		return jp_container(jp, JSON_OBJECT);
	case '[':
		return jp_container(jp, JSON_ARRAY);
	case '"':
		return jp_string(jp);
	default:
		if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9'))
			return jp_number(jp);
		return jp_literal(jp);
	}
}

struct json *json_parse(const char *text, size_t len, char *err, size_t err_len)
{
	struct jp jp = { .start = text, .p = text, .end = text + len, .err = err,
			 .err_len = err_len };
	struct json *j;

	if (err && err_len)
		err[0] = '\0';
	if (!text)
		return jp_fail(&jp, "no input");
	j = jp_value(&jp);
	if (!j)
		return NULL;
	jp_ws(&jp);
	if (jp.p != jp.end) {
		json_free(j);
		return jp_fail(&jp, "trailing characters after the value");
	}
	return j;
}

void json_free(struct json *j)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < j->n; i++) {
		json_free(j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
	free(j);
}

const struct json *json_get(const struct json *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT || !key)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}

const char *json_get_str(const struct json *obj, const char *key, const char *def)
{
	const struct json *v = json_get(obj, key);

	return v && v->type == JSON_STRING ? v->str : def;
}

double json_get_num(const struct json *obj, const char *key, double def)
{
	const struct json *v = json_get(obj, key);

	return v && v->type == JSON_NUMBER ? v->num : def;
}
