/*
 * tsm-keyd against the known-answer vectors of ../shared/vectors: card key
 * diversification inside SoftHSMv2 (EMV CPS, VISA2, KDF3) and whole
 * secure channel openings (SCP02, SCP03) through the daemon, down to the
 * EXTERNAL AUTHENTICATE and the wrapped commands. PUT KEY material is
 * compared with libgp's software path over the same keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "gp/buf.h"
#include "gp/kdf.h"
#include "gp/putkey.h"
#include "gp/scp.h"
#include "keyd_env.h"
#include "keys.h"
#include "vecread.h"

static struct keyd_env env;
static struct keys_client cl;
static int nlabel;

static int
up(void **state)
{
	return env_up(&env, &cl, 5000);
}

static int
down(void **state)
{
	env_down(&env, &cl);
	return 0;
}

static void
label_next(char *out, size_t cap)
{
	snprintf(out, cap, "vec%d", nlabel++);
}

/* ---- diversify vectors --------------------------------------------- */

struct div_count {
	int	checked;
};

static void
one_diversify(struct tvec *t, void *arg)
{
	struct div_count *cnt = arg;
	static const char *const ek[3] = { "expect.enc", "expect.mac",
	    "expect.dek" };
	static const char *const kk[3] = { "expect.kcv.enc", "expect.kcv.mac",
	    "expect.kcv.dek" };
	uint8_t master[32], kdd[16], kcvs[9], want[32], k[32], sw[3], kv[3];
	enum gp_div_method m;
	const char *kind = tvec_get(t, "kind"), *meth = tvec_get(t, "method");
	char label[16];
	long ml;
	int alg, i;

	if (kind == NULL || strcmp(kind, "diversify") != 0)
		return;
	assert_non_null(meth);
	assert_int_equal(gp_div_method_parse(meth, &m), 0);
	ml = tvec_hex(t, "master", master, sizeof(master));
	assert_true(ml > 0);
	assert_int_equal(tvec_hex(t, "kdd", kdd, sizeof(kdd)), GP_KDD_LEN);
	alg = m == GP_DIV_KDF3 ? KEYS_ALG_AES : KEYS_ALG_DES3;
	label_next(label, sizeof(label));
	assert_int_equal(env_import(&cl, label, 1, KEYS_ROLE_MASTER, m, alg,
	    master, (size_t)ml), 0);
	assert_int_equal(keys_card_kcv(&cl, label, 1, kdd, kcvs), 0);
	for (i = 0; i < 3; i++) {
		/* libgp's software reference over the same master */
		assert_int_equal(gp_diversify(m, master, (size_t)ml, kdd, i + 1,
		    k), 0);
		assert_int_equal(keys_kcv(alg, k, (size_t)ml, sw), 0);
		assert_memory_equal(kcvs + 3 * i, sw, 3);
		if (tvec_hex(t, kk[i], kv, 3) == 3) {
			assert_memory_equal(kcvs + 3 * i, kv, 3);
			cnt->checked++;
		}
		if (tvec_hex(t, ek[i], want, sizeof(want)) == ml) {
			assert_int_equal(keys_kcv(alg, want, (size_t)ml, kv), 0);
			assert_memory_equal(kcvs + 3 * i, kv, 3);
			assert_memory_equal(k, want, (size_t)ml);
			cnt->checked++;
		}
	}
	gp_wipe(master, sizeof(master));
}

static void
test_diversify_vectors(void **state)
{
	static const char *const files[] = { "diversify/gppro_diversify.vec",
	    "diversify/openjavacard_emv.vec" };
	struct div_count cnt = { 0 };
	char path[512];
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", tvec_dir(), files[i]);
		assert_true(tvec_each(path, one_diversify, &cnt) > 0);
	}
	/* 6 + 2 vectors, three keys each, KCVs or whole keys */
	assert_true(cnt.checked >= 20);
}

/* ---- session vectors ------------------------------------------------ */

