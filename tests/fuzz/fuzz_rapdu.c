/*
 * libFuzzer harness for the ISO 7816 side of libgp: R-APDU and C-APDU
 * parsing, C-APDU re-encoding (a parsed command encodes to the same
 * bytes), chaining pieces, the SW rules, and a recursive BER-TLV walk
 * (to the depth limit) of the response data, as a host would do.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gp/apdu.h"
#include "gp/buf.h"
#include "gp/err.h"
#include "gp/tlv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
touch(void *arg, const struct gp_tlv *t, int depth)
{
	unsigned *sum = arg;
	size_t i;

	for (i = 0; i < t->len; i++)
		*sum += t->v[i] ^ (unsigned)depth;
	return 0;
}

/* A command that parses encodes back to exactly the same bytes. */
static void
capdu(const uint8_t *p, size_t n)
{
	struct gp_apdu a, piece;
	struct gp_wr w;
	size_t k, count, total = 0;

	if (gp_apdu_parse(p, n, &a) != 0)
		return;
	gp_wr_init_dyn(&w, GP_APDU_WIRE_MAX + 8);
	if (gp_apdu_encode(&a, &w) != 0 || w.len != n ||
	    memcmp(w.p, p, n) != 0)
		abort();
	count = gp_apdu_chain_count(a.lc, 16);
	for (k = 0; k < count; k++) {
		if (gp_apdu_chain_piece(&a, 16, k, &piece) != 0 ||
		    piece.lc > 16)
			abort();
		total += piece.lc;
		gp_wr_reset(&w);
		if (gp_apdu_encode(&piece, &w) != 0)
			abort();
	}
	if (total != a.lc)
		abort();
	gp_wr_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_rapdu r;
	unsigned sum = 0;
	size_t ne = 0;

	capdu(data, size);
	if (gp_rapdu_parse(data, size, &r) != 0)
		return 0;
	if (r.len != size - 2)
		abort();
	(void)gp_sw_ok(r.sw);
	if (gp_sw_next(r.sw, &ne) != GP_SW_DONE && (ne == 0 || ne > 256))
		abort();
	(void)gp_tlv_walk(r.data, r.len, GP_TLV_RECURSE, touch, &sum);
	return 0;
}
