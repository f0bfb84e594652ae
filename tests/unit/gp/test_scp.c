/*
 * Secure channels, host role against card role: SCP02 (i = 15, 55) and
 * SCP03 (S8/S16, AES-128/192/256, i = 00/10/30/70) at every security level,
 * commands of cases 1-4 (short and extended), protected responses, and the
 * ways a session must fail.
 *
 * Independent known answers (test_kat_*) were computed with the openssl 3.0
 * CLI only; the scripts are quoted above each test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gp/apdu.h"
#include "gp/buf.h"
#include "gp/crypto.h"
#include "gp/err.h"
#include "gp/kdf.h"
#include "gp/scp.h"

/* Context printed with a failing check: which variant, level, command. */
static char where[192];

#define WHERE(...)	snprintf(where, sizeof(where), __VA_ARGS__)
#define EQ(a, b) do {							\
	long long a_ = (long long)(a), b_ = (long long)(b);		\
	if (a_ != b_)							\
		print_error("[%s] %s: %lld != %lld\n", where, #a, a_, b_); \
	assert_int_equal(a_, b_);					\
} while (0)
#define MEQ(a, b, n) do {						\
	if (memcmp((a), (b), (n)) != 0)					\
		print_error("[%s] %s != %s\n", where, #a, #b);		\
	assert_memory_equal((a), (b), (n));				\
} while (0)

#define BUFSZ	4096

static size_t
hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	assert_int_equal(gp_hex_decode(s, out, cap, &n), 0);
	return n;
}

struct variant {
	int		proto;
	uint8_t		i;
	uint8_t		s;
	size_t		klen;
};

static struct variant variants[2 + 2 * 3 * 4];
static size_t nvariants;

static const uint8_t scp02_levels[] = { 0x00, 0x01, 0x03, 0x11, 0x13 };
static const uint8_t scp03_levels[] = { 0x00, 0x01, 0x03, 0x11, 0x13, 0x31,
    0x33 };

static void
variants_init(void)
{
	static const uint8_t is[] = { 0x00, 0x10, 0x30, 0x70 };
	static const size_t kls[] = { 16, 24, 32 };
	size_t a, b, c;

	nvariants = 0;
	variants[nvariants++] = (struct variant){ 2, 0x15, 8, 16 };
	variants[nvariants++] = (struct variant){ 2, 0x55, 8, 16 };
	for (a = 0; a < 2; a++)
		for (b = 0; b < 3; b++)
			for (c = 0; c < 4; c++)
				variants[nvariants++] = (struct variant){ 3,
				    is[c], (uint8_t)(a == 0 ? 8 : 16), kls[b] };
}

/* The levels a variant allows: SCP03 R-MAC and R-ENC only where i says. */
static int
level_ok(const struct variant *v, uint8_t level)
{
	if (v->proto == 2)
		return 1;
	if ((level & 0x10) && !(v->i & 0x60))
		return 0;
	return !(level & 0x20) || (v->i & 0x40);
}

static void
levels_of(const struct variant *v, const uint8_t **lv, size_t *n)
{
	static uint8_t out[8];
	const uint8_t *all = v->proto == 2 ? scp02_levels : scp03_levels;
	size_t k, na = v->proto == 2 ? sizeof(scp02_levels) :
	    sizeof(scp03_levels);

	*n = 0;
	for (k = 0; k < na; k++)
		if (level_ok(v, all[k]))
			out[(*n)++] = all[k];
	*lv = out;
}

static const char *
vname(const struct variant *v)
{
	static char b[64];

	snprintf(b, sizeof(b), "SCP0%d i=%02X S%u AES-%zu", v->proto, v->i,
	    v->s, v->klen * 8);
	if (v->proto == 2)
		snprintf(b, sizeof(b), "SCP02 i=%02X", v->i);
	return b;
}

/* Both ends of one session and what they were built from. */
struct pair {
	const struct variant	*v;
	struct gp_keyset	 ks;
	struct gp_scp_card_cfg	 cfg;
	struct gp_scp		 host, card;
	uint8_t			 hc[16], cc[16], aid[8];
	uint8_t			 iu[64];	/* IU response data, no SW */
	size_t			 iulen;
	uint8_t			 ea[64];	/* EXTERNAL AUTHENTICATE */
	size_t			 ealen;
};

static void
keys_init(struct gp_keyset *ks, size_t klen, uint8_t kvn)
{
	size_t j;

	memset(ks, 0, sizeof(*ks));
	for (j = 0; j < klen; j++) {
		ks->enc[j] = (uint8_t)(0x40 + j);
		ks->mac[j] = (uint8_t)(0x60 + 3 * j);
		ks->dek[j] = (uint8_t)(0x90 ^ j);
	}
	ks->len = klen;
	ks->kvn = kvn;
}

/* Fixed challenges unless random_cc; i bit 10 uses the derived one. */
static void
pair_init(struct pair *p, const struct variant *v, int random_cc)
{
	static const uint8_t aid[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00,
	    0x00, 0x00 };
	size_t j;

	memset(p, 0, sizeof(*p));
	p->v = v;
	keys_init(&p->ks, v->klen, v->proto == 2 ? 0x20 : 0x30);
	for (j = 0; j < 16; j++) {
		p->hc[j] = (uint8_t)(0xB0 + j);
		p->cc[j] = (uint8_t)(0xC0 + 5 * j);
	}
	memcpy(p->aid, aid, sizeof(aid));
	p->cfg.proto = v->proto;
	p->cfg.i = v->i;
	p->cfg.s = v->s;
	for (j = 0; j < GP_KDD_LEN; j++)
		p->cfg.kdd[j] = (uint8_t)(0xD0 + j);
	p->cfg.seq = 0x00012A;
	p->cfg.card_challenge = random_cc ? NULL : p->cc;
	if (v->proto == 3 && (v->i & GP_SCP03_I_PRAND)) {
		p->cfg.card_challenge = NULL;
		p->cfg.sd_aid = p->aid;
		p->cfg.sd_aid_len = sizeof(aid);
	}
}

/* INITIALIZE UPDATE from the host, answered by the card. */
static void
pair_iu(struct pair *p)
{
	uint8_t cmd[64], rsp[64];
	struct gp_wr w;
	size_t want;

	gp_wr_init(&w, cmd, sizeof(cmd));
	EQ(gp_scp_host_init(&p->host, p->v->proto, p->v->i, p->v->s,
	    p->ks.kvn, p->hc, &w), 0);
	EQ(w.len, 5 + p->v->s + 1);
	EQ(cmd[0], 0x80);
	EQ(cmd[1], 0x50);
	EQ(cmd[2], p->ks.kvn);
	EQ(cmd[4], p->v->s);
	MEQ(cmd + 5, p->hc, p->v->s);
	EQ(cmd[5 + p->v->s], 0x00);
	EQ(p->host.state, GP_SCP_INIT);
	{
		struct gp_wr rw;

		gp_wr_init(&rw, rsp, sizeof(rsp));
		EQ(gp_scp_card_init_update(&p->card, &p->cfg, &p->ks, cmd,
		    w.len, &rw), 0);
		if (p->v->proto == 2)
			want = 28;
		else
			want = 13u + 2u * p->v->s +
			    ((p->v->i & GP_SCP03_I_PRAND) ? 3u : 0u);
		EQ(rw.len, want + 2);
		EQ(rsp[want], 0x90);
		EQ(rsp[want + 1], 0x00);
	}
	MEQ(rsp, p->cfg.kdd, GP_KDD_LEN);
	EQ(rsp[10], p->ks.kvn);
	EQ(rsp[11], p->v->proto);
	if (p->v->proto == 3)
		EQ(rsp[12], p->v->i);
	EQ(p->card.state, GP_SCP_KEYS);
	memcpy(p->iu, rsp, want);
	p->iulen = want;
}

static void
pair_ext_auth(struct pair *p, uint8_t level)
{
	struct gp_wr w;

	gp_wr_init(&w, p->ea, sizeof(p->ea));
	EQ(gp_scp_host_ext_auth(&p->host, level, &w), 0);
	EQ(w.len, 5 + 2u * p->v->s);
	EQ(p->ea[0], 0x84);
	EQ(p->ea[1], 0x82);
	EQ(p->ea[2], level);
	EQ(p->ea[3], 0x00);
	EQ(p->ea[4], 2 * p->v->s);
	p->ealen = w.len;
	EQ(p->host.state, GP_SCP_OPEN);
}

static void
pair_open(struct pair *p, const struct variant *v, uint8_t level)
{
	pair_init(p, v, 0);
	pair_iu(p);
	EQ(gp_scp_host_auth(&p->host, &p->ks, p->iu, p->iulen), 0);
	EQ(p->host.state, GP_SCP_KEYS);
	pair_ext_auth(p, level);
	EQ(gp_scp_card_ext_auth(&p->card, p->ea, p->ealen), 0);
	EQ(p->card.state, GP_SCP_OPEN);
	EQ(p->card.level, level);
	EQ(p->host.level, level);
	if (v->proto == 3) {
		EQ(p->host.counter, 1);
		EQ(p->card.counter, 1);
		MEQ(p->host.chain, p->card.chain, 16);
	} else {
		MEQ(p->host.icv, p->card.icv, 8);
	}
}

static void
pair_free(struct pair *p)
{
	gp_scp_free(&p->host);
	gp_scp_free(&p->card);
}

/* ---- commands ---------------------------------------------------------- */

struct cmdspec {
	uint8_t		cla, ins;
	size_t		lc, ne;
	int		ext;
	int		scp03only;
};

static const struct cmdspec cmds[] = {
	{ 0x80, 0xCA, 0, 0, 0, 0 },		/* case 1 */
	{ 0x80, 0xCA, 0, 256, 0, 0 },		/* case 2, Le 00 */
	{ 0x80, 0xCA, 0, 16, 0, 0 },		/* case 2, Le 10 */
	{ 0x80, 0xE2, 1, 0, 0, 0 },		/* case 3 */
	{ 0x80, 0xE2, 15, 0, 0, 0 },
	{ 0x80, 0xE2, 16, 0, 0, 0 },
	{ 0x80, 0xE2, 17, 0, 0, 0 },
	{ 0x80, 0xE2, 239, 0, 0, 0 },
	{ 0x80, 0xE8, 1, 256, 0, 0 },		/* case 4 */
	{ 0x80, 0xE8, 15, 256, 0, 0 },
	{ 0x80, 0xE8, 16, 256, 0, 0 },
	{ 0x80, 0xE8, 17, 5, 0, 0 },
	{ 0x80, 0xE8, 239, 256, 0, 0 },
	{ 0x00, 0xA4, 8, 256, 0, 0 },		/* ISO CLA: SELECT */
	{ 0x81, 0xF2, 2, 256, 0, 0 },		/* logical channel 1 */
	{ 0x80, 0xE2, 247, 0, 0, 1 },		/* SCP02 refuses with C-DEC */
	{ 0x80, 0xE2, 255, 0, 0, 1 },		/* short plain, ext wire */
	{ 0x80, 0xE2, 1000, 0, 1, 1 },		/* case 3E */
	{ 0x80, 0xE8, 1000, 65536, 1, 1 },	/* case 4E, Le 0000 */
	{ 0x80, 0xE8, 1000, 300, 1, 1 },	/* case 4E, Le 012C */
	{ 0x80, 0xCA, 0, 65536, 1, 1 },		/* case 2E, Le 000000 */
};

