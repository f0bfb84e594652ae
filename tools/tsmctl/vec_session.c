/*
 * Checkers of whole secure channel sessions (session.scp02/scp03) and of
 * wrapping with given session keys (wrap.scp02/scp03), FORMAT.md. Each is
 * run twice: libgp's host role must produce what the card received, and
 * libgp's card role must accept it and answer what the host received.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp/apdu.h"
#include "gp/buf.h"
#include "gp/err.h"
#include "gp/scp.h"
#include "vec.h"

#define VEC_APDU_MAX	(GP_APDU_WIRE_MAX + 64)

/* The things a session vector gives, decoded once. */
struct sess_in {
	int		proto;
	uint8_t		i, s, level, kvn;
	int		has_level, reject;
	struct gp_keyset ks;
	uint8_t		hc[16], rsp[64], sd_aid[16];
	size_t		rspn, aidn;
	uint8_t		buf[2][VEC_APDU_MAX];	/* scratch for wr */
};

static int
hex1(struct vec *v, const char *key, uint8_t *out)
{
	size_t n;

	if (vec_hex(v, key, out, 1, &n) != 0 || n != 1)
		return vec_fail(v, "%s must be one byte", key);
	return VEC_PASS;
}

/* Static keys: given, or diversified from master with the response KDD. */
static int
sess_keys(struct vec *v, struct sess_in *in)
{
	const char *m = vec_get(v, "diversify");
	enum gp_div_method dm;
	uint8_t master[32];
	size_t n, n2, n3;
	int r;

	if (vec_has(v, "master")) {
		if (m == NULL || gp_div_method_parse(m, &dm) != 0)
			return vec_fail(v, "master without a known diversify");
		if (vec_hex(v, "master", master, sizeof(master), &n))
			return VEC_FAIL;
		r = gp_keyset_diversify(&in->ks, dm, master, n, in->rsp);
		gp_wipe(master, sizeof(master));
		return r ? vec_fail(v, "diversify: %s", gp_strerror(r)) : 0;
	}
	if (vec_hex(v, "key.enc", in->ks.enc, GP_KEY_MAX, &n) ||
	    vec_hex(v, "key.mac", in->ks.mac, GP_KEY_MAX, &n2) ||
	    vec_hex(v, "key.dek", in->ks.dek, GP_KEY_MAX, &n3))
		return VEC_FAIL;
	if (n != n2 || n != n3)
		return vec_fail(v, "static keys differ in length");
	in->ks.len = n;
	return VEC_PASS;
}

static int
sess_read(struct vec *v, struct sess_in *in, int proto)
{
	size_t n;
	long s;

	memset(in, 0, sizeof(*in));
	in->proto = proto;
	if ((s = vec_int(v, "s", 8)) != 8 && s != 16)
		return vec_fail(v, "s must be 8 or 16");
	in->s = (uint8_t)s;
	if (hex1(v, "kvn", &in->kvn) || hex1(v, "i", &in->i))
		return VEC_FAIL;
	if ((in->has_level = vec_has(v, "level")) && hex1(v, "level",
	    &in->level))
		return VEC_FAIL;
	if (vec_hex(v, "host_challenge", in->hc, sizeof(in->hc), &n))
		return VEC_FAIL;
	if (n != in->s)
		return vec_fail(v, "host challenge is not s bytes");
	if (vec_hex(v, "init_update.rsp", in->rsp, sizeof(in->rsp), &in->rspn))
		return VEC_FAIL;
	if (in->rspn < 13)
		return vec_fail(v, "init_update.rsp too short");
	if (vec_has(v, "sd_aid") &&
	    vec_hex(v, "sd_aid", in->sd_aid, sizeof(in->sd_aid), &in->aidn))
		return VEC_FAIL;
	in->reject = vec_has(v, "expect.reject");
	if (in->reject && strcmp(vec_get(v, "expect.reject"),
	    "card_cryptogram") != 0)
		return vec_fail(v, "unknown expect.reject");
	in->ks.kvn = in->rsp[10];
	return sess_keys(v, in);
}

