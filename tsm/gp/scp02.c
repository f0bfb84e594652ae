/*
 * SCP02 (GlobalPlatform Card Spec 2.3.1 annex E), i = 15 and 55: three
 * static keys, C-MAC on the modified APDU with ICV encryption, C-DECRYPTION
 * and R-MAC, host and card roles. Conventions: ../shared/vectors/FORMAT.md.
 */
#include <string.h>

#include <openssl/rand.h>

#include "gp/err.h"
#include "gp/scp_int.h"

int
gp_scp02_set_keys(struct gp_scp *s, const uint8_t *enc, const uint8_t *mac,
    const uint8_t *rmac)
{
	int r;

	if ((r = gp_des3_init(&s->k.d.enc, enc)) != 0)
		return r;
	if ((r = gp_des3_init(&s->k.d.mac, mac)) != 0) {
		gp_des3_free(&s->k.d.enc);
		return r;
	}
	if ((r = gp_des3_init(&s->k.d.rmac, rmac)) != 0) {
		gp_des3_free(&s->k.d.enc);
		gp_des3_free(&s->k.d.mac);
		return r;
	}
	memcpy(s->skey[0], enc, 16);
	memcpy(s->skey[1], mac, 16);
	memcpy(s->skey[2], rmac, 16);
	s->klen = 16;
	s->have_keys = 1;
	s->icv_raw = 1;		/* a fresh chain starts from 8 x 00 as is */
	return 0;
}

static int
scp02_session_keys(struct gp_scp *s, const struct gp_keyset *ks)
{
	uint8_t enc[16], mac[16], rmac[16];
	int r;

	if (ks->len != 16)
		return GP_ERR_INVAL;
	if ((r = gp_kdf_scp02(ks->enc, GP_SCP02_S_ENC, s->seq, enc)) ||
	    (r = gp_kdf_scp02(ks->mac, GP_SCP02_C_MAC, s->seq, mac)) ||
	    (r = gp_kdf_scp02(ks->mac, GP_SCP02_R_MAC, s->seq, rmac)) ||
	    (r = gp_kdf_scp02(ks->dek, GP_SCP02_DEK, s->seq, s->dek)))
		goto out;
	r = gp_scp02_set_keys(s, enc, mac, rmac);
out:
	gp_wipe(enc, sizeof(enc));
	gp_wipe(mac, sizeof(mac));
	gp_wipe(rmac, sizeof(rmac));
	return r;
}

/* Card: host challenge ‖ seq ‖ card challenge; host: seq ‖ cc ‖ hc. */
static int
scp02_cryptograms(struct gp_scp *s)
{
	uint8_t m[16];
	int r;

	memcpy(m, s->host_challenge, 8);
	memcpy(m + 8, s->seq, 2);
	memcpy(m + 10, s->card_challenge, 6);
	if ((r = gp_des3_full_mac(&s->k.d.enc, m, 16, s->card_cryptogram)))
		return r;
	memcpy(m, s->seq, 2);
	memcpy(m + 2, s->card_challenge, 6);
	memcpy(m + 8, s->host_challenge, 8);
	return gp_des3_full_mac(&s->k.d.enc, m, 16, s->host_cryptogram);
}

/* KDD(10) KVN(1) 02 seq(2) card challenge(6) card cryptogram(8) */
static int
scp02_parse_rsp(struct gp_scp *s, const uint8_t *rsp, size_t n,
    uint8_t cc[8])
{
	struct gp_rd rd;
	uint8_t id;
	int r;

	gp_rd_init(&rd, rsp, n);
	if ((r = gp_rd_copy(&rd, s->kdd, GP_KDD_LEN)) != 0 ||
	    (r = gp_rd_u8(&rd, &s->kvn)) != 0 ||
	    (r = gp_rd_u8(&rd, &id)) != 0 ||
	    (r = gp_rd_copy(&rd, s->seq, 2)) != 0 ||
	    (r = gp_rd_copy(&rd, s->card_challenge, 6)) != 0 ||
	    (r = gp_rd_copy(&rd, cc, 8)) != 0)
		return r;
	return (id != 0x02 || gp_rd_left(&rd) != 0) ? GP_ERR_FORMAT : 0;
}