/* Encodes a plain command by hand (independent of gp_apdu_encode). */
static size_t
mk_cmd(const struct cmdspec *c, uint8_t *out)
{
	size_t n = 0, k;

	out[n++] = c->cla;
	out[n++] = c->ins;
	out[n++] = 0x00;
	out[n++] = (uint8_t)c->lc;
	if (c->lc > 0) {
		if (c->ext) {
			out[n++] = 0x00;
			out[n++] = (uint8_t)(c->lc >> 8);
		}
		out[n++] = (uint8_t)c->lc;
		for (k = 0; k < c->lc; k++)
			out[n++] = (uint8_t)(k * 31 + c->lc);
	}
	if (c->ne > 0) {
		if (c->ext) {
			if (c->lc == 0)
				out[n++] = 0x00;
			out[n++] = (uint8_t)(c->ne >> 8);
		}
		out[n++] = (uint8_t)c->ne;
	}
	return n;
}

static uint8_t plainbuf[BUFSZ], wirebuf[BUFSZ], outbuf[BUFSZ];

/* Host wraps, card unwraps: the card must see exactly the plain command. */
static void
xfer_cmd(struct pair *p, const uint8_t *plain, size_t n)
{
	struct gp_wr w, o;

	gp_wr_init(&w, wirebuf, sizeof(wirebuf));
	EQ(gp_scp_wrap(&p->host, plain, n, &w), 0);
	if (p->host.level & GP_SL_CMAC)
		EQ(wirebuf[0], plain[0] | GP_CLA_SM);
	else {
		EQ(w.len, n);
		MEQ(wirebuf, plain, n);
	}
	gp_wr_init(&o, outbuf, sizeof(outbuf));
	EQ(gp_scp_card_unwrap(&p->card, wirebuf, w.len, &o), 0);
	EQ(o.len, n);
	MEQ(outbuf, plain, n);
	if (p->v->proto == 3) {
		EQ(p->host.counter, p->card.counter);
		EQ(p->host.cmd_counter, p->card.cmd_counter);
		MEQ(p->host.chain, p->card.chain, 16);
	} else {
		MEQ(p->host.icv, p->card.icv, 8);
	}
}

static int
sw_success(uint16_t sw)
{
	return sw == 0x9000 || (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

/* Card wraps, host unwraps: the host must get data ‖ SW back. */
static void
xfer_rsp(struct pair *p, size_t n, uint16_t sw)
{
	uint8_t data[256], want[260];
	struct gp_wr w, o;
	size_t k, wl;

	for (k = 0; k < n; k++)
		data[k] = (uint8_t)(0x5A ^ (k * 7));
	gp_wr_init(&w, wirebuf, sizeof(wirebuf));
	EQ(gp_scp_card_wrap(&p->card, data, n, sw, &w), 0);
	EQ(wirebuf[w.len - 2], sw >> 8);
	EQ(wirebuf[w.len - 1], sw & 0xff);
	/* SCP03: an error SW carries neither data nor R-MAC. */
	wl = n;
	if (p->v->proto == 3 && !sw_success(sw)) {
		wl = 0;
		EQ(w.len, 2);
	} else if (!(p->card.level & (GP_SL_RMAC | GP_SL_RENC))) {
		EQ(w.len, n + 2);
		MEQ(wirebuf, data, n);
	} else if ((p->card.level & GP_SL_RENC) && n > 0) {
		EQ(w.len, (n / 16 + 1) * 16 + p->v->s + 2);
	} else {
		EQ(w.len, n + (p->v->proto == 2 ? 8u : p->v->s) + 2);
		MEQ(wirebuf, data, n);
	}
	memcpy(want, data, wl);
	want[wl] = (uint8_t)(sw >> 8);
	want[wl + 1] = (uint8_t)sw;
	gp_wr_init(&o, outbuf, sizeof(outbuf));
	EQ(gp_scp_unwrap(&p->host, wirebuf, w.len, &o), 0);
	EQ(o.len, wl + 2);
	MEQ(outbuf, want, wl + 2);
}

static const struct {
	size_t		n;
	uint16_t	sw;
} rsps[] = {
	{ 0, 0x9000 }, { 1, 0x9000 }, { 16, 0x9000 }, { 17, 0x6310 },
	{ 15, 0x6283 }, { 0, 0x6A82 }, { 240, 0x9000 }, { 0, 0x6310 },
	{ 5, 0x6A82 }, { 32, 0x9000 },
};

/* ---- round trips ------------------------------------------------------- */

static void
run_roundtrip(const struct variant *v, uint8_t level)
{
	struct pair p;
	size_t c, n, done = 0;

	pair_open(&p, v, level);
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		if (cmds[c].scp03only && v->proto != 3)
			continue;
		WHERE("%s level %02X cmd %zu (lc %zu ne %zu)", vname(v), level,
		    c, cmds[c].lc, cmds[c].ne);
		n = mk_cmd(&cmds[c], plainbuf);
		xfer_cmd(&p, plainbuf, n);
		done++;
		if (v->proto == 3)
			EQ(p.card.counter, 1 + done);
		WHERE("%s level %02X cmd %zu rsp %zu/%04X", vname(v), level,
		    c, rsps[c % 10].n, rsps[c % 10].sw);
		xfer_rsp(&p, rsps[c % 10].n, rsps[c % 10].sw);
	}
	pair_free(&p);
}

static void
test_roundtrip(void **state)
{
	const uint8_t *lv;
	size_t a, b, nl;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		levels_of(&variants[a], &lv, &nl);
		for (b = 0; b < nl; b++)
			run_roundtrip(&variants[a], lv[b]);
	}
}

/* ---- limits ------------------------------------------------------------ */

static void
test_limits(void **state)
{
	static uint8_t big[GP_APDU_WIRE_MAX + 64];
	struct cmdspec c = { 0x80, 0xE2, 0, 0, 0, 0 };
	struct gp_wr w;
	struct pair p;
	size_t n;

	(void)state;
	/* SCP02: short only; C-DEC adds up to 8 bytes of padding. */
	WHERE("SCP02 limits");
	pair_open(&p, &variants[1], 0x01);
	c.lc = 247;
	n = mk_cmd(&c, plainbuf);
	xfer_cmd(&p, plainbuf, n);
	c.lc = 248;
	n = mk_cmd(&c, plainbuf);
	gp_wr_init(&w, wirebuf, sizeof(wirebuf));
	EQ(gp_scp_wrap(&p.host, plainbuf, n, &w), GP_ERR_TOOLARGE);
	EQ(w.len, 0);
	c.lc = 1000;
	c.ext = 1;
	n = mk_cmd(&c, plainbuf);
	EQ(gp_scp_wrap(&p.host, plainbuf, n, &w), GP_ERR_TOOLARGE);
	c.lc = 0;
	c.ne = 65536;
	n = mk_cmd(&c, plainbuf);
	EQ(gp_scp_wrap(&p.host, plainbuf, n, &w), GP_ERR_TOOLARGE);
	EQ(w.len, 0);
	pair_free(&p);

	pair_open(&p, &variants[1], 0x03);
	c = (struct cmdspec){ 0x80, 0xE2, 239, 0, 0, 0 };
	n = mk_cmd(&c, plainbuf);
	xfer_cmd(&p, plainbuf, n);
	c.lc = 240;
	n = mk_cmd(&c, plainbuf);
	gp_wr_init(&w, wirebuf, sizeof(wirebuf));
	EQ(gp_scp_wrap(&p.host, plainbuf, n, &w), GP_ERR_TOOLARGE);
	EQ(w.len, 0);
	/* A refused command does not advance the chain. */
	c.lc = 17;
	n = mk_cmd(&c, plainbuf);
	xfer_cmd(&p, plainbuf, n);
	pair_free(&p);

	/* SCP03: Lc' = 65535 at most; the wire must fit the writer. */
	WHERE("SCP03 limits");
	pair_open(&p, &variants[2], 0x01);	/* S8 AES-128 i=00 */
	memset(big, 0x33, sizeof(big));
	big[0] = 0x80;
	big[1] = 0xE2;
	big[2] = big[3] = 0;
	big[4] = 0;
	big[5] = 0xFF;
	big[6] = 0xF7;		/* Lc = 65527: Lc' = 65535 */
	gp_wr_init_dyn(&w, sizeof(big));
	EQ(gp_scp_wrap(&p.host, big, 7 + 65527, &w), 0);
	EQ(w.len, 7 + 65535);
	EQ(w.p[5], 0xFF);
	EQ(w.p[6], 0xFF);
	gp_wr_free(&w);
	big[6] = 0xF8;		/* Lc = 65528: too large */
	gp_wr_init_dyn(&w, sizeof(big));
	EQ(gp_scp_wrap(&p.host, big, 7 + 65528, &w), GP_ERR_TOOLARGE);
	EQ(w.len, 0);
	gp_wr_free(&w);
	/* No room in a fixed writer: SPACE, nothing written. */
	c = (struct cmdspec){ 0x80, 0xE2, 17, 0, 0, 0 };
	n = mk_cmd(&c, plainbuf);
	gp_wr_init(&w, wirebuf, 20);
	EQ(gp_scp_wrap(&p.host, plainbuf, n, &w), GP_ERR_SPACE);
	EQ(w.len, 0);
	pair_free(&p);
}

/* ---- INITIALIZE UPDATE / card cryptogram ------------------------------- */

static size_t
cryptogram_off(const struct variant *v)
{
	return v->proto == 2 ? 20 : 13u + v->s;
}

