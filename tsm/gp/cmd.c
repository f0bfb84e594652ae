/*
 * GlobalPlatform command builders: SELECT, GET DATA, GET STATUS, INSTALL,
 * LOAD, DELETE, SET STATUS and STORE DATA (GP Card Specification 2.3.1,
 * chapter 11), plus the EMV CPS DGI encoding STORE DATA carries.
 *
 * Every command is a short APDU: the secure channel adds at most 8 (MAC)
 * + 16 (padding) bytes, so callers size LOAD and STORE DATA slices to
 * leave room for that; the builders only enforce Lc <= 255.
 */
#include <stdlib.h>
#include <string.h>

#include "gp/apdu.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/tlv.h"

/* Largest DAP signature accepted (RSA 4096). */
#define DAP_SIG_MAX	512
#define LOAD_HDR_MAX	(DAP_SIG_MAX + GP_AID_MAX + 16)

static int
aid_ok(const uint8_t *aid, size_t n)
{
	return aid != NULL && n >= GP_AID_MIN && n <= GP_AID_MAX;
}

/* Encodes a short C-APDU; ne is 0 (no Le) or 256 (Le 00). */
static int
emit(struct gp_wr *w, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t lc, size_t ne)
{
	struct gp_apdu a;

	if (lc > GP_APDU_SHORT_MAX)
		return GP_ERR_TOOLARGE;
	memset(&a, 0, sizeof(a));
	a.cla = cla;
	a.ins = ins;
	a.p1 = p1;
	a.p2 = p2;
	a.data = lc ? data : NULL;
	a.lc = lc;
	a.ne = ne;
	return gp_apdu_encode(&a, w);
}

int
gp_cmd_select(const uint8_t *aid, size_t aidlen, uint8_t p2,
    struct gp_wr *w)
{
	if (!aid_ok(aid, aidlen) ||
	    (p2 != GP_SELECT_FIRST && p2 != GP_SELECT_NEXT))
		return GP_ERR_INVAL;
	return emit(w, GP_CLA_ISO, GP_INS_SELECT, 0x04, p2, aid, aidlen, 256);
}

int
gp_cmd_get_data(uint16_t tag, struct gp_wr *w)
{
	return emit(w, GP_CLA_GP, GP_INS_GET_DATA, (uint8_t)(tag >> 8),
	    (uint8_t)tag, NULL, 0, 256);
}

int
gp_cmd_get_status(uint8_t scope, uint8_t p2, const uint8_t *crit,
    size_t critlen, struct gp_wr *w)
{
	static const uint8_t all[2] = { 0x4F, 0x00 };

	if (scope != GP_STATUS_ISD && scope != GP_STATUS_APPS &&
	    scope != GP_STATUS_ELF && scope != GP_STATUS_ELF_MODULES)
		return GP_ERR_INVAL;
	if ((p2 & ~(GP_STATUS_TAGGED | GP_STATUS_NEXT)) != 0)
		return GP_ERR_INVAL;
	if (crit == NULL) {
		crit = all;
		critlen = sizeof(all);
	}
	if (critlen == 0)
		return GP_ERR_INVAL;
	return emit(w, GP_CLA_GP, GP_INS_GET_STATUS, scope, p2, crit, critlen,
	    256);
}

/* LV of an AID; empty allowed only where the spec makes it optional. */
static int
lv_aid(struct gp_wr *w, const uint8_t *aid, size_t n, int optional)
{
	if (n == 0 && optional)
		return gp_wr_u8(w, 0);
	if (!aid_ok(aid, n))
		return GP_ERR_INVAL;
	return gp_wr_lv(w, aid, n);
}

static int
lv_priv(struct gp_wr *w, const struct gp_install *in, int optional)
{
	if (in->priv_len == 0 && optional)
		return gp_wr_u8(w, 0);
	if (in->priv == NULL || (in->priv_len != 1 && in->priv_len != 3))
		return GP_ERR_INVAL;
	return gp_wr_lv(w, in->priv, in->priv_len);
}

