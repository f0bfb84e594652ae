/*
 * libFuzzer harness for the agent script format (tsm/gp/script.c): the
 * bytes are decoded as a command script (with and without the DF 20
 * expected R-APDU extension) and as a response script, with a small and a
 * large capacity; whatever decodes is encoded again and must decode to
 * the same spans (the encoders write minimal lengths, so only the
 * content, not the bytes, is compared). The two command decoders must
 * agree: gp_script_decode refuses exactly the scripts gp_script_decode_x
 * finds an expectation in. Expectations cut from the input are then added
 * to what decoded, so encode_x meets them even without DF 20 seeds.
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

/* Same expectations, absent ones as {NULL, 0}. */
static void
same_x(const struct gp_span *a, const struct gp_span *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((a[i].len == 0 && a[i].p != NULL) ||
		    (b[i].len == 0 && b[i].p != NULL))
			abort();
	same(a, b, n);
}

static void
x_round_trip(const struct gp_span *a, const struct gp_span *e, size_t na)
{
	struct gp_span b[CAP], f[CAP];
	struct gp_wr w;
	size_t nb;

	gp_wr_init_dyn(&w, 1 << 20);
	if (gp_script_encode_x(a, e, na, &w) != 0 ||
	    gp_script_decode_x(w.p, w.len, b, f, CAP, &nb) != 0 || nb != na)
		abort();
	same(a, b, na);
	same_x(e, f, na);
	gp_wr_free(&w);
}

/* Command i expects GP_SCRIPT_EXPECT_MIN.. bytes of the input, or none. */
static void
cut_expect(const uint8_t *p, size_t n, struct gp_span *e, size_t na)
{
	size_t i, len;

	for (i = 0; i < na; i++) {
		len = n > 0 ? p[i % n] % (GP_SCRIPT_EXPECT_MAX + 1) : 0;
		e[i].p = NULL;
		e[i].len = 0;
		if (len >= GP_SCRIPT_EXPECT_MIN && len <= n) {
			e[i].p = p + n - len;
			e[i].len = len;
		}
	}
}

static void
cmd_x(const uint8_t *p, size_t n)
{
	struct gp_span a[CAP], b[CAP], e[CAP];
	size_t na, nb, i, nexp = 0;
	int rx, r;

	(void)gp_script_decode_x(p, n, a, e, 2, &na);	/* GP_ERR_SPACE */
	rx = gp_script_decode_x(p, n, a, e, CAP, &na);
	r = gp_script_decode(p, n, b, CAP, &nb);
	if (rx != 0) {
		if (r == 0)	/* plain must not accept what _x refuses */
			abort();
		return;
	}
	for (i = 0; i < na; i++)
		if (e[i].len > 0) {
			if (e[i].len < GP_SCRIPT_EXPECT_MIN ||
			    e[i].len > GP_SCRIPT_EXPECT_MAX)
				abort();
			nexp++;
		} else if (e[i].p != NULL)
			abort();
	if (nexp > 0 && r != GP_ERR_UNSUPPORTED)
		abort();
	if (nexp == 0 && (r != 0 || nb != na))
		abort();
	x_round_trip(a, e, na);
	cut_expect(p, n, e, na);
	x_round_trip(a, e, na);
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
	cmd_x(p, n);
	rsp_round_trip(p, n);
	return 0;
}