int
gp_scp02_host_auth(struct gp_scp *s, const struct gp_keyset *ks,
    const uint8_t *rsp, size_t n)
{
	uint8_t cc[8];
	int r;

	if ((r = scp02_parse_rsp(s, rsp, n, cc)) != 0 ||
	    (r = scp02_session_keys(s, ks)) != 0 ||
	    (r = scp02_cryptograms(s)) != 0)
		return r;
	if (gp_ct_memcmp(cc, s->card_cryptogram, 8) != 0)
		return GP_ERR_AUTH;
	return 0;
}

int
gp_scp02_host_auth_keys(struct gp_scp *s, const struct gp_scp_keys *k,
    const uint8_t *rsp, size_t n)
{
	uint8_t cc[8];
	int r;

	if (k->len != 16)
		return GP_ERR_INVAL;
	if ((r = scp02_parse_rsp(s, rsp, n, cc)) != 0 ||
	    (r = gp_scp02_set_keys(s, k->enc, k->mac, k->rmac)) != 0)
		return r;
	memcpy(s->dek, k->dek, 16);
	if ((r = scp02_cryptograms(s)) != 0)
		return r;
	if (gp_ct_memcmp(cc, s->card_cryptogram, 8) != 0)
		return GP_ERR_AUTH;
	return 0;
}

int
gp_scp02_ext_auth_mac(struct gp_scp *s, const uint8_t *hdr, uint8_t mac[8])
{
	uint8_t zero[8] = { 0 };
	int r;

	if ((r = gp_retail_mac(&s->k.d.mac, zero, hdr, 5, s->host_cryptogram,
	    8, mac)) != 0)
		return r;
	memcpy(s->icv, mac, 8);
	s->icv_raw = 0;
	memset(s->ricv, 0, sizeof(s->ricv));
	return 0;
}

/* C-MAC over CLA|04 INS P1 P2 (Lc+8) ‖ plain data; updates the ICV. */
static int
scp02_cmac(struct gp_scp *s, const struct gp_apdu *a, const uint8_t *data,
    size_t n, uint8_t mac[8])
{
	uint8_t hdr[5] = { a->cla | GP_CLA_SM, a->ins, a->p1, a->p2,
	    (uint8_t)(n + 8) };
	uint8_t icv[8];
	int r;

	memcpy(icv, s->icv, 8);
	if (!s->icv_raw && (s->i & GP_SCP02_I_ICV_ENC) &&
	    (r = gp_des_ecb_k1(&s->k.d.mac, s->icv, icv)) != 0)
		return r;
	if ((r = gp_retail_mac(&s->k.d.mac, icv, hdr, 5, data, n, mac)) != 0)
		return r;
	memcpy(s->icv, mac, 8);
	s->icv_raw = 0;
	return 0;
}

/* Remembers the plain command: SCP02's R-MAC covers it. */
static void
scp02_note_cmd(struct gp_scp *s, const struct gp_apdu *a, const uint8_t *d,
    size_t n)
{
	s->rmac_cmd[0] = a->cla & (uint8_t)~0x07;
	s->rmac_cmd[1] = a->ins;
	s->rmac_cmd[2] = a->p1;
	s->rmac_cmd[3] = a->p2;
	s->rmac_cmd[4] = (uint8_t)n;
	if (n > 0)
		memcpy(s->rmac_cmd + 5, d, n);
	s->rmac_cmd_len = 5 + n;
}

