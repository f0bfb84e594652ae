/*
 * tsm-keyd's predict request (SCP03 pseudo-random card challenge) through
 * a real keyd on a temporary SoftHSMv2 token. The predicted INITIALIZE
 * UPDATE answer is checked against what was never computed by keyd:
 * answers recorded from real cards (../shared/vectors, kaoh SCP03
 * sessions with their SD AID), libgp's card role and libcardsim, byte
 * for byte; the EXTERNAL AUTHENTICATE and a wrapped command built from
 * the prediction, before the card is reached, are accepted by the card.
 * The session keys equal what open answers for the predicted response.
 * Every invalid field is refused, by the client (nothing is sent) and by
 * keyd itself for frames that bypass the client.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cardsim.h"
#include "gp/buf.h"
#include "gp/kdf.h"
#include "gp/scp.h"
#include "keyd_env.h"
#include "keys.h"
#include "keys_proto.h"
#include "vecread.h"

#define KVN	0x31

static struct keyd_env env;
static struct keys_client cl;

/* Not GP's default ISD AID: the AID really is what the card answers on. */
static const uint8_t SD_AID[9] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x53,
    0x50, 0x41, 0x43 };
static const uint8_t KDD[GP_KDD_LEN] = { 0x00, 0x00, 0x47, 0x11, 0x08,
    0x15, 0xA5, 0x5A, 0x01, 0x02 };

/* Key sets of the card tests: static keys in the HSM, or KDF3 masters. */
struct kset {
	const char	*label;
	int		 kdf3;
	size_t		 len;
};

static const struct kset KSETS[] = {
	{ "p-static128", 0, 16 },
	{ "p-static192", 0, 24 },
	{ "p-static256", 0, 32 },
	{ "p-kdf3-128", 1, 16 },
	{ "p-kdf3-256", 1, 32 },
};
#define NKSETS	(sizeof(KSETS) / sizeof(KSETS[0]))

static const uint8_t I_PRAND[3] = { 0x10, 0x30, 0x70 };

/* Distinct ENC, MAC, DEK (t = 1..3) so a key mixed up shows. */
static void
key_value(const struct kset *k, int t, uint8_t *v)
{
	size_t j;

	for (j = 0; j < k->len; j++)
		v[j] = (uint8_t)(0x20 * t + 3 * j + k->len);
}

static int
import_ksets(void)
{
	uint8_t v[32];
	size_t n;
	int t;

	for (n = 0; n < NKSETS; n++) {
		const struct kset *k = &KSETS[n];

		if (k->kdf3) {
			key_value(k, 0, v);
			if (env_import(&cl, k->label, KVN, KEYS_ROLE_MASTER,
			    GP_DIV_KDF3, KEYS_ALG_AES, v, k->len) != 0)
				return -1;
			continue;
		}
		for (t = GP_KEY_ENC; t <= GP_KEY_DEK; t++) {
			key_value(k, t, v);
			if (env_import(&cl, k->label, KVN,
			    KEYS_ROLE_ENC + t - 1, GP_DIV_NONE, KEYS_ALG_AES, v,
			    k->len) != 0)
				return -1;
		}
	}
	return 0;
}

static int
up(void **state)
{
	static const uint8_t des[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
	    0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };

	if (env_up(&env, &cl, 5000) != 0)
		return -1;
	if (import_ksets() != 0)
		return -1;
	/* an SCP02 key set: predict is for SCP03 only */
	return env_import(&cl, "p-des", KVN, KEYS_ROLE_MASTER, GP_DIV_EMV,
	    KEYS_ALG_DES3, des, 16) == 0 ? 0 : -1;
}

static int
down(void **state)
{
	env_down(&env, &cl);
	return 0;
}

