/*
 * Strict BER-TLV parsing and minimal encoding. See tlv.h for what is
 * accepted and why. Every input byte goes through a gp_rd.
 */
#include <string.h>

#include "gp/buf.h"
#include "gp/err.h"
#include "gp/tlv.h"

/* Tag bytes, high byte first; *n tells how many (0: not a valid tag). */
static void
tag_bytes(uint32_t tag, uint8_t b[GP_TLV_TAG_MAX], size_t *n)
{
	size_t skip;

	b[0] = (uint8_t)(tag >> 24);
	b[1] = (uint8_t)(tag >> 16);
	b[2] = (uint8_t)(tag >> 8);
	b[3] = (uint8_t)tag;
	for (skip = 0; skip < 3 && b[skip] == 0; skip++)
		;
	*n = 4 - skip;
	memmove(b, b + skip, *n);
}

/* The same rules as read_tag, applied to a tag the caller wants written. */
size_t
gp_tlv_tag_size(uint32_t tag)
{
	uint8_t b[GP_TLV_TAG_MAX];
	size_t n, i;

	tag_bytes(tag, b, &n);
	if (b[0] == 0)
		return 0;
	if (n == 1)
		return (b[0] & 0x1f) == 0x1f ? 0 : 1;
	if ((b[0] & 0x1f) != 0x1f || b[1] == 0x80)
		return 0;
	for (i = 1; i + 1 < n; i++)
		if ((b[i] & 0x80) == 0)
			return 0;
	return (b[n - 1] & 0x80) ? 0 : n;
}

int
gp_tlv_constructed(uint32_t tag)
{
	uint8_t b[GP_TLV_TAG_MAX];
	size_t n;

	tag_bytes(tag, b, &n);
	return (b[0] & 0x20) != 0;
}

static int
read_tag(struct gp_rd *rd, uint32_t *tag)
{
	uint8_t b;
	size_t n = 1;
	int r;

	if ((r = gp_rd_u8(rd, &b)) != 0)
		return r;
	if (b == 0x00)
		return GP_ERR_FORMAT;	/* ISO padding: never in GP data */
	*tag = b;
	if ((b & 0x1f) != 0x1f)
		return 0;
	do {
		if (n == GP_TLV_TAG_MAX)
			return GP_ERR_FORMAT;
		if ((r = gp_rd_u8(rd, &b)) != 0)
			return r;
		if (n == 1 && b == 0x80)
			return GP_ERR_FORMAT;	/* leading zero group */
		*tag = (*tag << 8) | b;
		n++;
	} while (b & 0x80);
	return 0;
}

static int
read_len(struct gp_rd *rd, size_t *len)
{
	uint8_t b, n;
	int r;

	if ((r = gp_rd_u8(rd, &b)) != 0)
		return r;
	if (b < 0x80) {
		*len = b;
		return 0;
	}
	/* 80 is the indefinite form; 85.. would not fit a 32-bit size_t. */
	if (b == 0x80 || b > 0x80 + GP_TLV_LEN_MAX)
		return GP_ERR_FORMAT;
	*len = 0;
	for (n = b & 0x7f; n > 0; n--) {
		if ((r = gp_rd_u8(rd, &b)) != 0)
			return r;
		*len = (*len << 8) | b;
	}
	return 0;
}

int
gp_tlv_read(struct gp_rd *rd, struct gp_tlv *t)
{
	size_t start = rd->off;
	int r;

	if ((r = read_tag(rd, &t->tag)) != 0 ||
	    (r = read_len(rd, &t->len)) != 0 ||
	    (r = gp_rd_bytes(rd, t->len, &t->v)) != 0) {
		rd->off = start;
		return r;
	}
	t->raw = rd->p + start;
	t->rawlen = rd->off - start;
	return 0;
}

int
gp_tlv_parse_one(const uint8_t *p, size_t n, uint32_t tag, struct gp_tlv *t)
{
	struct gp_rd rd;
	int r;

	gp_rd_init(&rd, p, n);
	if ((r = gp_tlv_read(&rd, t)) != 0)
		return r;
	if (t->tag != tag || gp_rd_left(&rd) != 0)
		return GP_ERR_FORMAT;
	return 0;
}

void
gp_tlv_it_init(struct gp_tlv_it *it, const uint8_t *p, size_t n)
{
	gp_rd_init(&it->rd, p, n);
}

int
gp_tlv_next(struct gp_tlv_it *it, struct gp_tlv *t)
{
	int r;

	if (gp_rd_left(&it->rd) == 0)
		return 0;
	if ((r = gp_tlv_read(&it->rd, t)) != 0)
		return r;
	return 1;
}

/* Recursion is bounded by GP_TLV_DEPTH_MAX, so the stack is too. */
static int
walk(const uint8_t *p, size_t n, int flags, gp_tlv_visit visit, void *arg,
    int depth)
{
	struct gp_tlv_it it;
	struct gp_tlv t;
	int r;

	if (n > 0 && depth > GP_TLV_DEPTH_MAX)
		return GP_ERR_DEPTH;
	gp_tlv_it_init(&it, p, n);
	while ((r = gp_tlv_next(&it, &t)) == 1) {
		if (visit != NULL && (r = visit(arg, &t, depth)) != 0)
			return r;
		if ((flags & GP_TLV_RECURSE) && gp_tlv_constructed(t.tag) &&
		    (r = walk(t.v, t.len, flags, visit, arg, depth + 1)) != 0)
			return r;
	}
	return r;
}