int
gp_scp02_wrap(struct gp_scp *s, const struct gp_apdu *a, struct gp_wr *w)
{
	int enc = (s->level & GP_SL_CDEC) && a->lc > 0;
	size_t dn = enc ? (a->lc / 8 + 1) * 8 : a->lc, start = w->len;
	uint8_t mac[8], zero[8] = { 0 }, *d;
	int r;

	/* SCP02 carries no extended lengths: the MAC header has one Lc. */
	if (a->lc > 247 || dn + 8 > 255 || a->ne > 256)
		return GP_ERR_TOOLARGE;
	/* Space first: the ICV must not move for a command never sent. */
	if ((r = gp_wr_reserve(w, 5 + dn + 8 + 1)) != 0)
		return r;
	if ((r = scp02_cmac(s, a, a->data, a->lc, mac)) != 0)
		return r;
	scp02_note_cmd(s, a, a->data, a->lc);
	if ((r = gp_scp_put_header(w, a, dn + 8, 0)) != 0)
		return r;
	d = w->p + w->len;
	if (a->lc > 0)
		memcpy(d, a->data, a->lc);
	if (enc && (gp_pad80(d, a->lc, 8, d, dn) != dn ||
	    (r = gp_des3_cbc_enc(&s->k.d.enc, zero, d, dn, d)) != 0)) {
		gp_wipe(w->p + start, w->len + dn - start);
		w->len = start;
		return r ? r : GP_ERR_CRYPTO;
	}
	w->len += dn;
	gp_wr_put(w, mac, 8);
	return gp_scp_put_le(w, a->ne, 1, 0);
}

/* R-MAC: retail MAC with S-RMAC over the command, Li, data and SW. */
static int
scp02_rmac(struct gp_scp *s, const uint8_t *data, size_t n, uint16_t sw,
    uint8_t mac[8])
{
	uint8_t tail[1 + 256 + 2];
	int r;

	if (n > 256)
		return GP_ERR_TOOLARGE;
	tail[0] = (uint8_t)n;
	if (n > 0)
		memcpy(tail + 1, data, n);
	tail[1 + n] = (uint8_t)(sw >> 8);
	tail[2 + n] = (uint8_t)sw;
	r = gp_retail_mac(&s->k.d.rmac, s->ricv, s->rmac_cmd, s->rmac_cmd_len,
	    tail, n + 3, mac);
	if (r == 0)
		memcpy(s->ricv, mac, 8);
	gp_wipe(tail, n + 3);
	return r;
}

int
gp_scp02_unwrap(struct gp_scp *s, const uint8_t *wire, size_t n,
    struct gp_wr *w)
{
	struct gp_rapdu ra;
	uint8_t mac[8];
	size_t dn;
	int r;

	if ((r = gp_rapdu_parse(wire, n, &ra)) != 0)
		return r;
	dn = ra.len;
	if (s->level & GP_SL_RMAC) {
		if (dn < 8)
			return GP_ERR_AUTH;	/* the R-MAC is missing */
		dn -= 8;
		if ((r = scp02_rmac(s, wire, dn, ra.sw, mac)) != 0)
			return r;
		if (gp_ct_memcmp(mac, wire + dn, 8) != 0)
			return GP_ERR_AUTH;
	}
	return gp_rapdu_encode(wire, dn, ra.sw, w);
}

int
gp_scp02_card_keys(struct gp_scp *s, const struct gp_scp_card_cfg *cfg,
    const struct gp_keyset *ks)
{
	uint8_t zero[8] = { 0 }, m[8];
	int r;

	s->seq[0] = (uint8_t)(cfg->seq >> 8);
	s->seq[1] = (uint8_t)cfg->seq;
	if ((r = scp02_session_keys(s, ks)) != 0)
		return r;
	if (cfg->card_challenge != NULL)
		memcpy(s->card_challenge, cfg->card_challenge, 6);
	else if ((s->i & GP_SCP02_I_PRAND) && cfg->sd_aid != NULL) {
		if ((r = gp_retail_mac(&s->k.d.mac, zero, cfg->sd_aid,
		    cfg->sd_aid_len, NULL, 0, m)) != 0)
			return r;
		memcpy(s->card_challenge, m, 6);
	} else if (RAND_bytes(s->card_challenge, 6) != 1)
		return GP_ERR_CRYPTO;
	return scp02_cryptograms(s);
}

