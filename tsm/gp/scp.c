/*
 * Secure channel sessions: the state machine and the parts SCP02 and
 * SCP03 share. The protocol arithmetic is in scp02.c and scp03.c.
 */
#include <string.h>

#include "gp/err.h"
#include "gp/scp_int.h"

void
gp_keyset_wipe(struct gp_keyset *ks)
{
	gp_wipe(ks, sizeof(*ks));
}

int
gp_keyset_diversify(struct gp_keyset *ks, enum gp_div_method m,
    const uint8_t *master, size_t mlen, const uint8_t kdd[GP_KDD_LEN])
{
	int r;

	if (mlen > GP_KEY_MAX)
		return GP_ERR_INVAL;
	if ((r = gp_diversify(m, master, mlen, kdd, GP_KEY_ENC, ks->enc)) ||
	    (r = gp_diversify(m, master, mlen, kdd, GP_KEY_MAC, ks->mac)) ||
	    (r = gp_diversify(m, master, mlen, kdd, GP_KEY_DEK, ks->dek))) {
		gp_keyset_wipe(ks);
		return r;
	}
	ks->len = mlen;
	return 0;
}

void
gp_scp_free(struct gp_scp *s)
{
	if (s->have_keys && s->proto == 3) {
		gp_aes_free(&s->k.a.enc);
		gp_aes_free(&s->k.a.mac);
		gp_aes_free(&s->k.a.rmac);
	} else if (s->have_keys && s->proto == 2) {
		gp_des3_free(&s->k.d.enc);
		gp_des3_free(&s->k.d.mac);
		gp_des3_free(&s->k.d.rmac);
	}
	gp_wipe(s, sizeof(*s));
}

/* Ends a session after a failure: nothing of its keys survives. */
static void
scp_break(struct gp_scp *s)
{
	int proto = s->proto, role = s->role;

	gp_scp_free(s);
	s->proto = proto;
	s->role = role;
	s->state = GP_SCP_BROKEN;
}

static int
scp_setup(struct gp_scp *s, int proto, int role, uint8_t i, uint8_t sz)
{
	if (proto != 2 && proto != 3)
		return GP_ERR_UNSUPPORTED;
	if (proto == 2 && sz != 8)
		return GP_ERR_INVAL;
	if (proto == 3 && sz != 8 && sz != 16)
		return GP_ERR_INVAL;
	gp_scp_free(s);		/* ends a previous session on this struct */
	s->proto = proto;
	s->role = role;
	s->i = i;
	s->s = sz;
	return 0;
}

/* 80 50 kvn 00 Lc host-challenge 00 */
int
gp_scp_host_init(struct gp_scp *s, int proto, uint8_t i, uint8_t sz,
    uint8_t kvn, const uint8_t *hc, struct gp_wr *w)
{
	struct gp_apdu a = { .cla = 0x80, .ins = 0x50, .p1 = kvn, .p2 = 0x00,
	    .ne = 256 };
	int r;

	if ((r = scp_setup(s, proto, GP_SCP_HOST, i, sz)) != 0)
		return r;
	memcpy(s->host_challenge, hc, sz);
	s->kvn = kvn;
	a.data = s->host_challenge;
	a.lc = sz;
	if ((r = gp_apdu_encode(&a, w)) != 0)
		return r;
	s->state = GP_SCP_INIT;
	return 0;
}

/* KVN 00 asks for the default key set; any other must be kept. A wrong
 * card cryptogram (or anything else) ends the session: no EXTERNAL AUTH. */
static int
host_auth_done(struct gp_scp *s, uint8_t asked, int r)
{
	if (r == 0 && asked != 0 && s->kvn != asked)
		r = GP_ERR_FORMAT;
	if (r != 0)
		scp_break(s);
	else
		s->state = GP_SCP_KEYS;
	return r;
}

int
gp_scp_host_auth(struct gp_scp *s, const struct gp_keyset *ks,
    const uint8_t *rsp, size_t n)
{
	uint8_t asked = s->kvn;

	if (s->role != GP_SCP_HOST || s->state != GP_SCP_INIT)
		return GP_ERR_STATE;
	return host_auth_done(s, asked, s->proto == 3 ?
	    gp_scp03_host_auth(s, ks, rsp, n) :
	    gp_scp02_host_auth(s, ks, rsp, n));
}

