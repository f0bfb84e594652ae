/*
 * Bounded reader and capped writer. See buf.h for the contract.
 */
#include <stdlib.h>
#include <string.h>

#include "gp/buf.h"
#include "gp/err.h"

void
gp_rd_init(struct gp_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = p == NULL ? 0 : len;
	r->off = 0;
}

size_t
gp_rd_left(const struct gp_rd *r)
{
	return r->len - r->off;
}

const uint8_t *
gp_rd_ptr(const struct gp_rd *r)
{
	return r->p + r->off;
}

int
gp_rd_bytes(struct gp_rd *r, size_t n, const uint8_t **out)
{
	if (n > gp_rd_left(r))
		return GP_ERR_TRUNC;
	if (out != NULL)
		*out = r->p + r->off;
	r->off += n;
	return 0;
}

int
gp_rd_skip(struct gp_rd *r, size_t n)
{
	return gp_rd_bytes(r, n, NULL);
}

int
gp_rd_copy(struct gp_rd *r, void *dst, size_t n)
{
	const uint8_t *p;
	int rc;

	if ((rc = gp_rd_bytes(r, n, &p)) != 0)
		return rc;
	if (n > 0)
		memcpy(dst, p, n);
	return 0;
}

int
gp_rd_u8(struct gp_rd *r, uint8_t *v)
{
	if (gp_rd_left(r) < 1)
		return GP_ERR_TRUNC;
	*v = r->p[r->off++];
	return 0;
}

int
gp_rd_u16(struct gp_rd *r, uint16_t *v)
{
	const uint8_t *p;
	int rc;

	if ((rc = gp_rd_bytes(r, 2, &p)) != 0)
		return rc;
	*v = (uint16_t)((p[0] << 8) | p[1]);
	return 0;
}

int
gp_rd_u24(struct gp_rd *r, uint32_t *v)
{
	const uint8_t *p;
	int rc;

	if ((rc = gp_rd_bytes(r, 3, &p)) != 0)
		return rc;
	*v = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
	return 0;
}

int
gp_rd_lv(struct gp_rd *r, const uint8_t **v, size_t *n)
{
	size_t save = r->off;
	uint8_t l;
	int rc;

	if ((rc = gp_rd_u8(r, &l)) != 0)
		return rc;
	if ((rc = gp_rd_bytes(r, l, v)) != 0) {
		r->off = save;
		return rc;
	}
	*n = l;
	return 0;
}

void
gp_wr_init(struct gp_wr *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->len = 0;
	w->cap = w->max = p == NULL ? 0 : cap;
	w->dyn = 0;
}

void
gp_wr_init_dyn(struct gp_wr *w, size_t max)
{
	w->p = NULL;
	w->len = w->cap = 0;
	w->max = max;
	w->dyn = 1;
}

void
gp_wr_free(struct gp_wr *w)
{
	if (w->dyn && w->p != NULL) {
		gp_wipe(w->p, w->cap);
		free(w->p);
		w->p = NULL;
		w->cap = 0;
	}
	w->len = 0;
}

void
gp_wr_reset(struct gp_wr *w)
{
	if (w->p != NULL)
		gp_wipe(w->p, w->len);
	w->len = 0;
}

/* Grows by doubling; the old block is wiped because it may hold keys. */
int
gp_wr_reserve(struct gp_wr *w, size_t n)
{
	size_t need, ncap;
	uint8_t *np;

	if (n > w->max - w->len)
		return GP_ERR_SPACE;
	need = w->len + n;
	if (need <= w->cap)
		return 0;
	if (!w->dyn)
		return GP_ERR_SPACE;
	ncap = w->cap < 64 ? 64 : w->cap;
	while (ncap < need)
		ncap = ncap > w->max / 2 ? w->max : ncap * 2;
	if ((np = malloc(ncap)) == NULL)
		return GP_ERR_NOMEM;
	if (w->p != NULL) {
		memcpy(np, w->p, w->len);
		gp_wipe(w->p, w->cap);
		free(w->p);
	}
	w->p = np;
	w->cap = ncap;
	return 0;
}

int
gp_wr_put(struct gp_wr *w, const void *p, size_t n)
{
	const uint8_t *src = p;
	size_t off = 0;
	int rc, inside;

	if (n == 0)
		return 0;
	/* A source inside w's own block survives the block moving. */
	inside = w->p != NULL && src >= w->p && src < w->p + w->cap;
	if (inside)
		off = (size_t)(src - w->p);
	if ((rc = gp_wr_reserve(w, n)) != 0)
		return rc;
	if (inside)
		src = w->p + off;
	memmove(w->p + w->len, src, n);
	w->len += n;
	return 0;
}

int
gp_wr_u8(struct gp_wr *w, uint8_t v)
{
	return gp_wr_put(w, &v, 1);
}

int
gp_wr_u16(struct gp_wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return gp_wr_put(w, b, 2);
}

int
gp_wr_lv(struct gp_wr *w, const void *p, size_t n)
{
	int rc;

	if (n > 255)
		return GP_ERR_TOOLARGE;
	if ((rc = gp_wr_reserve(w, n + 1)) != 0)
		return rc;
	w->p[w->len++] = (uint8_t)n;
	return gp_wr_put(w, p, n);
}

uint8_t *
gp_wr_steal(struct gp_wr *w, size_t *len)
{
	uint8_t *p = w->p;

	if (!w->dyn) {
		*len = 0;
		return NULL;	/* caller memory is not the caller's to free */
	}
	*len = w->len;
	w->p = NULL;
	w->len = w->cap = 0;
	return p;
}

/*
 * explicit_bzero, not OPENSSL_cleanse: a program that takes only libgp's
 * parsers (tsm-agent) must not need libcrypto for them.
 */
void
gp_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

/*
 * Constant time in n: every byte is visited and the differences are OR-ed
 * together; the barrier keeps the compiler from returning at the first
 * difference it could prove.
 */
int
gp_ct_memcmp(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	__asm__ __volatile__("" : "+r"(d));
	return d != 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
gp_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = strlen(s), i;
	int hi, lo;

	if (n % 2 != 0)
		return GP_ERR_FORMAT;
	if (n / 2 > cap)
		return GP_ERR_SPACE;
	for (i = 0; i < n / 2; i++) {
		if ((hi = hexval(s[2 * i])) < 0 || (lo = hexval(s[2 * i + 1])) < 0)
			return GP_ERR_FORMAT;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = n / 2;
	return 0;
}

void
gp_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}
