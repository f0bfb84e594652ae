/*
 * One card row of a manufacturer file: field names, validation and
 * normalisation (hex upper-cased), shared by the CSV and JSON readers.
 * Field bytes come from outside and are read through gp_rd only.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gp/buf.h"
#include "store/store_int.h"

static const struct {
	const char	*name;
	enum tsm_field	 f;
} field_names[] = {
	{ "csn", TSM_F_CSN }, { "iin", TSM_F_IIN }, { "cin", TSM_F_CIN },
	{ "kdd", TSM_F_KDD }, { "product", TSM_F_PRODUCT },
	{ "batch", TSM_F_BATCH }, { "transport_key_version", TSM_F_TKV },
	{ "tkv", TSM_F_TKV },
};

int
tsm_row_field_parse(const char *s, size_t n, enum tsm_field *f)
{
	size_t i;

	for (i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++) {
		if (strlen(field_names[i].name) == n &&
		    strncasecmp(s, field_names[i].name, n) == 0) {
			*f = field_names[i].f;
			return 0;
		}
	}
	return TSM_STORE_ERR_FORMAT;
}

static int
bad(char *why, size_t len, const char *field, const char *what)
{
	snprintf(why, len, "%s: %s", field, what);
	return TSM_STORE_ERR_FORMAT;
}

static int
set_hex(const char *field, const char *s, size_t n, size_t min, char *dst,
    size_t cap, char *why, size_t wl)
{
	struct gp_rd rd;
	uint8_t c;
	size_t i = 0;

	if (n == 0 && min == 0)
		return 0;
	if (n < min || n + 1 > cap)
		return bad(why, wl, field, "wrong length");
	if (n % 2 != 0)
		return bad(why, wl, field, "odd number of hex digits");
	gp_rd_init(&rd, (const uint8_t *)s, n);
	while (gp_rd_u8(&rd, &c) == 0) {
		if (c >= 'a' && c <= 'f')
			c = (uint8_t)(c - 'a' + 'A');
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			return bad(why, wl, field, "not hexadecimal");
		dst[i++] = (char)c;
	}
	dst[i] = '\0';
	return 0;
}

static int
set_name(const char *field, const char *s, size_t n, char *dst, size_t cap,
    char *why, size_t wl)
{
	struct gp_rd rd;
	uint8_t c;
	size_t i = 0;

	if (n == 0)
		return bad(why, wl, field, "empty");
	if (n + 1 > cap)
		return bad(why, wl, field, "too long");
	gp_rd_init(&rd, (const uint8_t *)s, n);
	while (gp_rd_u8(&rd, &c) == 0) {
		if (c < 0x20 || c == 0x7f)
			return bad(why, wl, field, "control character");
		dst[i++] = (char)c;
	}
	dst[i] = '\0';
	return 0;
}

static int
set_tkv(const char *s, size_t n, int *out, char *why, size_t wl)
{
	struct gp_rd rd;
	uint8_t c;
	int v = 0;

	if (n == 0) {
		*out = -1;
		return 0;
	}
	if (n > 3)
		return bad(why, wl, "transport_key_version", "not 0..255");
	gp_rd_init(&rd, (const uint8_t *)s, n);
	while (gp_rd_u8(&rd, &c) == 0) {
		if (c < '0' || c > '9')
			return bad(why, wl, "transport_key_version",
			    "not a decimal number");
		v = v * 10 + (c - '0');
	}
	if (v > 255)
		return bad(why, wl, "transport_key_version", "not 0..255");
	*out = v;
	return 0;
}

int
tsm_row_set(struct tsm_import_row *r, enum tsm_field f, const char *s,
    size_t n, char *why, size_t wl)
{
	switch (f) {
	case TSM_F_CSN:
		return set_hex("csn", s, n, 8, r->csn, sizeof(r->csn), why, wl);
	case TSM_F_IIN:
		return set_hex("iin", s, n, 0, r->iin, sizeof(r->iin), why, wl);
	case TSM_F_CIN:
		return set_hex("cin", s, n, 0, r->cin, sizeof(r->cin), why, wl);
	case TSM_F_KDD:
		return set_hex("kdd", s, n, 0, r->kdd, sizeof(r->kdd), why, wl);
	case TSM_F_PRODUCT:
		return set_name("product", s, n, r->product,
		    sizeof(r->product), why, wl);
	case TSM_F_BATCH:
		return set_name("batch", s, n, r->batch, sizeof(r->batch),
		    why, wl);
	case TSM_F_TKV:
		return set_tkv(s, n, &r->tkv, why, wl);
	default:
		return bad(why, wl, "?", "unknown field");
	}
}

int
tsm_row_complete(const struct tsm_import_row *r, char *why, size_t wl)
{
	if (r->csn[0] == '\0')
		return bad(why, wl, "csn", "missing");
	if (r->product[0] == '\0')
		return bad(why, wl, "product", "missing");
	if (r->batch[0] == '\0')
		return bad(why, wl, "batch", "missing");
	return 0;
}