/* The card's static keys, computed in software (libgp), not by keyd. */
static void
card_keys(const struct kset *k, struct gp_keyset *g)
{
	uint8_t v[32];

	memset(g, 0, sizeof(*g));
	if (k->kdf3) {
		key_value(k, 0, v);
		assert_int_equal(gp_keyset_diversify(g, GP_DIV_KDF3, v, k->len,
		    KDD), 0);
	} else {
		key_value(k, GP_KEY_ENC, g->enc);
		key_value(k, GP_KEY_MAC, g->mac);
		key_value(k, GP_KEY_DEK, g->dek);
		g->len = k->len;
	}
	g->kvn = KVN;
}

static void
predict_req(struct keys_predict_req *p, const char *label, uint8_t i,
    uint8_t s, uint32_t seq, const uint8_t *hc)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->version = KVN;
	p->i = i;
	p->s = s;
	p->kdd = KDD;
	p->seq = seq;
	p->host_challenge = hc;
	p->sd_aid = SD_AID;
	p->aidlen = sizeof(SD_AID);
}

static void
session_equal(const struct keys_session *a, const struct keys_session *b)
{
	assert_int_equal(a->len, b->len);
	assert_int_equal(a->s, b->s);
	assert_memory_equal(a->enc, b->enc, a->len);
	assert_memory_equal(a->mac, b->mac, a->len);
	assert_memory_equal(a->rmac, b->rmac, a->len);
	assert_memory_equal(a->host_cryptogram, b->host_cryptogram, a->s);
}

/* ---- predicted, then opened: the same session ------------------------ */

static void
predict_open(const struct kset *k, uint8_t i, uint8_t s, uint32_t seq)
{
	struct keys_predict_req p;
	struct keys_session pk, ok;
	uint8_t hc[16], rsp[64];
	size_t n;

	memset(hc, 0xC3 ^ i, sizeof(hc));
	predict_req(&p, k->label, i, s, seq, hc);
	assert_int_equal(keys_predict_channel(&cl, &p, rsp, sizeof(rsp), &n,
	    &pk), 0);
	assert_int_equal(n, 16 + 2 * (size_t)s);
	assert_int_equal(pk.len, k->len);
	/* open checks the challenge (the AID is given) and the cryptogram */
	assert_int_equal(keys_open_channel_aid(&cl, k->label, KVN, 3, i, s, hc,
	    rsp, n, SD_AID, sizeof(SD_AID), &ok), 0);
	session_equal(&pk, &ok);
	keys_session_wipe(&ok);
	/* with another AID the challenge is not the card's */
	assert_int_equal(keys_open_channel_aid(&cl, k->label, KVN, 3, i, s, hc,
	    rsp, n, KDD, 8, &ok), KEYS_ERR_CARD_CHALLENGE);
	keys_session_wipe(&pk);
}

/* fn over every key set and i, with s 8 (counter seq8) then s 16 (seq16). */
static void
each_case(void (*fn)(const struct kset *, uint8_t, uint8_t, uint32_t),
    uint32_t seq8, uint32_t seq16)
{
	size_t k, j;

	for (k = 0; k < NKSETS; k++)
		for (j = 0; j < sizeof(I_PRAND); j++) {
			fn(&KSETS[k], I_PRAND[j], 8, seq8);
			fn(&KSETS[k], I_PRAND[j], 16, seq16);
		}
}

static void
test_predict_then_open(void **state)
{
	each_case(predict_open, 0x00002A, 0x012345);
}

/* ---- against the card role ------------------------------------------- */

/* libgp's card role answers INITIALIZE UPDATE; n without the SW. */
static size_t
gp_card_answer(const struct gp_keyset *g, uint8_t i, uint8_t s, uint32_t seq,
    const uint8_t *hc, uint8_t *rsp)
{
	struct gp_scp_card_cfg cfg;
	struct gp_scp card;
	uint8_t iu[5 + 16 + 1];
	struct gp_wr w;

	memset(&cfg, 0, sizeof(cfg));
	cfg.proto = 3;
	cfg.i = i;
	cfg.s = s;
	memcpy(cfg.kdd, KDD, GP_KDD_LEN);
	cfg.seq = seq;
	cfg.sd_aid = SD_AID;
	cfg.sd_aid_len = sizeof(SD_AID);
	memcpy(iu, "\x80\x50\x00\x00", 4);
	iu[2] = KVN;
	iu[4] = s;
	memcpy(iu + 5, hc, s);
	iu[5 + s] = 0x00;
	memset(&card, 0, sizeof(card));
	gp_wr_init(&w, rsp, 64);
	assert_int_equal(gp_scp_card_init_update(&card, &cfg, g, iu,
	    6 + (size_t)s, &w), 0);
	gp_scp_free(&card);
	assert_true(w.len > 2);
	assert_memory_equal(rsp + w.len - 2, "\x90\x00", 2);
	return w.len - 2;
}