static int
expect_session_keys(struct vec *v, const struct gp_scp *s)
{
	struct gp_scp_keys k;
	int r;

	if (gp_scp_session_keys(s, &k) != 0)
		return vec_fail(v, "no session keys");
	if ((r = vec_expect(v, "expect.session.enc", k.enc, k.len)) == 0 &&
	    (r = vec_expect(v, "expect.session.mac", k.mac, k.len)) == 0 &&
	    (r = vec_expect(v, "expect.session.rmac", k.rmac, k.len)) == 0)
		r = vec_expect(v, "expect.session.dek", k.dek, k.len);
	gp_wipe(&k, sizeof(k));
	return r;
}

/* SCP03 with sd_aid: the card challenge must be the pseudo-random one. */
static int
check_prand(struct vec *v, const struct sess_in *in)
{
	const uint8_t *seq = in->rsp + 13 + 2 * in->s;
	uint8_t cc[16];
	uint32_t sq;

	if (in->proto != 3 || !vec_has(v, "sd_aid"))
		return VEC_PASS;
	if (!(in->rsp[12] & GP_SCP03_I_PRAND) || in->rspn < 13u + 2 * in->s + 3)
		return vec_fail(v, "sd_aid given but no pseudo-random challenge");
	sq = (uint32_t)seq[0] << 16 | (uint32_t)seq[1] << 8 | seq[2];
	if (gp_scp03_card_challenge(in->ks.enc, in->ks.len, in->s, sq,
	    in->sd_aid, in->aidn, cc) != 0)
		return vec_fail(v, "card challenge computation failed");
	if (memcmp(cc, in->rsp + 13, in->s) != 0)
		return vec_fail(v, "pseudo-random card challenge differs");
	return VEC_PASS;
}

/* Wraps step.N.plain and unwraps step.N.rsp.wire, in order. */
static int
host_steps(struct vec *v, struct gp_scp *s, uint8_t *b0, uint8_t *b1)
{
	char key[64], rkey[64];
	struct gp_wr w;
	size_t n;
	int i, r;

	for (i = 1;; i++) {
		snprintf(key, sizeof(key), "step.%d.plain", i);
		if (!vec_has(v, key))
			return VEC_PASS;
		if (vec_hex(v, key, b0, VEC_APDU_MAX, &n))
			return VEC_FAIL;
		gp_wr_init(&w, b1, VEC_APDU_MAX);
		if ((r = gp_scp_wrap(s, b0, n, &w)) != 0)
			return vec_fail(v, "step %d wrap: %s", i, gp_strerror(r));
		snprintf(key, sizeof(key), "step.%d.wire", i);
		if (vec_expect(v, key, w.p, w.len) != VEC_PASS)
			return VEC_FAIL;
		snprintf(key, sizeof(key), "step.%d.rsp.wire", i);
		if (!vec_has(v, key))
			continue;
		if (vec_hex(v, key, b0, VEC_APDU_MAX, &n))
			return VEC_FAIL;
		gp_wr_init(&w, b1, VEC_APDU_MAX);
		if ((r = gp_scp_unwrap(s, b0, n, &w)) != 0)
			return vec_fail(v, "step %d unwrap: %s", i,
			    gp_strerror(r));
		snprintf(rkey, sizeof(rkey), "step.%d.rsp.plain", i);
		if (vec_expect(v, vec_has(v, rkey) ? rkey : key, w.p, w.len))
			return VEC_FAIL;
	}
}

