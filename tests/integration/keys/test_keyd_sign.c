/*
 * tsm-keyd's signing and data requests through a real keyd on a temporary
 * SoftHSMv2 token: key pairs generated in the HSM (RSA-2048, ECDSA P-256)
 * and imported (the kaoh DM vector's RSA-1024 key), DAP signatures over a
 * load file data block hash placed by libgp's gp_cmd_load, delegated
 * management tokens (the kaoh LOAD token vector reproduced byte for byte),
 * receipt verification, DGI encryption under the card DEK (compared with
 * libgp's gp_dgi_put_des3 / gp_dgi_put_aes), the SCP03 pseudo-random card
 * challenge check, and pipelined openings. Every signature is verified
 * with OpenSSL's public-key API.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gp/buf.h"
#include "gp/cmd.h"
#include "gp/kdf.h"
#include "gp/scp.h"
#include "gp/token.h"
#include "keyd_env.h"
#include "keys.h"
#include "vecread.h"

static struct keyd_env env;
static struct keys_client cl;

static const uint8_t SD_AID[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00,
    0x00 };

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

static EVP_PKEY *
pubkey_of(const char *label)
{
	uint8_t der[1200];
	const unsigned char *p = der;
	size_t n = 0;
	EVP_PKEY *pk;

	assert_int_equal(keys_pubkey(&cl, label, 1, der, sizeof(der), &n), 0);
	pk = d2i_PUBKEY(NULL, &p, (long)n);
	assert_non_null(pk);
	assert_ptr_equal(p, der + n);
	return pk;
}

static void
fpr_of(EVP_PKEY *pk, uint8_t fpr[3])
{
	unsigned char *der = NULL;
	uint8_t md[32];
	unsigned mdl = 0;
	int n;

	n = i2d_PUBKEY(pk, &der);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, md, &mdl, EVP_sha256(),
	    NULL), 1);
	memcpy(fpr, md, 3);
	OPENSSL_free(der);
}

/* ECDSA r || s (64 bytes) to the DER form OpenSSL verifies. */
static size_t
ecdsa_der(const uint8_t *rs, size_t n, uint8_t *out)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	unsigned char *p = out;
	int len;

	assert_int_equal(n, 64);
	assert_non_null(s);
	assert_int_equal(ECDSA_SIG_set0(s, BN_bin2bn(rs, 32, NULL),
	    BN_bin2bn(rs + 32, 32, NULL)), 1);
	len = i2d_ECDSA_SIG(s, &p);
	ECDSA_SIG_free(s);
	assert_true(len > 0);
	return (size_t)len;
}

/* 1 when sig verifies over msg with md (OpenSSL EVP_DigestVerify). */
static int
verify(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *msg, size_t n,
    const uint8_t *sig, size_t sn)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t der[80];
	int ok;

	assert_non_null(c);
	if (EVP_PKEY_is_a(pk, "EC")) {
		sn = ecdsa_der(sig, sn, der);
		sig = der;
	}
	assert_int_equal(EVP_DigestVerifyInit(c, NULL, md, NULL, pk), 1);
	ok = EVP_DigestVerify(c, sig, sn, msg, n) == 1;
	EVP_MD_CTX_free(c);
	return ok;
}

/* ---- key pairs generated in the HSM ------------------------------------ */