static void
test_bad_card_cryptogram(void **state)
{
	uint8_t rsp[64], cmd[64], ea[64];
	struct gp_wr w;
	struct pair p;
	size_t a, k, off, end;
	int r;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		pair_init(&p, v, 0);
		pair_iu(&p);
		off = cryptogram_off(v);
		/* Flip one bit in each byte of the challenge and cryptogram. */
		end = off + (v->proto == 2 ? 8 : v->s);
		for (k = off - (v->proto == 2 ? 6 : v->s); k < end; k++) {
			WHERE("%s flip byte %zu", vname(v), k);
			memcpy(rsp, p.iu, p.iulen);
			rsp[k] ^= (uint8_t)(1 << (k % 8));
			gp_scp_free(&p.host);
			gp_wr_init(&w, cmd, sizeof(cmd));
			EQ(gp_scp_host_init(&p.host, v->proto, v->i, v->s,
			    p.ks.kvn, p.hc, &w), 0);
			EQ(gp_scp_host_auth(&p.host, &p.ks, rsp, p.iulen),
			    GP_ERR_AUTH);
			EQ(p.host.state, GP_SCP_BROKEN);
			/* No EXTERNAL AUTHENTICATE, whatever the level. */
			gp_wr_init(&w, ea, sizeof(ea));
			EQ(gp_scp_host_ext_auth(&p.host, 0x01, &w),
			    GP_ERR_STATE);
			EQ(gp_scp_host_ext_auth(&p.host, 0x00, &w),
			    GP_ERR_STATE);
			EQ(w.len, 0);
			EQ(gp_scp_wrap(&p.host, cmd, 4, &w), GP_ERR_STATE);
			EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen),
			    GP_ERR_STATE);
		}
		/* Truncated and over-long responses: never accepted. */
		for (k = 0; k <= p.iulen + 1; k++) {
			if (k == p.iulen)
				continue;
			WHERE("%s response length %zu", vname(v), k);
			memcpy(rsp, p.iu, p.iulen);
			rsp[p.iulen] = 0x00;
			gp_scp_free(&p.host);
			gp_wr_init(&w, cmd, sizeof(cmd));
			EQ(gp_scp_host_init(&p.host, v->proto, v->i, v->s,
			    p.ks.kvn, p.hc, &w), 0);
			r = gp_scp_host_auth(&p.host, &p.ks, rsp, k);
			EQ(r == GP_ERR_TRUNC || r == GP_ERR_FORMAT, 1);
			gp_wr_init(&w, ea, sizeof(ea));
			EQ(gp_scp_host_ext_auth(&p.host, 0x01, &w),
			    GP_ERR_STATE);
			EQ(w.len, 0);
		}
		/* The intact response still works. */
		WHERE("%s intact", vname(v));
		gp_scp_free(&p.host);
		gp_wr_init(&w, cmd, sizeof(cmd));
		EQ(gp_scp_host_init(&p.host, v->proto, v->i, v->s, p.ks.kvn,
		    p.hc, &w), 0);
		EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
		pair_free(&p);
	}
}

/* Wrong static keys on the host: where each one is noticed. */
static void
test_wrong_static_key(void **state)
{
	struct gp_keyset good;
	struct gp_scp_keys hk, ck;
	struct gp_wr w;
	struct pair p;
	size_t a, n;
	int r;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		/*
		 * Wrong MAC key: SCP03 cryptograms use S-MAC, so the host
		 * refuses the card; SCP02 cryptograms use S-ENC, so only the
		 * card notices (the EXTERNAL AUTHENTICATE C-MAC).
		 */
		WHERE("%s wrong K-MAC", vname(v));
		pair_init(&p, v, 0);
		pair_iu(&p);
		good = p.ks;
		p.ks.mac[3] ^= 0x02;	/* not a DES parity bit */
		if (v->proto == 3) {
			EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen),
			    GP_ERR_AUTH);
			gp_wr_init(&w, p.ea, sizeof(p.ea));
			EQ(gp_scp_host_ext_auth(&p.host, 1, &w), GP_ERR_STATE);
		} else {
			EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
			pair_ext_auth(&p, 0x01);
			EQ(gp_scp_card_ext_auth(&p.card, p.ea, p.ealen),
			    GP_ERR_AUTH);
			EQ(p.card.state, GP_SCP_BROKEN);
		}
		pair_free(&p);

		/*
		 * Wrong ENC key: SCP02 refuses the card cryptogram; SCP03
		 * authenticates (S-ENC is not in the cryptograms) and the
		 * first encrypted command fails to decrypt on the card.
		 */
		WHERE("%s wrong K-ENC", vname(v));
		pair_init(&p, v, 0);
		if (v->proto == 3 && (v->i & GP_SCP03_I_PRAND))
			p.cfg.card_challenge = p.cc;	/* keep it fixed */
		pair_iu(&p);
		p.ks.enc[0] ^= 0x80;
		if (v->proto == 2) {
			EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen),
			    GP_ERR_AUTH);
		} else {
			EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
			pair_ext_auth(&p, 0x03);
			EQ(gp_scp_card_ext_auth(&p.card, p.ea, p.ealen), 0);
			n = mk_cmd(&cmds[6], plainbuf);
			gp_wr_init(&w, wirebuf, sizeof(wirebuf));
			EQ(gp_scp_wrap(&p.host, plainbuf, n, &w), 0);
			{
				struct gp_wr o;

				gp_wr_init(&o, outbuf, sizeof(outbuf));
				r = gp_scp_card_unwrap(&p.card, wirebuf, w.len,
				    &o);
				/* Garbage plaintext: bad padding (or, by a
				 * 1-in-256 chance, a wrong command). */
				if (r == 0)
					EQ(o.len == n &&
					    memcmp(outbuf, plainbuf, n) == 0, 0);
				else {
					EQ(r, GP_ERR_FORMAT);
					EQ(p.card.state, GP_SCP_BROKEN);
				}
			}
		}
		pair_free(&p);

		/* Wrong DEK: the session opens; only the DEK differs. */
		WHERE("%s wrong K-DEK", vname(v));
		pair_init(&p, v, 0);
		pair_iu(&p);
		p.ks.dek[1] ^= 0x10;
		EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
		pair_ext_auth(&p, 0x01);
		EQ(gp_scp_card_ext_auth(&p.card, p.ea, p.ealen), 0);
		EQ(gp_scp_session_keys(&p.host, &hk), 0);
		EQ(gp_scp_session_keys(&p.card, &ck), 0);
		EQ(hk.len, v->klen);
		MEQ(hk.enc, ck.enc, v->klen);
		MEQ(hk.mac, ck.mac, v->klen);
		MEQ(hk.rmac, ck.rmac, v->klen);
		EQ(memcmp(hk.dek, ck.dek, v->klen) != 0, 1);
		if (v->proto == 3) {
			/* SCP03 keeps the static DEK. */
			MEQ(ck.dek, good.dek, v->klen);
		}
		pair_free(&p);

		/* Host key set of another length. */
		WHERE("%s wrong key length", vname(v));
		pair_init(&p, v, 0);
		pair_iu(&p);
		p.ks.len = v->proto == 2 ? 24 : (v->klen == 16 ? 32 : 16);
		r = gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen);
		EQ(r, v->proto == 2 ? GP_ERR_INVAL : GP_ERR_AUTH);
		gp_wr_init(&w, p.ea, sizeof(p.ea));
		EQ(gp_scp_host_ext_auth(&p.host, 1, &w), GP_ERR_STATE);
		pair_free(&p);
	}
}

/* ---- EXTERNAL AUTHENTICATE --------------------------------------------- */

static void
test_bad_host_cryptogram(void **state)
{
	uint8_t ea[64];
	struct gp_wr o, w;
	struct pair p;
	size_t a, k;
	int r;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];
		size_t len = 5 + 2u * v->s;

		for (k = 0; k < len; k++) {
			WHERE("%s EXTERNAL AUTHENTICATE flip byte %zu",
			    vname(v), k);
			pair_init(&p, v, 0);
			pair_iu(&p);
			EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
			pair_ext_auth(&p, 0x01);
			memcpy(ea, p.ea, p.ealen);
			ea[k] ^= (uint8_t)(1 << (k % 8));
			r = gp_scp_card_ext_auth(&p.card, ea, p.ealen);
			if (k >= 5)	/* host cryptogram or C-MAC */
				EQ(r, GP_ERR_AUTH);
			else
				EQ(r != 0, 1);
			EQ(p.card.state, GP_SCP_BROKEN);
			/* Broken for good: the genuine command is refused. */
			EQ(gp_scp_card_ext_auth(&p.card, p.ea, p.ealen),
			    GP_ERR_STATE);
			/* And no later command is unwrapped. */
			gp_wr_init(&w, wirebuf, sizeof(wirebuf));
			EQ(gp_scp_wrap(&p.host, (const uint8_t *)
			    "\x80\xCA\x00\x66\x00", 5, &w), 0);
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			EQ(gp_scp_card_unwrap(&p.card, wirebuf, w.len, &o),
			    GP_ERR_STATE);
			EQ(o.len, 0);
			pair_free(&p);
		}
		/* Invalid levels: refused by both roles. */
		WHERE("%s invalid level", vname(v));
		pair_init(&p, v, 0);
		pair_iu(&p);
		EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
		gp_wr_init(&w, ea, sizeof(ea));
		EQ(gp_scp_host_ext_auth(&p.host, 0x02, &w), GP_ERR_INVAL);
		EQ(gp_scp_host_ext_auth(&p.host, 0x21, &w), GP_ERR_INVAL);
		EQ(gp_scp_host_ext_auth(&p.host, 0x41, &w), GP_ERR_INVAL);
		EQ(gp_scp_host_ext_auth(&p.host, 0x81, &w), GP_ERR_INVAL);
		if (v->proto == 2)
			EQ(gp_scp_host_ext_auth(&p.host, 0x33, &w),
			    GP_ERR_INVAL);
		EQ(w.len, 0);
		EQ(p.host.state, GP_SCP_KEYS);
		pair_ext_auth(&p, 0x01);
		/* A second EXTERNAL AUTHENTICATE is not built. */
		EQ(gp_scp_host_ext_auth(&p.host, 0x01, &w), GP_ERR_STATE);
		ea[0] = 0x84;
		ea[1] = 0x82;
		ea[2] = 0x02;	/* C-DEC without C-MAC */
		memcpy(ea + 3, p.ea + 3, p.ealen - 3);
		EQ(gp_scp_card_ext_auth(&p.card, ea, p.ealen), GP_ERR_INVAL);
		EQ(p.card.state, GP_SCP_BROKEN);
		pair_free(&p);
	}
}

/* ---- tampered commands ------------------------------------------------- */

struct flipcase {
	size_t		vi;	/* index in variants */
	uint8_t		level;
};

static const struct flipcase flips[] = {
	{ 0, 0x01 }, { 1, 0x03 }, { 1, 0x13 },
	{ 2, 0x01 }, { 5, 0x33 }, { 12, 0x13 }, { 25, 0x33 }, { 23, 0x03 },
};