/* Card: C-DECRYPTION data in place: pad80 must end within one block. */
static int
scp02_card_decrypt(struct gp_scp *s, uint8_t *d, size_t dn, size_t *pn)
{
	uint8_t zero[8] = { 0 };
	long un;
	int r;

	if (dn % 8 != 0)
		return GP_ERR_FORMAT;
	if ((r = gp_des3_cbc_dec(&s->k.d.enc, zero, d, dn, d)) != 0)
		return r;
	/* SCP02 MACs the plaintext, so padding is checked before the MAC:
	 * report both the same way (no padding oracle). */
	if ((un = gp_unpad80_blk(d, dn, 8)) < 0)
		return GP_ERR_AUTH;
	*pn = (size_t)un;
	return 0;
}

/* Card: decrypts (when C-DECRYPTION), then checks the C-MAC. */
int
gp_scp02_card_unwrap(struct gp_scp *s, const struct gp_apdu *a,
    struct gp_wr *w)
{
	struct gp_apdu p = *a;
	uint8_t mac[8], *d;
	size_t dn, pn;
	int r;

	if (!(a->cla & GP_CLA_SM) || a->lc < 8 || a->ext)
		return GP_ERR_AUTH;
	dn = pn = a->lc - 8;
	if ((r = gp_wr_reserve(w, 7 + dn + 3)) != 0)
		return r;
	d = w->p + w->len + 7;
	if (dn > 0)
		memcpy(d, a->data, dn);
	if ((s->level & GP_SL_CDEC) && dn > 0 &&
	    (r = scp02_card_decrypt(s, d, dn, &pn)) != 0)
		goto fail;
	if ((r = scp02_cmac(s, a, d, pn, mac)) != 0)
		goto fail;
	if (gp_ct_memcmp(mac, a->data + dn, 8) != 0) {
		r = GP_ERR_AUTH;
		goto fail;
	}
	scp02_note_cmd(s, a, d, pn);
	p.cla &= (uint8_t)~GP_CLA_SM;
	p.data = d;
	p.lc = pn;
	return gp_scp_put_plain(w, &p, dn);
fail:
	gp_wipe(d, dn);
	return r;
}

int
gp_scp02_card_wrap(struct gp_scp *s, const uint8_t *data, size_t n,
    uint16_t sw, struct gp_wr *w)
{
	uint8_t mac[8];
	int r;

	if (!(s->level & GP_SL_RMAC))
		return gp_rapdu_encode(data, n, sw, w);
	if ((r = gp_wr_reserve(w, n + 10)) != 0)
		return r;
	if ((r = scp02_rmac(s, data, n, sw, mac)) != 0)
		return r;
	gp_wr_put(w, data, n);
	gp_wr_put(w, mac, 8);
	return gp_wr_u16(w, sw);
}

int
gp_scp02_card_challenge(const uint8_t kmac[16], uint16_t seq,
    const uint8_t *aid, size_t aidlen, uint8_t out[6])
{
	uint8_t sq[2] = { (uint8_t)(seq >> 8), (uint8_t)seq }, smac[16];
	uint8_t zero[8] = { 0 }, m[8];
	struct gp_des3 d;
	int r;

	if (aidlen > 16)
		return GP_ERR_INVAL;
	if ((r = gp_kdf_scp02(kmac, GP_SCP02_C_MAC, sq, smac)) != 0)
		return r;
	if ((r = gp_des3_init(&d, smac)) == 0) {
		if ((r = gp_retail_mac(&d, zero, aid, aidlen, NULL, 0, m)) == 0)
			memcpy(out, m, 6);
		gp_des3_free(&d);
	}
	gp_wipe(smac, sizeof(smac));
	return r;
}
