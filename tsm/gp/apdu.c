/*
 * ISO 7816-4 APDU encoding and strict parsing.
 */
#include <string.h>

#include "gp/apdu.h"
#include "gp/err.h"

int
gp_apdu_case(const struct gp_apdu *a)
{
	if (a->lc == 0)
		return a->ne == 0 ? 1 : 2;
	return a->ne == 0 ? 3 : 4;
}

static size_t
short_ne(uint8_t b)
{
	return b == 0 ? 256 : b;
}

static size_t
ext_ne(const uint8_t *p)
{
	size_t v = ((size_t)p[0] << 8) | p[1];

	return v == 0 ? 65536 : v;
}

/* Body after a 00 marker byte: extended Lc and/or Le. */
static int
parse_extended(const uint8_t *b, size_t n, struct gp_apdu *a)
{
	size_t lc;

	a->ext = 1;
	if (n == 3) {				/* case 2E: 00 Le1 Le2 */
		a->ne = ext_ne(b + 1);
		return 0;
	}
	if (n < 3)
		return GP_ERR_FORMAT;
	lc = ((size_t)b[1] << 8) | b[2];
	if (lc == 0)
		return GP_ERR_FORMAT;
	if (n == 3 + lc) {			/* case 3E */
		a->data = b + 3;
		a->lc = lc;
		return 0;
	}
	if (n == 3 + lc + 2) {			/* case 4E */
		a->data = b + 3;
		a->lc = lc;
		a->ne = ext_ne(b + 3 + lc);
		return 0;
	}
	return n < 3 + lc ? GP_ERR_TRUNC : GP_ERR_FORMAT;
}

int
gp_apdu_parse(const uint8_t *p, size_t n, struct gp_apdu *a)
{
	const uint8_t *b;
	size_t bn;

	memset(a, 0, sizeof(*a));
	if (p == NULL || n < 4)
		return GP_ERR_TRUNC;
	b = p + 4;
	a->cla = p[0];
	a->ins = p[1];
	a->p1 = p[2];
	a->p2 = p[3];
	bn = n - 4;
	if (bn == 0)
		return 0;			/* case 1 */
	if (bn == 1) {
		a->ne = short_ne(b[0]);		/* case 2S */
		return 0;
	}
	if (b[0] == 0)
		return parse_extended(b, bn, a);
	a->lc = b[0];
	a->data = b + 1;
	if (bn == 1 + a->lc)
		return 0;			/* case 3S */
	if (bn == 2 + a->lc) {
		a->ne = short_ne(b[1 + a->lc]);	/* case 4S */
		return 0;
	}
	return bn < 1 + a->lc ? GP_ERR_TRUNC : GP_ERR_FORMAT;
}

int
gp_apdu_encode(const struct gp_apdu *a, struct gp_wr *w)
{
	uint8_t hdr[4] = { a->cla, a->ins, a->p1, a->p2 };
	int ext = a->ext || a->lc > 255 || a->ne > 256;
	int rc;

	if (a->lc > GP_APDU_EXT_MAX || a->ne > 65536 ||
	    (a->lc > 0 && a->data == NULL))
		return GP_ERR_INVAL;
	/* Reserve exactly, so an APDU fits a buffer of its own size. */
	if ((rc = gp_wr_reserve(w, 4 + (a->lc ? (ext ? 3 : 1) + a->lc : 0) +
	    (a->ne ? (ext ? (a->lc ? 2 : 3) : 1) : 0))) != 0)
		return rc;
	if ((rc = gp_wr_put(w, hdr, 4)) != 0)
		return rc;
	if (a->lc > 0) {
		if (ext && ((rc = gp_wr_u8(w, 0)) != 0 ||
		    (rc = gp_wr_u16(w, (uint16_t)a->lc)) != 0))
			return rc;
		if (!ext && (rc = gp_wr_u8(w, (uint8_t)a->lc)) != 0)
			return rc;
		if ((rc = gp_wr_put(w, a->data, a->lc)) != 0)
			return rc;
	}
	if (a->ne == 0)
		return 0;
	if (!ext)
		return gp_wr_u8(w, (uint8_t)(a->ne & 0xff));
	if (a->lc == 0 && (rc = gp_wr_u8(w, 0)) != 0)
		return rc;
	return gp_wr_u16(w, (uint16_t)(a->ne & 0xffff));
}

size_t
gp_apdu_chain_count(size_t lc, size_t chunk)
{
	if (chunk == 0)
		return 0;
	return lc == 0 ? 1 : (lc + chunk - 1) / chunk;
}

/* Every piece but the last carries the chaining bit and no Le. */
int
gp_apdu_chain_piece(const struct gp_apdu *a, size_t chunk, size_t index,
    struct gp_apdu *piece)
{
	size_t count = gp_apdu_chain_count(a->lc, chunk);
	size_t off = index * chunk;

	if (chunk == 0 || index >= count)
		return GP_ERR_INVAL;
	*piece = *a;
	piece->data = a->lc ? a->data + off : NULL;
	piece->lc = a->lc - off < chunk ? a->lc - off : chunk;
	if (index + 1 < count) {
		piece->cla |= GP_CLA_CHAIN;
		piece->ne = 0;
	}
	return 0;
}

int
gp_rapdu_parse(const uint8_t *p, size_t n, struct gp_rapdu *r)
{
	memset(r, 0, sizeof(*r));
	if (p == NULL || n < 2)
		return GP_ERR_TRUNC;
	r->data = n > 2 ? p : NULL;
	r->len = n - 2;
	r->sw = (uint16_t)((p[n - 2] << 8) | p[n - 1]);
	return 0;
}

int
gp_rapdu_encode(const uint8_t *data, size_t len, uint16_t sw,
    struct gp_wr *w)
{
	int rc;

	if ((rc = gp_wr_reserve(w, len + 2)) != 0)
		return rc;
	if ((rc = gp_wr_put(w, data, len)) != 0)
		return rc;
	return gp_wr_u16(w, sw);
}

enum gp_sw_next
gp_sw_next(uint16_t sw, size_t *ne)
{
	switch (sw >> 8) {
	case 0x61:
		*ne = short_ne(sw & 0xff);
		return GP_SW_GET_RESPONSE;
	case 0x6C:
		*ne = short_ne(sw & 0xff);
		return GP_SW_RESEND;
	}
	return GP_SW_DONE;
}

int
gp_sw_ok(uint16_t sw)
{
	return sw == 0x9000 || (sw >> 8) == 0x61;
}

int
gp_sw_warning(uint16_t sw)
{
	return (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

int
gp_apdu_get_response(size_t ne, struct gp_wr *w)
{
	struct gp_apdu a = { .cla = 0x00, .ins = 0xC0, .ne = ne };

	if (ne == 0 || ne > 256)
		return GP_ERR_INVAL;
	return gp_apdu_encode(&a, w);
}