static struct sim_card *
card_open(const struct gp_keyset *g, uint8_t i, uint8_t s, uint32_t seq)
{
	struct sim_card *c = NULL;
	struct sim_opts so;
	struct sim_keys k;

	memset(&so, 0, sizeof(so));
	memset(&k, 0, sizeof(k));
	k.proto = 3;
	k.i = i;
	k.s = s;
	k.kvn = KVN;
	k.enc = g->enc;
	k.mac = g->mac;
	k.dek = g->dek;
	k.len = g->len;
	k.kdd = KDD;
	k.seq = seq;
	k.isd = SD_AID;
	k.isd_len = sizeof(SD_AID);
	assert_int_equal(sim_card_open_keys(&so, &k, &c), 0);
	return c;
}

/* One command to the simulated card; the SW must be 9000. */
static size_t
card_xmit(struct sim_card *c, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t cap)
{
	size_t rn = 0;

	assert_int_equal(sim_card_transmit(c, cmd, n, rsp, cap, &rn), 0);
	assert_true(rn >= 2);
	if (rsp[rn - 2] != 0x90 || rsp[rn - 1] != 0x00)
		fail_msg("card answered SW %02X%02X", rsp[rn - 2], rsp[rn - 1]);
	return rn;
}

/*
 * The script a TSM sends in one go: SELECT, INITIALIZE UPDATE, EXTERNAL
 * AUTHENTICATE and GET STATUS, all built from the prediction alone.
 */
static void
card_case(const struct kset *k, uint8_t i, uint8_t s, uint32_t seq)
{
	static const uint8_t getstatus[] = { 0x80, 0xF2, 0x80, 0x02, 0x02,
	    0x4F, 0x00, 0x00 };
	uint8_t hc[16], rsp[64], ref[64], ea[64], gs[64], sel[32], iu[32];
	uint8_t out[300], plain[300];
	struct keys_predict_req p;
	struct keys_session ks;
	struct gp_keyset g;
	struct gp_scp scp;
	struct sim_card *c;
	struct gp_wr w, wg;
	size_t n, rn;

	memset(hc, 0x5A ^ (uint8_t)seq, sizeof(hc));
	predict_req(&p, k->label, i, s, seq, hc);
	assert_int_equal(keys_predict_channel(&cl, &p, rsp, sizeof(rsp), &n,
	    &ks), 0);
	memset(&scp, 0, sizeof(scp));
	gp_wr_init(&w, ea, sizeof(ea));
	assert_int_equal(keys_session_start(&ks, 3, i, KVN, hc, rsp, n,
	    GP_SL_CMAC | GP_SL_CDEC, &scp, &w), 0);
	gp_wr_init(&wg, gs, sizeof(gs));
	assert_int_equal(gp_scp_wrap(&scp, getstatus, sizeof(getstatus), &wg),
	    0);
	keys_session_wipe(&ks);

	card_keys(k, &g);
	/* libgp's card role */
	assert_int_equal(gp_card_answer(&g, i, s, seq, hc, ref), n);
	assert_memory_equal(ref, rsp, n);
	/* libcardsim, over APDUs */
	c = card_open(&g, i, s, seq);
	gp_keyset_wipe(&g);
	memcpy(sel, "\x00\xA4\x04\x00", 4);
	sel[4] = sizeof(SD_AID);
	memcpy(sel + 5, SD_AID, sizeof(SD_AID));
	sel[5 + sizeof(SD_AID)] = 0x00;
	card_xmit(c, sel, 6 + sizeof(SD_AID), out, sizeof(out));
	memcpy(iu, "\x80\x50\x00\x00", 4);
	iu[2] = KVN;
	iu[4] = s;
	memcpy(iu + 5, hc, s);
	iu[5 + s] = 0x00;
	rn = card_xmit(c, iu, 6 + (size_t)s, out, sizeof(out));
	assert_int_equal(rn - 2, n);
	assert_memory_equal(out, rsp, n);
	card_xmit(c, ea, w.len, out, sizeof(out));
	rn = card_xmit(c, gs, wg.len, out, sizeof(out));
	gp_wr_init(&w, plain, sizeof(plain));
	assert_int_equal(gp_scp_unwrap(&scp, out, rn, &w), 0);
	gp_scp_free(&scp);
	sim_card_free(c);
}

