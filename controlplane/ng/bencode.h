/* bencode: the encoding of rtpengine's NG control protocol (dictionaries, lists, byte strings,
 * integers), decoded without copying and encoded into a growable buffer.
 *
 * Decoding is strict where the format is (integers: no leading zeros, no "-0", no overflow;
 * string lengths within the input; nothing after the root value; dictionary keys are strings,
 * each at most once) and lenient where real peers are (dictionary keys in any order). Depth
 * and the number of values are bounded, so a hostile datagram costs bounded time and memory.
 * Strings point into the decoded buffer: it must outlive the document. */
#ifndef MGW_BENCODE_H
#define MGW_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BE_MAX_DEPTH 32
#define BE_MAX_NODES 4096
#define BE_MAX_KEYS 256 /* per dictionary (each key is checked against the others) */

enum be_type { BE_INT, BE_STR, BE_LIST, BE_DICT };

struct be_node {
	enum be_type type;
	uint32_t n;                /* STR: length; LIST, DICT: number of members */
	const char *s;             /* STR: the bytes (not NUL-terminated) */
	int64_t i;                 /* INT */
	struct be_node *first;     /* LIST, DICT: first member */
	struct be_node *next;      /* the next member of the enclosing list or dictionary */
	const char *key;           /* as a dictionary member: its key */
	uint32_t key_len;
};

struct be_doc {
	struct be_node nodes[BE_MAX_NODES];
	unsigned used;
	const char *err; /* what was wrong, when be_decode failed */
};

/** Decode @len bytes at @buf into @doc. Returns the root, or NULL with doc->err set. */
struct be_node *be_decode(struct be_doc *doc, const char *buf, size_t len);
/** The member @key of dictionary @dict, or NULL. */
const struct be_node *be_dict_get(const struct be_node *dict, const char *key);
/** @n is a string equal to @s. */
bool be_str_is(const struct be_node *n, const char *s);

/* Encoding: append to a buffer that grows; an allocation failure sets oom and stops it. */
struct be_buf {
	char *p;
	size_t len, cap;
	bool oom;
};
void be_raw(struct be_buf *b, const char *s, size_t n);
void be_str(struct be_buf *b, const char *s, size_t n);
void be_cstr(struct be_buf *b, const char *s);
void be_int(struct be_buf *b, int64_t v);
void be_dict(struct be_buf *b);  /* begins a dictionary; be_end() ends it */
void be_list(struct be_buf *b);  /* begins a list */
void be_end(struct be_buf *b);
/** Dictionary member with a string value. */
void be_kv_str(struct be_buf *b, const char *key, const char *value);
void be_kv_int(struct be_buf *b, const char *key, int64_t value);
void be_buf_free(struct be_buf *b);

#endif
