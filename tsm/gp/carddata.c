/*
 * GET DATA parsers: CPLC, card recognition data, card capabilities,
 * extended card resources, key information, IIN and CIN (carddata.h).
 * Nothing is allocated; spans point into the caller's input.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "gp/buf.h"
#include "gp/carddata.h"
#include "gp/err.h"
#include "gp/tlv.h"

/* 1.2.840.114283.2 (GP version) and 1.2.840.114283.4 (SCP), encoded. */
static const uint8_t oid_gp_version[] = {
	0x2a, 0x86, 0x48, 0x86, 0xfc, 0x6b, 0x02
};
static const uint8_t oid_gp_scp[] = {
	0x2a, 0x86, 0x48, 0x86, 0xfc, 0x6b, 0x04
};

/* The CPLC fields in wire order. */
static const struct {
	size_t	off;
	size_t	len;
} cplc_fields[] = {
#define F(x) { offsetof(struct gp_cplc, x), sizeof(((struct gp_cplc *)0)->x) }
	F(ic_fabricator), F(ic_type), F(os_id), F(os_release_date),
	F(os_release_level), F(ic_fabrication_date), F(ic_serial),
	F(ic_batch_id), F(module_fabricator), F(module_packaging_date),
	F(icc_manufacturer), F(ic_embedding_date), F(pre_personalizer),
	F(pre_perso_equipment_date), F(pre_perso_equipment_id),
	F(personalizer), F(personalization_date), F(perso_equipment_id),
#undef F
};

int
gp_cplc_parse(const uint8_t *p, size_t n, struct gp_cplc *c)
{
	struct gp_tlv t;
	struct gp_rd rd;
	size_t i;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = gp_tlv_parse_one(p, n, 0x9f7f, &t)) != 0)
		return r;
	/* Exactly 9F7F 2A: a long-form length is not a CPLC either. */
	if (t.len != GP_CPLC_LEN || t.rawlen != 3 + GP_CPLC_LEN)
		return GP_ERR_FORMAT;
	gp_rd_init(&rd, t.v, t.len);
	for (i = 0; i < sizeof(cplc_fields) / sizeof(cplc_fields[0]); i++)
		if ((r = gp_rd_copy(&rd, (uint8_t *)c + cplc_fields[i].off,
		    cplc_fields[i].len)) != 0)
			return r;
	return gp_rd_left(&rd) == 0 ? 0 : GP_ERR_FORMAT;
}

/* One base-128 arc. strict rejects a leading 80 (X.690 8.19.2). */
static int
read_arc(struct gp_rd *rd, int strict, uint32_t *arc)
{
	size_t n = 0;
	uint8_t b;
	int r;

	*arc = 0;
	do {
		if ((r = gp_rd_u8(rd, &b)) != 0)
			return r;
		if (strict && n++ == 0 && b == 0x80)
			return GP_ERR_FORMAT;
		if (*arc > (UINT32_MAX >> 7))
			return GP_ERR_TOOLARGE;
		*arc = (*arc << 7) | (b & 0x7f);
	} while (b & 0x80);
	return 0;
}

/* Appends ".arc" (or "arc" first); out may be NULL to only validate. */
static int
put_arc(char *out, size_t cap, size_t *used, unsigned long arc)
{
	int k;

	if (out == NULL)
		return 0;
	if (cap == 0 || *used >= cap)
		return GP_ERR_SPACE;
	k = snprintf(out + *used, cap - *used, "%s%lu", *used ? "." : "",
	    arc);
	if (k < 0 || (size_t)k >= cap - *used)
		return GP_ERR_SPACE;
	*used += (size_t)k;
	return 0;
}

/* whole: the first arc carries two (40 * x + y), as in a full OID. */
static int
oid_fmt(const uint8_t *p, size_t n, int whole, char *out, size_t cap)
{
	struct gp_rd rd;
	size_t used = 0;
	uint32_t arc;
	int r;

	if (n == 0)
		return GP_ERR_FORMAT;
	gp_rd_init(&rd, p, n);
	if (out != NULL && cap > 0)
		out[0] = '\0';
	if ((r = read_arc(&rd, 1, &arc)) != 0)
		return r;
	if (whole) {
		if ((r = put_arc(out, cap, &used, arc < 80 ? arc / 40 : 2)) != 0)
			return r;
		arc = arc < 80 ? arc % 40 : arc - 80;
	}
	if ((r = put_arc(out, cap, &used, arc)) != 0)
		return r;
	while (gp_rd_left(&rd) > 0)
		if ((r = read_arc(&rd, 1, &arc)) != 0 ||
		    (r = put_arc(out, cap, &used, arc)) != 0)
			return r;
	return 0;
}