static int
level_valid(const struct gp_scp *s, uint8_t level)
{
	if (level & ~(GP_SL_CMAC | GP_SL_CDEC | GP_SL_RMAC | GP_SL_RENC))
		return 0;
	/* Without C-MAC the chaining value never moves, and R-MACs made
	 * from it could be replayed: R-MAC needs C-MAC (levels 00, 01, 03,
	 * 11, 13, 33). */
	if ((level & (GP_SL_CDEC | GP_SL_RMAC)) && !(level & GP_SL_CMAC))
		return 0;
	if ((level & GP_SL_RENC) && (s->proto == 2 || !(level & GP_SL_RMAC)))
		return 0;
	/* SCP03: only what the card's i advertises. */
	if (s->proto == 3 && (level & GP_SL_RMAC) &&
	    !(s->i & (GP_SCP03_I_RMAC | GP_SCP03_I_RENC)))
		return 0;
	if (s->proto == 3 && (level & GP_SL_RENC) && !(s->i & GP_SCP03_I_RENC))
		return 0;
	return 1;
}

static void
ext_auth_header(const struct gp_scp *s, uint8_t level, uint8_t hdr[5])
{
	hdr[0] = 0x84;
	hdr[1] = 0x82;
	hdr[2] = level;
	hdr[3] = 0x00;
	hdr[4] = (uint8_t)(2 * s->s);
}

int
gp_scp_host_ext_auth(struct gp_scp *s, uint8_t level, struct gp_wr *w)
{
	uint8_t hdr[5], mac[16];
	int r;

	if (s->role != GP_SCP_HOST || s->state != GP_SCP_KEYS)
		return GP_ERR_STATE;
	if (!level_valid(s, level))
		return GP_ERR_INVAL;
	ext_auth_header(s, level, hdr);
	if (s->proto == 3)
		r = gp_scp03_ext_auth_mac(s, hdr, mac);
	else
		r = gp_scp02_ext_auth_mac(s, hdr, mac);
	if (r != 0)
		return r;
	if ((r = gp_wr_reserve(w, 5 + 2u * s->s)) != 0 ||
	    (r = gp_wr_put(w, hdr, 5)) != 0 ||
	    (r = gp_wr_put(w, s->host_cryptogram, s->s)) != 0 ||
	    (r = gp_wr_put(w, mac, s->s)) != 0)
		return r;
	s->level = level;
	s->state = GP_SCP_OPEN;
	return 0;
}

int
gp_scp_wrap(struct gp_scp *s, const uint8_t *plain, size_t n,
    struct gp_wr *w)
{
	struct gp_apdu a;
	int r;

	if (s->role != GP_SCP_HOST || s->state != GP_SCP_OPEN)
		return GP_ERR_STATE;
	if ((r = gp_apdu_parse(plain, n, &a)) != 0)
		return r;
	if (a.cla & GP_CLA_SM)
		return GP_ERR_INVAL;	/* already wrapped */
	if (a.cla & 0x40)
		return GP_ERR_UNSUPPORTED; /* channels 4..19 move the SM bit */
	s->fresh = 0;
	if (!(s->level & GP_SL_CMAC)) {
		if (s->proto == 3)
			s->cmd_counter = s->counter++;
		return gp_wr_put(w, plain, n);
	}
	if (s->proto == 3)
		return gp_scp03_wrap(s, &a, w);
	return gp_scp02_wrap(s, &a, w);
}

int
gp_scp_unwrap(struct gp_scp *s, const uint8_t *wire, size_t n,
    struct gp_wr *w)
{
	int r;

	if (s->role != GP_SCP_HOST || s->state != GP_SCP_OPEN)
		return GP_ERR_STATE;
	if (n < 2) {
		scp_break(s);
		return GP_ERR_TRUNC;
	}
	if (s->proto == 3)
		r = gp_scp03_unwrap(s, wire, n, w);
	else
		r = gp_scp02_unwrap(s, wire, n, w);
	if (r != 0 && r != GP_ERR_SPACE && r != GP_ERR_NOMEM)
		scp_break(s);
	else if (r == 0)
		s->fresh = 0;
	return r;
}

/* KDD KVN scp-id then SCP02: seq(2) challenge(6) cryptogram(8); SCP03:
 * i challenge(s) cryptogram(s) [seq(3)]. */
