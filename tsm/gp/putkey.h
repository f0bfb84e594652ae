/*
 * PUT KEY (GP Card Specification 2.3.1, 11.8) and the key component
 * encryption it needs, plus the STORE DATA form of key loading (DGI 00B9
 * key attributes and DGI 8113 encrypted AES keys, as kaoh/globalplatform
 * builds them for SCP03 security domains).
 *
 * The clear keys passed in are never copied anywhere but wiped locals;
 * every buffer that held key material is wiped on every return path.
 */
#ifndef GP_PUTKEY_H
#define GP_PUTKEY_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"
#include "gp/crypto.h"

#define GP_KEYTYPE_DES		0x80	/* 3DES, two keys (SCP02) */
#define GP_KEYTYPE_AES		0x88
#define GP_PUTKEY_MAX		3	/* ENC, MAC, DEK */

/* SCP02: out = 3DES-ECB(session DEK, key). */
int	gp_keyenc_scp02(struct gp_des3 *dek, const uint8_t key[16],
	    uint8_t out[16]);
/*
 * SCP03 (Amendment D 7.2): appends length of the key (1 byte) ‖
 * AES-CBC(static DEK, IV 0, key); n is 16 or 32 (24-byte keys are not
 * a multiple of the block and are refused).
 */
int	gp_keyenc_scp03(struct gp_aes *dek, const uint8_t *key, size_t n,
	    struct gp_wr *);

/* One PUT KEY command replacing or creating a key set. */
struct gp_putkey {
	uint8_t		 old_kvn;	/* P1; 00 creates a new key set */
	uint8_t		 new_kvn;
	uint8_t		 key_id;	/* P2 b7..b1: first key identifier */
	const uint8_t	*keys[GP_PUTKEY_MAX];
	size_t		 nkeys;
	size_t		 key_len;	/* 16 for 3DES; 16 or 32 for AES */
};

int	gp_cmd_put_key_scp02(const struct gp_putkey *, struct gp_des3 *dek,
	    struct gp_wr *);
int	gp_cmd_put_key_scp03(const struct gp_putkey *, struct gp_aes *dek,
	    struct gp_wr *);
/*
 * PUT KEY from key data an HSM already encrypted under the DEK: keys[i]
 * of pk then holds key_len bytes of ciphertext (SCP02: 3DES-ECB; SCP03:
 * AES-CBC, IV 0) and kcv[i] the clear key's check value.
 */
int	gp_cmd_put_key_enc(const struct gp_putkey *, int aes,
	    const uint8_t (*kcv)[3], struct gp_wr *);
/*
 * Checks the PUT KEY response data (new KVN ‖ one 3-byte KCV per key)
 * against the KCVs of the keys sent: GP_ERR_AUTH when the card stored
 * something else.
 */
int	gp_put_key_verify(const struct gp_putkey *, int aes,
	    const uint8_t *rsp, size_t n);

/* STORE DATA key loading (DGI 00B9 then one DGI 8113 per key). */
struct gp_key_ref {
	uint8_t		 id;
	const uint8_t	*value;
};

struct gp_sd_keys {
	uint8_t			 type;		/* GP_KEYTYPE_AES */
	size_t			 key_len;	/* 16, 24 or 32 */
	uint8_t			 kvn;
	uint8_t			 access;
	uint16_t		 purpose;
	const struct gp_key_ref	*keys;
	size_t			 nkeys;
};

int	gp_storedata_keys(struct gp_aes *dek, const struct gp_sd_keys *,
	    struct gp_wr *);

#endif