static void
test_generate_pairs(void **state)
{
	struct keys_info info[KEYS_LIST_MAX];
	uint8_t fr[3], fe[3], f[3];
	EVP_PKEY *pr, *pe;
	size_t n, i;
	int seen = 0;

	assert_int_equal(keys_generate(&cl, "dap-rsa", 1, KEYS_ROLE_DAP,
	    GP_DIV_NONE, KEYS_ALG_RSA, KEYS_RSA_KLEN(2048), fr), 0);
	assert_int_equal(keys_generate(&cl, "dap-ec", 1, KEYS_ROLE_DAP,
	    GP_DIV_NONE, KEYS_ALG_EC, 32, fe), 0);
	assert_int_equal(keys_generate(&cl, "dap-ec", 1, KEYS_ROLE_DAP,
	    GP_DIV_NONE, KEYS_ALG_EC, 32, f), KEYS_ERR_EXISTS);
	/* P-384 and RSA-1000 are not offered */
	assert_int_equal(keys_generate(&cl, "dap-x", 1, KEYS_ROLE_DAP,
	    GP_DIV_NONE, KEYS_ALG_EC, 48, f), KEYS_ERR_INVAL);
	assert_int_equal(keys_generate(&cl, "dap-x", 1, KEYS_ROLE_DAP,
	    GP_DIV_NONE, KEYS_ALG_RSA, 15, f), KEYS_ERR_INVAL);
	pr = pubkey_of("dap-rsa");
	pe = pubkey_of("dap-ec");
	assert_true(EVP_PKEY_is_a(pr, "RSA"));
	assert_int_equal(EVP_PKEY_get_bits(pr), 2048);
	assert_true(EVP_PKEY_is_a(pe, "EC"));
	assert_int_equal(EVP_PKEY_get_bits(pe), 256);
	fpr_of(pr, f);
	assert_memory_equal(f, fr, 3);
	fpr_of(pe, f);
	assert_memory_equal(f, fe, 3);
	assert_int_equal(keys_list(&cl, info, KEYS_LIST_MAX, &n), 0);
	for (i = 0; i < n; i++) {
		if (strcmp(info[i].label, "dap-rsa") == 0) {
			assert_int_equal(info[i].role, KEYS_ROLE_DAP);
			assert_int_equal(info[i].alg, KEYS_ALG_RSA);
			assert_int_equal(info[i].len, 32);
			assert_memory_equal(info[i].kcv, fr, 3);
			seen++;
		}
		if (strcmp(info[i].label, "dap-ec") == 0) {
			assert_int_equal(info[i].alg, KEYS_ALG_EC);
			assert_memory_equal(info[i].kcv, fe, 3);
			seen++;
		}
	}
	assert_int_equal(seen, 2);
	EVP_PKEY_free(pr);
	EVP_PKEY_free(pe);
	assert_int_equal(keys_pubkey(&cl, "nope", 1, f, 3, &n),
	    KEYS_ERR_NOKEY);
}

/* ---- DAP ------------------------------------------------------------------ */

static size_t
ber_len(const uint8_t *p, size_t *hl)
{
	if (p[0] < 0x80) {
		*hl = 1;
		return p[0];
	}
	if (p[0] == 0x81) {
		*hl = 2;
		return p[1];
	}
	assert_int_equal(p[0], 0x82);
	*hl = 3;
	return (size_t)p[1] << 8 | p[2];
}