static int
scp_card_iu_rsp(struct gp_scp *s, struct gp_wr *w)
{
	int r;

	if ((r = gp_wr_reserve(w, 13 + 2u * s->s + 3 + 2)) != 0)
		return r;
	gp_wr_put(w, s->kdd, GP_KDD_LEN);
	gp_wr_u8(w, s->kvn);
	gp_wr_u8(w, (uint8_t)s->proto);
	if (s->proto == 2) {
		gp_wr_put(w, s->seq, 2);
		gp_wr_put(w, s->card_challenge, 6);
		gp_wr_put(w, s->card_cryptogram, 8);
	} else {
		gp_wr_u8(w, s->i);
		gp_wr_put(w, s->card_challenge, s->s);
		gp_wr_put(w, s->card_cryptogram, s->s);
		if (s->i & GP_SCP03_I_PRAND)
			gp_wr_put(w, s->seq, 3);
	}
	return gp_wr_u16(w, 0x9000);
}

/* Card: answers INITIALIZE UPDATE with the response data and 9000. */
int
gp_scp_card_init_update(struct gp_scp *s, const struct gp_scp_card_cfg *cfg,
    const struct gp_keyset *ks, const uint8_t *cmd, size_t n,
    struct gp_wr *w)
{
	struct gp_apdu a;
	int r;

	/* Everything is checked before a running session is replaced. */
	if ((r = gp_apdu_parse(cmd, n, &a)) != 0)
		return r;
	if (a.ins != 0x50 || (a.cla & ~0x03) != 0x80 || a.p2 != 0 ||
	    a.lc != cfg->s)
		return GP_ERR_FORMAT;
	if (a.p1 != 0 && a.p1 != ks->kvn)
		return GP_ERR_NOTFOUND;	/* 6A88: no such key version */
	if ((r = scp_setup(s, cfg->proto, GP_SCP_CARD, cfg->i, cfg->s)) != 0)
		return r;
	s->channel = a.cla & 0x03;
	memcpy(s->host_challenge, a.data, a.lc);
	memcpy(s->kdd, cfg->kdd, GP_KDD_LEN);
	s->kvn = ks->kvn;
	if (cfg->proto == 3)
		r = gp_scp03_card_keys(s, cfg, ks);
	else
		r = gp_scp02_card_keys(s, cfg, ks);
	if (r != 0) {
		scp_break(s);
		return r;
	}
	s->state = GP_SCP_KEYS;
	return scp_card_iu_rsp(s, w);
}

static int
card_ext_auth_check(struct gp_scp *s, const uint8_t *cmd, size_t n)
{
	uint8_t hdr[5], mac[16];
	struct gp_apdu a;
	int r;

	if ((r = gp_apdu_parse(cmd, n, &a)) != 0)
		return r;
	if (a.cla != (0x84 | s->channel) || a.ins != 0x82 || a.p2 != 0 ||
	    a.ext || a.lc != 2u * s->s)
		return GP_ERR_FORMAT;
	if (!level_valid(s, a.p1))
		return GP_ERR_INVAL;
	ext_auth_header(s, a.p1, hdr);
	hdr[0] = a.cla;
	if (s->proto == 3)
		r = gp_scp03_ext_auth_mac(s, hdr, mac);
	else
		r = gp_scp02_ext_auth_mac(s, hdr, mac);
	if (r != 0)
		return r;
	if (gp_ct_memcmp(a.data, s->host_cryptogram, s->s) != 0 ||
	    gp_ct_memcmp(a.data + s->s, mac, s->s) != 0)
		return GP_ERR_AUTH;
	s->level = a.p1;
	s->state = GP_SCP_OPEN;
	return 0;
}

/* Card: checks EXTERNAL AUTHENTICATE; any mismatch breaks the session. */
int
gp_scp_card_ext_auth(struct gp_scp *s, const uint8_t *cmd, size_t n)
{
	int r;

	if (s->role != GP_SCP_CARD || s->state != GP_SCP_KEYS)
		return GP_ERR_STATE;
	if ((r = card_ext_auth_check(s, cmd, n)) != 0) {
		scp_break(s);
		return r;
	}
	return 0;
}

int
gp_scp_card_unwrap(struct gp_scp *s, const uint8_t *wire, size_t n,
    struct gp_wr *w)
{
	struct gp_apdu a;
	int r;