struct sess_count {
	int	opened, rejected, ext_auth, steps;
};

static int
import_keyset(struct tvec *t, int alg, const uint8_t *rsp, char *label,
    size_t cap)
{
	static const char *const kn[3] = { "key.enc", "key.mac", "key.dek" };
	uint8_t k[32];
	enum gp_div_method m;
	const char *d;
	long n;
	int i;

	label_next(label, cap);
	if ((n = tvec_hex(t, "master", k, sizeof(k))) > 0) {
		d = tvec_get(t, "diversify");
		if (d == NULL || gp_div_method_parse(d, &m) != 0)
			return -1;
		return env_import(&cl, label, 1, KEYS_ROLE_MASTER, m, alg, k,
		    (size_t)n);
	}
	for (i = 0; i < 3; i++) {
		if ((n = tvec_hex(t, kn[i], k, sizeof(k))) <= 0 ||
		    env_import(&cl, label, 1, KEYS_ROLE_ENC + i, GP_DIV_NONE,
		    alg, k, (size_t)n) != 0)
			return -1;
	}
	gp_wipe(k, sizeof(k));
	(void)rsp;
	return 0;
}

static void
run_steps(struct tvec *t, struct gp_scp *scp, struct sess_count *cnt)
{
	uint8_t plain[300], want[300], buf[300];
	struct gp_wr w;
	char key[32];
	long pn, wn;
	int s;

	for (s = 1; s < 64; s++) {
		snprintf(key, sizeof(key), "step.%d.plain", s);
		if ((pn = tvec_hex(t, key, plain, sizeof(plain))) < 0)
			break;
		snprintf(key, sizeof(key), "step.%d.wire", s);
		wn = tvec_hex(t, key, want, sizeof(want));
		assert_true(wn > 0);
		gp_wr_init(&w, buf, sizeof(buf));
		assert_int_equal(gp_scp_wrap(scp, plain, (size_t)pn, &w), 0);
		assert_int_equal(w.len, (size_t)wn);
		assert_memory_equal(buf, want, (size_t)wn);
		cnt->steps++;
		snprintf(key, sizeof(key), "step.%d.rsp.wire", s);
		if ((wn = tvec_hex(t, key, want, sizeof(want))) > 0) {
			gp_wr_init(&w, buf, sizeof(buf));
			assert_int_equal(gp_scp_unwrap(scp, want, (size_t)wn,
			    &w), 0);
		}
	}
}

