/*
 * SCP03 (GlobalPlatform Card Spec Amendment D): session keys, cryptograms,
 * C-MAC / C-DECRYPTION / R-MAC / R-ENCRYPTION, host and card roles.
 * The conventions are those of ../shared/vectors/FORMAT.md "SCP03".
 */
#include <string.h>

#include <openssl/rand.h>

#include "gp/err.h"
#include "gp/scp_int.h"

/* Derives S-ENC, S-MAC and S-RMAC from static keys and keys the session. */
static int
scp03_session_keys(struct gp_scp *s, const struct gp_keyset *ks,
    const uint8_t *ctx, size_t ctxlen)
{
	struct gp_aes kenc, kmac;
	uint8_t enc[32], mac[32], rmac[32];
	size_t bits = ks->len * 8;
	int r, kinit = 0;

	if ((r = gp_aes_init(&kenc, ks->enc, ks->len)) != 0)
		return r;
	if ((r = gp_aes_init(&kmac, ks->mac, ks->len)) != 0)
		goto out;
	kinit = 1;
	if ((r = gp_kdf_scp03(&kenc, GP_KDF_S_ENC, ctx, ctxlen, bits, enc)) ||
	    (r = gp_kdf_scp03(&kmac, GP_KDF_S_MAC, ctx, ctxlen, bits, mac)) ||
	    (r = gp_kdf_scp03(&kmac, GP_KDF_S_RMAC, ctx, ctxlen, bits, rmac)))
		goto out;
	memcpy(s->dek, ks->dek, ks->len);
	r = gp_scp03_set_keys(s, enc, mac, rmac, ks->len);
out:
	gp_aes_free(&kenc);
	if (kinit)
		gp_aes_free(&kmac);
	gp_wipe(enc, sizeof(enc));
	gp_wipe(mac, sizeof(mac));
	gp_wipe(rmac, sizeof(rmac));
	return r;
}

int
gp_scp03_set_keys(struct gp_scp *s, const uint8_t *enc, const uint8_t *mac,
    const uint8_t *rmac, size_t klen)
{
	int r;

	if ((r = gp_aes_init(&s->k.a.enc, enc, klen)) != 0)
		return r;
	if ((r = gp_aes_init(&s->k.a.mac, mac, klen)) != 0) {
		gp_aes_free(&s->k.a.enc);
		return r;
	}
	if ((r = gp_aes_init(&s->k.a.rmac, rmac, klen)) != 0) {
		gp_aes_free(&s->k.a.enc);
		gp_aes_free(&s->k.a.mac);
		return r;
	}
	memcpy(s->skey[0], enc, klen);
	memcpy(s->skey[1], mac, klen);
	memcpy(s->skey[2], rmac, klen);
	s->klen = klen;
	s->have_keys = 1;
	return 0;
}

/* Both cryptograms from S-MAC over host challenge ‖ card challenge. */
static int
scp03_cryptograms(struct gp_scp *s)
{
	uint8_t ctx[32];
	int r;

	memcpy(ctx, s->host_challenge, s->s);
	memcpy(ctx + s->s, s->card_challenge, s->s);
	if ((r = gp_kdf_scp03(&s->k.a.mac, GP_KDF_CARD_CRYPTOGRAM, ctx,
	    2u * s->s, 8u * s->s, s->card_cryptogram)) != 0)
		return r;
	return gp_kdf_scp03(&s->k.a.mac, GP_KDF_HOST_CRYPTOGRAM, ctx,
	    2u * s->s, 8u * s->s, s->host_cryptogram);
}

static int
scp03_derive(struct gp_scp *s, const struct gp_keyset *ks)
{
	uint8_t ctx[32];
	int r;

	if (ks->len != 16 && ks->len != 24 && ks->len != 32)
		return GP_ERR_INVAL;
	memcpy(ctx, s->host_challenge, s->s);
	memcpy(ctx + s->s, s->card_challenge, s->s);
	if ((r = scp03_session_keys(s, ks, ctx, 2u * s->s)) != 0)
		return r;
	return scp03_cryptograms(s);
}