int
gp_tlv_walk(const uint8_t *p, size_t n, int flags, gp_tlv_visit visit,
    void *arg)
{
	return walk(p, n, flags, visit, arg, 1);
}

int
gp_tlv_check(const uint8_t *p, size_t n, int flags)
{
	return walk(p, n, flags, NULL, NULL, 1);
}

int
gp_tlv_find(const uint8_t *p, size_t n, uint32_t tag, struct gp_tlv *out)
{
	struct gp_tlv_it it;
	int r;

	gp_tlv_it_init(&it, p, n);
	while ((r = gp_tlv_next(&it, out)) == 1)
		if (out->tag == tag)
			return 0;
	return r == 0 ? GP_ERR_NOTFOUND : r;
}

int
gp_tlv_find_path(const uint8_t *p, size_t n, const uint32_t *path,
    size_t npath, struct gp_tlv *out)
{
	size_t i;
	int r;

	if (path == NULL || npath == 0 || npath > GP_TLV_DEPTH_MAX)
		return GP_ERR_INVAL;
	for (i = 0; i < npath; i++) {
		if ((r = gp_tlv_find(p, n, path[i], out)) != 0)
			return r;
		p = out->v;
		n = out->len;
	}
	return 0;
}

/* Minimal length encoding into b (5 bytes); 0 when len does not fit. */
static size_t
len_bytes(size_t len, uint8_t b[1 + GP_TLV_LEN_MAX])
{
	size_t n, i;

	if (len < 0x80) {
		b[0] = (uint8_t)len;
		return 1;
	}
	if ((uint64_t)len > 0xffffffffULL)
		return 0;
	for (n = 1; n < GP_TLV_LEN_MAX && (len >> (8 * n)) != 0; n++)
		;
	b[0] = (uint8_t)(0x80 | n);
	for (i = 0; i < n; i++)
		b[1 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
	return 1 + n;
}

int
gp_tlv_put_tag(struct gp_wr *w, uint32_t tag)
{
	uint8_t b[GP_TLV_TAG_MAX];
	size_t n;

	if (gp_tlv_tag_size(tag) == 0)
		return GP_ERR_INVAL;
	tag_bytes(tag, b, &n);
	return gp_wr_put(w, b, n);
}

int
gp_tlv_put_len(struct gp_wr *w, size_t len)
{
	uint8_t b[1 + GP_TLV_LEN_MAX];
	size_t n;

	if ((n = len_bytes(len, b)) == 0)
		return GP_ERR_TOOLARGE;
	return gp_wr_put(w, b, n);
}

int
gp_tlv_put(struct gp_wr *w, uint32_t tag, const void *v, size_t len)
{
	uint8_t lb[1 + GP_TLV_LEN_MAX];
	size_t tn, ln;
	int r;

	if ((tn = gp_tlv_tag_size(tag)) == 0 || (len > 0 && v == NULL))
		return GP_ERR_INVAL;
	if ((ln = len_bytes(len, lb)) == 0 || len > SIZE_MAX - tn - ln)
		return GP_ERR_TOOLARGE;
	/* Reserve first so that a failure leaves nothing half written. */
	if ((r = gp_wr_reserve(w, tn + ln + len)) != 0 ||
	    (r = gp_tlv_put_tag(w, tag)) != 0 ||
	    (r = gp_wr_put(w, lb, ln)) != 0)
		return r;
	return gp_wr_put(w, v, len);
}

int
gp_tlv_open(struct gp_wr *w, uint32_t tag, size_t *mark)
{
	size_t tn;
	int r;

	if ((tn = gp_tlv_tag_size(tag)) == 0 || mark == NULL)
		return GP_ERR_INVAL;
	if ((r = gp_wr_reserve(w, tn + 1)) != 0 ||
	    (r = gp_tlv_put_tag(w, tag)) != 0 ||
	    (r = gp_wr_u8(w, 0)) != 0)
		return r;
	*mark = w->len - 1;
	return 0;
}

int
gp_tlv_close(struct gp_wr *w, size_t mark)
{
	uint8_t lb[1 + GP_TLV_LEN_MAX];
	size_t content, ln;
	int r;

	if (w->p == NULL || mark >= w->len)
		return GP_ERR_INVAL;
	content = w->len - mark - 1;
	if ((ln = len_bytes(content, lb)) == 0)
		return GP_ERR_TOOLARGE;
	if (ln > 1) {
		/* The placeholder had one byte: shift the children right. */
		if ((r = gp_wr_reserve(w, ln - 1)) != 0)
			return r;
		memmove(w->p + mark + ln, w->p + mark + 1, content);
		w->len += ln - 1;
	}
	memcpy(w->p + mark, lb, ln);
	return 0;
}