static void
one_session(struct tvec *t, void *arg)
{
	struct sess_count *cnt = arg;
	const char *kind = tvec_get(t, "kind"), *rej;
	uint8_t hc[16], rsp[64], b[64], lv[1], ea[64];
	struct keys_session ks;
	struct gp_scp scp;
	struct gp_wr w;
	char label[16];
	long hn, rn, n;
	int proto, r;
	uint8_t i = 0x15, s = 8, kvn = 0;

	if (kind == NULL || (strcmp(kind, "session.scp02") != 0 &&
	    strcmp(kind, "session.scp03") != 0))
		return;
	proto = kind[strlen(kind) - 1] - '0';
	hn = tvec_hex(t, "host_challenge", hc, sizeof(hc));
	rn = tvec_hex(t, "init_update.rsp", rsp, sizeof(rsp));
	assert_true(hn > 0 && rn > 13);
	if (tvec_hex(t, "kvn", b, 1) == 1)
		kvn = b[0];
	if (tvec_hex(t, "i", b, 1) == 1)
		i = b[0];
	else if (proto == 3)
		i = rsp[12];
	if (tvec_get(t, "s") != NULL)
		s = (uint8_t)atoi(tvec_get(t, "s"));
	assert_int_equal(import_keyset(t, proto == 2 ? KEYS_ALG_DES3 :
	    KEYS_ALG_AES, rsp, label, sizeof(label)), 0);
	r = keys_open_channel(&cl, label, 1, proto, i, s, hc, rsp, (size_t)rn,
	    &ks);
	rej = tvec_get(t, "expect.reject");
	if (rej != NULL) {
		assert_int_equal(r, KEYS_ERR_CARD_CRYPTOGRAM);
		cnt->rejected++;
		return;
	}
	assert_int_equal(r, 0);
	cnt->opened++;
	if ((n = tvec_hex(t, "expect.session.enc", b, sizeof(b))) > 0)
		assert_memory_equal(ks.enc, b, (size_t)n);
	if ((n = tvec_hex(t, "expect.session.mac", b, sizeof(b))) > 0)
		assert_memory_equal(ks.mac, b, (size_t)n);
	if ((n = tvec_hex(t, "expect.session.rmac", b, sizeof(b))) > 0)
		assert_memory_equal(ks.rmac, b, (size_t)n);
	if ((n = tvec_hex(t, "expect.host_cryptogram", b, sizeof(b))) > 0)
		assert_memory_equal(ks.host_cryptogram, b, (size_t)n);
	if (tvec_hex(t, "level", lv, 1) == 1 &&
	    (n = tvec_hex(t, "expect.ext_auth", b, sizeof(b))) > 0) {
		memset(&scp, 0, sizeof(scp));
		gp_wr_init(&w, ea, sizeof(ea));
		assert_int_equal(keys_session_start(&ks, proto, i, kvn, hc,
		    rsp, (size_t)rn, lv[0], &scp, &w), 0);
		assert_int_equal(w.len, (size_t)n);
		assert_memory_equal(ea, b, (size_t)n);
		cnt->ext_auth++;
		run_steps(t, &scp, cnt);
		gp_scp_free(&scp);
	}
	keys_session_wipe(&ks);
}

static void
test_session_vectors(void **state)
{
	static const char *const files[] = {
	    "scp02/kaoh_scp02_sessions.vec", "scp02/openjavacard_scp02.vec",
	    "scp03/kaoh_scp03_sessions.vec", "scp03/openjavacard_scp03.vec" };
	struct sess_count cnt = { 0 };
	char path[512];
	size_t f;

	for (f = 0; f < 4; f++) {
		snprintf(path, sizeof(path), "%s/%s", tvec_dir(), files[f]);
		assert_true(tvec_each(path, one_session, &cnt) > 0);
	}
	fprintf(stderr, "sessions: %d opened, %d rejected, %d ext auth, "
	    "%d steps\n", cnt.opened, cnt.rejected, cnt.ext_auth, cnt.steps);
	assert_true(cnt.opened >= 8);
	assert_true(cnt.ext_auth >= 4);
	assert_true(cnt.steps >= 4);
}

/* ---- anti-brick ------------------------------------------------------- */

