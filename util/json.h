/* json: a small JSON writer and parser for the control API (one object per line each way).
 *
 * Shared by mgwd (api.c) and mgwctl so that the wire format is written and read in one place.
 * The writer appends to a growing buffer and inserts commas itself; the parser builds a tree
 * that the caller frees with json_free(). Strings are UTF-8; the writer escapes control
 * characters, quotes and backslashes. */
#ifndef MGW_JSON_H
#define MGW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 32

/* ---- writer ---- */
struct jw {
	char *buf;
	size_t len, cap;
	int err;                    /* set on allocation failure or misuse; buf is then unusable */
	int depth;
	bool first[JW_MAX_DEPTH];   /* no element written yet at this depth */
	bool after_key;
};

void jw_init(struct jw *w);
void jw_free(struct jw *w);
void jw_reset(struct jw *w);   /* empty the buffer, keep its memory */
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_u64(struct jw *w, uint64_t v);
void jw_i64(struct jw *w, int64_t v);
void jw_double(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* key + value shorthands */
void jw_kv_str(struct jw *w, const char *key, const char *s);
void jw_kv_u64(struct jw *w, const char *key, uint64_t v);
void jw_kv_i64(struct jw *w, const char *key, int64_t v);
void jw_kv_double(struct jw *w, const char *key, double v);
void jw_kv_bool(struct jw *w, const char *key, bool v);

/* ---- parser ---- */
enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	bool b;
	double num;
	char *str;            /* JSON_STRING: NUL-terminated, unescaped */
	size_t n;             /* JSON_ARRAY/OBJECT: number of children */
	struct json **items;  /* children */
	char **keys;          /* JSON_OBJECT: keys, parallel to items */
};

/** Parse @len bytes of @text (one value, surrounding white space allowed). Returns NULL with a
 *  message in @err (may be NULL) on a syntax error. Nesting deeper than 64 is an error. */
struct json *json_parse(const char *text, size_t len, char *err, size_t err_len);
void json_free(struct json *j);
/** Member @key of an object, or NULL. */
const struct json *json_get(const struct json *obj, const char *key);
/** String member or @def when absent / not a string. */
const char *json_get_str(const struct json *obj, const char *key, const char *def);
/** Number member or @def when absent / not a number. */
double json_get_num(const struct json *obj, const char *key, double def);

#endif