	if (s->role != GP_SCP_CARD || s->state != GP_SCP_OPEN)
		return GP_ERR_STATE;
	if ((r = gp_apdu_parse(wire, n, &a)) != 0) {
		scp_break(s);
		return r;
	}
	if (a.cla & 0x40) {
		scp_break(s);	/* logical channels 4..19: not supported */
		return GP_ERR_UNSUPPORTED;
	}
	s->fresh = 0;
	if (!(s->level & GP_SL_CMAC)) {
		if (s->proto == 3)
			s->cmd_counter = s->counter++;
		return gp_wr_put(w, wire, n);
	}
	if (s->proto == 3)
		r = gp_scp03_card_unwrap(s, &a, w);
	else
		r = gp_scp02_card_unwrap(s, &a, w);
	/* A card closes the channel on any secure messaging error (GP
	 * 2.3.1 10.6); only a short output buffer is the caller's fault,
	 * and the unwrappers check space before they touch the state. */
	if (r != 0 && r != GP_ERR_SPACE && r != GP_ERR_NOMEM)
		scp_break(s);
	return r;
}

int
gp_scp_card_wrap(struct gp_scp *s, const uint8_t *data, size_t n,
    uint16_t sw, struct gp_wr *w)
{
	if (s->role != GP_SCP_CARD || s->state != GP_SCP_OPEN)
		return gp_rapdu_encode(data, n, sw, w);
	if (s->proto == 3)
		return gp_scp03_card_wrap(s, data, n, sw, w);
	return gp_scp02_card_wrap(s, data, n, sw, w);
}

int
gp_scp_session_keys(const struct gp_scp *s, struct gp_scp_keys *k)
{
	if (!s->have_keys ||
	    (s->state != GP_SCP_KEYS && s->state != GP_SCP_OPEN))
		return GP_ERR_STATE;
	memset(k, 0, sizeof(*k));
	memcpy(k->enc, s->skey[0], s->klen);
	memcpy(k->mac, s->skey[1], s->klen);
	memcpy(k->rmac, s->skey[2], s->klen);
	memcpy(k->dek, s->dek, s->klen);
	k->len = s->klen;
	return 0;
}

int
gp_scp_from_session_keys(struct gp_scp *s, int proto, int role, uint8_t i,
    uint8_t sz, uint8_t level, const uint8_t *enc, const uint8_t *mac,
    const uint8_t *rmac, size_t klen)
{
	int r;

	if ((r = scp_setup(s, proto, role, i, sz)) != 0)
		return r;
	if (!level_valid(s, level))
		return GP_ERR_INVAL;
	if (proto == 3)
		r = gp_scp03_set_keys(s, enc, mac, rmac, klen);
	else if (klen != 16)
		r = GP_ERR_INVAL;
	else
		r = gp_scp02_set_keys(s, enc, mac, rmac);
	if (r != 0)
		return r;
	s->level = level;
	s->counter = 1;
	s->state = GP_SCP_OPEN;
	s->fresh = 1;
	return 0;
}

/*
 * Sets the chaining state a wrap.* vector starts from. Only on a session
 * just opened from session keys: a running one must never be rewound.
 */
int
gp_scp_set_wrap_state(struct gp_scp *s, const uint8_t *chain, size_t n,
    uint32_t counter)
{
	if (s->state != GP_SCP_OPEN || !s->fresh)
		return GP_ERR_STATE;
	if (s->proto == 3) {
		if (n != 16)
			return GP_ERR_INVAL;
		memcpy(s->chain, chain, 16);
		s->counter = counter;
		return 0;
	}
	if (n != 8)
		return GP_ERR_INVAL;
	memcpy(s->icv, chain, 8);
	s->icv_raw = 0;
	return 0;
}

int
gp_scp_put_header(struct gp_wr *w, const struct gp_apdu *a, size_t lc,
    int ext)
{
	uint8_t h[7] = { a->cla | GP_CLA_SM, a->ins, a->p1, a->p2 };
	size_t hl = 4;

	if (lc > 0 && ext) {
		h[4] = 0;
		h[5] = (uint8_t)(lc >> 8);
		h[6] = (uint8_t)lc;
		hl = 7;
	} else if (lc > 0) {
		h[4] = (uint8_t)lc;
		hl = 5;
	}
	return gp_wr_put(w, h, hl);
}

int
gp_scp_put_le(struct gp_wr *w, size_t ne, size_t lc, int ext)
{
	int r;

	if (ne == 0)
		return 0;
	if (!ext)
		return gp_wr_u8(w, (uint8_t)(ne & 0xff));
	if (lc == 0 && (r = gp_wr_u8(w, 0)) != 0)
		return r;
	return gp_wr_u16(w, (uint16_t)(ne & 0xffff));
}