static void
test_wrong_cryptogram(void **state)
{
	/* SCP03 AES-128 static keys 40..4F, i = 00, S8 (self-made card). */
	static const uint8_t k[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
	    0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };
	uint8_t hc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, cmd[64], rsp[64];
	uint8_t zero[sizeof(struct keys_session)];
	struct gp_scp_card_cfg cfg;
	struct gp_keyset ksc;
	struct keys_session ks;
	struct gp_scp card;
	struct gp_wr w;
	int i;

	for (i = 0; i < 3; i++)
		assert_int_equal(env_import(&cl, "brick", 1, KEYS_ROLE_ENC + i,
		    GP_DIV_NONE, KEYS_ALG_AES, k, 16), 0);
	/* The card side of libgp answers INITIALIZE UPDATE. */
	memset(&ksc, 0, sizeof(ksc));
	memcpy(ksc.enc, k, 16);
	memcpy(ksc.mac, k, 16);
	memcpy(ksc.dek, k, 16);
	ksc.len = 16;
	ksc.kvn = 0x30;
	memset(&cfg, 0, sizeof(cfg));
	cfg.proto = 3;
	cfg.s = 8;
	cfg.card_challenge = (const uint8_t *)"\x11\x22\x33\x44\x55\x66\x77\x88";
	memset(&card, 0, sizeof(card));
	gp_wr_init(&w, cmd, sizeof(cmd));
	{
		uint8_t iu[] = { 0x80, 0x50, 0x30, 0x00, 0x08, 1, 2, 3, 4, 5,
		    6, 7, 8, 0x00 };
		struct gp_wr rw;

		gp_wr_init(&rw, rsp, sizeof(rsp));
		assert_int_equal(gp_scp_card_init_update(&card, &cfg, &ksc, iu,
		    sizeof(iu), &rw), 0);
		w.len = rw.len - 2;	/* drop the SW */
	}
	assert_int_equal(keys_open_channel(&cl, "brick", 1, 3, 0x00, 8, hc,
	    rsp, w.len, &ks), 0);
	keys_session_wipe(&ks);
	rsp[w.len - 1] ^= 0x01;	/* last cryptogram byte */
	memset(&ks, 0xAA, sizeof(ks));
	assert_int_equal(keys_open_channel(&cl, "brick", 1, 3, 0x00, 8, hc,
	    rsp, w.len, &ks), KEYS_ERR_CARD_CRYPTOGRAM);
	memset(zero, 0, sizeof(zero));
	assert_memory_equal(&ks, zero, sizeof(ks));	/* nothing returned */
	gp_scp_free(&card);
}

/* ---- PUT KEY ---------------------------------------------------------- */

