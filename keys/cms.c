/*
 * Code-signing check of a CAP file: a detached CMS (PKCS#7) signature,
 * the signer's chain to a trust anchor the issuer configured, its validity,
 * an optional CRL and the codeSigning extended key usage. Each refusal has
 * its own error code and a one-line reason.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>	/* before cms.h: PEM_read_bio_CMS */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "keys.h"

static int
say(char *why, size_t cap, int r, const char *what)
{
	if (why != NULL && cap > 0)
		snprintf(why, cap, "%s%s%s", keys_strerror(r),
		    what != NULL ? ": " : "", what != NULL ? what : "");
	return r;
}

static CMS_ContentInfo *
read_cms(const uint8_t *sig, size_t n)
{
	CMS_ContentInfo *cms;
	BIO *b;

	if ((b = BIO_new_mem_buf(sig, (int)n)) == NULL)
		return NULL;
	if ((cms = d2i_CMS_bio(b, NULL)) == NULL) {
		BIO_free(b);
		if ((b = BIO_new_mem_buf(sig, (int)n)) == NULL)
			return NULL;
		cms = PEM_read_bio_CMS(b, NULL, NULL, NULL);
	}
	BIO_free(b);
	ERR_clear_error();
	return cms;
}

static int
chain_error(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return KEYS_ERR_CERT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return KEYS_ERR_CERT_NOTYET;
	case X509_V_ERR_CERT_REVOKED:
		return KEYS_ERR_CERT_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
		return KEYS_ERR_CRL;
	default:
		return KEYS_ERR_CERT_UNTRUSTED;
	}
}

static int
check_chain(X509 *leaf, STACK_OF(X509) *untrusted, const char *anchor,
    const char *crl, char *why, size_t cap)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	int r = KEYS_ERR_NOMEM, e;

	if ((st = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	if (X509_STORE_load_file(st, anchor) != 1 ||
	    (crl != NULL && X509_STORE_load_file(st, crl) != 1)) {
		r = say(why, cap, crl != NULL ? KEYS_ERR_CRL :
		    KEYS_ERR_CERT_UNTRUSTED, "cannot read the anchor or CRL");
		goto out;
	}
	if (crl != NULL)
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL);
	if (X509_STORE_CTX_init(ctx, st, leaf, untrusted) != 1)
		goto out;
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		r = say(why, cap, chain_error(e),
		    X509_verify_cert_error_string(e));
		goto out;
	}
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return r;
}

int
keys_cms_verify(const uint8_t *cap, size_t caplen, const uint8_t *sig,
    size_t siglen, const char *anchor, const char *crl, char *why,
    size_t whycap)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *signers = NULL, *certs = NULL;
	BIO *data = NULL;
	X509 *leaf;
	int r;

	if (cap == NULL || sig == NULL || anchor == NULL || caplen > INT_MAX ||
	    siglen > INT_MAX)
		return say(why, whycap, KEYS_ERR_INVAL, NULL);
	if ((cms = read_cms(sig, siglen)) == NULL) {
		r = say(why, whycap, KEYS_ERR_CMS_FORMAT, NULL);
		goto out;
	}
	if ((data = BIO_new_mem_buf(cap, (int)caplen)) == NULL) {
		r = KEYS_ERR_NOMEM;
		goto out;
	}
	/* The signature over these bytes first; the chain after. */
	if (CMS_verify(cms, NULL, NULL, data, NULL, CMS_BINARY |
	    CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		r = say(why, whycap, KEYS_ERR_SIG_BAD, NULL);
		goto out;
	}
	if ((signers = CMS_get0_signers(cms)) == NULL ||
	    sk_X509_num(signers) != 1) {
		r = say(why, whycap, KEYS_ERR_CMS_FORMAT, "one signer expected");
		goto out;
	}
	leaf = sk_X509_value(signers, 0);
	certs = CMS_get1_certs(cms);
	if ((r = check_chain(leaf, certs, anchor, crl, why, whycap)) != 0)
		goto out;
	if (!(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN)) {
		r = say(why, whycap, KEYS_ERR_CERT_USAGE, NULL);
		goto out;
	}
	r = 0;
	say(why, whycap, 0, NULL);
out:
	sk_X509_free(signers);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(data);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}