/* KDD(10) KVN(1) 03 i(1) card challenge(s) cryptogram(s) [seq(3)] */
static int
scp03_parse_rsp(struct gp_scp *s, const uint8_t *rsp, size_t n,
    uint8_t cc[16])
{
	struct gp_rd rd;
	uint8_t id;
	int r;

	gp_rd_init(&rd, rsp, n);
	if ((r = gp_rd_copy(&rd, s->kdd, GP_KDD_LEN)) != 0 ||
	    (r = gp_rd_u8(&rd, &s->kvn)) != 0 ||
	    (r = gp_rd_u8(&rd, &id)) != 0 || (r = gp_rd_u8(&rd, &s->i)) != 0 ||
	    (r = gp_rd_copy(&rd, s->card_challenge, s->s)) != 0 ||
	    (r = gp_rd_copy(&rd, cc, s->s)) != 0)
		return r;
	if (id != 0x03)
		return GP_ERR_FORMAT;
	if ((s->i & GP_SCP03_I_PRAND) &&
	    (r = gp_rd_copy(&rd, s->seq, 3)) != 0)
		return r;
	return gp_rd_left(&rd) != 0 ? GP_ERR_FORMAT : 0;
}

int
gp_scp03_host_auth(struct gp_scp *s, const struct gp_keyset *ks,
    const uint8_t *rsp, size_t n)
{
	uint8_t cc[16];
	int r;

	if ((r = scp03_parse_rsp(s, rsp, n, cc)) != 0 ||
	    (r = scp03_derive(s, ks)) != 0)
		return r;
	if (gp_ct_memcmp(cc, s->card_cryptogram, s->s) != 0)
		return GP_ERR_AUTH;
	return 0;
}

int
gp_scp03_host_auth_keys(struct gp_scp *s, const struct gp_scp_keys *k,
    const uint8_t *rsp, size_t n)
{
	uint8_t cc[16];
	int r;

	if (k->len != 16 && k->len != 24 && k->len != 32)
		return GP_ERR_INVAL;
	if ((r = scp03_parse_rsp(s, rsp, n, cc)) != 0 ||
	    (r = gp_scp03_set_keys(s, k->enc, k->mac, k->rmac, k->len)) != 0)
		return r;
	memcpy(s->dek, k->dek, k->len);
	if ((r = scp03_cryptograms(s)) != 0)
		return r;
	if (gp_ct_memcmp(cc, s->card_cryptogram, s->s) != 0)
		return GP_ERR_AUTH;
	return 0;
}

int
gp_scp03_ext_auth_mac(struct gp_scp *s, const uint8_t *hdr, uint8_t mac[16])
{
	uint8_t zero[16] = { 0 };
	int r;

	if ((r = gp_aes_cmac3(&s->k.a.mac, zero, 16, hdr, 5,
	    s->host_cryptogram, s->s, mac)) != 0)
		return r;
	memcpy(s->chain, mac, 16);
	s->counter = 1;
	return 0;
}

/* ICV of C-DECRYPTION (prefix 00) or R-ENCRYPTION (prefix 80). */
static int
scp03_icv(struct gp_scp *s, uint32_t counter, uint8_t prefix,
    uint8_t icv[16])
{
	uint8_t blk[16] = { 0 };

	blk[0] = prefix;
	blk[12] = (uint8_t)(counter >> 24);
	blk[13] = (uint8_t)(counter >> 16);
	blk[14] = (uint8_t)(counter >> 8);
	blk[15] = (uint8_t)counter;
	return gp_aes_ecb(&s->k.a.enc, blk, icv);
}

/* Pads and encrypts n bytes at p in place (room for the padding known). */
static int
scp03_encrypt(struct gp_scp *s, uint8_t *p, size_t n, size_t *outn,
    uint32_t counter, uint8_t prefix)
{
	uint8_t icv[16];
	size_t pn = (n / 16 + 1) * 16;
	int r;

	p[n] = 0x80;
	memset(p + n + 1, 0, pn - n - 1);
	if ((r = scp03_icv(s, counter, prefix, icv)) != 0)
		return r;
	*outn = pn;
	return gp_aes_cbc_enc(&s->k.a.enc, icv, p, pn, p);
}

static int
scp03_decrypt(struct gp_scp *s, uint8_t *p, size_t n, size_t *outn,
    uint32_t counter, uint8_t prefix)
{
	uint8_t icv[16];
	long un;
	int r;

	if (n == 0 || n % 16 != 0)
		return GP_ERR_FORMAT;
	if ((r = scp03_icv(s, counter, prefix, icv)) != 0)
		return r;
	if ((r = gp_aes_cbc_dec(&s->k.a.enc, icv, p, n, p)) != 0)
		return r;
	if ((un = gp_unpad80_blk(p, n, 16)) < 0)
		return GP_ERR_FORMAT;
	*outn = (size_t)un;
	return 0;
}

/*
 * Writes the protected command straight into the wire buffer: header,
 * Lc', data (encrypted in place), then the MAC over all of it.
 */