int
gp_scp_put_plain(struct gp_wr *w, const struct gp_apdu *p, size_t used)
{
	int ext = p->lc > 255 || p->ne > 256;
	size_t hl = p->lc == 0 ? 4 : ext ? 7 : 5;
	uint8_t *dst = w->p + w->len + hl;
	struct gp_apdu h = *p;
	int r;

	/* The data sits at w->len + 7; hl <= 7, so memmove is the move. */
	if (p->lc > 0)
		memmove(dst, p->data, p->lc);
	h.cla &= (uint8_t)~GP_CLA_SM;
	if ((r = gp_scp_put_header(w, &h, p->lc, ext)) != 0)
		return r;
	w->p[w->len - hl] = p->cla;	/* put_header set the SM bit */
	w->len += p->lc;
	/* What the slide left of the data beyond the end is wiped. */
	if (7 + used > hl + p->lc)
		gp_wipe(w->p + w->len, 7 + used - hl - p->lc);
	return gp_scp_put_le(w, p->ne, p->lc, ext);
}

int
gp_scp_sw_has_rmac(uint16_t sw)
{
	return sw == 0x9000 || (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

/*
 * The card's answer to EXTERNAL AUTHENTICATE: anything but 9000 (6300 is
 * a refused host cryptogram) ends the session the host opened early.
 */
int
gp_scp_host_confirm(struct gp_scp *s, uint16_t sw)
{
	if (s->role != GP_SCP_HOST || s->state != GP_SCP_OPEN)
		return GP_ERR_STATE;
	if (sw != 0x9000) {
		scp_break(s);
		return GP_ERR_AUTH;
	}
	return 0;
}

/*
 * Host role with session keys computed elsewhere (tsm-keyd): the response
 * is parsed as gp_scp_host_auth does and the card cryptogram checked again
 * here with the session keys, so a caller cannot skip that check.
 */
int
gp_scp_host_auth_session(struct gp_scp *s, const struct gp_scp_keys *k,
    const uint8_t *rsp, size_t n)
{
	uint8_t asked = s->kvn;

	if (s->role != GP_SCP_HOST || s->state != GP_SCP_INIT)
		return GP_ERR_STATE;
	return host_auth_done(s, asked, s->proto == 3 ?
	    gp_scp03_host_auth_keys(s, k, rsp, n) :
	    gp_scp02_host_auth_keys(s, k, rsp, n));
}

int
gp_scp_mark_get(const struct gp_scp *s, struct gp_scp_mark *m)
{
	if (s->role != GP_SCP_HOST || s->state != GP_SCP_OPEN)
		return GP_ERR_STATE;
	memcpy(m->chain, s->chain, sizeof(m->chain));
	m->cmd_counter = s->cmd_counter;
	memcpy(m->rmac_cmd, s->rmac_cmd, s->rmac_cmd_len);
	m->rmac_cmd_len = s->rmac_cmd_len;
	return 0;
}

/* Swaps the marked command's state in, unwraps, swaps the live one back. */
int
gp_scp_unwrap_marked(struct gp_scp *s, const struct gp_scp_mark *m,
    const uint8_t *wire, size_t n, struct gp_wr *w)
{
	struct gp_scp_mark live;
	int r;

	if ((r = gp_scp_mark_get(s, &live)) != 0)
		return r;
	if (m->rmac_cmd_len > sizeof(s->rmac_cmd))
		return GP_ERR_INVAL;
	memcpy(s->chain, m->chain, sizeof(s->chain));
	s->cmd_counter = m->cmd_counter;
	memcpy(s->rmac_cmd, m->rmac_cmd, m->rmac_cmd_len);
	s->rmac_cmd_len = m->rmac_cmd_len;
	r = gp_scp_unwrap(s, wire, n, w);
	if (s->state == GP_SCP_OPEN) {
		memcpy(s->chain, live.chain, sizeof(s->chain));
		s->cmd_counter = live.cmd_counter;
		memcpy(s->rmac_cmd, live.rmac_cmd, live.rmac_cmd_len);
		s->rmac_cmd_len = live.rmac_cmd_len;
	}
	gp_wipe(&live, sizeof(live));
	return r;
}