/* Install parameters: C9 is mandatory, so an absent field is C9 00. */
static int
lv_install_params(struct gp_wr *w, const struct gp_install *in)
{
	static const uint8_t none[2] = { 0xC9, 0x00 };

	if (in->params_len == 0)
		return gp_wr_lv(w, none, sizeof(none));
	return gp_wr_lv(w, in->params, in->params_len);
}

/* GP 2.3.1 11.5.2.3: INSTALL [for load] and [for install (and make sel.)] */
static int
fields_load_install(uint8_t p1, const struct gp_install *in,
    struct gp_wr *w)
{
	int r;

	if ((r = lv_aid(w, in->elf_aid, in->elf_len, 0)) != 0)
		return r;
	if (p1 == GP_INSTALL_LOAD) {
		if ((r = lv_aid(w, in->sd_aid, in->sd_len, 1)) != 0 ||
		    (r = gp_wr_lv(w, in->hash, in->hash_len)) != 0)
			return r;
		return gp_wr_lv(w, in->params, in->params_len);
	}
	if ((r = lv_aid(w, in->mod_aid, in->mod_len, 0)) != 0 ||
	    (r = lv_aid(w, in->app_aid, in->app_len, 0)) != 0 ||
	    (r = lv_priv(w, in, 0)) != 0)
		return r;
	return lv_install_params(w, in);
}

/* [for make selectable], [for extradition], [for registry update]. */
static int
fields_other(uint8_t p1, const struct gp_install *in, struct gp_wr *w)
{
	int sd = p1 == GP_INSTALL_EXTRADITION || p1 == GP_INSTALL_REGISTRY;
	int r;

	if (sd && (r = lv_aid(w, in->sd_aid, in->sd_len,
	    p1 == GP_INSTALL_REGISTRY)) != 0)
		return r;
	if (!sd && (r = gp_wr_u8(w, 0)) != 0)	/* no load file AID */
		return r;
	if ((r = gp_wr_u8(w, 0)) != 0)		/* no module AID */
		return r;
	if ((r = lv_aid(w, in->app_aid, in->app_len,
	    p1 == GP_INSTALL_REGISTRY)) != 0)
		return r;
	if (p1 == GP_INSTALL_EXTRADITION)
		r = gp_wr_u8(w, 0);		/* no privileges */
	else
		r = lv_priv(w, in, 1);
	if (r != 0)
		return r;
	return gp_wr_lv(w, in->params, in->params_len);
}

int
gp_install_fields(uint8_t p1, const struct gp_install *in, struct gp_wr *w)
{
	int r;

	switch (p1) {
	case GP_INSTALL_LOAD:
	case GP_INSTALL_INSTALL:
	case GP_INSTALL_AND_SELECT:
		return fields_load_install(p1, in, w);
	case GP_INSTALL_SELECTABLE:
	case GP_INSTALL_EXTRADITION:
	case GP_INSTALL_REGISTRY:
		return fields_other(p1, in, w);
	case GP_INSTALL_PERSO:
		/* 00 00 LV(app) 00 00: only the application AID counts. */
		if ((r = gp_wr_u16(w, 0)) != 0 ||
		    (r = lv_aid(w, in->app_aid, in->app_len, 0)) != 0)
			return r;
		return gp_wr_u16(w, 0);
	}
	return GP_ERR_INVAL;
}

int
gp_cmd_install(uint8_t p1, const struct gp_install *in, struct gp_wr *w)
{
	uint8_t buf[GP_APDU_SHORT_MAX];
	struct gp_wr d;
	int r;

	gp_wr_init(&d, buf, sizeof(buf));
	if ((r = gp_install_fields(p1, in, &d)) != 0 ||
	    (r = gp_wr_lv(&d, in->token, in->token_len)) != 0) {
		/* The local writer is the 255-byte data field: full is Lc. */
		r = r == GP_ERR_SPACE ? GP_ERR_TOOLARGE : r;
		goto out;
	}
	r = emit(w, GP_CLA_GP, GP_INS_INSTALL, p1, 0x00, buf, d.len, 256);
 out:
	gp_wipe(buf, sizeof(buf));
	return r;
}