int
gp_scp03_wrap(struct gp_scp *s, const struct gp_apdu *a, struct gp_wr *w)
{
	int enc = (s->level & GP_SL_CDEC) && a->lc > 0;
	size_t dn = enc ? (a->lc / 16 + 1) * 16 : a->lc, start = w->len;
	size_t lcw = dn + s->s, sn;
	int ext = a->ext || lcw > 255 || a->ne > 256, r;
	uint8_t m[16], *d;

	if (lcw > GP_APDU_EXT_MAX)
		return GP_ERR_TOOLARGE;
	if ((r = gp_wr_reserve(w, 7 + lcw + 3)) != 0)
		return r;
	if ((r = gp_scp_put_header(w, a, lcw, ext)) != 0)
		return r;
	d = w->p + w->len;
	if (a->lc > 0)
		memcpy(d, a->data, a->lc);
	sn = a->lc;
	if (enc && (r = scp03_encrypt(s, d, a->lc, &sn, s->counter, 0)) != 0)
		goto fail;
	w->len += sn;
	if ((r = gp_aes_cmac3(&s->k.a.mac, s->chain, 16, w->p + start,
	    w->len - start, NULL, 0, m)) != 0)
		goto fail;
	memcpy(s->chain, m, 16);
	memcpy(w->p + w->len, m, s->s);
	w->len += s->s;
	s->cmd_counter = s->counter++;
	return gp_scp_put_le(w, a->ne, lcw, ext);
fail:
	gp_wipe(w->p + start, w->len - start);
	w->len = start;
	return r;
}

static int
scp03_rmac(struct gp_scp *s, const uint8_t *data, size_t n, uint16_t sw,
    uint8_t m[16])
{
	uint8_t swb[2] = { (uint8_t)(sw >> 8), (uint8_t)sw };

	return gp_aes_cmac3(&s->k.a.rmac, s->chain, 16, data, n, swb, 2, m);
}

/* Host: checks the R-MAC and decrypts R-ENC data; plain = data ‖ SW. */
int
gp_scp03_unwrap(struct gp_scp *s, const uint8_t *wire, size_t n,
    struct gp_wr *w)
{
	struct gp_rapdu ra;
	size_t start = w->len, dn, pn;
	uint8_t m[16];
	int r;

	if ((r = gp_rapdu_parse(wire, n, &ra)) != 0)
		return r;
	dn = ra.len;
	/* With R-MAC on, only a MACed response may carry data. */
	if ((s->level & GP_SL_RMAC) && !gp_scp_sw_has_rmac(ra.sw) && dn > 0)
		return GP_ERR_FORMAT;
	if ((s->level & GP_SL_RMAC) && gp_scp_sw_has_rmac(ra.sw)) {
		if (dn < s->s)
			return GP_ERR_AUTH;	/* the R-MAC is missing */
		dn -= s->s;
		if ((r = scp03_rmac(s, wire, dn, ra.sw, m)) != 0)
			return r;
		if (gp_ct_memcmp(m, wire + dn, s->s) != 0)
			return GP_ERR_AUTH;
	}
	if ((r = gp_wr_reserve(w, dn + 2)) != 0)
		return r;
	if ((r = gp_wr_put(w, wire, dn)) != 0)
		return r;
	pn = dn;
	if ((s->level & GP_SL_RENC) && dn > 0 &&
	    (r = scp03_decrypt(s, w->p + start, dn, &pn, s->cmd_counter,
	    0x80)) != 0) {
		gp_wipe(w->p + start, dn);
		w->len = start;
		return r;
	}
	w->len = start + pn;
	return gp_wr_u16(w, ra.sw);
}

/* Card: the card challenge, then session keys and cryptograms. */
int
gp_scp03_card_keys(struct gp_scp *s, const struct gp_scp_card_cfg *cfg,
    const struct gp_keyset *ks)
{
	int r;

	s->seq[0] = (uint8_t)(cfg->seq >> 16);
	s->seq[1] = (uint8_t)(cfg->seq >> 8);
	s->seq[2] = (uint8_t)cfg->seq;
	if (cfg->card_challenge != NULL)
		memcpy(s->card_challenge, cfg->card_challenge, s->s);
	else if (s->i & GP_SCP03_I_PRAND) {
		if ((r = gp_scp03_card_challenge(ks->enc, ks->len, s->s,
		    cfg->seq, cfg->sd_aid, cfg->sd_aid_len,
		    s->card_challenge)) != 0)
			return r;
	} else if (RAND_bytes(s->card_challenge, s->s) != 1)
		return GP_ERR_CRYPTO;
	return scp03_derive(s, ks);
}