static void
dap_case(const char *label, int sha256, size_t want_siglen)
{
	static uint8_t lfdb[700], all[1400], cmd[300];
	uint8_t hash[32], sig[KEYS_SIG_MAX];
	const EVP_MD *md = sha256 ? EVP_sha256() : EVP_sha1();
	struct gp_load ld;
	struct gp_wr w;
	EVP_PKEY *pk;
	size_t sn = 0, hl, n = 0, len, off, i;
	unsigned hn = 0;
	long cnt;

	for (i = 0; i < sizeof(lfdb); i++)
		lfdb[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(EVP_Digest(lfdb, sizeof(lfdb), hash, &hn, md, NULL),
	    1);
	assert_int_equal(keys_sign(&cl, label, 1, hash, hn, sig, sizeof(sig),
	    &sn), 0);
	assert_int_equal(sn, want_siglen);
	/* libgp lays out E2 { 4F SD AID, C3 signature } before C4 */
	memset(&ld, 0, sizeof(ld));
	ld.lfdb = lfdb;
	ld.lfdb_len = sizeof(lfdb);
	ld.dap_sd = SD_AID;
	ld.dap_sd_len = sizeof(SD_AID);
	ld.dap_sig = sig;
	ld.dap_sig_len = sn;
	ld.block = 240;
	assert_true((cnt = gp_load_count(&ld)) > 0);
	for (i = 0; i < (size_t)cnt; i++) {
		gp_wr_init(&w, cmd, sizeof(cmd));
		assert_int_equal(gp_cmd_load(&ld, i, &w), 0);
		assert_int_equal(cmd[1], 0xE8);
		memcpy(all + n, cmd + 5, cmd[4]);
		n += cmd[4];
	}
	assert_int_equal(all[0], 0xE2);
	len = ber_len(all + 1, &hl);
	off = 1 + hl;
	assert_int_equal(all[off], 0x4F);
	assert_int_equal(all[off + 1], sizeof(SD_AID));
	assert_memory_equal(all + off + 2, SD_AID, sizeof(SD_AID));
	off += 2 + sizeof(SD_AID);
	assert_int_equal(all[off], 0xC3);
	assert_int_equal(ber_len(all + off + 1, &hl), sn);
	assert_memory_equal(all + off + 1 + hl, sig, sn);
	off += 1 + hl + sn;
	assert_int_equal(off, 1 + (all[1] < 0x80 ? 1 : all[1] - 0x7F) + len);
	assert_int_equal(all[off], 0xC4);
	/* the signature is over the load file data block */
	pk = pubkey_of(label);
	assert_true(verify(pk, md, lfdb, sizeof(lfdb), sig, sn));
	lfdb[100] ^= 1;
	assert_false(verify(pk, md, lfdb, sizeof(lfdb), sig, sn));
	EVP_PKEY_free(pk);
}

static void
test_dap(void **state)
{
	uint8_t h[32] = { 0 }, sig[KEYS_SIG_MAX];
	size_t sn;

	dap_case("dap-rsa", 0, 256);	/* RSA PKCS#1 v1.5 SHA-1 */
	dap_case("dap-rsa", 1, 256);	/* RSA PKCS#1 v1.5 SHA-256 */
	dap_case("dap-ec", 1, 64);	/* ECDSA P-256 SHA-256, r || s */
	/* a 20-byte hash cannot be ECDSA-SHA256; 16 bytes is no hash */
	assert_int_equal(keys_sign(&cl, "dap-ec", 1, h, 20, sig, sizeof(sig),
	    &sn), KEYS_ERR_INVAL);
	assert_int_equal(keys_sign(&cl, "dap-rsa", 1, h, 16, sig, sizeof(sig),
	    &sn), KEYS_ERR_INVAL);
	assert_int_equal(keys_sign(&cl, "none", 1, h, 32, sig, sizeof(sig),
	    &sn), KEYS_ERR_NOKEY);
	/* a symmetric key is not a DAP key */
	assert_int_equal(keys_sign(&cl, "rcpt", 1, h, 32, sig, sizeof(sig),
	    &sn), KEYS_ERR_NOKEY);
}

/* ---- delegated management tokens ---------------------------------------- */

struct tok_state {
	int	 checked;
};

static EVP_PKEY *
pem_key(const char *name, int private)
{
	char path[512];
	EVP_PKEY *pk;
	FILE *f;

	snprintf(path, sizeof(path), "%s/dm/%s", tvec_dir(), name);
	f = fopen(path, "r");
	assert_non_null(f);
	pk = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) :
	    PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(pk);
	return pk;
}