static void
test_predict_card_role(void **state)
{
	each_case(card_case, 1, 0x00A55A);
}

/* The last counter a card can answer with, and the first. */
static void
test_predict_seq_boundary(void **state)
{
	struct keys_predict_req p;
	struct keys_session ks;
	uint8_t hc[8], rsp[64];
	size_t n, k;

	for (k = 0; k < NKSETS; k++) {
		card_case(&KSETS[k], 0x10, 8, 0xFFFFFF);
		card_case(&KSETS[k], 0x70, 16, 0xFFFFFF);
		card_case(&KSETS[k], 0x10, 8, 0);
		predict_open(&KSETS[k], 0x30, 8, 0xFFFFFF);
	}
	memset(hc, 0x11, sizeof(hc));
	predict_req(&p, KSETS[0].label, 0x10, 8, 0xFFFFFF, hc);
	assert_int_equal(keys_predict_channel(&cl, &p, rsp, sizeof(rsp), &n,
	    &ks), 0);
	assert_memory_equal(rsp + n - 3, "\xFF\xFF\xFF", 3);
	keys_session_wipe(&ks);
	p.seq = 0x1000000;
	assert_int_equal(keys_predict_channel(&cl, &p, rsp, sizeof(rsp), &n,
	    &ks), KEYS_ERR_INVAL);
	assert_int_equal(n, 0);
}

/* ---- answers recorded from real cards ---------------------------------- */

struct rec_count {
	int	predicted, ext_auth, steps, label;
};

static void
import_static(struct tvec *t, const char *label, uint8_t ver)
{
	static const char *const kn[3] = { "key.enc", "key.mac", "key.dek" };
	uint8_t v[32];
	long n;
	int j;

	for (j = 0; j < 3; j++) {
		n = tvec_hex(t, kn[j], v, sizeof(v));
		assert_true(n > 0);
		assert_int_equal(env_import(&cl, label, ver, KEYS_ROLE_ENC + j,
		    GP_DIV_NONE, KEYS_ALG_AES, v, (size_t)n), 0);
	}
}

/* Wraps the vector's first step with the predicted session. */
static void
rec_step(struct tvec *t, const struct keys_session *ks, const uint8_t *hc,
    const uint8_t *rec, size_t rn, struct rec_count *cnt)
{
	uint8_t b[64], ea[64], lv[1], kvn[1] = { 0 }, plain[300], want[300];
	uint8_t wire[300];
	struct gp_scp scp;
	struct gp_wr w;
	long n, pn, wn;

	if (tvec_hex(t, "level", lv, 1) != 1 ||
	    (n = tvec_hex(t, "expect.ext_auth", b, sizeof(b))) <= 0)
		return;
	(void)tvec_hex(t, "kvn", kvn, 1);
	memset(&scp, 0, sizeof(scp));
	gp_wr_init(&w, ea, sizeof(ea));
	assert_int_equal(keys_session_start(ks, 3, rec[12], kvn[0], hc, rec,
	    rn, lv[0], &scp, &w), 0);
	assert_int_equal(w.len, (size_t)n);
	assert_memory_equal(ea, b, (size_t)n);
	cnt->ext_auth++;
	pn = tvec_hex(t, "step.1.plain", plain, sizeof(plain));
	wn = tvec_hex(t, "step.1.wire", want, sizeof(want));
	if (pn > 0 && wn > 0) {
		gp_wr_init(&w, wire, sizeof(wire));
		assert_int_equal(gp_scp_wrap(&scp, plain, (size_t)pn, &w), 0);
		assert_int_equal(w.len, (size_t)wn);
		assert_memory_equal(wire, want, (size_t)wn);
		cnt->steps++;
	}
	gp_scp_free(&scp);
}