static void
test_cmd_bitflip(void **state)
{
	static const struct cmdspec c4 = { 0x80, 0xE8, 17, 256, 0, 0 };
	static const struct cmdspec c2 = { 0x80, 0xCA, 0, 256, 0, 0 };
	uint8_t good[BUFSZ], bad[BUFSZ];
	struct gp_wr w, o;
	struct pair p;
	size_t f, k, n, wn, pass;
	int r, bit;

	(void)state;
	for (f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
		const struct variant *v = &variants[flips[f].vi];

		for (pass = 0; pass < 2; pass++) {
			const struct cmdspec *c = pass == 0 ? &c4 : &c2;

			for (k = 0; ; k++) {
				pair_open(&p, v, flips[f].level);
				/* One good command first: a non-trivial chain. */
				n = mk_cmd(&cmds[4], plainbuf);
				xfer_cmd(&p, plainbuf, n);
				n = mk_cmd(c, plainbuf);
				gp_wr_init(&w, good, sizeof(good));
				EQ(gp_scp_wrap(&p.host, plainbuf, n, &w), 0);
				wn = w.len;
				if (k >= wn) {
					pair_free(&p);
					break;
				}
				bit = (int)((k + pass) % 8);
				WHERE("%s level %02X case %d flip byte %zu bit "
				    "%d", vname(v), flips[f].level,
				    pass == 0 ? 4 : 2, k, bit);
				memcpy(bad, good, wn);
				bad[k] ^= (uint8_t)(1 << bit);
				gp_wr_init(&o, outbuf, sizeof(outbuf));
				r = gp_scp_card_unwrap(&p.card, bad, wn, &o);
				if (k == wn - 1) {
					/* Le is outside the C-MAC (GP): the
					 * card sees the command with that Le. */
					EQ(r, 0);
					EQ(o.len, n);
					MEQ(outbuf, plainbuf, n - 1);
					EQ(outbuf[n - 1], plainbuf[n - 1] ^
					    (1 << bit));
					pair_free(&p);
					continue;
				}
				if (k == 4) {
					/* Lc: a parse error or a MAC error. */
					EQ(r != 0, 1);
					if (r == GP_ERR_AUTH)
						EQ(p.card.state,
						    GP_SCP_BROKEN);
					pair_free(&p);
					continue;
				}
				if (v->proto == 2 &&
				    (flips[f].level & GP_SL_CDEC) &&
				    k >= 5 && k < wn - 9)
					/* SCP02 decrypts before the MAC check:
					 * bad padding or bad MAC. */
					EQ(r == GP_ERR_AUTH ||
					    r == GP_ERR_FORMAT, 1);
				else
					EQ(r, GP_ERR_AUTH);
				EQ(o.len, 0);
				EQ(p.card.state, GP_SCP_BROKEN);
				gp_wr_init(&o, outbuf, sizeof(outbuf));
				EQ(gp_scp_card_unwrap(&p.card, good, wn, &o),
				    GP_ERR_STATE);
				pair_free(&p);
			}
		}
	}
}

static void
test_replay(void **state)
{
	uint8_t w1[BUFSZ], w2[BUFSZ];
	struct gp_wr w, o;
	struct pair p, q;
	size_t a, n1, n2, l1, l2, li;
	const uint8_t *lv;
	size_t nl;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		levels_of(v, &lv, &nl);
		for (li = 1; li < nl; li++) {	/* every level with C-MAC */
			WHERE("%s level %02X replay", vname(v), lv[li]);
			pair_open(&p, v, lv[li]);
			n1 = mk_cmd(&cmds[6], plainbuf);
			gp_wr_init(&w, w1, sizeof(w1));
			EQ(gp_scp_wrap(&p.host, plainbuf, n1, &w), 0);
			l1 = w.len;
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			EQ(gp_scp_card_unwrap(&p.card, w1, l1, &o), 0);
			EQ(o.len, n1);
			/* The same wire again. */
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			EQ(gp_scp_card_unwrap(&p.card, w1, l1, &o),
			    GP_ERR_AUTH);
			EQ(p.card.state, GP_SCP_BROKEN);
			pair_free(&p);

			/* Out of order: the second command before the first. */
			WHERE("%s level %02X reorder", vname(v), lv[li]);
			pair_open(&p, v, lv[li]);
			n1 = mk_cmd(&cmds[1], plainbuf);
			gp_wr_init(&w, w1, sizeof(w1));
			EQ(gp_scp_wrap(&p.host, plainbuf, n1, &w), 0);
			l1 = w.len;
			n2 = mk_cmd(&cmds[3], plainbuf);
			gp_wr_init(&w, w2, sizeof(w2));
			EQ(gp_scp_wrap(&p.host, plainbuf, n2, &w), 0);
			l2 = w.len;
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			EQ(gp_scp_card_unwrap(&p.card, w2, l2, &o),
			    GP_ERR_AUTH);
			pair_free(&p);

			/* From an earlier session (same keys, same card
			 * challenge, other host challenge). */
			WHERE("%s level %02X other session", vname(v),
			    lv[li]);
			pair_open(&p, v, lv[li]);
			n1 = mk_cmd(&cmds[6], plainbuf);
			gp_wr_init(&w, w1, sizeof(w1));
			EQ(gp_scp_wrap(&p.host, plainbuf, n1, &w), 0);
			l1 = w.len;
			pair_init(&q, v, 0);
			q.hc[0] ^= 0x01;
			pair_iu(&q);
			EQ(gp_scp_host_auth(&q.host, &q.ks, q.iu, q.iulen), 0);
			pair_ext_auth(&q, lv[li]);
			EQ(gp_scp_card_ext_auth(&q.card, q.ea, q.ealen), 0);
			/* Replaying session 1's EXTERNAL AUTHENTICATE fails. */
			EQ(gp_scp_card_ext_auth(&q.card, p.ea, p.ealen),
			    GP_ERR_STATE);
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			EQ(gp_scp_card_unwrap(&q.card, w1, l1, &o),
			    GP_ERR_AUTH);
			pair_free(&q);
			pair_free(&p);
		}
	}
}

/* A plain command (no SM bit) in a session with C-MAC. */
static void
test_no_sm_bit(void **state)
{
	static const uint8_t plain[] = { 0x80, 0xCA, 0x00, 0x66, 0x00 };
	static const uint8_t plain3[] = { 0x80, 0xE2, 0x00, 0x00, 0x02, 0xAA,
	    0xBB };
	struct gp_wr o;
	struct pair p;
	size_t a, li, nl;
	const uint8_t *lv;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		levels_of(v, &lv, &nl);
		for (li = 0; li < nl; li++) {
			WHERE("%s level %02X no SM", vname(v), lv[li]);
			pair_open(&p, v, lv[li]);
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			if (lv[li] == 0x00) {
				/* Level 00: commands pass unchanged. */
				EQ(gp_scp_card_unwrap(&p.card, plain3,
				    sizeof(plain3), &o), 0);
				EQ(o.len, sizeof(plain3));
				MEQ(outbuf, plain3, sizeof(plain3));
				pair_free(&p);
				continue;
			}
			EQ(gp_scp_card_unwrap(&p.card, plain, sizeof(plain),
			    &o), GP_ERR_AUTH);
			EQ(o.len, 0);
			EQ(p.card.state, GP_SCP_BROKEN);
			EQ(gp_scp_card_unwrap(&p.card, plain3, sizeof(plain3),
			    &o), GP_ERR_STATE);
			pair_free(&p);
		}
	}
}

/* ---- R-MAC ------------------------------------------------------------- */

static void
test_rmac_flip(void **state)
{
	uint8_t good[512], bad[512];
	struct gp_wr w, o;
	struct pair p;
	size_t a, li, nl, k, n, wn, dn;
	const uint8_t *lv;
	int done;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		levels_of(v, &lv, &nl);
		for (li = 0; li < nl; li++) {
			if (!(lv[li] & GP_SL_RMAC))
				continue;
			for (k = 0, done = 0; !done; k++) {
				pair_open(&p, v, lv[li]);
				n = mk_cmd(&cmds[8], plainbuf);
				xfer_cmd(&p, plainbuf, n);
				gp_wr_init(&w, good, sizeof(good));
				EQ(gp_scp_card_wrap(&p.card, (const uint8_t *)
				    "\x01\x02\x03\x04\x05", 5, 0x9000, &w), 0);
				wn = w.len;
				/* SCP03 leaves SW flips to test_rmac_sw. */
				dn = v->proto == 3 ? wn - 2 : wn;
				if (k >= dn) {
					pair_free(&p);
					break;
				}
				WHERE("%s level %02X R-APDU flip byte %zu",
				    vname(v), lv[li], k);
				memcpy(bad, good, wn);
				bad[k] ^= (uint8_t)(1 << (k % 8));
				gp_wr_init(&o, outbuf, sizeof(outbuf));
				EQ(gp_scp_unwrap(&p.host, bad, wn, &o),
				    GP_ERR_AUTH);
				EQ(o.len, 0);
				EQ(p.host.state, GP_SCP_BROKEN);
				gp_wr_init(&w, wirebuf, sizeof(wirebuf));
				EQ(gp_scp_wrap(&p.host, plainbuf, n, &w),
				    GP_ERR_STATE);
				EQ(gp_scp_unwrap(&p.host, good, wn, &o),
				    GP_ERR_STATE);
				pair_free(&p);
			}
			/* A response without its R-MAC. */
			WHERE("%s level %02X R-MAC missing", vname(v), lv[li]);
			pair_open(&p, v, lv[li]);
			n = mk_cmd(&cmds[1], plainbuf);
			xfer_cmd(&p, plainbuf, n);
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			EQ(gp_scp_unwrap(&p.host, (const uint8_t *)
			    "\x01\x02\x90\x00", 4, &o), GP_ERR_AUTH);
			EQ(o.len, 0);
			EQ(p.host.state, GP_SCP_BROKEN);
			pair_free(&p);
		}
	}
}

/*
 * SCP03: a response with an error SW carries no data and no R-MAC
 * (FORMAT.md). A host in an R-MAC session must not hand out data that
 * came with such an SW: nothing authenticates it. This also covers a bit
 * flipped in the SW of a MACed 9000 response (9000 -> 9001, 8000, ...).
 */