int
gp_oid_to_str(const uint8_t *p, size_t n, char *out, size_t cap)
{
	if (out == NULL)
		return GP_ERR_INVAL;
	return oid_fmt(p, n, 1, out, cap);
}

int
gp_oid_arcs_to_str(const uint8_t *p, size_t n, char *out, size_t cap)
{
	if (out == NULL)
		return GP_ERR_INVAL;
	return oid_fmt(p, n, 0, out, cap);
}

/* 60, 63, 64, 65 and 66 each wrap exactly one non-empty 06. */
static int
wrapped_oid(const struct gp_tlv *t, struct gp_span *oid)
{
	struct gp_tlv o;
	int r;

	if ((r = gp_tlv_parse_one(t->v, t->len, 0x06, &o)) != 0)
		return r;
	if (o.len == 0)
		return GP_ERR_FORMAT;
	oid->p = o.v;
	oid->len = o.len;
	return 0;
}

/*
 * Splits a GP OID into the prefix and the rest; 1 when the prefix
 * matches and something follows it.
 */
static int
oid_rest(const struct gp_span *oid, const uint8_t *prefix, size_t plen,
    struct gp_rd *rest)
{
	const uint8_t *pp;

	gp_rd_init(rest, oid->p, oid->len);
	if (gp_rd_bytes(rest, plen, &pp) != 0 || memcmp(pp, prefix, plen) != 0)
		return 0;
	return gp_rd_left(rest) > 0;
}

/* SCP OIDs: id taken as is (cards send SCP80 as a raw 80), then i. */
static int
crd_scp(struct gp_card_data *cd, const struct gp_span *oid)
{
	struct gp_crd_scp *s;
	struct gp_rd rd;
	int r;

	if (!oid_rest(oid, oid_gp_scp, sizeof(oid_gp_scp), &rd))
		return 0;	/* another body's OID: not ours to judge */
	if (cd->nscp == GP_CRD_SCP_MAX)
		return GP_ERR_SPACE;
	s = &cd->scp[cd->nscp];
	if ((r = gp_rd_u8(&rd, &s->id)) != 0)
		return r;
	if (gp_rd_left(&rd) > 0) {
		/* Not strict: SCP80 i=00 arrives as 80 00. */
		if ((r = read_arc(&rd, 0, &s->i)) != 0)
			return r;
		if (gp_rd_left(&rd) != 0)
			return GP_ERR_FORMAT;
		s->has_i = 1;
	}
	cd->nscp++;
	return 0;
}

static int
set_oid_once(struct gp_span *dst, const struct gp_span *oid, int whole)
{
	int r;

	if (dst->p != NULL)
		return GP_ERR_FORMAT;	/* a repeated element is ambiguous */
	if ((r = oid_fmt(oid->p, oid->len, whole, NULL, 0)) != 0)
		return r;
	*dst = *oid;
	return 0;
}

static int
crd_elem(struct gp_card_data *cd, const struct gp_tlv *t)
{
	struct gp_span oid, rest;
	struct gp_rd rd;
	int r;

	/* 06 (the GP RID OID), 63 and tags of later versions: informational */
	if (t->tag != 0x60 && t->tag != 0x64 && t->tag != 0x65 &&
	    t->tag != 0x66)
		return 0;
	if ((r = wrapped_oid(t, &oid)) != 0)
		return r;
	switch (t->tag) {
	case 0x60:
		if (!oid_rest(&oid, oid_gp_version, sizeof(oid_gp_version),
		    &rd))
			return GP_ERR_FORMAT;
		rest.p = gp_rd_ptr(&rd);
		rest.len = gp_rd_left(&rd);
		return set_oid_once(&cd->gp_version, &rest, 0);
	case 0x64:
		return crd_scp(cd, &oid);
	case 0x65:
		return set_oid_once(&cd->card_config_oid, &oid, 1);
	default:
		return set_oid_once(&cd->chip_oid, &oid, 1);
	}
}