static void
one_token(struct tvec *t, void *arg)
{
	struct tok_state *st = arg;
	uint8_t elf[16], sd[16], hash[64], data[300], want[300], sig[512];
	uint8_t fpr[3], f2[3], der[1200], got[300];
	unsigned char *dp = NULL;
	const char *kind = tvec_get(t, "kind");
	struct gp_install in;
	struct gp_wr w;
	EVP_PKEY *priv, *pub, *kp;
	long el, sl, hl, dl, wl;
	size_t sn = 0, gn = 0;
	int dn;

	if (kind == NULL || strcmp(kind, "token.dm") != 0)
		return;
	assert_string_equal(tvec_get(t, "alg"), "rsa-pkcs1v15-sha1");
	assert_string_equal(tvec_get(t, "type"), "load");
	priv = pem_key(tvec_get(t, "key"), 1);
	pub = pem_key(tvec_get(t, "pubkey"), 0);
	/* The vector's key into the token, as a ceremony would. */
	assert_true((dn = i2d_PrivateKey(priv, &dp)) > 0);
	assert_int_equal(keys_import_pair(&cl, "dm-kaoh", 1, dp, (size_t)dn,
	    fpr), 0);
	assert_int_equal(keys_import_pair(&cl, "dm-kaoh", 1, dp, (size_t)dn,
	    f2), KEYS_ERR_EXISTS);
	OPENSSL_clear_free(dp, (size_t)dn);
	fpr_of(pub, f2);
	assert_memory_equal(fpr, f2, 3);
	kp = pubkey_of("dm-kaoh");
	assert_int_equal(EVP_PKEY_eq(kp, pub), 1);
	EVP_PKEY_free(kp);
	/* Token input data laid out by libgp (gp/token.h). */
	el = tvec_hex(t, "elf_aid", elf, sizeof(elf));
	sl = tvec_hex(t, "sd_aid", sd, sizeof(sd));
	hl = tvec_hex(t, "lfdb_hash", hash, sizeof(hash));
	wl = tvec_hex(t, "data", want, sizeof(want));
	assert_true(el > 0 && sl > 0 && hl > 0 && wl > 0);
	memset(&in, 0, sizeof(in));
	in.elf_aid = elf;
	in.elf_len = (size_t)el;
	in.sd_aid = sd;
	in.sd_len = (size_t)sl;
	in.hash = hash;
	in.hash_len = (size_t)hl;
	gp_wr_init(&w, data, sizeof(data));
	assert_int_equal(gp_token_install(GP_INSTALL_LOAD, &in, &w), 0);
	assert_int_equal(w.len, (size_t)wl);
	assert_memory_equal(data, want, w.len);
	/* Signed in the HSM: the vector's signature, byte for byte. */
	assert_int_equal(keys_sign_token(&cl, "dm-kaoh", 1, KEYS_SIG_RSA_SHA1,
	    data, w.len, sig, sizeof(sig), &sn), 0);
	dl = tvec_hex(t, "expect.signature", got, sizeof(got));
	assert_int_equal(sn, (size_t)dl);
	assert_memory_equal(sig, got, sn);
	assert_true(verify(pub, EVP_sha1(), data, w.len, sig, sn));
	/* Lc not matching the fields: refused, nothing signed */
	data[2] ^= 1;
	assert_int_equal(keys_sign_token(&cl, "dm-kaoh", 1, KEYS_SIG_RSA_SHA1,
	    data, w.len, sig, sizeof(sig), &gn), KEYS_ERR_INVAL);
	assert_int_equal(gn, 0);
	(void)der;
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	st->checked++;
}

static void
test_token_vectors(void **state)
{
	struct tok_state st = { 0 };
	char path[512];

	snprintf(path, sizeof(path), "%s/dm/kaoh_load_token.vec", tvec_dir());
	assert_true(tvec_each(path, one_token, &st) > 0);
	assert_int_equal(st.checked, 1);
}

static void
test_token_ec_and_delete(void **state)
{
	static const uint8_t a1[7] = { 0xA0, 0, 0, 0, 0x62, 1, 1 };
	static const uint8_t a2[6] = { 0xA0, 0, 0, 0, 0x62, 2 };
	struct gp_aid_ref aids[2] = { { a1, 7 }, { a2, 6 } };
	uint8_t data[100], sig[KEYS_SIG_MAX];
	struct gp_wr w;
	EVP_PKEY *pk;
	size_t sn = 0;

	gp_wr_init(&w, data, sizeof(data));
	assert_int_equal(gp_token_delete(GP_DELETE_OBJECT, aids, 2, &w), 0);
	/* ECDSA P-256 SHA-256 */
	assert_int_equal(keys_sign_token(&cl, "dap-ec", 1,
	    KEYS_SIG_ECDSA_SHA256, data, w.len, sig, sizeof(sig), &sn), 0);
	assert_int_equal(sn, 64);
	pk = pubkey_of("dap-ec");
	assert_true(verify(pk, EVP_sha256(), data, w.len, sig, sn));
	EVP_PKEY_free(pk);
	/* RSA SHA-256 */
	assert_int_equal(keys_sign_token(&cl, "dap-rsa", 1,
	    KEYS_SIG_RSA_SHA256, data, w.len, sig, sizeof(sig), &sn), 0);
	pk = pubkey_of("dap-rsa");
	assert_true(verify(pk, EVP_sha256(), data, w.len, sig, sn));
	assert_false(verify(pk, EVP_sha1(), data, w.len, sig, sn));
	EVP_PKEY_free(pk);
	/* a scheme that does not fit the key */
	assert_int_equal(keys_sign_token(&cl, "dap-ec", 1, KEYS_SIG_RSA_SHA1,
	    data, w.len, sig, sizeof(sig), &sn), KEYS_ERR_INVAL);
	assert_int_equal(keys_sign_token(&cl, "dap-ec", 1, KEYS_SIG_AUTO,
	    data, w.len, sig, sizeof(sig), &sn), KEYS_ERR_INVAL);
}