/* Card role: unwraps step.N.wire and wraps step.N.rsp.plain. */
static int
card_steps(struct vec *v, struct gp_scp *s, uint8_t *b0, uint8_t *b1)
{
	char key[64], pkey[64];
	struct gp_rapdu ra;
	struct gp_wr w;
	size_t n;
	int i, r;

	for (i = 1;; i++) {
		snprintf(key, sizeof(key), "step.%d.wire", i);
		if (!vec_has(v, key))
			return VEC_PASS;
		if (vec_hex(v, key, b0, VEC_APDU_MAX, &n))
			return VEC_FAIL;
		gp_wr_init(&w, b1, VEC_APDU_MAX);
		if ((r = gp_scp_card_unwrap(s, b0, n, &w)) != 0)
			return vec_fail(v, "card step %d unwrap: %s", i,
			    gp_strerror(r));
		snprintf(pkey, sizeof(pkey), "step.%d.plain", i);
		if (vec_expect(v, pkey, w.p, w.len) != VEC_PASS)
			return VEC_FAIL;
		snprintf(key, sizeof(key), "step.%d.rsp.wire", i);
		snprintf(pkey, sizeof(pkey), "step.%d.rsp.plain", i);
		if (!vec_has(v, key))
			continue;
		if (vec_hex(v, vec_has(v, pkey) ? pkey : key, b0,
		    VEC_APDU_MAX, &n) || gp_rapdu_parse(b0, n, &ra))
			return vec_fail(v, "step %d: bad response", i);
		gp_wr_init(&w, b1, VEC_APDU_MAX);
		if ((r = gp_scp_card_wrap(s, ra.data, ra.len, ra.sw, &w)) != 0)
			return vec_fail(v, "card step %d wrap: %s", i,
			    gp_strerror(r));
		if (vec_expect(v, key, w.p, w.len) != VEC_PASS)
			return VEC_FAIL;
	}
}

static int
host_session(struct vec *v, struct sess_in *in)
{
	struct gp_scp s;
	struct gp_wr w;
	int r;

	memset(&s, 0, sizeof(s));
	gp_wr_init(&w, in->buf[0], VEC_APDU_MAX);
	if ((r = gp_scp_host_init(&s, in->proto, in->i, in->s, in->kvn,
	    in->hc, &w)) != 0) {
		r = vec_fail(v, "init: %s", gp_strerror(r));
		goto out;
	}
	if ((r = vec_expect(v, "expect.init_update", w.p, w.len)) != 0)
		goto out;
	r = gp_scp_host_auth(&s, &in->ks, in->rsp, in->rspn);
	if (in->reject) {
		r = r == GP_ERR_AUTH ? VEC_PASS : vec_fail(v,
		    "card cryptogram accepted (%s)", gp_strerror(r));
		goto out;
	}
	if (r != 0) {
		r = vec_fail(v, "host auth: %s", gp_strerror(r));
		goto out;
	}
	if (in->proto == 3 && s.i != in->i) {
		r = vec_fail(v, "i %02X differs from the response's", in->i);
		goto out;
	}
	if ((r = check_prand(v, in)) || (r = expect_session_keys(v, &s)) ||
	    (r = vec_expect(v, "expect.host_cryptogram", s.host_cryptogram,
	    in->s)))
		goto out;
	if (!in->has_level)
		goto out;	/* a log cut after INITIALIZE UPDATE */
	gp_wr_init(&w, in->buf[0], VEC_APDU_MAX);
	if ((r = gp_scp_host_ext_auth(&s, in->level, &w)) != 0) {
		r = vec_fail(v, "ext auth: %s", gp_strerror(r));
		goto out;
	}
	if ((r = vec_expect(v, "expect.ext_auth", w.p, w.len)) != 0)
		goto out;
	r = host_steps(v, &s, in->buf[0], in->buf[1]);
out:
	gp_scp_free(&s);
	return r;
}

