/*
 * Symmetric primitives over OpenSSL EVP. Contexts are keyed once in *_init
 * and re-initialised with a new IV only, which keeps the per-APDU path free
 * of allocations.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "gp/buf.h"
#include "gp/crypto.h"
#include "gp/err.h"

static const EVP_CIPHER *
aes_cipher(size_t klen, int cbc)
{
	switch (klen) {
	case 16: return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ecb();
	case 24: return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ecb();
	case 32: return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ecb();
	}
	return NULL;
}

static void *
cipher_new(const EVP_CIPHER *c, const uint8_t *key, int enc)
{
	EVP_CIPHER_CTX *ctx;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(ctx, c, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Runs a keyed context over n bytes (a multiple of the block size). */
static int
cipher_run(void *vctx, const uint8_t *iv, const uint8_t *in, size_t n,
    uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = vctx;
	int outl;

	if (n > INT_MAX)
		return GP_ERR_TOOLARGE;
	if (iv != NULL && EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, -1) != 1)
		return GP_ERR_CRYPTO;
	if (n == 0)
		return 0;
	if (EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1 ||
	    (size_t)outl != n)
		return GP_ERR_CRYPTO;
	return 0;
}

static void *
cmac_new(const EVP_CIPHER *c, const uint8_t *key, size_t klen)
{
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	char cname[32];

	snprintf(cname, sizeof(cname), "%s", EVP_CIPHER_get0_name(c));
	if ((mac = EVP_MAC_fetch(NULL, "CMAC", NULL)) == NULL)
		return NULL;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);	/* the context holds its own reference */
	if (ctx == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
	    cname, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, klen, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
gp_aes_init(struct gp_aes *a, const uint8_t *key, size_t klen)
{
	const EVP_CIPHER *ecb = aes_cipher(klen, 0), *cbc = aes_cipher(klen, 1);

	memset(a, 0, sizeof(*a));
	if (ecb == NULL)
		return GP_ERR_INVAL;
	a->klen = klen;
	a->ecb = cipher_new(ecb, key, 1);
	a->cbc_e = cipher_new(cbc, key, 1);
	a->cbc_d = cipher_new(cbc, key, 0);
	a->cmac = cmac_new(cbc, key, klen);
	if (a->ecb == NULL || a->cbc_e == NULL || a->cbc_d == NULL ||
	    a->cmac == NULL) {
		gp_aes_free(a);
		return GP_ERR_CRYPTO;
	}
	return 0;
}

/* EVP_*_free clear the key schedules they hold before freeing them. */
void
gp_aes_free(struct gp_aes *a)
{
	EVP_CIPHER_CTX_free(a->ecb);
	EVP_CIPHER_CTX_free(a->cbc_e);
	EVP_CIPHER_CTX_free(a->cbc_d);
	EVP_MAC_CTX_free(a->cmac);
	memset(a, 0, sizeof(*a));
}

int
gp_aes_ecb(struct gp_aes *a, const uint8_t in[16], uint8_t out[16])
{
	return cipher_run(a->ecb, NULL, in, 16, out);
}

int
gp_aes_cbc_enc(struct gp_aes *a, const uint8_t iv[16], const uint8_t *in,
    size_t n, uint8_t *out)
{
	if (n % 16 != 0)
		return GP_ERR_INVAL;
	return cipher_run(a->cbc_e, iv, in, n, out);
}

int
gp_aes_cbc_dec(struct gp_aes *a, const uint8_t iv[16], const uint8_t *in,
    size_t n, uint8_t *out)
{
	if (n % 16 != 0)
		return GP_ERR_INVAL;
	return cipher_run(a->cbc_d, iv, in, n, out);
}

int
gp_aes_cmac3(struct gp_aes *a, const uint8_t *p1, size_t n1,
    const uint8_t *p2, size_t n2, const uint8_t *p3, size_t n3,
    uint8_t out[16])
{
	size_t outl = 0;

	/* A NULL key restarts the MAC with the key already set. */
	if (EVP_MAC_init(a->cmac, NULL, 0, NULL) != 1)
		return GP_ERR_CRYPTO;
	if ((n1 > 0 && EVP_MAC_update(a->cmac, p1, n1) != 1) ||
	    (n2 > 0 && EVP_MAC_update(a->cmac, p2, n2) != 1) ||
	    (n3 > 0 && EVP_MAC_update(a->cmac, p3, n3) != 1))
		return GP_ERR_CRYPTO;
	if (EVP_MAC_final(a->cmac, out, &outl, 16) != 1 || outl != 16)
		return GP_ERR_CRYPTO;
	return 0;
}

int
gp_aes_cmac(struct gp_aes *a, const uint8_t *p, size_t n, uint8_t out[16])
{
	return gp_aes_cmac3(a, p, n, NULL, 0, NULL, 0, out);
}

int
gp_des3_init(struct gp_des3 *d, const uint8_t key[16])
{
	uint8_t k1k1[16];

	memset(d, 0, sizeof(*d));
	memcpy(k1k1, key, 8);
	memcpy(k1k1 + 8, key, 8);
	d->ecb_e = cipher_new(EVP_des_ede_ecb(), key, 1);
	d->ecb_d = cipher_new(EVP_des_ede_ecb(), key, 0);
	d->cbc_e = cipher_new(EVP_des_ede_cbc(), key, 1);
	d->cbc_d = cipher_new(EVP_des_ede_cbc(), key, 0);
	d->k1_ecb = cipher_new(EVP_des_ede_ecb(), k1k1, 1);
	d->k1_cbc = cipher_new(EVP_des_ede_cbc(), k1k1, 1);
	gp_wipe(k1k1, sizeof(k1k1));
	if (d->ecb_e == NULL || d->ecb_d == NULL || d->cbc_e == NULL ||
	    d->cbc_d == NULL || d->k1_ecb == NULL || d->k1_cbc == NULL) {
		gp_des3_free(d);
		return GP_ERR_CRYPTO;
	}
	return 0;
}

void
gp_des3_free(struct gp_des3 *d)
{
	EVP_CIPHER_CTX_free(d->ecb_e);
	EVP_CIPHER_CTX_free(d->ecb_d);
	EVP_CIPHER_CTX_free(d->cbc_e);
	EVP_CIPHER_CTX_free(d->cbc_d);
	EVP_CIPHER_CTX_free(d->k1_ecb);
	EVP_CIPHER_CTX_free(d->k1_cbc);
	memset(d, 0, sizeof(*d));
}

int
gp_des3_ecb_enc(struct gp_des3 *d, const uint8_t *in, size_t n, uint8_t *out)
{
	return n % 8 ? GP_ERR_INVAL : cipher_run(d->ecb_e, NULL, in, n, out);
}

int
gp_des3_ecb_dec(struct gp_des3 *d, const uint8_t *in, size_t n, uint8_t *out)
{
	return n % 8 ? GP_ERR_INVAL : cipher_run(d->ecb_d, NULL, in, n, out);
}

int
gp_des3_cbc_enc(struct gp_des3 *d, const uint8_t iv[8], const uint8_t *in,
    size_t n, uint8_t *out)
{
	return n % 8 ? GP_ERR_INVAL : cipher_run(d->cbc_e, iv, in, n, out);
}

int
gp_des3_cbc_dec(struct gp_des3 *d, const uint8_t iv[8], const uint8_t *in,
    size_t n, uint8_t *out)
{
	return n % 8 ? GP_ERR_INVAL : cipher_run(d->cbc_d, iv, in, n, out);
}

int
gp_des_ecb_k1(struct gp_des3 *d, const uint8_t in[8], uint8_t out[8])
{
	return cipher_run(d->k1_ecb, NULL, in, 8, out);
}

/*
 * Retail MAC: single-DES CBC with K1 over all blocks but the last, then
 * 3DES on the last. The message is a ‖ b, padded here; it is processed in
 * chunks so that no buffer proportional to the APDU is needed.
 */
int
gp_retail_mac(struct gp_des3 *d, const uint8_t icv[8], const uint8_t *a,
    size_t an, const uint8_t *b, size_t bn, uint8_t out[8])
{
	uint8_t chain[8], blk[8], tmp[8];
	size_t total = an + bn, nblk = total / 8 + 1, i, j, pos = 0;
	int rc = 0;

	memcpy(chain, icv, 8);
	for (i = 0; i < nblk; i++) {
		for (j = 0; j < 8; j++, pos++) {
			uint8_t v;
			if (pos < an)
				v = a[pos];
			else if (pos < total)
				v = b[pos - an];
			else
				v = pos == total ? 0x80 : 0x00;
			blk[j] = v ^ chain[j];
		}
		if (i + 1 < nblk)
			rc = cipher_run(d->k1_ecb, NULL, blk, 8, chain);
		else
			rc = cipher_run(d->ecb_e, NULL, blk, 8, tmp);
		if (rc != 0)
			goto out;
	}
	memcpy(out, tmp, 8);
out:
	gp_wipe(blk, sizeof(blk));
	gp_wipe(tmp, sizeof(tmp));
	return rc;
}

int
gp_des3_full_mac(struct gp_des3 *d, const uint8_t *msg, size_t n,
    uint8_t out[8])
{
	uint8_t buf[64], zero[8] = { 0 };
	size_t pn;
	int rc;

	if ((pn = gp_pad80(msg, n, 8, buf, sizeof(buf))) == 0)
		return GP_ERR_TOOLARGE;
	if ((rc = gp_des3_cbc_enc(d, zero, buf, pn, buf)) == 0)
		memcpy(out, buf + pn - 8, 8);
	gp_wipe(buf, sizeof(buf));
	return rc;
}

size_t
gp_pad80(const uint8_t *in, size_t n, size_t blk, uint8_t *out, size_t cap)
{
	size_t pn;

	if (blk == 0 || n >= cap)
		return 0;	/* n >= cap also keeps pn from wrapping */
	pn = (n / blk + 1) * blk;
	if (pn > cap)
		return 0;
	if (n > 0 && out != in)
		memmove(out, in, n);
	out[n] = 0x80;
	memset(out + n + 1, 0, pn - n - 1);
	return pn;
}

long
gp_unpad80(const uint8_t *in, size_t n)
{
	size_t i = n;

	while (i > 0 && in[i - 1] == 0x00)
		i--;
	if (i == 0 || in[i - 1] != 0x80)
		return -1;
	return (long)(i - 1);
}

long
gp_unpad80_blk(const uint8_t *in, size_t n, size_t blk)
{
	long un = gp_unpad80(in, n);

	if (un < 0 || n - (size_t)un > blk)
		return -1;
	return un;
}

int
gp_kcv_des3(const uint8_t key[16], uint8_t out[3])
{
	struct gp_des3 d;
	uint8_t zero[8] = { 0 }, c[8];
	int rc;

	if ((rc = gp_des3_init(&d, key)) != 0)
		return rc;
	if ((rc = gp_des3_ecb_enc(&d, zero, 8, c)) == 0)
		memcpy(out, c, 3);
	gp_des3_free(&d);
	return rc;
}

int
gp_kcv_aes(const uint8_t *key, size_t klen, uint8_t out[3])
{
	struct gp_aes a;
	uint8_t ones[16], c[16];
	int rc;

	memset(ones, 0x01, sizeof(ones));
	if ((rc = gp_aes_init(&a, key, klen)) != 0)
		return rc;
	if ((rc = gp_aes_ecb(&a, ones, c)) == 0)
		memcpy(out, c, 3);
	gp_aes_free(&a);
	return rc;
}