/* [E2 {4F sd, C3 sig}] ‖ C4 length: everything of the file but lfdb. */
static int
load_header(const struct gp_load *l, struct gp_wr *h)
{
	size_t mark;
	int r;

	if (l->lfdb == NULL || l->lfdb_len == 0 || l->lfdb_len > 0xFFFF)
		return GP_ERR_INVAL;
	if (l->dap_sd != NULL) {
		if (!aid_ok(l->dap_sd, l->dap_sd_len) || l->dap_sig == NULL ||
		    l->dap_sig_len == 0 || l->dap_sig_len > DAP_SIG_MAX)
			return GP_ERR_INVAL;
		if ((r = gp_tlv_open(h, 0xE2, &mark)) != 0 ||
		    (r = gp_tlv_put(h, 0x4F, l->dap_sd, l->dap_sd_len)) != 0 ||
		    (r = gp_tlv_put(h, 0xC3, l->dap_sig, l->dap_sig_len)) != 0 ||
		    (r = gp_tlv_close(h, mark)) != 0)
			return r;
	}
	if ((r = gp_tlv_put_tag(h, 0xC4)) != 0)
		return r;
	return gp_tlv_put_len(h, l->lfdb_len);
}

long
gp_load_count(const struct gp_load *l)
{
	uint8_t hb[LOAD_HDR_MAX];
	struct gp_wr h;
	size_t total, n;
	int r;

	if (l->block == 0 || l->block > GP_APDU_SHORT_MAX)
		return GP_ERR_INVAL;
	gp_wr_init(&h, hb, sizeof(hb));
	if ((r = load_header(l, &h)) != 0)
		return r;
	total = h.len + l->lfdb_len;
	n = (total + l->block - 1) / l->block;
	return n > GP_LOAD_BLOCKS_MAX ? GP_ERR_TOOLARGE : (long)n;
}

int
gp_cmd_load(const struct gp_load *l, size_t index, struct gp_wr *w)
{
	uint8_t hb[LOAD_HDR_MAX], buf[GP_APDU_SHORT_MAX];
	struct gp_wr h;
	size_t total, off, end, n, k;
	long count;
	int r;

	if ((count = gp_load_count(l)) < 0)
		return (int)count;
	if (index >= (size_t)count)
		return GP_ERR_INVAL;
	gp_wr_init(&h, hb, sizeof(hb));
	if ((r = load_header(l, &h)) != 0)
		return r;
	total = h.len + l->lfdb_len;
	off = index * l->block;
	end = off + l->block < total ? off + l->block : total;
	/* The slice may start in the header and run on into lfdb. */
	for (n = 0, k = off; k < end; k++)
		buf[n++] = k < h.len ? hb[k] : l->lfdb[k - h.len];
	return emit(w, GP_CLA_GP, GP_INS_LOAD,
	    index + 1 == (size_t)count ? 0x80 : 0x00, (uint8_t)index, buf, n,
	    256);
}

int
gp_cmd_delete(const struct gp_delete *dl, struct gp_wr *w)
{
	uint8_t buf[GP_APDU_SHORT_MAX];
	struct gp_wr d;
	int r;

	if (!aid_ok(dl->aid, dl->aid_len) ||
	    (dl->crt_len && dl->crt == NULL) ||
	    (dl->token_len && dl->token == NULL))
		return GP_ERR_INVAL;
	gp_wr_init(&d, buf, sizeof(buf));
	if ((r = gp_tlv_put(&d, 0x4F, dl->aid, dl->aid_len)) != 0 ||
	    (dl->crt_len &&
	    (r = gp_tlv_put(&d, 0xB6, dl->crt, dl->crt_len)) != 0) ||
	    (dl->token_len &&
	    (r = gp_tlv_put(&d, 0x9E, dl->token, dl->token_len)) != 0))
		return r == GP_ERR_SPACE ? GP_ERR_TOOLARGE : r;
	return emit(w, GP_CLA_GP, GP_INS_DELETE, 0x00,
	    dl->related ? GP_DELETE_RELATED : GP_DELETE_OBJECT, buf, d.len, 256);
}

