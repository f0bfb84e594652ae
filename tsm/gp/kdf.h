/*
 * Key derivation of the secure channels and card key diversification.
 *
 * SCP03: NIST SP 800-108 counter mode with AES-CMAC as GP Amendment D
 * defines it. SCP02: the 3DES-CBC session key derivation. Diversification:
 * EMV CPS (KDC), VISA2 and KDF3 (GlobalPlatformPro's name for the CMAC
 * counter-mode scheme), all from the 10-byte key diversification data
 * (KDD) that starts the INITIALIZE UPDATE response.
 */
#ifndef GP_KDF_H
#define GP_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "gp/crypto.h"

/* SCP03 derivation constants (Amendment D, table 4-1). */
#define GP_KDF_CARD_CRYPTOGRAM	0x00
#define GP_KDF_HOST_CRYPTOGRAM	0x01
#define GP_KDF_CARD_CHALLENGE	0x02
#define GP_KDF_S_ENC		0x04
#define GP_KDF_S_MAC		0x06
#define GP_KDF_S_RMAC		0x07

/* SCP02 derivation constants. */
#define GP_SCP02_C_MAC		0x0101
#define GP_SCP02_R_MAC		0x0102
#define GP_SCP02_S_ENC		0x0182
#define GP_SCP02_DEK		0x0181

#define GP_KDD_LEN		10

/* out receives bits/8 bytes; bits is a multiple of 8, at most 512. */
int	gp_kdf_scp03(struct gp_aes *key, uint8_t constant, const uint8_t *ctx,
	    size_t ctxlen, size_t bits, uint8_t *out);
/* out = 3DES-CBC(key, IV 0, constant ‖ seq ‖ 12 x 00), 16 bytes. */
int	gp_kdf_scp02(const uint8_t key[16], uint16_t constant,
	    const uint8_t seq[2], uint8_t out[16]);

enum gp_div_method {
	GP_DIV_NONE = 0,
	GP_DIV_EMV,	/* EMV CPS 1.1 KDC, 3DES */
	GP_DIV_VISA2,	/* 3DES */
	GP_DIV_KDF3,	/* AES, CMAC counter mode */
};

/* Key types of the diversification data: 1 ENC, 2 MAC, 3 DEK. */
#define GP_KEY_ENC	1
#define GP_KEY_MAC	2
#define GP_KEY_DEK	3

/*
 * Derives the static card key of type t (GP_KEY_*) from master. The output
 * has the master's length (16 for 3DES; 16, 24 or 32 for AES).
 */
int	gp_diversify(enum gp_div_method, const uint8_t *master, size_t mlen,
	    const uint8_t kdd[GP_KDD_LEN], int t, uint8_t *out);
int	gp_div_method_parse(const char *, enum gp_div_method *);
/*
 * The 16-byte block each method encrypts (EMV, VISA2: 3DES-ECB under the
 * master) or MACs (KDF3: CMAC under the master, block counter in byte 0,
 * set here to 1). Shared with tsm-keyd, which runs it inside the HSM.
 */
int	gp_div_data(enum gp_div_method, const uint8_t kdd[GP_KDD_LEN], int t,
	    uint8_t out[16]);

#endif