static void
test_rmac_sw(void **state)
{
	uint8_t good[64], bad[64];
	struct gp_wr w, o;
	struct pair p;
	size_t a, li, nl, k, n, wn;
	const uint8_t *lv;
	int r;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		if (v->proto != 3)
			continue;
		levels_of(v, &lv, &nl);
		for (li = 0; li < nl; li++) {
			if (!(lv[li] & GP_SL_RMAC))
				continue;
			WHERE("%s level %02X data with 6A82", vname(v),
			    lv[li]);
			pair_open(&p, v, lv[li]);
			n = mk_cmd(&cmds[1], plainbuf);
			xfer_cmd(&p, plainbuf, n);
			/* Without data, an error SW passes as is. */
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			EQ(gp_scp_unwrap(&p.host, (const uint8_t *)"\x6A\x82",
			    2, &o), 0);
			EQ(o.len, 2);
			MEQ(outbuf, "\x6A\x82", 2);
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			r = gp_scp_unwrap(&p.host, (const uint8_t *)
			    "\xDE\xAD\xBE\xEF\x6A\x82", 6, &o);
			EQ(r == GP_ERR_FORMAT || r == GP_ERR_AUTH, 1);
			EQ(o.len, 0);
			pair_free(&p);

			for (k = 0; k < 16; k++) {
				WHERE("%s level %02X SW flip bit %zu",
				    vname(v), lv[li], k);
				pair_open(&p, v, lv[li]);
				n = mk_cmd(&cmds[1], plainbuf);
				xfer_cmd(&p, plainbuf, n);
				gp_wr_init(&w, good, sizeof(good));
				EQ(gp_scp_card_wrap(&p.card, (const uint8_t *)
				    "\x01\x02\x03", 3, 0x9000, &w), 0);
				wn = w.len;
				memcpy(bad, good, wn);
				bad[wn - 2 + k / 8] ^= (uint8_t)(1 << (k % 8));
				gp_wr_init(&o, outbuf, sizeof(outbuf));
				r = gp_scp_unwrap(&p.host, bad, wn, &o);
				EQ(r == GP_ERR_FORMAT || r == GP_ERR_AUTH, 1);
				EQ(o.len, 0);
				pair_free(&p);
			}
		}
	}
}

/* ---- C-DECRYPTION padding ---------------------------------------------- */

/* SCP03: encrypts pt (no padding added) and MACs it as the host would. */
static size_t
scp03_forge(struct pair *p, const uint8_t *pt, size_t pn, uint8_t *out)
{
	struct gp_scp_keys k;
	struct gp_aes enc, mac;
	uint8_t blk[16] = { 0 }, icv[16], m[16];
	size_t n = 0, s = p->v->s;

	EQ(gp_scp_session_keys(&p->host, &k), 0);
	EQ(gp_aes_init(&enc, k.enc, k.len), 0);
	EQ(gp_aes_init(&mac, k.mac, k.len), 0);
	blk[12] = (uint8_t)(p->card.counter >> 24);
	blk[13] = (uint8_t)(p->card.counter >> 16);
	blk[14] = (uint8_t)(p->card.counter >> 8);
	blk[15] = (uint8_t)p->card.counter;
	EQ(gp_aes_ecb(&enc, blk, icv), 0);
	out[n++] = 0x84;
	out[n++] = 0xE2;
	out[n++] = 0x00;
	out[n++] = 0x00;
	out[n++] = (uint8_t)(pn + s);
	if (pn % 16 == 0)
		EQ(gp_aes_cbc_enc(&enc, icv, pt, pn, out + n), 0);
	else
		memcpy(out + n, pt, pn);
	n += pn;
	EQ(gp_aes_cmac3(&mac, p->card.chain, 16, out, n, NULL, 0, m), 0);
	memcpy(out + n, m, s);
	n += s;
	gp_aes_free(&enc);
	gp_aes_free(&mac);
	gp_wipe(&k, sizeof(k));
	return n;
}

/* SCP02: encrypts pt (no padding added); C-MAC over the plain data md. */
static size_t
scp02_forge(struct pair *p, const uint8_t *pt, size_t pn, const uint8_t *md,
    size_t mdn, uint8_t *out)
{
	struct gp_scp_keys k;
	struct gp_des3 enc, mac;
	uint8_t zero[8] = { 0 }, icv[8], hdr[5] = { 0x84, 0xE2, 0x00, 0x00 };
	size_t n = 0;

	EQ(gp_scp_session_keys(&p->host, &k), 0);
	EQ(gp_des3_init(&enc, k.enc), 0);
	EQ(gp_des3_init(&mac, k.mac), 0);
	/* i = 55: ICV = DES(K1 of S-MAC, previous C-MAC). */
	EQ(gp_des_ecb_k1(&mac, p->card.icv, icv), 0);
	hdr[4] = (uint8_t)(mdn + 8);
	out[n++] = 0x84;
	out[n++] = 0xE2;
	out[n++] = 0x00;
	out[n++] = 0x00;
	out[n++] = (uint8_t)(pn + 8);
	if (pn % 8 == 0)
		EQ(gp_des3_cbc_enc(&enc, zero, pt, pn, out + n), 0);
	else
		memcpy(out + n, pt, pn);
	n += pn;
	EQ(gp_retail_mac(&mac, icv, hdr, 5, md, mdn, out + n), 0);
	n += 8;
	gp_des3_free(&enc);
	gp_des3_free(&mac);
	gp_wipe(&k, sizeof(k));
	return n;
}

struct padcase {
	const char	*pt;		/* plaintext as encrypted */
	int		 rc;
	const char	*plain;		/* what the card returns if rc == 0 */
};

static void
test_bad_padding(void **state)
{
	/* SCP03 (blocks of 16). */
	static const struct padcase c3[] = {
		{ "AABBCC80000000000000000000000000", 0, "80E2000003AABBCC" },
		{ "80000000000000000000000000000000", 0, "80E20000" },
		{ "11111111111111111111111111111111", GP_ERR_FORMAT, NULL },
		{ "00000000000000000000000000000000", GP_ERR_FORMAT, NULL },
		{ "AABBCC80000000000000000000000001", GP_ERR_FORMAT, NULL },
		{ "AABBCC81000000000000000000000000", GP_ERR_FORMAT, NULL },
		{ "AABBCC800000000000", GP_ERR_FORMAT, NULL },	/* 9 bytes */
	};
	/*
	 * SCP02 (blocks of 8); the C-MAC is over AABBCC. Bad padding reads
	 * as GP_ERR_AUTH, like a bad MAC, so the card is no padding oracle.
	 */
	static const struct padcase c2[] = {
		{ "AABBCC8000000000", 0, "80E2000003AABBCC" },
		{ "AABBCC0000000000", GP_ERR_AUTH, NULL },
		{ "0000000000000000", GP_ERR_AUTH, NULL },
		{ "AABBCC8000000001", GP_ERR_AUTH, NULL },
		{ "AABBCC8000", GP_ERR_FORMAT, NULL },		/* 5 bytes */
	};
	static const size_t v3[] = { 2, 13, 25 };
	uint8_t pt[64], want[64], wire[128];
	struct gp_wr o;
	struct pair p;
	size_t i, j, n, pn, wl;

	(void)state;
	for (j = 0; j < sizeof(v3) / sizeof(v3[0]); j++) {
		for (i = 0; i < sizeof(c3) / sizeof(c3[0]); i++) {
			WHERE("%s pad case %zu", vname(&variants[v3[j]]), i);
			pair_open(&p, &variants[v3[j]], 0x03);
			/* Move the counter on first: ICV with counter 2. */
			n = mk_cmd(&cmds[0], plainbuf);
			xfer_cmd(&p, plainbuf, n);
			pn = hex(c3[i].pt, pt, sizeof(pt));
			n = scp03_forge(&p, pt, pn, wire);
			gp_wr_init(&o, outbuf, sizeof(outbuf));
			EQ(gp_scp_card_unwrap(&p.card, wire, n, &o), c3[i].rc);
			if (c3[i].rc == 0) {
				wl = hex(c3[i].plain, want, sizeof(want));
				EQ(o.len, wl);
				MEQ(outbuf, want, wl);
				EQ(p.card.state, GP_SCP_OPEN);
			} else {
				EQ(o.len, 0);
				EQ(p.card.state, GP_SCP_BROKEN);
			}
			pair_free(&p);
		}
	}
	for (i = 0; i < sizeof(c2) / sizeof(c2[0]); i++) {
		WHERE("SCP02 i=55 pad case %zu", i);
		pair_open(&p, &variants[1], 0x03);
		pn = hex(c2[i].pt, pt, sizeof(pt));
		n = scp02_forge(&p, pt, pn, (const uint8_t *)"\xAA\xBB\xCC", 3,
		    wire);
		gp_wr_init(&o, outbuf, sizeof(outbuf));
		EQ(gp_scp_card_unwrap(&p.card, wire, n, &o), c2[i].rc);
		if (c2[i].rc == 0) {
			wl = hex(c2[i].plain, want, sizeof(want));
			EQ(o.len, wl);
			MEQ(outbuf, want, wl);
		} else {
			EQ(o.len, 0);
			EQ(p.card.state, GP_SCP_BROKEN);
		}
		pair_free(&p);
	}
}

/* ---- state machine ----------------------------------------------------- */