int
gp_scp03_card_challenge(const uint8_t *kenc, size_t klen, uint8_t sz,
    uint32_t seq, const uint8_t *aid, size_t aidlen, uint8_t *out)
{
	struct gp_aes a;
	uint8_t ctx[3 + 16];
	int r;

	if (aidlen > 16 || (sz != 8 && sz != 16))
		return GP_ERR_INVAL;
	ctx[0] = (uint8_t)(seq >> 16);
	ctx[1] = (uint8_t)(seq >> 8);
	ctx[2] = (uint8_t)seq;
	if (aidlen > 0)
		memcpy(ctx + 3, aid, aidlen);
	if ((r = gp_aes_init(&a, kenc, klen)) != 0)
		return r;
	r = gp_kdf_scp03(&a, GP_KDF_CARD_CHALLENGE, ctx, 3 + aidlen,
	    8u * sz, out);
	gp_aes_free(&a);
	return r;
}

/* The modified header as sent: CLA INS P1 P2 and Lc in its wire form. */
static size_t
scp03_wire_header(const struct gp_apdu *a, uint8_t hdr[7])
{
	hdr[0] = a->cla;
	hdr[1] = a->ins;
	hdr[2] = a->p1;
	hdr[3] = a->p2;
	if (!a->ext) {
		hdr[4] = (uint8_t)a->lc;
		return 5;
	}
	hdr[4] = 0;
	hdr[5] = (uint8_t)(a->lc >> 8);
	hdr[6] = (uint8_t)a->lc;
	return 7;
}

/*
 * Card: checks the C-MAC, then decrypts; w gets the bare command. Space
 * is reserved before the chaining value moves, so GP_ERR_SPACE can be
 * retried with a bigger buffer.
 */
int
gp_scp03_card_unwrap(struct gp_scp *s, const struct gp_apdu *a,
    struct gp_wr *w)
{
	uint8_t m[16], hdr[7], *d;
	size_t hl, dn, pn;
	struct gp_apdu p = *a;
	int r;

	if (!(a->cla & GP_CLA_SM) || a->lc < s->s)
		return GP_ERR_AUTH;
	dn = a->lc - s->s;
	if ((r = gp_wr_reserve(w, 7 + dn + 3)) != 0)
		return r;
	hl = scp03_wire_header(a, hdr);
	if ((r = gp_aes_cmac3(&s->k.a.mac, s->chain, 16, hdr, hl, a->data,
	    dn, m)) != 0)
		return r;
	if (gp_ct_memcmp(m, a->data + dn, s->s) != 0)
		return GP_ERR_AUTH;
	memcpy(s->chain, m, 16);
	s->cmd_counter = s->counter++;
	/* Decrypt in the slack after the longest header, then slide. */
	d = w->p + w->len + 7;
	if (dn > 0)
		memcpy(d, a->data, dn);
	pn = dn;
	if ((s->level & GP_SL_CDEC) && dn > 0 &&
	    (r = scp03_decrypt(s, d, dn, &pn, s->cmd_counter, 0)) != 0) {
		gp_wipe(d, dn);
		return r;
	}
	p.cla &= (uint8_t)~GP_CLA_SM;
	p.lc = pn;
	p.data = d;
	return gp_scp_put_plain(w, &p, dn);
}

int
gp_scp03_card_wrap(struct gp_scp *s, const uint8_t *data, size_t n,
    uint16_t sw, struct gp_wr *w)
{
	size_t start = w->len, dn = n;
	uint8_t m[16];
	int r;

	if (!gp_scp_sw_has_rmac(sw))
		n = dn = 0;	/* error SWs carry neither data nor MAC */
	if ((r = gp_wr_reserve(w, n + 16 + s->s + 2)) != 0)
		return r;
	if ((r = gp_wr_put(w, data, n)) != 0)
		return r;
	if ((s->level & GP_SL_RENC) && n > 0 &&
	    (r = scp03_encrypt(s, w->p + start, n, &dn, s->cmd_counter,
	    0x80)) != 0)
		goto fail;
	w->len = start + dn;
	if ((s->level & GP_SL_RMAC) && gp_scp_sw_has_rmac(sw)) {
		if ((r = scp03_rmac(s, w->p + start, dn, sw, m)) != 0)
			goto fail;
		memcpy(w->p + w->len, m, s->s);
		w->len += s->s;
	}
	return gp_wr_u16(w, sw);
fail:
	gp_wipe(w->p + start, w->len - start);
	w->len = start;
	return r;
}