static void
one_recorded(struct tvec *t, void *arg)
{
	static const char *const sk[3] = { "expect.session.enc",
	    "expect.session.mac", "expect.session.rmac" };
	struct rec_count *cnt = arg;
	const char *kind = tvec_get(t, "kind");
	uint8_t hc[16], rec[64], aid[16], rsp[64], b[32];
	struct keys_predict_req p;
	struct keys_session ks;
	char label[16];
	long hn, rn, an, n;
	size_t got;
	uint8_t s = 8;
	int j;

	if (kind == NULL || strcmp(kind, "session.scp03") != 0 ||
	    (an = tvec_hex(t, "sd_aid", aid, sizeof(aid))) <= 0)
		return;
	hn = tvec_hex(t, "host_challenge", hc, sizeof(hc));
	rn = tvec_hex(t, "init_update.rsp", rec, sizeof(rec));
	if (tvec_get(t, "s") != NULL)
		s = (uint8_t)atoi(tvec_get(t, "s"));
	assert_true(hn == s && rn == 16 + 2 * s);
	assert_true(rec[12] & GP_SCP03_I_PRAND);
	snprintf(label, sizeof(label), "rec%d", cnt->label++);
	/* the card's key version is the key set's version in keyd (tsmd) */
	import_static(t, label, rec[GP_KDD_LEN]);
	memset(&p, 0, sizeof(p));
	p.label = label;
	p.version = rec[GP_KDD_LEN];
	p.i = rec[12];
	p.s = s;
	p.kdd = rec;
	p.seq = (uint32_t)rec[rn - 3] << 16 | (uint32_t)rec[rn - 2] << 8 |
	    rec[rn - 1];
	p.host_challenge = hc;
	p.sd_aid = aid;
	p.aidlen = (size_t)an;
	assert_int_equal(keys_predict_channel(&cl, &p, rsp, sizeof(rsp), &got,
	    &ks), 0);
	assert_int_equal(got, (size_t)rn);
	assert_memory_equal(rsp, rec, got);
	cnt->predicted++;
	for (j = 0; j < 3; j++)
		if ((n = tvec_hex(t, sk[j], b, sizeof(b))) > 0)
			assert_memory_equal(j == 0 ? ks.enc : j == 1 ? ks.mac :
			    ks.rmac, b, (size_t)n);
	rec_step(t, &ks, hc, rec, got, cnt);
	keys_session_wipe(&ks);
}

static void
test_predict_recorded_cards(void **state)
{
	struct rec_count cnt = { 0 };
	char path[512];

	snprintf(path, sizeof(path), "%s/scp03/kaoh_scp03_sessions.vec",
	    tvec_dir());
	assert_true(tvec_each(path, one_recorded, &cnt) > 0);
	fprintf(stderr, "recorded cards: %d predicted, %d ext auth, %d steps\n",
	    cnt.predicted, cnt.ext_auth, cnt.steps);
	assert_true(cnt.predicted >= 4);
	assert_true(cnt.ext_auth >= 4);
	assert_true(cnt.steps >= 1);
}

/* ---- refusals ------------------------------------------------------------ */

/* The client refuses p with KEYS_ERR_INVAL and returns nothing. */
static void
client_refuses(const struct keys_predict_req *p, size_t cap, const char *why)
{
	uint8_t rsp[64], zero[sizeof(struct keys_session)];
	struct keys_session ks;
	size_t n = 99;
	int r;

	memset(&ks, 0xAA, sizeof(ks));
	memset(zero, 0, sizeof(zero));
	r = keys_predict_channel(&cl, p, rsp, cap, &n, &ks);
	if (r != KEYS_ERR_INVAL)
		fail_msg("%s: got %d", why, r);
	assert_int_equal(n, 0);
	assert_memory_equal(&ks, zero, sizeof(ks));
}