static void
test_state(void **state)
{
	static const uint8_t plain[] = { 0x80, 0xCA, 0x00, 0x66, 0x00 };
	struct gp_scp z;
	struct gp_wr w, o;
	struct pair p;
	uint8_t buf[64];
	size_t a;

	(void)state;
	memset(&z, 0, sizeof(z));
	gp_wr_init(&w, buf, sizeof(buf));
	EQ(gp_scp_wrap(&z, plain, sizeof(plain), &w), GP_ERR_STATE);
	EQ(gp_scp_unwrap(&z, (const uint8_t *)"\x90\x00", 2, &w),
	    GP_ERR_STATE);
	EQ(gp_scp_host_ext_auth(&z, 0x01, &w), GP_ERR_STATE);
	EQ(gp_scp_card_ext_auth(&z, plain, sizeof(plain)), GP_ERR_STATE);
	EQ(gp_scp_card_unwrap(&z, plain, sizeof(plain), &w), GP_ERR_STATE);
	EQ(gp_scp_session_keys(&z, &(struct gp_scp_keys){ .len = 0 }),
	    GP_ERR_STATE);
	EQ(w.len, 0);

	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		WHERE("%s state", vname(v));
		pair_init(&p, v, 0);
		pair_iu(&p);
		/* Host: INIT. */
		gp_wr_init(&w, wirebuf, sizeof(wirebuf));
		EQ(gp_scp_wrap(&p.host, plain, sizeof(plain), &w),
		    GP_ERR_STATE);
		EQ(gp_scp_host_ext_auth(&p.host, 0x01, &w), GP_ERR_STATE);
		/* Card: KEYS, no EXTERNAL AUTHENTICATE yet. */
		EQ(gp_scp_card_unwrap(&p.card, plain, sizeof(plain), &w),
		    GP_ERR_STATE);
		/* Role mix-ups. */
		EQ(gp_scp_host_auth(&p.card, &p.ks, p.iu, p.iulen),
		    GP_ERR_STATE);
		EQ(gp_scp_card_ext_auth(&p.host, plain, sizeof(plain)),
		    GP_ERR_STATE);
		EQ(w.len, 0);
		/* Host: KEYS. */
		EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
		EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen),
		    GP_ERR_STATE);
		EQ(p.host.state, GP_SCP_KEYS);
		EQ(gp_scp_wrap(&p.host, plain, sizeof(plain), &w),
		    GP_ERR_STATE);
		EQ(gp_scp_unwrap(&p.host, (const uint8_t *)"\x90\x00", 2, &w),
		    GP_ERR_STATE);
		EQ(w.len, 0);
		/* Before EXTERNAL AUTHENTICATE, a card response is plain. */
		EQ(gp_scp_card_wrap(&p.card, (const uint8_t *)"\x01", 1,
		    0x9000, &w), 0);
		EQ(w.len, 3);
		MEQ(wirebuf, "\x01\x90\x00", 3);
		pair_ext_auth(&p, 0x01);
		EQ(gp_scp_card_ext_auth(&p.card, p.ea, p.ealen), 0);
		/* Open: the host cannot act as the card and vice versa. */
		gp_wr_init(&w, wirebuf, sizeof(wirebuf));
		gp_wr_init(&o, outbuf, sizeof(outbuf));
		EQ(gp_scp_wrap(&p.card, plain, sizeof(plain), &w),
		    GP_ERR_STATE);
		EQ(gp_scp_card_unwrap(&p.host, plain, sizeof(plain), &o),
		    GP_ERR_STATE);
		EQ(gp_scp_card_ext_auth(&p.card, p.ea, p.ealen), GP_ERR_STATE);
		/* An already wrapped command is not wrapped again. */
		EQ(gp_scp_wrap(&p.host, (const uint8_t *)"\x84\xCA\x00\x66", 4,
		    &w), GP_ERR_INVAL);
		/* Malformed plain APDU. */
		EQ(gp_scp_wrap(&p.host, (const uint8_t *)"\x80\xCA\x00", 3,
		    &w), GP_ERR_TRUNC);
		EQ(w.len, 0);
		EQ(p.host.state, GP_SCP_OPEN);
		/* Everything still works after the caller's mistakes. */
		WHERE("%s state after refusals", vname(v));
		xfer_cmd(&p, plain, sizeof(plain));
		/* A truncated answer from the card ends the host session. */
		EQ(gp_scp_unwrap(&p.host, (const uint8_t *)"\x90", 1, &o),
		    GP_ERR_TRUNC);
		EQ(o.len, 0);
		EQ(p.host.state, GP_SCP_BROKEN);
		EQ(gp_scp_wrap(&p.host, plain, sizeof(plain), &w),
		    GP_ERR_STATE);
		pair_free(&p);
		/* gp_scp_free wipes the whole struct. */
		{
			static const struct gp_scp zero;

			EQ(memcmp(&p.host, &zero, sizeof(zero)), 0);
			EQ(memcmp(&p.card, &zero, sizeof(zero)), 0);
		}
	}
}

static void
test_card_iu_checks(void **state)
{
	uint8_t cmd[64], rsp[64];
	struct gp_wr w;
	struct pair p;
	size_t n;

	(void)state;
	WHERE("card IU checks");
	pair_init(&p, &variants[14], 0);	/* S16 AES-128 */
	gp_wr_init(&w, cmd, sizeof(cmd));
	EQ(gp_scp_host_init(&p.host, 3, 0x00, 16, 0x30, p.hc, &w), 0);
	n = w.len;
	EQ(n, 22);
	gp_wr_init(&w, rsp, sizeof(rsp));
	cmd[1] = 0x51;
	EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, n, &w),
	    GP_ERR_FORMAT);
	cmd[1] = 0x50;
	cmd[3] = 0x01;
	EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, n, &w),
	    GP_ERR_FORMAT);
	cmd[3] = 0x00;
	cmd[0] = 0x00;
	EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, n, &w),
	    GP_ERR_FORMAT);
	cmd[0] = 0x80;
	EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, n - 2, &w),
	    GP_ERR_TRUNC);
	EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, 3, &w),
	    GP_ERR_TRUNC);
	/* An S8 challenge to an S16 card. */
	cmd[4] = 8;
	cmd[13] = 0x00;
	EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, 14, &w),
	    GP_ERR_FORMAT);
	EQ(w.len, 0);
	/* SCP02 with s != 8 and an unknown protocol. */
	p.cfg.proto = 2;
	cmd[4] = 16;
	EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, n, &w),
	    GP_ERR_INVAL);
	p.cfg.proto = 1;
	EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, n, &w),
	    GP_ERR_UNSUPPORTED);
	EQ(w.len, 0);
	/* Host: S must be 8 or 16; SCP02 takes 8 only. */
	gp_wr_init(&w, cmd, sizeof(cmd));
	EQ(gp_scp_host_init(&p.host, 3, 0x00, 12, 0x30, p.hc, &w),
	    GP_ERR_INVAL);
	EQ(gp_scp_host_init(&p.host, 2, 0x55, 16, 0x30, p.hc, &w),
	    GP_ERR_INVAL);
	EQ(gp_scp_host_init(&p.host, 1, 0x55, 8, 0x30, p.hc, &w),
	    GP_ERR_UNSUPPORTED);
	EQ(w.len, 0);
	pair_free(&p);
}

/* ---- pseudo-random card challenge --------------------------------------- */

static void
test_prand_challenge(void **state)
{
	uint8_t pred[16], other[16], key[32];
	struct pair p, q;
	size_t a;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		if (v->proto != 3)
			continue;
		WHERE("%s challenge", vname(v));
		pair_init(&p, v, 1);
		pair_iu(&p);
		if (!(v->i & GP_SCP03_I_PRAND)) {
			/* Random challenge, no sequence counter. */
			EQ(p.iulen, 13u + 2u * v->s);
			pair_init(&q, v, 1);
			pair_iu(&q);
			EQ(memcmp(p.iu + 13, q.iu + 13, v->s) != 0, 1);
			EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
			pair_free(&q);
			pair_free(&p);
			continue;
		}
		/* The host predicts it from K-ENC, the counter and the AID. */
		EQ(p.iulen, 16u + 2u * v->s);
		MEQ(p.iu + 13 + 2 * v->s, "\x00\x01\x2A", 3);
		EQ(gp_scp03_card_challenge(p.ks.enc, v->klen, v->s, 0x00012A,
		    p.aid, sizeof(p.aid), pred), 0);
		MEQ(p.iu + 13, pred, v->s);
		MEQ(p.card.card_challenge, pred, v->s);
		EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
		MEQ(p.host.card_challenge, pred, v->s);
		MEQ(p.host.seq, "\x00\x01\x2A", 3);
		/* The next counter gives another challenge. */
		EQ(gp_scp03_card_challenge(p.ks.enc, v->klen, v->s, 0x00012B,
		    p.aid, sizeof(p.aid), other), 0);
		EQ(memcmp(pred, other, v->s) != 0, 1);
		pair_free(&p);
	}
	/*
	 * Known answer, K-ENC = 603DEB10...0914DFF4 (AES-256), seq 000001,
	 * AID A000000151000000, S8:
	 *   printf %s 00000000000000000000000200004001000001A000000151000000 |
	 *   xxd -r -p | openssl mac -cipher AES-256-CBC \
	 *   -macopt hexkey:<K-ENC> CMAC
	 * -> E899A97739CD6320D349D100BC4C388D, first 8 bytes.
	 */
	WHERE("challenge KAT");
	hex("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4",
	    key, sizeof(key));
	EQ(gp_scp03_card_challenge(key, 32, 8, 1, (const uint8_t *)
	    "\xA0\x00\x00\x01\x51\x00\x00\x00", 8, pred), 0);
	hex("E899A97739CD6320", other, sizeof(other));
	MEQ(pred, other, 8);
	EQ(gp_scp03_card_challenge(key, 32, 12, 1, NULL, 0, pred),
	    GP_ERR_INVAL);
	EQ(gp_scp03_card_challenge(key, 32, 8, 1, key, 17, pred),
	    GP_ERR_INVAL);
	EQ(gp_scp03_card_challenge(key, 20, 8, 1, NULL, 0, pred),
	    GP_ERR_INVAL);
}

/* ---- independent known answers ----------------------------------------- */

#define K128	"404142434445464748494A4B4C4D4E4F"

/* Session with K-ENC = K-MAC = K-DEK = K128, hc 0001..07, cc 0809..0F. */
static void
kat03_open(struct pair *p, const struct variant *v, uint8_t level)
{
	pair_init(p, v, 0);
	hex(K128, p->ks.enc, 16);
	hex(K128, p->ks.mac, 16);
	hex(K128, p->ks.dek, 16);
	hex("0001020304050607", p->hc, 8);
	hex("08090A0B0C0D0E0F", p->cc, 8);
	pair_iu(p);
	EQ(gp_scp_host_auth(&p->host, &p->ks, p->iu, p->iulen), 0);
	pair_ext_auth(p, level);
	EQ(gp_scp_card_ext_auth(&p->card, p->ea, p->ealen), 0);
}

/* Wraps plain (hex) on the host and compares the wire with want (hex). */
static void
kat_cmd(struct pair *p, const char *plain, const char *want)
{
	uint8_t pl[64], wn[64];
	size_t n, wl;
	struct gp_wr w, o;

	n = hex(plain, pl, sizeof(pl));
	wl = hex(want, wn, sizeof(wn));
	gp_wr_init(&w, wirebuf, sizeof(wirebuf));
	EQ(gp_scp_wrap(&p->host, pl, n, &w), 0);
	EQ(w.len, wl);
	MEQ(wirebuf, wn, wl);
	gp_wr_init(&o, outbuf, sizeof(outbuf));
	EQ(gp_scp_card_unwrap(&p->card, wn, wl, &o), 0);
	EQ(o.len, n);
	MEQ(outbuf, pl, n);
}

/*
 * SCP03 S8 AES-128 i=00, level 03, openssl CLI only:
 *   cm() { printf %s "$2" | xxd -r -p |
 *       openssl mac -cipher AES-128-CBC -macopt hexkey:$1 CMAC; }
 *   Z=0000000000000000000000; CTX=000102030405060708090A0B0C0D0E0F
 *   SENC=$(cm $K ${Z}0400008001$CTX)   SMAC=$(cm $K ${Z}0600008001$CTX)
 *   SRMAC=$(cm $K ${Z}0700008001$CTX)
 *   CARD=$(cm $SMAC ${Z}0000004001$CTX | cut -c1-16)   (HOST: constant 01)
 *   M=$(cm $SMAC 00000000000000000000000000000000 8482030010$HOST)
 *   command data: ICV=AES-ECB(SENC, counter as 16 bytes) with
 *     openssl enc -aes-128-ecb -K $SENC -nopad, then
 *     openssl enc -aes-128-cbc -K $SENC -iv $ICV -nopad over pad80(data)
 *   C-MAC: M=$(cm $SMAC $M<header with Lc'><encrypted data>), first 8 bytes.
 * The third command is encrypted with counter 3: the case-1 command in
 * between used counter 2.
 */
