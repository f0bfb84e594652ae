/*
 * Symmetric primitives of GlobalPlatform over OpenSSL's libcrypto.
 *
 * Keyed contexts (gp_aes, gp_des3) are created once per key and reused, so
 * that per-APDU work allocates nothing. Single DES is computed as 3DES with
 * K1 = K2 (E(K1) D(K1) E(K1) == E(K1)), which keeps OpenSSL's legacy
 * provider out of the picture.
 */
#ifndef GP_CRYPTO_H
#define GP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define GP_AES_BLOCK	16
#define GP_DES_BLOCK	8
#define GP_KEY_MAX	32

/* An AES key with its ECB, CBC and CMAC contexts. */
struct gp_aes {
	void	*ecb;	/* EVP_CIPHER_CTX, encrypt */
	void	*cbc_e;	/* EVP_CIPHER_CTX */
	void	*cbc_d;	/* EVP_CIPHER_CTX */
	void	*cmac;	/* EVP_MAC_CTX */
	size_t	 klen;
};

int	gp_aes_init(struct gp_aes *, const uint8_t *key, size_t klen);
void	gp_aes_free(struct gp_aes *);
int	gp_aes_ecb(struct gp_aes *, const uint8_t in[16], uint8_t out[16]);
/* n must be a multiple of 16; in and out may be the same buffer. */
int	gp_aes_cbc_enc(struct gp_aes *, const uint8_t iv[16], const uint8_t *in,
	    size_t n, uint8_t *out);
int	gp_aes_cbc_dec(struct gp_aes *, const uint8_t iv[16], const uint8_t *in,
	    size_t n, uint8_t *out);
/* CMAC over the concatenation of up to three parts (any may be NULL/0). */
int	gp_aes_cmac3(struct gp_aes *, const uint8_t *a, size_t an,
	    const uint8_t *b, size_t bn, const uint8_t *c, size_t cn,
	    uint8_t out[16]);
int	gp_aes_cmac(struct gp_aes *, const uint8_t *, size_t, uint8_t out[16]);

/* A two-key 3DES key (16 bytes: K1 K2, used as K1 K2 K1). */
struct gp_des3 {
	void	*ecb_e;
	void	*ecb_d;
	void	*cbc_e;
	void	*cbc_d;
	void	*k1_ecb;	/* single DES with K1, for the retail MAC */
	void	*k1_cbc;
};

int	gp_des3_init(struct gp_des3 *, const uint8_t key[16]);
void	gp_des3_free(struct gp_des3 *);
int	gp_des3_ecb_enc(struct gp_des3 *, const uint8_t *in, size_t n, uint8_t *out);
int	gp_des3_ecb_dec(struct gp_des3 *, const uint8_t *in, size_t n, uint8_t *out);
int	gp_des3_cbc_enc(struct gp_des3 *, const uint8_t iv[8], const uint8_t *in,
	    size_t n, uint8_t *out);
int	gp_des3_cbc_dec(struct gp_des3 *, const uint8_t iv[8], const uint8_t *in,
	    size_t n, uint8_t *out);
int	gp_des_ecb_k1(struct gp_des3 *, const uint8_t in[8], uint8_t out[8]);
/* ISO 9797-1 algorithm 3 over pad80(msg), chained from icv. */
int	gp_retail_mac(struct gp_des3 *, const uint8_t icv[8], const uint8_t *a,
	    size_t an, const uint8_t *b, size_t bn, uint8_t out[8]);
/* 3DES-CBC over pad80(msg), IV 0, last block (the SCP02 cryptogram MAC). */
int	gp_des3_full_mac(struct gp_des3 *, const uint8_t *msg, size_t n,
	    uint8_t out[8]);

/*
 * ISO 9797-1 method 2 padding: appends 80 then 00 to a multiple of blk.
 * Returns the padded length, or 0 when out (capacity cap) is too small.
 */
size_t	gp_pad80(const uint8_t *in, size_t n, size_t blk, uint8_t *out,
	    size_t cap);
/* Length of x without its pad80 padding, or -1 when the padding is bad. */
long	gp_unpad80(const uint8_t *in, size_t n);
/* The same, for what a peer sends: the padding must end within one blk. */
long	gp_unpad80_blk(const uint8_t *in, size_t n, size_t blk);

/* Key check values (3 bytes). AES: AES-ECB(key, 16 x 01), the SCP03 rule. */
int	gp_kcv_des3(const uint8_t key[16], uint8_t out[3]);
int	gp_kcv_aes(const uint8_t *key, size_t klen, uint8_t out[3]);

#endif