/* ---- private keys in the token: sensitive, never out --------------------- */

static void
test_pkcs11_privkeys(void **state)
{
	char line[512];
	FILE *p;
	int objs = 0, sens = 0, never = 0, ext = 0, in = 0;

	p = env_pkcs11_objects("privkey");
	while (fgets(line, sizeof(line), p) != NULL) {
		if (strncmp(line, "Private Key Object", 18) == 0) {
			objs++;
			in = 1;
		}
		if (in && strstr(line, "Access:") != NULL) {
			if (strstr(line, "Access:     sensitive") != NULL)
				sens++;
			if (strstr(line, "never extractable") != NULL)
				never++;
			else if (strstr(line, "extractable") != NULL)
				ext++;
			in = 0;
		}
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(objs, 3);	/* dap-rsa, dap-ec, dm-kaoh */
	assert_int_equal(sens, 3);
	assert_int_equal(ext, 0);
	assert_int_equal(never, 2);	/* generated ones; dm-kaoh imported */
}

/* ---- receipts ----------------------------------------------------------- */

static void
test_receipt(void **state)
{
	static const uint8_t rk[16] = { 0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE,
	    0xD2, 0xA6, 0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C };
	static const uint8_t dk[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15, 16 };
	/* load receipt data: counter, card unique data, LV(ELF), LV(SD) */
	static const uint8_t rd[] = { 0x00, 0x01, 0x0A, 0x11, 0x22, 0x33,
	    0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0x07, 0xD0, 0xD1, 0xD2,
	    0xD3, 0xD4, 0xD5, 0x01, 0x06, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02 };
	uint8_t mac[16];
	size_t ml = 0;

	assert_int_equal(env_import(&cl, "rcpt", 1, KEYS_ROLE_RECEIPT,
	    GP_DIV_NONE, KEYS_ALG_AES, rk, 16), 0);
	/* the card's side: AES-CMAC with OpenSSL */
	assert_non_null(EVP_Q_mac(NULL, "CMAC", NULL, "AES-128-CBC", NULL, rk,
	    16, rd, sizeof(rd), mac, sizeof(mac), &ml));
	assert_int_equal(ml, 16);
	assert_int_equal(keys_verify_receipt(&cl, "rcpt", 1, rd, sizeof(rd),
	    mac, 16), 0);
	assert_int_equal(keys_verify_receipt(&cl, "rcpt", 1, rd, sizeof(rd),
	    mac, 8), 0);
	mac[7] ^= 0x40;
	assert_int_equal(keys_verify_receipt(&cl, "rcpt", 1, rd, sizeof(rd),
	    mac, 16), KEYS_ERR_RECEIPT);
	mac[7] ^= 0x40;
	assert_int_equal(keys_verify_receipt(&cl, "rcpt", 1, rd,
	    sizeof(rd) - 1, mac, 16), KEYS_ERR_RECEIPT);
	assert_int_equal(keys_verify_receipt(&cl, "nope", 1, rd, sizeof(rd),
	    mac, 16), KEYS_ERR_NOKEY);
	/* DES receipt keys (retail MAC) are not offered */
	assert_int_equal(env_import(&cl, "rcpt-des", 1, KEYS_ROLE_RECEIPT,
	    GP_DIV_NONE, KEYS_ALG_DES3, dk, 16), KEYS_ERR_UNSUPPORTED);
}

/* ---- DGI encryption ------------------------------------------------------ */

/* Three clear DGIs: 16 bytes (no padding), 5 bytes, 300 bytes (FF form). */
static size_t
make_dgis(uint8_t *out, const uint8_t **v, size_t *vn, uint16_t *tags)
{
	static uint8_t a[16], b[5], c[300];
	struct gp_wr w;
	size_t i;

	for (i = 0; i < sizeof(c); i++)
		c[i] = (uint8_t)(i ^ 0x5C);
	memset(a, 0x31, sizeof(a));
	memset(b, 0x42, sizeof(b));
	v[0] = a;
	v[1] = b;
	v[2] = c;
	vn[0] = sizeof(a);
	vn[1] = sizeof(b);
	vn[2] = sizeof(c);
	tags[0] = 0x8000;
	tags[1] = 0x8010;
	tags[2] = 0x8201;
	gp_wr_init(&w, out, 400);
	for (i = 0; i < 3; i++)
		assert_int_equal(gp_dgi_put(&w, tags[i], v[i], vn[i]), 0);
	return w.len;
}

static void
dgi_case(int proto, int method, const char *label)
{
	static const uint8_t kdd[10] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };
	uint8_t mk[16], dek[16], sdek[16], in[400], want[500], got[500];
	uint8_t seq[2] = { 0x01, 0x2C };
	const uint8_t *v[3];
	size_t vn[3], n, i;
	uint16_t tags[3];
	struct keys_dgi_req q;
	struct gp_des3 d;
	struct gp_aes a;
	struct gp_wr w, g;
	int alg = proto == 2 ? KEYS_ALG_DES3 : KEYS_ALG_AES;

	for (i = 0; i < 16; i++)
		mk[i] = (uint8_t)(0x70 + 5 * i);
	if (method == GP_DIV_NONE) {
		for (i = 0; i < 3; i++)
			assert_int_equal(env_import(&cl, label, 1,
			    KEYS_ROLE_ENC + (int)i, GP_DIV_NONE, alg, mk, 16), 0);
		memcpy(dek, mk, 16);
	} else {
		assert_int_equal(env_import(&cl, label, 1, KEYS_ROLE_MASTER,
		    method, alg, mk, 16), 0);
		assert_int_equal(gp_diversify((enum gp_div_method)method, mk,
		    16, kdd, GP_KEY_DEK, dek), 0);
	}
	n = make_dgis(in, v, vn, tags);
	/* libgp in software with the same DEK */
	gp_wr_init(&w, want, sizeof(want));
	if (proto == 2) {
		assert_int_equal(gp_kdf_scp02(dek, GP_SCP02_DEK, seq, sdek), 0);
		assert_int_equal(gp_des3_init(&d, sdek), 0);
		for (i = 0; i < 3; i++)
			assert_int_equal(gp_dgi_put_des3(&w, tags[i], &d, v[i],
			    vn[i]), 0);
		gp_des3_free(&d);
	} else {
		assert_int_equal(gp_aes_init(&a, dek, 16), 0);
		for (i = 0; i < 3; i++)
			assert_int_equal(gp_dgi_put_aes(&w, tags[i], &a, v[i],
			    vn[i]), 0);
		gp_aes_free(&a);
	}
	memset(&q, 0, sizeof(q));
	q.label = label;
	q.version = 1;
	q.proto = proto;
	memcpy(q.kdd, kdd, 10);
	memcpy(q.seq, seq, 2);
	gp_wr_init(&g, got, sizeof(got));
	assert_int_equal(keys_encrypt_dgis(&cl, &q, in, n, &g), 0);
	assert_int_equal(g.len, w.len);
	assert_memory_equal(got, want, w.len);
	/* 16 + 8 (5 padded) + 304 (300 padded) bytes of ciphertext */
	assert_int_equal(w.len, proto == 2 ? 3 + 16 + 3 + 8 + 5 + 304 :
	    3 + 16 + 3 + 16 + 5 + 304);
	assert_memory_not_equal(got + 3, v[0], 16);
	/* a DGI running past the data: refused */
	gp_wr_init(&g, got, sizeof(got));
	assert_int_equal(keys_encrypt_dgis(&cl, &q, in, n - 1, &g),
	    KEYS_ERR_INVAL);
	gp_wipe(dek, sizeof(dek));
	gp_wipe(sdek, sizeof(sdek));
}