static void
test_kat_scp03_counter(void **state)
{
	struct gp_scp_keys k;
	uint8_t want[64];
	struct pair p;

	(void)state;
	WHERE("SCP03 KAT level 03");
	kat03_open(&p, &variants[2], 0x03);
	hex("114F6BC5052C5228", want, sizeof(want));
	MEQ(p.iu + 21, want, 8);
	hex("8482030010FAFA93C2EDE6246363E5F7F00D7DB617", want, sizeof(want));
	EQ(p.ealen, 21);
	MEQ(p.ea, want, 21);
	EQ(gp_scp_session_keys(&p.host, &k), 0);
	EQ(k.len, 16);
	hex("EB845BBC703969A9B312A5F8E4834AA2", want, sizeof(want));
	MEQ(k.enc, want, 16);
	hex("94D9141C5E50A39EF3939B9A4616C910", want, sizeof(want));
	MEQ(k.mac, want, 16);
	hex("F034ED3222D3466EE1531F3FA3561DEF", want, sizeof(want));
	MEQ(k.rmac, want, 16);
	hex(K128, want, sizeof(want));
	MEQ(k.dek, want, 16);
	gp_wipe(&k, sizeof(k));

	EQ(p.host.counter, 1);
	kat_cmd(&p, "80E2000003010203",
	    "84E2000018468C2976D9927FE84F80DEE2C1AA282AAC95E28C0605DFF2");
	EQ(p.host.counter, 2);
	EQ(p.card.counter, 2);
	kat_cmd(&p, "80CA0066", "84CA0066087F2EBC3A2872DCCD");
	EQ(p.host.counter, 3);
	EQ(p.card.counter, 3);
	kat_cmd(&p, "80E2000003040506",
	    "84E2000018096225F70FD832A65DD78D6CBFAB63E8270AAA3397C9985C");
	EQ(p.host.counter, 4);
	EQ(p.card.counter, 4);
	pair_free(&p);
}

/*
 * Same keys, level 33. R-ENC: ICV = AES-ECB(SENC, 80 00..00 01), data =
 * AES-CBC(SENC, ICV, pad80(AABBCC)); R-MAC = first 8 bytes of
 * cm $SRMAC <chain after the command's C-MAC><encrypted data>9000.
 */
static void
test_kat_scp03_renc(void **state)
{
	uint8_t want[64];
	struct gp_wr w, o;
	/* i = 60: R-MAC and R-ENC advertised, the challenge still given
	 * (the cryptograms do not depend on i). */
	static const struct variant v60 = { 3, 0x60, 8, 16 };
	struct pair p;

	(void)state;
	WHERE("SCP03 KAT level 33");
	kat03_open(&p, &v60, 0x33);
	hex("8482330010FAFA93C2EDE62463CB51E38EC18EB00B", want, sizeof(want));
	MEQ(p.ea, want, 21);
	kat_cmd(&p, "80E2000003010203",
	    "84E2000018468C2976D9927FE84F80DEE2C1AA282AEF1FA0A3A0EB4870");
	gp_wr_init(&w, wirebuf, sizeof(wirebuf));
	EQ(gp_scp_card_wrap(&p.card, (const uint8_t *)"\xAA\xBB\xCC", 3,
	    0x9000, &w), 0);
	hex("EDE8A3BD532409F9AE47237F9EE046801EF92984AAD327AB9000", want,
	    sizeof(want));
	EQ(w.len, 26);
	MEQ(wirebuf, want, 26);
	gp_wr_init(&o, outbuf, sizeof(outbuf));
	EQ(gp_scp_unwrap(&p.host, want, 26, &o), 0);
	EQ(o.len, 5);
	MEQ(outbuf, "\xAA\xBB\xCC\x90\x00", 5);
	pair_free(&p);
}

/*
 * SCP02 i=55, level 03, K-ENC = K-MAC = K-DEK = K128, seq 0001, hc
 * 0001020304050607, card challenge 08090A0B0C0D, openssl CLI only:
 *   kdf() { printf $1${SEQ}000000000000000000000000 | xxd -r -p |
 *       openssl enc -des-ede-cbc -K $K -iv 0000000000000000 -nopad | h; }
 *   SENC=$(kdf 0182) SMAC=$(kdf 0101) SRMAC=$(kdf 0102) SDEK=$(kdf 0181)
 *   card / host cryptogram: last block of des-ede-cbc(SENC, IV 0) over
 *     pad80(hc|seq|cc) / pad80(seq|cc|hc)
 *   retail MAC: des-cbc (-provider legacy -provider default, K1 of SMAC)
 *     over all blocks but the last, then des-ede-cbc(SMAC) on the last
 *   ICV of each command: openssl enc -des-ecb -K <K1 of SMAC> over the
 *     previous C-MAC; data: des-ede-cbc(SENC, IV 0, pad80(data)).
 */
static void
test_kat_scp02(void **state)
{
	struct gp_scp_keys k;
	uint8_t want[64];
	struct pair p;

	(void)state;
	WHERE("SCP02 KAT");
	pair_init(&p, &variants[1], 0);
	hex(K128, p.ks.enc, 16);
	hex(K128, p.ks.mac, 16);
	hex(K128, p.ks.dek, 16);
	hex("0001020304050607", p.hc, 8);
	hex("08090A0B0C0D", p.cc, 6);
	p.cfg.seq = 1;
	pair_iu(&p);
	hex("0001" "08090A0B0C0D" "9D8DA672F05C4E45", want, sizeof(want));
	MEQ(p.iu + 12, want, 16);
	EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
	pair_ext_auth(&p, 0x03);
	hex("8482030010E87E4C9E45C47F7937BA873E0E37B968", want, sizeof(want));
	MEQ(p.ea, want, 21);
	EQ(gp_scp_card_ext_auth(&p.card, p.ea, p.ealen), 0);
	EQ(gp_scp_session_keys(&p.card, &k), 0);
	hex("25C9794A1205FF244F5FA0378D2F8D59", want, sizeof(want));
	MEQ(k.enc, want, 16);
	hex("9BED98891580C3B245FE9EC58BFA8D2A", want, sizeof(want));
	MEQ(k.mac, want, 16);
	hex("8EB6CF25BA4DECD820BF4E9FA616C50A", want, sizeof(want));
	MEQ(k.rmac, want, 16);
	hex("0E51FDF196141F227A57BD154012FD39", want, sizeof(want));
	MEQ(k.dek, want, 16);
	gp_wipe(&k, sizeof(k));
	kat_cmd(&p, "80E2000003010203",
	    "84E2000010589E08B9A3BE11BE78FDFE30FAC81FF9");
	kat_cmd(&p, "80CA006600", "84CA006608B60161A4DEE52B7100");
	pair_free(&p);
}

/* gp_scp_from_session_keys sessions talk to each other. */
static void
test_from_session_keys(void **state)
{
	uint8_t enc[32], mac[32], rmac[32];
	struct pair p;
	size_t n, j;

	(void)state;
	for (j = 0; j < 32; j++) {
		enc[j] = (uint8_t)j;
		mac[j] = (uint8_t)(0x20 + j);
		rmac[j] = (uint8_t)(0x40 + j);
	}
	WHERE("from_session_keys");
	memset(&p, 0, sizeof(p));
	p.v = &variants[25];	/* S16 AES-256 i=70 */
	EQ(gp_scp_from_session_keys(&p.host, 3, GP_SCP_HOST, 0x70, 16, 0x33,
	    enc, mac, rmac, 32), 0);
	EQ(gp_scp_from_session_keys(&p.card, 3, GP_SCP_CARD, 0x70, 16, 0x33,
	    enc, mac, rmac, 32), 0);
	n = mk_cmd(&cmds[11], plainbuf);
	xfer_cmd(&p, plainbuf, n);
	xfer_rsp(&p, 17, 0x9000);
	n = mk_cmd(&cmds[0], plainbuf);
	xfer_cmd(&p, plainbuf, n);
	EQ(p.card.counter, 3);
	pair_free(&p);
	p.v = &variants[1];
	EQ(gp_scp_from_session_keys(&p.host, 2, GP_SCP_HOST, 0x55, 8, 0x13,
	    enc, mac, rmac, 16), 0);
	EQ(gp_scp_from_session_keys(&p.card, 2, GP_SCP_CARD, 0x55, 8, 0x13,
	    enc, mac, rmac, 16), 0);
	n = mk_cmd(&cmds[11], plainbuf);
	xfer_cmd(&p, plainbuf, n);
	xfer_rsp(&p, 17, 0x9000);
	pair_free(&p);
	EQ(gp_scp_from_session_keys(&p.host, 2, GP_SCP_HOST, 0x55, 8, 0x01,
	    enc, mac, rmac, 24), GP_ERR_INVAL);
	gp_scp_free(&p.host);
	EQ(gp_scp_from_session_keys(&p.host, 3, GP_SCP_HOST, 0x00, 8, 0x02,
	    enc, mac, rmac, 16), GP_ERR_INVAL);
	gp_scp_free(&p.host);
	EQ(gp_scp_from_session_keys(&p.host, 3, GP_SCP_HOST, 0x00, 8, 0x01,
	    enc, mac, rmac, 20), GP_ERR_INVAL);
	gp_scp_free(&p.host);
}

/*
 * Key version: the card refuses a KVN it does not hold (6A88 territory);
 * the host refuses a response naming another KVN than the one it asked
 * for. KVN 00 means "the default key set" and takes whatever comes.
 */
static void
test_kvn(void **state)
{
	uint8_t cmd[64], rsp[64];
	struct gp_wr w, rw;
	struct pair p;
	size_t a;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		WHERE("%s kvn", vname(v));
		pair_init(&p, v, 0);
		gp_wr_init(&w, cmd, sizeof(cmd));
		EQ(gp_scp_host_init(&p.host, v->proto, v->i, v->s,
		    (uint8_t)(p.ks.kvn + 1), p.hc, &w), 0);
		gp_wr_init(&rw, rsp, sizeof(rsp));
		EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, w.len,
		    &rw), GP_ERR_NOTFOUND);
		EQ(rw.len, 0);
		pair_free(&p);

		/* The card answers KVN 00 with its key set's version. */
		pair_init(&p, v, 0);
		gp_wr_init(&w, cmd, sizeof(cmd));
		EQ(gp_scp_host_init(&p.host, v->proto, v->i, v->s, 0x00, p.hc,
		    &w), 0);
		gp_wr_init(&rw, rsp, sizeof(rsp));
		EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, w.len,
		    &rw), 0);
		EQ(rsp[10], p.ks.kvn);
		EQ(gp_scp_host_auth(&p.host, &p.ks, rsp, rw.len - 2), 0);
		pair_free(&p);

		/* A host that asked for KVN k refuses an answer for k + 1. */
		pair_init(&p, v, 0);
		pair_iu(&p);
		p.host.kvn = (uint8_t)(p.ks.kvn - 1);
		EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen),
		    GP_ERR_FORMAT);
		EQ(p.host.state, GP_SCP_BROKEN);
		pair_free(&p);
	}
}