static void
putkey_case(int proto)
{
	static const uint8_t kdd[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	uint8_t cur[16], tgt[16], ck[3][16], nk[3][16], sdek[16], want[300];
	uint8_t got[300], kcvs[9], kv[3], seq[2] = { 0x00, 0x2A };
	struct keys_putkey_req q;
	struct gp_putkey pk;
	struct gp_des3 d;
	struct gp_aes a;
	struct gp_wr w, g;
	enum gp_div_method m = proto == 2 ? GP_DIV_EMV : GP_DIV_KDF3;
	int alg = proto == 2 ? KEYS_ALG_DES3 : KEYS_ALG_AES, t;
	char lc[16], lt[16];

	for (t = 0; t < 16; t++) {
		cur[t] = (uint8_t)(0x40 + t);
		tgt[t] = (uint8_t)(0xA0 + 3 * t);
	}
	snprintf(lc, sizeof(lc), "pk-cur%d", proto);
	snprintf(lt, sizeof(lt), "pk-new%d", proto);
	assert_int_equal(env_import(&cl, lc, 1, KEYS_ROLE_MASTER, m, alg, cur,
	    16), 0);
	assert_int_equal(env_import(&cl, lt, 2, KEYS_ROLE_MASTER, m, alg, tgt,
	    16), 0);
	memset(&q, 0, sizeof(q));
	q.label = lc;
	q.version = 1;
	q.proto = proto;
	memcpy(q.kdd, kdd, 10);
	memcpy(q.seq, seq, 2);
	q.new_label = lt;
	q.new_version = 2;
	q.old_kvn = 0x01;
	q.new_kvn = 0x02;
	q.key_id = 0x01;
	gp_wr_init(&g, got, sizeof(got));
	assert_int_equal(keys_put_key(&cl, &q, &g, kcvs), 0);
	/* libgp in software over the same masters */
	for (t = 0; t < 3; t++) {
		assert_int_equal(gp_diversify(m, cur, 16, kdd, t + 1, ck[t]), 0);
		assert_int_equal(gp_diversify(m, tgt, 16, kdd, t + 1, nk[t]), 0);
		assert_int_equal(keys_kcv(alg, nk[t], 16, kv), 0);
		assert_memory_equal(kcvs + 3 * t, kv, 3);
	}
	memset(&pk, 0, sizeof(pk));
	pk.old_kvn = 1;
	pk.new_kvn = 2;
	pk.key_id = 1;
	pk.nkeys = 3;
	pk.key_len = 16;
	for (t = 0; t < 3; t++)
		pk.keys[t] = nk[t];
	gp_wr_init(&w, want, sizeof(want));
	if (proto == 2) {
		assert_int_equal(gp_kdf_scp02(ck[2], GP_SCP02_DEK, seq, sdek), 0);
		assert_int_equal(gp_des3_init(&d, sdek), 0);
		assert_int_equal(gp_cmd_put_key_scp02(&pk, &d, &w), 0);
		/*
		 * SoftHSMv2 sets the DES parity bits of derived keys: the
		 * keys equal libgp's but for bit 0 of each byte, which DES
		 * ignores. Compare the decrypted keys without it.
		 */
		assert_int_equal(g.len, w.len);
		for (t = 0; t < 3; t++) {
			size_t off = 6 + (size_t)t * 22 + 2, b;
			uint8_t x[16], y[16];

			assert_int_equal(gp_des3_ecb_dec(&d, got + off, 16, x),
			    0);
			assert_int_equal(gp_des3_ecb_dec(&d, want + off, 16, y),
			    0);
			for (b = 0; b < 16; b++)
				assert_int_equal(x[b] & 0xFE, y[b] & 0xFE);
			memcpy(got + off, want + off, 16);
		}
		gp_des3_free(&d);
	} else {
		assert_int_equal(gp_aes_init(&a, ck[2], 16), 0);
		assert_int_equal(gp_cmd_put_key_scp03(&pk, &a, &w), 0);
		gp_aes_free(&a);
	}
	assert_int_equal(g.len, w.len);
	assert_memory_equal(got, want, w.len);
}

/*
 * First-contact rotation: the card's transport keys are a static SCP03
 * set (ENC, MAC, DEK imported as is); its DEK, an HSM object, encrypts
 * the issuer's new keys inside the HSM. The command must equal libgp's
 * with the same static DEK in software.
 */
static void
putkey_static_case(void)
{
	static const uint8_t kdd[10] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };
	uint8_t tr[3][16], tgt[16], nk[3][16], want[300], got[300], kcvs[9];
	struct keys_putkey_req q;
	struct gp_putkey pk;
	struct gp_aes a;
	struct gp_wr w, g;
	int t, i;

	for (t = 0; t < 3; t++)
		for (i = 0; i < 16; i++)
			tr[t][i] = (uint8_t)(0x40 + 16 * t + i);
	for (i = 0; i < 16; i++)
		tgt[i] = (uint8_t)(0x11 * (i + 1));
	for (t = 0; t < 3; t++)
		assert_int_equal(env_import(&cl, "pk-transport", 1,
		    KEYS_ROLE_ENC + t, GP_DIV_NONE, KEYS_ALG_AES, tr[t], 16), 0);
	assert_int_equal(env_import(&cl, "pk-issuer", 1, KEYS_ROLE_MASTER,
	    GP_DIV_KDF3, KEYS_ALG_AES, tgt, 16), 0);
	memset(&q, 0, sizeof(q));
	q.label = "pk-transport";
	q.version = 1;
	q.proto = 3;
	memcpy(q.kdd, kdd, 10);
	q.new_label = "pk-issuer";
	q.new_version = 1;
	q.old_kvn = 0x30;
	q.new_kvn = 0x31;
	q.key_id = 0x01;
	gp_wr_init(&g, got, sizeof(got));
	assert_int_equal(keys_put_key(&cl, &q, &g, kcvs), 0);
	memset(&pk, 0, sizeof(pk));
	pk.old_kvn = 0x30;
	pk.new_kvn = 0x31;
	pk.key_id = 1;
	pk.nkeys = 3;
	pk.key_len = 16;
	for (t = 0; t < 3; t++) {
		assert_int_equal(gp_diversify(GP_DIV_KDF3, tgt, 16, kdd, t + 1,
		    nk[t]), 0);
		pk.keys[t] = nk[t];
	}
	assert_int_equal(gp_aes_init(&a, tr[2], 16), 0);
	gp_wr_init(&w, want, sizeof(want));
	assert_int_equal(gp_cmd_put_key_scp03(&pk, &a, &w), 0);
	gp_aes_free(&a);
	assert_int_equal(g.len, w.len);
	assert_memory_equal(got, want, w.len);
	gp_wipe(nk, sizeof(nk));
}

