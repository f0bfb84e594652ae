/*
 * libFuzzer harness for the agent script format (tsm/gp/script.c): the
 * bytes are decoded as a command script and as a response script, with a
 * small and a large capacity; whatever decodes is encoded again and must
 * decode to the same spans (the encoders write minimal lengths, so only
 * the content, not the bytes, is compared).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gp/buf.h"
#include "gp/err.h"
#include "gp/script.h"

#define CAP	64

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
same(const struct gp_span *a, const struct gp_span *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].len != b[i].len ||
		    (a[i].len && memcmp(a[i].p, b[i].p, a[i].len) != 0))
			abort();
}

static void
cmd_round_trip(const uint8_t *p, size_t n)
{
	struct gp_span a[CAP], b[CAP];
	struct gp_wr w;
	size_t na, nb;

	(void)gp_script_decode(p, n, a, 2, &na);	/* GP_ERR_SPACE path */
	if (gp_script_decode(p, n, a, CAP, &na) != 0)
		return;
	gp_wr_init_dyn(&w, 1 << 20);
	if (gp_script_encode(a, na, &w) != 0 ||
	    gp_script_decode(w.p, w.len, b, CAP, &nb) != 0 || nb != na)
		abort();
	same(a, b, na);
	gp_wr_free(&w);
}

static void
rsp_round_trip(const uint8_t *p, size_t n)
{
	struct gp_span a[CAP], b[CAP];
	struct gp_script_rsp ra = { .rapdus = a, .cap = CAP };
	struct gp_script_rsp rb = { .rapdus = b, .cap = CAP };
	struct gp_wr w;

	if (gp_script_rsp_decode(p, n, &ra) != 0)
		return;
	gp_wr_init_dyn(&w, 1 << 20);
	if (gp_script_rsp_encode(&ra, &w) != 0 ||
	    gp_script_rsp_decode(w.p, w.len, &rb) != 0 || rb.n != ra.n ||
	    rb.executed != ra.executed || rb.bad_format != ra.bad_format)
		abort();
	same(a, b, ra.n);
	gp_wr_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	cmd_round_trip(p, n);
	rsp_round_trip(p, n);
	return 0;
}