/* The card's side of the INITIALIZE UPDATE response, from the recording. */
static void
card_cfg(const struct sess_in *in, struct gp_scp_card_cfg *cfg, int prand)
{
	const uint8_t *r = in->rsp;

	memset(cfg, 0, sizeof(*cfg));
	cfg->proto = in->proto;
	cfg->s = in->s;
	memcpy(cfg->kdd, r, GP_KDD_LEN);
	if (in->proto == 2) {
		cfg->i = in->i;
		cfg->seq = (uint32_t)r[12] << 8 | r[13];
		cfg->card_challenge = r + 14;
		return;
	}
	cfg->i = r[12];
	if ((cfg->i & GP_SCP03_I_PRAND) && in->rspn >= 13u + 2 * in->s + 3) {
		r += 13 + 2 * in->s;
		cfg->seq = (uint32_t)r[0] << 16 | (uint32_t)r[1] << 8 | r[2];
	}
	cfg->card_challenge = prand ? NULL : in->rsp + 13;
	cfg->sd_aid = in->sd_aid;
	cfg->sd_aid_len = in->aidn;
}

/* EXTERNAL AUTHENTICATE as recorded, or as libgp's host builds it. */
static int
card_ext_auth_cmd(struct vec *v, struct sess_in *in, uint8_t *out,
    size_t *n)
{
	struct gp_scp h;
	struct gp_wr w;
	int r;

	if (vec_has(v, "expect.ext_auth"))
		return vec_hex(v, "expect.ext_auth", out, VEC_APDU_MAX, n);
	memset(&h, 0, sizeof(h));
	gp_wr_init(&w, out, VEC_APDU_MAX);
	if ((r = gp_scp_host_init(&h, in->proto, in->i, in->s, in->kvn,
	    in->hc, &w)) == 0 &&
	    (r = gp_scp_host_auth(&h, &in->ks, in->rsp, in->rspn)) == 0) {
		gp_wr_init(&w, out, VEC_APDU_MAX);
		r = gp_scp_host_ext_auth(&h, in->level, &w);
		*n = w.len;
	}
	gp_scp_free(&h);
	return r ? vec_fail(v, "host ext auth: %s", gp_strerror(r)) : 0;
}

static int
card_session(struct vec *v, struct sess_in *in)
{
	struct gp_scp_card_cfg cfg;
	struct gp_apdu iu = { .cla = 0x80, .ins = 0x50, .p1 = in->kvn,
	    .data = in->hc, .lc = in->s, .ne = 256 };
	struct gp_scp s;
	struct gp_wr w;
	uint8_t *b0 = in->buf[0], *b1 = in->buf[1];
	size_t n;
	int r;

	memset(&s, 0, sizeof(s));
	card_cfg(in, &cfg, in->proto == 3 && vec_has(v, "sd_aid"));
	gp_wr_init(&w, b0, VEC_APDU_MAX);
	if ((r = gp_apdu_encode(&iu, &w)) != 0)
		return vec_fail(v, "IU encode");
	n = w.len;
	gp_wr_init(&w, b1, VEC_APDU_MAX);
	if ((r = gp_scp_card_init_update(&s, &cfg, &in->ks, b0, n, &w)) != 0) {
		r = vec_fail(v, "card IU: %s", gp_strerror(r));
		goto out;
	}
	if (w.len != in->rspn + 2 || memcmp(w.p, in->rsp, in->rspn) != 0 ||
	    w.p[in->rspn] != 0x90 || w.p[in->rspn + 1] != 0x00) {
		r = in->reject ? VEC_PASS :
		    vec_fail(v, "card role's INITIALIZE UPDATE response differs");
		goto out;
	}
	if (in->reject) {
		r = vec_fail(v, "card role reproduced a rejected cryptogram");
		goto out;
	}
	if (!in->has_level || (r = card_ext_auth_cmd(v, in, b0, &n)) != 0)
		goto out;
	if ((r = gp_scp_card_ext_auth(&s, b0, n)) != 0) {
		r = vec_fail(v, "card ext auth: %s", gp_strerror(r));
		goto out;
	}
	r = card_steps(v, &s, b0, b1);
out:
	gp_scp_free(&s);
	return r;
}