static void
test_putkey(void **state)
{
	putkey_case(2);
	putkey_case(3);
	putkey_static_case();
}

/* ---- ceremony requests ---------------------------------------------- */

static void
test_components_and_list(void **state)
{
	static const uint8_t c1[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB,
	    0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10 };
	static const uint8_t c2[16] = { 0x0F, 0x1E, 0x2D, 0x3C, 0x4B, 0x5A,
	    0x69, 0x78, 0x87, 0x96, 0xA5, 0xB4, 0xC3, 0xD2, 0xE1, 0xF0 };
	/* openssl enc -des-ede-ecb -K (c1 ^ c2) -nopad over 8 x 00: 1st 3 */
	uint8_t x[16], want[3], kcv[3];
	struct keys_component comp[2];
	struct keys_info info[KEYS_LIST_MAX];
	size_t n, i;
	int found = 0;

	for (i = 0; i < 16; i++)
		x[i] = c1[i] ^ c2[i];
	assert_int_equal(gp_kcv_des3(x, want), 0);
	comp[0].value = c1;
	comp[0].len = 16;
	comp[1].value = c2;
	comp[1].len = 16;
	assert_int_equal(keys_kcv(KEYS_ALG_DES3, c1, 16, comp[0].kcv), 0);
	assert_int_equal(keys_kcv(KEYS_ALG_DES3, c2, 16, comp[1].kcv), 0);
	comp[1].kcv[2] ^= 1;	/* custodian 2 typed a wrong component */
	assert_int_equal(keys_import_components(&cl, "cer", 1,
	    KEYS_ROLE_MASTER, GP_DIV_EMV, KEYS_ALG_DES3, comp, 2, kcv),
	    KEYS_ERR_KCV);
	comp[1].kcv[2] ^= 1;
	assert_int_equal(keys_import_components(&cl, "cer", 1,
	    KEYS_ROLE_MASTER, GP_DIV_EMV, KEYS_ALG_DES3, comp, 2, kcv), 0);
	assert_memory_equal(kcv, want, 3);
	assert_int_equal(keys_import_components(&cl, "cer", 1,
	    KEYS_ROLE_MASTER, GP_DIV_EMV, KEYS_ALG_DES3, comp, 2, kcv),
	    KEYS_ERR_EXISTS);
	assert_int_equal(keys_generate(&cl, "cer", 2, KEYS_ROLE_MASTER,
	    GP_DIV_EMV, KEYS_ALG_DES3, 16, kcv), 0);
	assert_int_equal(keys_list(&cl, info, KEYS_LIST_MAX, &n), 0);
	for (i = 0; i < n; i++)
		if (strcmp(info[i].label, "cer") == 0) {
			found++;
			if (info[i].version == 1)
				assert_memory_equal(info[i].kcv, want, 3);
			else
				assert_memory_equal(info[i].kcv, kcv, 3);
		}
	assert_int_equal(found, 2);
}