int
gp_cmd_set_status(uint8_t scope, uint8_t state, const uint8_t *aid,
    size_t aidlen, struct gp_wr *w)
{
	if (scope != GP_SETSTATUS_ISD && scope != GP_SETSTATUS_APP &&
	    scope != GP_SETSTATUS_SD_APPS)
		return GP_ERR_INVAL;
	/* The card itself (P1 80) may be named by an empty data field. */
	if (!(scope == GP_SETSTATUS_ISD && aidlen == 0) && !aid_ok(aid, aidlen))
		return GP_ERR_INVAL;
	return emit(w, GP_CLA_GP, GP_INS_SET_STATUS, scope, state, aid, aidlen,
	    0);
}

int
gp_cmd_store_data(uint8_t p1, uint8_t block, const uint8_t *data, size_t n,
    struct gp_wr *w)
{
	if (data == NULL || n == 0)
		return GP_ERR_INVAL;
	return emit(w, GP_CLA_GP, GP_INS_STORE_DATA, p1, block, data, n, 0);
}

int
gp_dgi_put(struct gp_wr *w, uint16_t tag, const uint8_t *v, size_t n)
{
	int r;

	if (n > 0 && v == NULL)
		return GP_ERR_INVAL;
	if (n > GP_DGI_MAX)
		return GP_ERR_TOOLARGE;
	if ((r = gp_wr_reserve(w, 5 + n)) != 0 ||
	    (r = gp_wr_u16(w, tag)) != 0)
		return r;
	/* EMV CPS: one length byte below 255, else FF and two bytes. */
	if (n < 0xFF)
		r = gp_wr_u8(w, (uint8_t)n);
	else if ((r = gp_wr_u8(w, 0xFF)) == 0)
		r = gp_wr_u16(w, (uint16_t)n);
	if (r != 0)
		return r;
	return gp_wr_put(w, v, n);
}

/* Copies v to a heap block, padded (CPS: only when needed) for blk. */
static uint8_t *
dgi_plain(const uint8_t *v, size_t n, size_t blk, size_t *pn)
{
	uint8_t *p;

	if ((p = malloc(n + blk)) == NULL)
		return NULL;
	if (n % blk == 0 && n > 0) {
		memcpy(p, v, n);
		*pn = n;
	} else
		*pn = gp_pad80(v, n, blk, p, n + blk);
	return p;
}

int
gp_dgi_put_des3(struct gp_wr *w, uint16_t tag, struct gp_des3 *dek,
    const uint8_t *v, size_t n)
{
	uint8_t *p;
	size_t pn = 0;
	int r;

	if (n > 0 && v == NULL)
		return GP_ERR_INVAL;
	if (n > GP_DGI_MAX - GP_DES_BLOCK)
		return GP_ERR_TOOLARGE;
	if ((p = dgi_plain(v, n, GP_DES_BLOCK, &pn)) == NULL)
		return GP_ERR_NOMEM;
	if ((r = gp_des3_ecb_enc(dek, p, pn, p)) == 0)
		r = gp_dgi_put(w, tag, p, pn);
	gp_wipe(p, n + GP_DES_BLOCK);
	free(p);
	return r;
}

