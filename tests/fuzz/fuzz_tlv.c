/*
 * libFuzzer harness for tsm/gp/tlv.c: strict parsing, recursive walking
 * to the depth limit, find and path find, the iterator, and encoding
 * round trips (every TLV that parses re-encodes minimally and parses
 * back to the same tag and value).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gp/buf.h"
#include "gp/err.h"
#include "gp/tlv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct acc {
	unsigned	 sum;
	int		 maxdepth;
};

/* Reads every value byte so that the sanitizers check the spans. */
static int
visit(void *arg, const struct gp_tlv *t, int depth)
{
	struct acc *a = arg;
	size_t i;

	if (depth < 1 || depth > GP_TLV_DEPTH_MAX || t->rawlen < t->len + 2)
		abort();
	for (i = 0; i < t->len; i++)
		a->sum += t->v[i];
	if (depth > a->maxdepth)
		a->maxdepth = depth;
	return 0;
}

static void
roundtrip(const struct gp_tlv *t)
{
	struct gp_tlv back;
	struct gp_wr w;
	size_t mark;

	gp_wr_init_dyn(&w, t->len + 16);
	if (gp_tlv_put(&w, t->tag, t->v, t->len) != 0)
		abort();
	if (gp_tlv_parse_one(w.p, w.len, t->tag, &back) != 0 ||
	    back.len != t->len || back.rawlen > t->rawlen ||
	    (t->len > 0 && memcmp(back.v, t->v, t->len) != 0))
		abort();
	/* The same value as the only child of a constructed wrapper. */
	gp_wr_reset(&w);
	if (gp_tlv_open(&w, 0x73, &mark) != 0 ||
	    gp_wr_put(&w, t->raw, t->rawlen) != 0 ||
	    gp_tlv_close(&w, mark) != 0 ||
	    gp_tlv_parse_one(w.p, w.len, 0x73, &back) != 0 ||
	    back.len != t->rawlen)
		abort();
	gp_wr_free(&w);
}

static void
iterate(const uint8_t *p, size_t n)
{
	struct gp_tlv_it it;
	struct gp_tlv t, f;
	int r;

	gp_tlv_it_init(&it, p, n);
	while ((r = gp_tlv_next(&it, &t)) == 1) {
		if (gp_tlv_tag_size(t.tag) == 0)
			abort();	/* the reader accepted a tag the writer refuses */
		roundtrip(&t);
		if (gp_tlv_find(p, n, t.tag, &f) != 0 || f.raw > t.raw)
			abort();
	}
	if (r > 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t paths[][3] = {
		{ 0x66, 0x73, 0x60 }, { 0xE3, 0x4F, 0 }, { 0x67, 0xA0, 0x80 },
	};
	struct acc a = { 0, 0 };
	struct gp_tlv t;
	size_t i;
	int r;

	r = gp_tlv_walk(data, size, GP_TLV_RECURSE, visit, &a);
	if (r > 0 || (r == 0 && gp_tlv_check(data, size, 0) != 0))
		abort();	/* deep success implies flat success */
	(void)gp_tlv_check(data, size, 0);
	iterate(data, size);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		(void)gp_tlv_find_path(data, size, paths[i],
		    paths[i][2] ? 3 : 2, &t);
	if (size >= 2)
		(void)gp_tlv_parse_one(data, size, data[0], &t);
	return 0;
}