static int
check_session(struct vec *v, int proto)
{
	struct sess_in *in;
	int r;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return vec_fail(v, "out of memory");
	if ((r = sess_read(v, in, proto)) == VEC_PASS &&
	    (r = host_session(v, in)) == VEC_PASS)
		r = card_session(v, in);
	gp_wipe(in, sizeof(*in));
	free(in);
	return r;
}

int
vec_check_session_scp02(struct vec *v)
{
	return check_session(v, 2);
}

int
vec_check_session_scp03(struct vec *v)
{
	return check_session(v, 3);
}

/* wrap.*: sessions opened straight from session keys, both roles. */
static int
wrap_open(struct vec *v, struct gp_scp *s, int proto, int role)
{
	uint8_t enc[32], mac[32], rmac[32], level, chain[16];
	size_t kn, mn, rn = 0, cn;
	long sz = vec_int(v, "s", 8), ctr = vec_int(v, "counter", 1);
	uint8_t i = 0x15;
	int r;

	if (proto == 3)
		i = 0x70;	/* the kind has no i: allow every level */
	r = VEC_FAIL;
	if (vec_hex(v, "session.enc", enc, 32, &kn) ||
	    vec_hex(v, "session.mac", mac, 32, &mn) || hex1(v, "level", &level) ||
	    (vec_has(v, "session.rmac") &&
	    vec_hex(v, "session.rmac", rmac, 32, &rn)) ||
	    (proto == 2 && vec_has(v, "i") && hex1(v, "i", &i)))
		goto out;
	if (rn == 0)
		memcpy(rmac, mac, mn);	/* unused without R-MAC */
	if (kn != mn || (rn && rn != kn) || (sz != 8 && sz != 16) ||
	    ctr < 0 || ctr > 0xFFFFFF) {
		r = vec_fail(v, "bad key lengths, s or counter");
		goto out;
	}
	if ((r = gp_scp_from_session_keys(s, proto, role, i, (uint8_t)sz,
	    level, enc, mac, rmac, kn)) != 0)
		r = vec_fail(v, "open: %s", gp_strerror(r));
out:
	gp_wipe(enc, 32);
	gp_wipe(mac, 32);
	gp_wipe(rmac, 32);
	if (r != 0)
		return r;
	if (proto == 3) {
		memset(chain, 0, 16);
		cn = 16;
		if (vec_has(v, "chain") && vec_hex(v, "chain", chain, 16, &cn))
			return VEC_FAIL;
		return gp_scp_set_wrap_state(s, chain, cn, (uint32_t)ctr) ?
		    vec_fail(v, "chain must be 16 bytes") : VEC_PASS;
	}
	if (!vec_has(v, "prev_mac"))
		return VEC_PASS;
	if (vec_hex(v, "prev_mac", chain, 8, &cn) ||
	    gp_scp_set_wrap_state(s, chain, cn, 0))
		return vec_fail(v, "prev_mac must be 8 bytes");
	return VEC_PASS;
}

static int
check_wrap(struct vec *v, int proto)
{
	uint8_t *b = malloc(2 * VEC_APDU_MAX);
	struct gp_scp s;
	int r;

	if (b == NULL)
		return vec_fail(v, "out of memory");
	memset(&s, 0, sizeof(s));
	if ((r = wrap_open(v, &s, proto, GP_SCP_HOST)) == VEC_PASS)
		r = host_steps(v, &s, b, b + VEC_APDU_MAX);
	gp_scp_free(&s);
	if (r == VEC_PASS &&
	    (r = wrap_open(v, &s, proto, GP_SCP_CARD)) == VEC_PASS)
		r = card_steps(v, &s, b, b + VEC_APDU_MAX);
	gp_scp_free(&s);
	free(b);
	return r;
}

int
vec_check_wrap_scp02(struct vec *v)
{
	return check_wrap(v, 2);
}

int
vec_check_wrap_scp03(struct vec *v)
{
	return check_wrap(v, 3);
}