/* A wrapped command that does not even parse ends the card's session. */
static void
test_unparsable_breaks(void **state)
{
	static const uint8_t bad[] = { 0x84, 0xE2, 0x00, 0x00, 0x20, 0x01 };
	struct gp_wr o;
	struct pair p;
	size_t a;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		WHERE("%s unparsable", vname(&variants[a]));
		pair_open(&p, &variants[a], 0x01);
		gp_wr_init(&o, outbuf, sizeof(outbuf));
		EQ(gp_scp_card_unwrap(&p.card, bad, sizeof(bad), &o),
		    GP_ERR_TRUNC);
		EQ(p.card.state, GP_SCP_BROKEN);
		EQ(o.len, 0);
		pair_free(&p);
	}
}

/*
 * SCP02 i = 55: with no challenge given, the card derives it from the SD
 * AID (pseudo-random) and the host predicts it; i = 15 stays random. The
 * expected MAC is recomputed here from the C-MAC session key with the
 * primitives (retail MAC, zero ICV, over pad80(AID)).
 */
static void
test_scp02_prand(void **state)
{
	static const uint8_t aid[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00,
	    0x00, 0x00 };
	uint8_t cmd[64], rsp[64], want[6], smac[16], m[8], zero[8] = { 0 };
	uint8_t sq[2];
	struct gp_des3 d;
	struct gp_wr w, rw;
	struct pair p;

	(void)state;
	pair_init(&p, &variants[1], 1);	/* SCP02 i = 55 */
	assert_int_equal(p.v->i, 0x55);
	p.cfg.sd_aid = aid;
	p.cfg.sd_aid_len = sizeof(aid);
	gp_wr_init(&w, cmd, sizeof(cmd));
	EQ(gp_scp_host_init(&p.host, 2, 0x55, 8, p.ks.kvn, p.hc, &w), 0);
	gp_wr_init(&rw, rsp, sizeof(rsp));
	EQ(gp_scp_card_init_update(&p.card, &p.cfg, &p.ks, cmd, w.len, &rw),
	    0);
	EQ(gp_scp02_card_challenge(p.ks.mac, (uint16_t)p.cfg.seq, aid,
	    sizeof(aid), want), 0);
	MEQ(rsp + 14, want, 6);
	sq[0] = (uint8_t)(p.cfg.seq >> 8);
	sq[1] = (uint8_t)p.cfg.seq;
	EQ(gp_kdf_scp02(p.ks.mac, 0x0101, sq, smac), 0);
	EQ(gp_des3_init(&d, smac), 0);
	EQ(gp_retail_mac(&d, zero, aid, sizeof(aid), NULL, 0, m), 0);
	gp_des3_free(&d);
	MEQ(want, m, 6);
	EQ(gp_scp_host_auth(&p.host, &p.ks, rsp, rw.len - 2), 0);
	pair_free(&p);
}

/*
 * Levels: R-MAC without C-MAC is refused in both protocols (nothing would
 * chain the R-MACs), and SCP03 refuses R-MAC / R-ENC that i does not
 * advertise, on the host and on the card.
 */
static void
test_level_refused(void **state)
{
	static const struct { size_t vi; uint8_t level; } bad[] = {
		{ 0, 0x10 }, { 1, 0x12 }, { 0, 0x02 }, { 0, 0x33 },
		{ 2, 0x11 }, { 3, 0x13 }, { 4, 0x33 }, { 4, 0x31 },
		{ 5, 0x10 }, { 5, 0x30 }, { 5, 0x40 },
	};
	uint8_t ea[64];
	struct gp_wr w;
	struct pair p;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		WHERE("%s level %02X refused", vname(&variants[bad[k].vi]),
		    bad[k].level);
		pair_init(&p, &variants[bad[k].vi], 0);
		pair_iu(&p);
		EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
		gp_wr_init(&w, ea, sizeof(ea));
		EQ(gp_scp_host_ext_auth(&p.host, bad[k].level, &w),
		    GP_ERR_INVAL);
		EQ(w.len, 0);
		pair_free(&p);
	}
	/* Card side: an EXTERNAL AUTHENTICATE for 11 on an i = 00 card. */
	pair_init(&p, &variants[2], 0);
	pair_iu(&p);
	EQ(gp_scp_host_auth(&p.host, &p.ks, p.iu, p.iulen), 0);
	p.host.i = 0x30;	/* a host that ignores what the card said */
	pair_ext_auth(&p, 0x11);
	EQ(gp_scp_card_ext_auth(&p.card, p.ea, p.ealen), GP_ERR_INVAL);
	EQ(p.card.state, GP_SCP_BROKEN);
	EQ(p.card.have_keys, 0);
	pair_free(&p);
}

/*
 * The keyd path: session keys computed elsewhere (here: copied out of the
 * card) open the host session; libgp re-verifies the card cryptogram with
 * them, so wrong keys end it before any EXTERNAL AUTHENTICATE.
 */
static void
test_auth_session(void **state)
{
	struct gp_scp_keys k;
	uint8_t ea[64];
	struct gp_wr w;
	struct pair p;
	size_t a;

	(void)state;
	for (a = 0; a < nvariants; a++) {
		const struct variant *v = &variants[a];

		WHERE("%s auth_session", vname(v));
		pair_init(&p, v, 0);
		pair_iu(&p);
		EQ(gp_scp_session_keys(&p.card, &k), 0);
		EQ(gp_scp_host_auth_session(&p.host, &k, p.iu, p.iulen), 0);
		EQ(p.host.state, GP_SCP_KEYS);
		pair_ext_auth(&p, 0x01);
		EQ(gp_scp_card_ext_auth(&p.card, p.ea, p.ealen), 0);
		EQ(gp_scp_host_confirm(&p.host, 0x9000), 0);
		pair_free(&p);

		pair_init(&p, v, 0);
		pair_iu(&p);
		EQ(gp_scp_session_keys(&p.card, &k), 0);
		k.mac[0] ^= 0x02;
		if (v->proto == 2)
			k.enc[0] ^= 0x02;	/* SCP02 cryptograms use S-ENC */
		EQ(gp_scp_host_auth_session(&p.host, &k, p.iu, p.iulen),
		    GP_ERR_AUTH);
		EQ(p.host.state, GP_SCP_BROKEN);
		EQ(p.host.have_keys, 0);
		gp_wr_init(&w, ea, sizeof(ea));
		EQ(gp_scp_host_ext_auth(&p.host, 0x01, &w), GP_ERR_STATE);
		EQ(w.len, 0);
		gp_wipe(&k, sizeof(k));
		pair_free(&p);
	}
	/* A refused EXTERNAL AUTHENTICATE (6300) ends the host session. */
	pair_open(&p, &variants[2], 0x01);
	EQ(gp_scp_host_confirm(&p.host, 0x6300), GP_ERR_AUTH);
	EQ(p.host.state, GP_SCP_BROKEN);
	pair_free(&p);
}

/*
 * A script wrapped whole before any answer: each response unwrapped
 * against the mark taken after its own command (R-MAC, R-ENC), and the
 * live state left where the last wrap put it.
 */
static void
test_marks(void **state)
{
	static const struct { size_t vi; uint8_t level; } cases[] = {
		{ 0, 0x11 }, { 1, 0x13 }, { 5, 0x33 }, { 4, 0x13 },
	};
	uint8_t wires[3][BUFSZ], rsp[3][BUFSZ], cmd[32], out[BUFSZ];
	size_t wl[3], rl[3], k, c, n;
	struct gp_scp_mark m[3];
	uint8_t chain[16];
	struct gp_wr w, o;
	struct pair p;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		WHERE("%s level %02X marks", vname(&variants[cases[c].vi]),
		    cases[c].level);
		pair_open(&p, &variants[cases[c].vi], cases[c].level);
		for (k = 0; k < 3; k++) {
			n = 0;
			cmd[n++] = 0x80; cmd[n++] = 0xCA; cmd[n++] = 0x00;
			cmd[n++] = (uint8_t)(0x60 + k); cmd[n++] = 0x00;
			gp_wr_init(&w, wires[k], BUFSZ);
			EQ(gp_scp_wrap(&p.host, cmd, n, &w), 0);
			wl[k] = w.len;
			EQ(gp_scp_mark_get(&p.host, &m[k]), 0);
		}
		memcpy(chain, p.host.chain, 16);
		/* The card answers each in order, with data. */
		for (k = 0; k < 3; k++) {
			gp_wr_init(&o, out, sizeof(out));
			EQ(gp_scp_card_unwrap(&p.card, wires[k], wl[k], &o), 0);
			gp_wr_init(&w, rsp[k], BUFSZ);
			EQ(gp_scp_card_wrap(&p.card, (const uint8_t *)"\x01\x02\x03",
			    (size_t)k + 1, 0x9000, &w), 0);
			rl[k] = w.len;
		}
		for (k = 0; k < 3; k++) {
			gp_wr_init(&o, out, sizeof(out));
			EQ(gp_scp_unwrap_marked(&p.host, &m[k], rsp[k], rl[k],
			    &o), 0);
			EQ(o.len, k + 3);
			MEQ(out, "\x01\x02\x03", k + 1);
			EQ(out[k + 1], 0x90);
		}
		MEQ(p.host.chain, chain, 16);
		/* Against another command's mark, an R-MAC fails. */
		gp_wr_init(&o, out, sizeof(out));
		EQ(gp_scp_unwrap_marked(&p.host, &m[0], rsp[1], rl[1], &o),
		    GP_ERR_AUTH);
		EQ(p.host.state, GP_SCP_BROKEN);
		pair_free(&p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bad_card_cryptogram),
		cmocka_unit_test(test_wrong_static_key),
		cmocka_unit_test(test_bad_host_cryptogram),
		cmocka_unit_test(test_cmd_bitflip),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_no_sm_bit),
		cmocka_unit_test(test_rmac_flip),
		cmocka_unit_test(test_rmac_sw),
		cmocka_unit_test(test_bad_padding),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_card_iu_checks),
		cmocka_unit_test(test_prand_challenge),
		cmocka_unit_test(test_kat_scp03_counter),
		cmocka_unit_test(test_kat_scp03_renc),
		cmocka_unit_test(test_kat_scp02),
		cmocka_unit_test(test_from_session_keys),
		cmocka_unit_test(test_kvn),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_auth_session),
		cmocka_unit_test(test_level_refused),
		cmocka_unit_test(test_scp02_prand),
		cmocka_unit_test(test_unparsable_breaks),
	};

	variants_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