static void
test_predict_client_refusals(void **state)
{
	static const char *const long_label =
	    "p-static128p-static128p-static128";	/* 33 */
	struct keys_predict_req p, b;
	uint8_t hc[16];
	int before;

	memset(hc, 0x77, sizeof(hc));
	predict_req(&b, KSETS[0].label, 0x10, 8, 7, hc);
	before = env_audit_count(&env, "req=predict");
#define REFUSE(field, value) do {					\
		p = b;							\
		p.field = value;					\
		client_refuses(&p, 64, #field " = " #value);		\
	} while (0)
	REFUSE(label, NULL);
	REFUSE(label, "bad label");
	REFUSE(label, long_label);
	REFUSE(i, 0x00);
	REFUSE(i, 0x60);	/* R-MAC, R-ENC but no pseudo-random bit */
	REFUSE(s, 0);
	REFUSE(s, 12);
	REFUSE(s, 32);
	REFUSE(kdd, NULL);
	REFUSE(seq, 0x1000000);
	REFUSE(seq, 0xFFFFFFFF);
	REFUSE(host_challenge, NULL);
	REFUSE(sd_aid, NULL);
	REFUSE(aidlen, 0);
	REFUSE(aidlen, 4);
	REFUSE(aidlen, 17);
#undef REFUSE
	client_refuses(&b, 31, "cap 31 for s 8");
	p = b;
	p.s = 16;
	client_refuses(&p, 47, "cap 47 for s 16");
	client_refuses(NULL, 64, "no request");
	/* none of them reached keyd */
	assert_int_equal(env_audit_count(&env, "req=predict"), before);
}

/*
 * Sends q as it is (no client checks) and returns keyd's status. After a
 * refusal of the content (not the form) the connection is still usable.
 */
static int
raw_predict(const struct keys_req *q)
{
	static const uint8_t ping[1] = { KEYS_REQ_PING };
	uint8_t body[256], ans[KEYS_MSG_MAX];
	struct gp_wr w;
	size_t n;
	int fd, st;

	gp_wr_init(&w, body, sizeof(body));
	assert_int_equal(keys_req_encode(q, &w), 0);
	fd = env_raw_connect(&env);
	assert_int_equal(keys_frame_send(fd, body, w.len, 3000), 0);
	assert_int_equal(keys_frame_recv(fd, ans, sizeof(ans), &n, 3000), 0);
	assert_true(n >= 1);
	st = -(int)ans[0];
	if (st != 0)
		assert_int_equal(n, 1);		/* a refusal carries nothing */
	if (st != KEYS_ERR_PROTO) {
		assert_int_equal(keys_frame_send(fd, ping, 1, 3000), 0);
		assert_int_equal(keys_frame_recv(fd, ans, sizeof(ans), &n,
		    3000), 0);
		assert_int_equal(n, 1);
		assert_int_equal(ans[0], 0);
	}
	close(fd);
	return st;
}

static void
raw_base(struct keys_req *q, const uint8_t *hc)
{
	memset(q, 0, sizeof(*q));
	q->type = KEYS_REQ_PREDICT;
	snprintf(q->label, sizeof(q->label), "%s", KSETS[0].label);
	q->ver = KVN;
	q->proto = 3;
	q->i = 0x10;
	q->s = 8;
	q->hc = hc;
	q->hclen = 8;
	memcpy(q->kdd, KDD, GP_KDD_LEN);
	q->ctr = 0xFFFFFF;
	q->aid = SD_AID;
	q->aidlen = sizeof(SD_AID);
}