int
gp_card_data_parse(const uint8_t *p, size_t n, struct gp_card_data *cd)
{
	struct gp_tlv t, crd;
	struct gp_tlv_it it;
	struct gp_rd rd;
	int r;

	memset(cd, 0, sizeof(*cd));
	gp_rd_init(&rd, p, n);
	if ((r = gp_tlv_read(&rd, &t)) != 0)
		return r;
	if (gp_rd_left(&rd) != 0)
		return GP_ERR_FORMAT;
	if (t.tag == 0x66) {
		if ((r = gp_tlv_parse_one(t.v, t.len, 0x73, &crd)) != 0)
			return r;
	} else if (t.tag == 0x73)
		crd = t;
	else
		return GP_ERR_FORMAT;
	gp_tlv_it_init(&it, crd.v, crd.len);
	while ((r = gp_tlv_next(&it, &t)) == 1)
		if ((r = crd_elem(cd, &t)) != 0)
			return r;
	return r;
}

static int
span_once(struct gp_span *dst, const struct gp_tlv *t)
{
	if (dst->p != NULL)
		return GP_ERR_FORMAT;
	dst->p = t->v;
	dst->len = t->len;
	return 0;
}

/* A0: 80 id (one byte), 81 i values, 82 key lengths. */
static int
caps_scp(struct gp_card_caps *cc, const struct gp_tlv *a0)
{
	struct gp_caps_scp *s;
	struct gp_tlv_it it;
	struct gp_tlv t;
	int r;

	if (cc->nscp == GP_CAPS_SCP_MAX)
		return GP_ERR_SPACE;
	s = &cc->scp[cc->nscp];
	gp_tlv_it_init(&it, a0->v, a0->len);
	while ((r = gp_tlv_next(&it, &t)) == 1) {
		if (t.tag == 0x80) {
			if (s->has_id || t.len != 1)
				return GP_ERR_FORMAT;
			s->id = t.v[0];
			s->has_id = 1;
		} else if (t.tag == 0x81)
			r = span_once(&s->options, &t);
		else if (t.tag == 0x82)
			r = span_once(&s->key_lengths, &t);
		if (r < 0)
			return r;
	}
	if (r != 0)
		return r;
	if (!s->has_id)
		return GP_ERR_FORMAT;	/* options of an unnamed protocol */
	cc->nscp++;
	return 0;
}

static int
caps_elem(struct gp_card_caps *cc, const struct gp_tlv *t)
{
	struct gp_span *raw[] = {
		&cc->ssd_privileges, &cc->app_privileges, &cc->lfdb_hash_algs,
		&cc->lfdb_enc_suites, &cc->token_suites, &cc->receipt_suites,
		&cc->dap_suites, &cc->key_params,
	};

	if (t->tag == 0xa0)
		return caps_scp(cc, t);
	if (t->tag >= 0x81 && t->tag <= 0x88)
		return span_once(raw[t->tag - 0x81], t);
	return 0;	/* later GP versions add tags: skip them */
}

int
gp_card_caps_parse(const uint8_t *p, size_t n, struct gp_card_caps *cc)
{
	struct gp_tlv t, in;
	struct gp_tlv_it it;
	int r;

	memset(cc, 0, sizeof(*cc));
	if ((r = gp_tlv_parse_one(p, n, 0x67, &t)) != 0)
		return r;
	/* Real cards answer 67 { 67 { ... } }: use the inner one. */
	if (gp_tlv_parse_one(t.v, t.len, 0x67, &in) == 0)
		t = in;
	gp_tlv_it_init(&it, t.v, t.len);
	while ((r = gp_tlv_next(&it, &in)) == 1)
		if ((r = caps_elem(cc, &in)) != 0)
			return r;
	return r;
}

/* 1 to 4 bytes, big endian. */
static int
res_value(const struct gp_tlv *t, uint32_t *v, int *has)
{
	struct gp_rd rd;
	uint8_t b;

	if (*has || t->len == 0 || t->len > 4)
		return GP_ERR_FORMAT;
	gp_rd_init(&rd, t->v, t->len);
	*v = 0;
	while (gp_rd_u8(&rd, &b) == 0)
		*v = (*v << 8) | b;
	*has = 1;
	return 0;
}

int
gp_card_resources_parse(const uint8_t *p, size_t n,
    struct gp_card_resources *cr)
{
	struct gp_tlv t, e;
	struct gp_tlv_it it;
	int r;