int
gp_dgi_put_aes(struct gp_wr *w, uint16_t tag, struct gp_aes *dek,
    const uint8_t *v, size_t n)
{
	static const uint8_t iv[GP_AES_BLOCK];
	uint8_t *p;
	size_t pn = 0;
	int r;

	if (n > 0 && v == NULL)
		return GP_ERR_INVAL;
	if (n > GP_DGI_MAX - GP_AES_BLOCK)
		return GP_ERR_TOOLARGE;
	if ((p = dgi_plain(v, n, GP_AES_BLOCK, &pn)) == NULL)
		return GP_ERR_NOMEM;
	if ((r = gp_aes_cbc_enc(dek, iv, p, pn, p)) == 0)
		r = gp_dgi_put(w, tag, p, pn);
	gp_wipe(p, n + GP_AES_BLOCK);
	free(p);
	return r;
}

/* Size (header + value) of the DGI at rd, which stays where it was. */
static int
dgi_size(const struct gp_rd *rd, size_t *sz)
{
	struct gp_rd t = *rd;
	uint16_t tag, l16;
	uint8_t l8;
	int r;

	if ((r = gp_rd_u16(&t, &tag)) != 0 || (r = gp_rd_u8(&t, &l8)) != 0)
		return r;
	if (l8 == 0xFF) {
		if ((r = gp_rd_u16(&t, &l16)) != 0)
			return r;
		*sz = 5 + (size_t)l16;
	} else
		*sz = 3 + (size_t)l8;
	return *sz > gp_rd_left(rd) ? GP_ERR_TRUNC : 0;
}

int
gp_store_iter_init(struct gp_store_iter *it, uint8_t p1, const uint8_t *dgis,
    size_t n, size_t chunk, unsigned first_block, int final)
{
	struct gp_rd rd;
	size_t sz;
	int r;

	memset(it, 0, sizeof(*it));
	if (dgis == NULL || n == 0 || chunk == 0 ||
	    chunk > GP_APDU_SHORT_MAX || (p1 & GP_STORE_LAST))
		return GP_ERR_INVAL;
	/* Check the whole stream now, so that next() cannot fail halfway. */
	gp_rd_init(&rd, dgis, n);
	while (gp_rd_left(&rd) > 0) {
		if ((r = dgi_size(&rd, &sz)) != 0)
			return GP_ERR_FORMAT;
		(void)gp_rd_skip(&rd, sz);
	}
	it->p = dgis;
	it->len = n;
	it->chunk = chunk;
	it->block = first_block;
	it->p1 = p1;
	it->final = final;
	return 0;
}

/*
 * Bytes of the next command: whole DGIs, or the next cut of a long one.
 * *left receives what then remains of a cut DGI; nothing is changed in it
 * until the command is built.
 */
static size_t
store_take(const struct gp_store_iter *it, size_t *left)
{
	struct gp_rd rd;
	size_t used = 0, sz, cut = it->dgi_left;

	if (cut == 0) {
		gp_rd_init(&rd, it->p + it->off, it->len - it->off);
		while (gp_rd_left(&rd) > 0 && dgi_size(&rd, &sz) == 0 &&
		    used + sz <= it->chunk) {
			used += sz;
			(void)gp_rd_skip(&rd, sz);
		}
		*left = 0;
		if (used > 0)
			return used;
		(void)dgi_size(&rd, &cut);	/* longer than a chunk */
	}
	used = cut < it->chunk ? cut : it->chunk;
	*left = cut - used;
	return used;
}

int
gp_store_iter_next(struct gp_store_iter *it, struct gp_wr *w)
{
	size_t n, left;
	uint8_t p1;
	int r;

	if (it->p == NULL || (it->off == it->len && it->dgi_left == 0))
		return GP_ERR_NOTFOUND;
	if (it->block > 0xFF)
		return GP_ERR_TOOLARGE;
	n = store_take(it, &left);
	p1 = it->p1;
	if (it->final && it->off + n == it->len && left == 0)
		p1 |= GP_STORE_LAST;
	if ((r = gp_cmd_store_data(p1, (uint8_t)it->block, it->p + it->off, n,
	    w)) != 0)
		return r;
	it->off += n;
	it->dgi_left = left;
	it->block++;
	return 0;
}
