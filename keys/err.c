/*
 * keys_strerror and the software key check value the ceremony shows.
 */
#include <stddef.h>
#include <stdint.h>

#include "gp/crypto.h"
#include "keys.h"

static const char *const keys_errs[KEYS_ERR_MAX + 1] = {
	"success",
	"invalid argument",
	"malformed request or answer",
	"request too large",
	"connection to tsm-keyd failed or dropped",
	"tsm-keyd did not answer in time",
	"caller not allowed by tsm-keyd",
	"no such key (label/version)",
	"the PKCS#11 module failed",
	"token login failed (PIN)",
	"card cryptogram wrong: card not authenticated",
	"key check value does not match",
	"key label/version already exists",
	"out of memory",
	"not supported",
	"software crypto failed",
	"signature file unreadable (CMS)",
	"signature does not match the file",
	"signer certificate does not chain to a trust anchor",
	"certificate expired",
	"certificate not yet valid",
	"certificate revoked",
	"certificate lacks the codeSigning extended key usage",
	"CRL unreadable, expired or not signed by the issuer",
	"receipt does not verify",
	"card challenge is not the expected pseudo-random one",
};

const char *
keys_strerror(int e)
{
	if (e > 0 || e < -KEYS_ERR_MAX)
		return "unknown error";
	return keys_errs[-e];
}

int
keys_kcv(int alg, const uint8_t *key, size_t len, uint8_t kcv[3])
{
	if (alg == KEYS_ALG_DES3 && len == 16)
		return gp_kcv_des3(key, kcv) == 0 ? 0 : KEYS_ERR_CRYPTO;
	if (alg == KEYS_ALG_AES && (len == 16 || len == 24 || len == 32))
		return gp_kcv_aes(key, len, kcv) == 0 ? 0 : KEYS_ERR_CRYPTO;
	return KEYS_ERR_INVAL;
}