static void
test_predict_keyd_refusals(void **state)
{
	struct keys_predict_req p;
	struct keys_session ks;
	struct keys_req b, q;
	uint8_t hc[16], rsp[64];
	size_t n;

	memset(hc, 0x42, sizeof(hc));
	raw_base(&b, hc);
	assert_int_equal(raw_predict(&b), 0);
	/* content keyd refuses whatever the client did */
	q = b;
	q.i = 0x00;
	assert_int_equal(raw_predict(&q), KEYS_ERR_INVAL);
	q = b;
	q.i = 0x60;
	assert_int_equal(raw_predict(&q), KEYS_ERR_INVAL);
	q = b;
	q.proto = 2;
	assert_int_equal(raw_predict(&q), KEYS_ERR_INVAL);
	q = b;
	q.aidlen = 0;
	assert_int_equal(raw_predict(&q), KEYS_ERR_INVAL);
	q = b;
	q.hclen = 16;	/* s is 8 */
	assert_int_equal(raw_predict(&q), KEYS_ERR_INVAL);
	q = b;
	q.s = 16;	/* host challenge of 8 */
	assert_int_equal(raw_predict(&q), KEYS_ERR_INVAL);
	/* form the parser refuses (and keyd hangs up) */
	q = b;
	q.aidlen = 4;
	assert_int_equal(raw_predict(&q), KEYS_ERR_PROTO);
	q = b;
	q.hclen = 4;
	assert_int_equal(raw_predict(&q), KEYS_ERR_PROTO);
	q = b;
	q.s = 12;
	q.hclen = 12;
	assert_int_equal(raw_predict(&q), KEYS_ERR_PROTO);
	q = b;
	q.ctr = 0x1000000;	/* cannot even be written */
	{
		uint8_t body[256];
		struct gp_wr w;

		gp_wr_init(&w, body, sizeof(body));
		assert_int_equal(keys_req_encode(&q, &w), KEYS_ERR_INVAL);
	}
	/* key sets keyd has no SCP03 answer for */
	predict_req(&p, "p-des", 0x10, 8, 1, hc);
	assert_int_equal(keys_predict_channel(&cl, &p, rsp, sizeof(rsp), &n,
	    &ks), KEYS_ERR_INVAL);
	predict_req(&p, "nope", 0x10, 8, 1, hc);
	assert_int_equal(keys_predict_channel(&cl, &p, rsp, sizeof(rsp), &n,
	    &ks), KEYS_ERR_NOKEY);
	predict_req(&p, KSETS[0].label, 0x10, 8, 1, hc);
	p.version = KVN + 1;
	assert_int_equal(keys_predict_channel(&cl, &p, rsp, sizeof(rsp), &n,
	    &ks), KEYS_ERR_NOKEY);
	assert_int_equal(keys_ping(&cl), 0);
}

/* One line per request, names only: no key, no challenge, no cryptogram. */
static void
test_predict_audit(void **state)
{
	char line[512], hex[65];
	uint8_t v[32];
	size_t k;
	int t;
	FILE *f;

	assert_true(env_audit_count(&env, "req=predict key=p-static128/49 "
	    "result=ok") >= 1);
	assert_true(env_audit_count(&env, "req=predict key=p-kdf3-256/49 "
	    "result=ok") >= 1);
	assert_int_equal(env_audit_count(&env, "req=predict key=p-des/49 "
	    "result=invalid argument"), 1);
	assert_int_equal(env_audit_count(&env, "req=predict key=nope/49 "
	    "result=no such key"), 1);
	f = fopen(env.audit, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		for (k = 0; k < NKSETS; k++)
			for (t = 0; t <= GP_KEY_DEK; t++) {
				key_value(&KSETS[k], t, v);
				gp_hex_encode(v, 16, hex);
				assert_null(strstr(line, hex));
			}
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_predict_then_open),
		cmocka_unit_test(test_predict_card_role),
		cmocka_unit_test(test_predict_seq_boundary),
		cmocka_unit_test(test_predict_recorded_cards),
		cmocka_unit_test(test_predict_client_refusals),
		cmocka_unit_test(test_predict_keyd_refusals),
		cmocka_unit_test(test_predict_audit),
	};

	return cmocka_run_group_tests(tests, up, down);
}