static void
test_dgi(void **state)
{
	dgi_case(2, GP_DIV_EMV, "dgi-emv");	/* session DEK, 3DES-ECB */
	dgi_case(2, GP_DIV_NONE, "dgi-des");
	dgi_case(3, GP_DIV_KDF3, "dgi-kdf3");	/* static DEK, AES-CBC */
	dgi_case(3, GP_DIV_NONE, "dgi-aes");	/* ... in the HSM */
}

/* ---- SCP03 pseudo-random card challenge (i bit 10) ---------------------- */

static size_t
prand_card(const uint8_t *k, int kdf3, uint8_t s, uint8_t *rsp,
    const uint8_t *hc)
{
	uint8_t iu[5 + 16 + 1];
	struct gp_scp_card_cfg cfg;
	struct gp_keyset ks;
	struct gp_scp card;
	struct gp_wr w;

	memset(&cfg, 0, sizeof(cfg));
	cfg.proto = 3;
	cfg.i = 0x10;
	cfg.s = s;
	memcpy(cfg.kdd, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A", 10);
	cfg.seq = 0x00002A;
	cfg.sd_aid = SD_AID;
	cfg.sd_aid_len = sizeof(SD_AID);
	memset(&ks, 0, sizeof(ks));
	if (kdf3)
		assert_int_equal(gp_keyset_diversify(&ks, GP_DIV_KDF3, k, 16,
		    cfg.kdd), 0);
	else {
		memcpy(ks.enc, k, 16);
		memcpy(ks.mac, k, 16);
		memcpy(ks.dek, k, 16);
		ks.len = 16;
	}
	ks.kvn = 0x30;
	iu[0] = 0x80;
	iu[1] = 0x50;
	iu[2] = 0x30;
	iu[3] = 0x00;
	iu[4] = s;
	memcpy(iu + 5, hc, s);
	iu[5 + s] = 0x00;
	memset(&card, 0, sizeof(card));
	gp_wr_init(&w, rsp, 64);
	assert_int_equal(gp_scp_card_init_update(&card, &cfg, &ks, iu,
	    6 + (size_t)s, &w), 0);
	gp_scp_free(&card);
	gp_keyset_wipe(&ks);
	return w.len - 2;	/* without the SW */
}

static void
prand_case(const char *label, const uint8_t *k, int kdf3, uint8_t s)
{
	static const uint8_t other[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00,
	    0x00, 0x01 };
	uint8_t hc[16], rsp[64], chal[16], zero[sizeof(struct keys_session)];
	struct keys_session ks;
	size_t n;

	memset(hc, 0x3C, sizeof(hc));
	n = prand_card(k, kdf3, s, rsp, hc);
	assert_int_equal(n, 13 + 2 * (size_t)s + 3);
	/* the card's challenge is the predicted one */
	if (!kdf3) {
		assert_int_equal(gp_scp03_card_challenge(k, 16, s, 0x2A, SD_AID,
		    sizeof(SD_AID), chal), 0);
		assert_memory_equal(rsp + 13, chal, s);
	}
	assert_int_equal(keys_open_channel_aid(&cl, label, 1, 3, 0x10, s, hc,
	    rsp, n, SD_AID, sizeof(SD_AID), &ks), 0);
	keys_session_wipe(&ks);
	memset(zero, 0, sizeof(zero));
	memset(&ks, 0xAA, sizeof(ks));
	assert_int_equal(keys_open_channel_aid(&cl, label, 1, 3, 0x10, s, hc,
	    rsp, n, other, sizeof(other), &ks), KEYS_ERR_CARD_CHALLENGE);
	assert_memory_equal(&ks, zero, sizeof(ks));	/* nothing returned */
	/* without the AID the challenge is not checked */
	assert_int_equal(keys_open_channel(&cl, label, 1, 3, 0x10, s, hc, rsp,
	    n, &ks), 0);
	keys_session_wipe(&ks);
	/* a challenge replaced (and its cryptogram with it): refused */
	rsp[13] ^= 0x01;
	assert_int_equal(keys_open_channel_aid(&cl, label, 1, 3, 0x10, s, hc,
	    rsp, n, SD_AID, sizeof(SD_AID), &ks), KEYS_ERR_CARD_CHALLENGE);
	assert_memory_equal(&ks, zero, sizeof(ks));
}

static void
test_prand_challenge(void **state)
{
	static const uint8_t k[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
	    0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };
	int t;

	for (t = 0; t < 3; t++)
		assert_int_equal(env_import(&cl, "prand", 1, KEYS_ROLE_ENC + t,
		    GP_DIV_NONE, KEYS_ALG_AES, k, 16), 0);
	assert_int_equal(env_import(&cl, "prand-kdf3", 1, KEYS_ROLE_MASTER,
	    GP_DIV_KDF3, KEYS_ALG_AES, k, 16), 0);
	prand_case("prand", k, 0, 8);		/* K-ENC in the HSM */
	prand_case("prand", k, 0, 16);
	prand_case("prand-kdf3", k, 1, 8);	/* card K-ENC from KDF3 */
}

/* ---- pipelined openings --------------------------------------------------- */

static void
test_pipeline(void **state)
{
	static const uint8_t k[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
	    0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };
	uint8_t hc[16], rsp[1][64], bad[64];
	struct keys_open_req o[KEYS_PIPELINE_MAX];
	struct keys_session out[KEYS_PIPELINE_MAX], one;
	int res[KEYS_PIPELINE_MAX], i;
	size_t n = 0;

	memset(hc, 0x3C, sizeof(hc));
	n = prand_card(k, 1, 8, rsp[0], hc);
	for (i = 0; i < KEYS_PIPELINE_MAX; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		o[i].label = "prand-kdf3";
		o[i].version = 1;
		o[i].proto = 3;
		o[i].i = 0x10;
		o[i].s = 8;
		o[i].host_challenge = hc;
		o[i].rsp = rsp[0];
		o[i].rsplen = n;
		o[i].sd_aid = SD_AID;
		o[i].aidlen = sizeof(SD_AID);
	}
	memcpy(bad, rsp[0], n);
	bad[n - 4] ^= 1;	/* last cryptogram byte */
	o[3].rsp = bad;
	o[5].label = "nope";
	o[7].sd_aid = NULL;
	assert_int_equal(keys_open_channels(&cl, o, KEYS_PIPELINE_MAX, out,
	    res), 0);
	assert_int_equal(keys_open_channel_aid(&cl, "prand-kdf3", 1, 3, 0x10,
	    8, hc, rsp[0], n, SD_AID, sizeof(SD_AID), &one), 0);
	for (i = 0; i < KEYS_PIPELINE_MAX; i++) {
		if (i == 3)
			assert_int_equal(res[i], KEYS_ERR_CARD_CRYPTOGRAM);
		else if (i == 5)
			assert_int_equal(res[i], KEYS_ERR_NOKEY);
		else {
			assert_int_equal(res[i], 0);
			assert_memory_equal(out[i].enc, one.enc, 16);
			assert_memory_equal(out[i].host_cryptogram,
			    one.host_cryptogram, 8);
		}
		keys_session_wipe(&out[i]);
	}
	keys_session_wipe(&one);
	/* one audit line per pipelined request, written before the answers */
	assert_int_equal(env_audit_count(&env, "req=open key=nope/1 "
	    "result=no such key"), 1);
	assert_int_equal(env_audit_count(&env, "req=open key=prand-kdf3/1 "
	    "result=card cryptogram wrong"), 1);
	assert_int_equal(keys_open_channels(&cl, o, 0, out, res),
	    KEYS_ERR_INVAL);
	/* the connection is still in step */
	assert_int_equal(keys_ping(&cl), 0);
}

/* A caller that sends half a frame does not hold the (single) worker. */
static void
test_partial_frame(void **state)
{
	static const uint8_t ping[5] = { 0, 0, 0, 1, 1 };
	struct keys_client c2;
	uint8_t a[8];
	ssize_t g;
	int fd;

	fd = env_raw_connect(&env);
	assert_int_equal(send(fd, ping, 2, 0), 2);
	keys_init(&c2, env.sock, 2000);
	assert_int_equal(keys_ping(&c2), 0);	/* answered meanwhile */
	keys_close(&c2);
	assert_int_equal(send(fd, ping + 2, 3, 0), 3);
	g = recv(fd, a, 5, MSG_WAITALL);
	assert_int_equal(g, 5);
	assert_int_equal(a[3], 1);
	assert_int_equal(a[4], 0);	/* status ok */
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_pairs),
		cmocka_unit_test(test_receipt),
		cmocka_unit_test(test_dap),
		cmocka_unit_test(test_token_vectors),
		cmocka_unit_test(test_token_ec_and_delete),
		cmocka_unit_test(test_pkcs11_privkeys),
		cmocka_unit_test(test_dgi),
		cmocka_unit_test(test_prand_challenge),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_partial_frame),
	};

	return cmocka_run_group_tests(tests, up, down);
}