static void
test_import_wrapped(void **state)
{
	static const uint8_t tk[16] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60,
	    0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0, 0xE0, 0xF0, 0x01 };
	static const uint8_t mk[16] = { 0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE,
	    0xD2, 0xA6, 0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C };
	uint8_t blob[40], kcv[3], out[3];
	EVP_CIPHER_CTX *ctx;
	int l1 = 0, l2 = 0;

	assert_int_equal(env_import(&cl, "tk", 1, KEYS_ROLE_TRANSPORT,
	    GP_DIV_NONE, KEYS_ALG_AES, tk, 16), 0);
	/* RFC 3394 wrap with OpenSSL, as the key's sender would do. */
	ctx = EVP_CIPHER_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_wrap(), NULL, tk,
	    NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, blob, &l1, mk, 16), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, blob + l1, &l2), 1);
	EVP_CIPHER_CTX_free(ctx);
	assert_int_equal(l1 + l2, 24);
	assert_int_equal(gp_kcv_aes(mk, 16, kcv), 0);
	kcv[0] ^= 0xFF;
	assert_int_equal(keys_import_wrapped(&cl, "wmk", 1, KEYS_ROLE_MASTER,
	    GP_DIV_KDF3, KEYS_ALG_AES, 16, "tk", 1, blob, 24, kcv, out),
	    KEYS_ERR_KCV);
	kcv[0] ^= 0xFF;
	assert_int_equal(keys_import_wrapped(&cl, "wmk", 1, KEYS_ROLE_MASTER,
	    GP_DIV_KDF3, KEYS_ALG_AES, 16, "tk", 1, blob, 24, kcv, out), 0);
	assert_memory_equal(out, kcv, 3);
	blob[5] ^= 1;	/* tampered: the unwrap integrity check fails */
	assert_int_not_equal(keys_import_wrapped(&cl, "wmk", 2,
	    KEYS_ROLE_MASTER, GP_DIV_KDF3, KEYS_ALG_AES, 16, "tk", 1, blob, 24,
	    kcv, out), 0);
}

static void
test_hmac(void **state)
{
	uint8_t kcv[3], a[32], b[32], c[32];

	assert_int_equal(keys_generate(&cl, "audit", 1, KEYS_ROLE_HMAC,
	    GP_DIV_NONE, KEYS_ALG_HMAC, 32, kcv), 0);
	assert_int_equal(keys_hmac(&cl, "audit", 1, (const uint8_t *)"abc", 3,
	    a), 0);
	assert_int_equal(keys_hmac(&cl, "audit", 1, (const uint8_t *)"abc", 3,
	    b), 0);
	assert_int_equal(keys_hmac(&cl, "audit", 1, (const uint8_t *)"abd", 3,
	    c), 0);
	assert_memory_equal(a, b, 32);
	assert_memory_not_equal(a, c, 32);
	assert_int_equal(keys_hmac(&cl, "nope", 1, (const uint8_t *)"abc", 3,
	    a), KEYS_ERR_NOKEY);
}

/* ---- pkcs11-tool sees masters sensitive and never extractable ------- */

static void
test_pkcs11_tool(void **state)
{
	char line[512], *a, *e;
	FILE *p;
	int in_obj = 0, sens = 0, noext = 0, objs = 0, never = 0;

	p = env_pkcs11_objects("secrkey");
	while (fgets(line, sizeof(line), p) != NULL) {
		if (strncmp(line, "Secret Key Object", 17) == 0) {
			objs++;
			in_obj = 1;
		}
		if (in_obj && (a = strstr(line, "Access:")) != NULL) {
			if (strncmp(a, "Access:     sensitive", 21) == 0)
				sens++;
			/* "extractable" only ever as "never extractable" */
			for (e = a; (e = strstr(e, "extractable")) != NULL;
			    e += 11)
				if (e - a < 6 || strncmp(e - 6, "never ", 6) != 0)
					break;
			if (e == NULL)
				noext++;
			if (strstr(line, "never extractable") != NULL)
				never++;
			in_obj = 0;
		}
	}
	assert_int_equal(pclose(p), 0);
	assert_true(objs >= 10);
	assert_int_equal(sens, objs);
	assert_int_equal(noext, objs);
	assert_true(never >= 2);	/* generated in the HSM: never out */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diversify_vectors),
		cmocka_unit_test(test_session_vectors),
		cmocka_unit_test(test_wrong_cryptogram),
		cmocka_unit_test(test_putkey),
		cmocka_unit_test(test_components_and_list),
		cmocka_unit_test(test_import_wrapped),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_pkcs11_tool),
	};

	return cmocka_run_group_tests(tests, up, down);
}