	memset(cr, 0, sizeof(*cr));
	if ((r = gp_tlv_parse_one(p, n, 0xff21, &t)) != 0)
		return r;
	gp_tlv_it_init(&it, t.v, t.len);
	while ((r = gp_tlv_next(&it, &e)) == 1) {
		if (e.tag == 0x81)
			r = res_value(&e, &cr->installed_apps,
			    &cr->has_installed_apps);
		else if (e.tag == 0x82)
			r = res_value(&e, &cr->free_nvm, &cr->has_free_nvm);
		else if (e.tag == 0x83)
			r = res_value(&e, &cr->free_vm, &cr->has_free_vm);
		if (r < 0)
			return r;
	}
	return r;
}

static int
key_comp_add(struct gp_key_info *k, uint8_t type, uint32_t len)
{
	if (k->ncomp == GP_KEY_COMP_MAX)
		return GP_ERR_SPACE;
	k->comp[k->ncomp].type = type;
	k->comp[k->ncomp].len = len;
	k->ncomp++;
	return 0;
}

/* Basic format: (type, length) pairs; a length of 00 means 256. */
static int
key_basic(struct gp_rd *rd, struct gp_key_info *k)
{
	uint8_t type, len;
	int r;

	while (gp_rd_left(rd) > 0) {
		if ((r = gp_rd_u8(rd, &type)) != 0 ||
		    (r = gp_rd_u8(rd, &len)) != 0 ||
		    (r = key_comp_add(k, type, len ? len : 256)) != 0)
			return r;
	}
	return 0;
}

/* Extended format: [FF] type len(2) while > 4 bytes left, usage, access. */
static int
key_extended(struct gp_rd *rd, struct gp_key_info *k)
{
	struct gp_rd peek;
	uint8_t type;
	uint16_t len;
	int r;

	k->extended = 1;
	while (gp_rd_left(rd) > 4) {
		peek = *rd;
		if (gp_rd_u8(&peek, &type) == 0 && type == 0xff)
			*rd = peek;
		if ((r = gp_rd_u8(rd, &type)) != 0 ||
		    (r = gp_rd_u16(rd, &len)) != 0 ||
		    (r = key_comp_add(k, type, len)) != 0)
			return r;
	}
	if ((r = gp_rd_lv(rd, &k->usage.p, &k->usage.len)) != 0 ||
	    (r = gp_rd_lv(rd, &k->access.p, &k->access.len)) != 0)
		return r;
	return gp_rd_left(rd) == 0 ? 0 : GP_ERR_FORMAT;
}

static int
key_parse(const struct gp_tlv *c0, struct gp_key_info *k)
{
	struct gp_rd rd, peek;
	uint8_t third;
	int r;

	memset(k, 0, sizeof(*k));
	gp_rd_init(&rd, c0->v, c0->len);
	if ((r = gp_rd_u8(&rd, &k->id)) != 0 ||
	    (r = gp_rd_u8(&rd, &k->version)) != 0)
		return r;
	peek = rd;
	if (gp_rd_u8(&peek, &third) == 0 && third == 0xff)
		return key_extended(&rd, k);
	return key_basic(&rd, k);
}

int
gp_key_info_parse(const uint8_t *p, size_t n, struct gp_key_info *keys,
    size_t cap, size_t *count)
{
	struct gp_tlv t, c0;
	struct gp_tlv_it it;
	int r;

	*count = 0;
	if ((r = gp_tlv_parse_one(p, n, 0xe0, &t)) != 0)
		return r;
	gp_tlv_it_init(&it, t.v, t.len);
	while ((r = gp_tlv_next(&it, &c0)) == 1) {
		if (c0.tag != 0xc0 || c0.len == 0)
			continue;	/* empty C0: a key slot with no key */
		if (*count == cap)
			return GP_ERR_SPACE;
		if ((r = key_parse(&c0, &keys[*count])) != 0)
			return r;
		(*count)++;
	}
	return r;
}

static int
simple_value(const uint8_t *p, size_t n, uint32_t tag, struct gp_span *out)
{
	struct gp_tlv t;
	int r;

	out->p = NULL;
	out->len = 0;
	if ((r = gp_tlv_parse_one(p, n, tag, &t)) != 0)
		return r;
	out->p = t.v;
	out->len = t.len;
	return 0;
}

int
gp_iin_parse(const uint8_t *p, size_t n, struct gp_span *iin)
{
	return simple_value(p, n, 0x42, iin);
}

int
gp_cin_parse(const uint8_t *p, size_t n, struct gp_span *cin)
{
	return simple_value(p, n, 0x45, cin);
}
