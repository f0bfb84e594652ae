/*
 * Session key derivation (SCP02, SCP03) and card key diversification.
 */
#include <string.h>

#include "gp/buf.h"
#include "gp/err.h"
#include "gp/kdf.h"

int
gp_kdf_scp03(struct gp_aes *key, uint8_t constant, const uint8_t *ctx,
    size_t ctxlen, size_t bits, uint8_t *out)
{
	uint8_t dd[16], blk[16];
	size_t n = bits / 8, done = 0, take;
	uint8_t i;
	int r = 0;

	if (bits == 0 || bits % 8 != 0 || bits > 512)
		return GP_ERR_INVAL;
	/* 11 x 00 ‖ constant ‖ 00 ‖ L (2 bytes) ‖ i, then the context. */
	memset(dd, 0, sizeof(dd));
	dd[11] = constant;
	dd[13] = (uint8_t)(bits >> 8);
	dd[14] = (uint8_t)bits;
	for (i = 1; done < n; i++) {
		dd[15] = i;
		if ((r = gp_aes_cmac3(key, dd, 16, ctx, ctxlen, NULL, 0,
		    blk)) != 0)
			goto out;
		take = n - done < 16 ? n - done : 16;
		memcpy(out + done, blk, take);
		done += take;
	}
out:
	gp_wipe(blk, sizeof(blk));
	return r;
}

int
gp_kdf_scp02(const uint8_t key[16], uint16_t constant, const uint8_t seq[2],
    uint8_t out[16])
{
	struct gp_des3 d;
	uint8_t dd[16] = { 0 }, iv[8] = { 0 };
	int r;

	dd[0] = (uint8_t)(constant >> 8);
	dd[1] = (uint8_t)constant;
	dd[2] = seq[0];
	dd[3] = seq[1];
	if ((r = gp_des3_init(&d, key)) != 0)
		return r;
	r = gp_des3_cbc_enc(&d, iv, dd, 16, out);
	gp_des3_free(&d);
	return r;
}

/* EMV CPS and VISA2 differ only in which KDD bytes fill the 6-byte half. */
int
gp_div_data(enum gp_div_method m, const uint8_t kdd[GP_KDD_LEN], int t,
    uint8_t dd[16])
{
	if (t < GP_KEY_ENC || t > GP_KEY_DEK)
		return GP_ERR_INVAL;
	memset(dd, 0, 16);
	switch (m) {
	case GP_DIV_EMV:
		memcpy(dd, kdd + 4, 6);
		break;
	case GP_DIV_VISA2:
		memcpy(dd, kdd, 2);
		memcpy(dd + 2, kdd + 4, 4);
		break;
	case GP_DIV_KDF3:	/* i ‖ 000000 ‖ t ‖ 00 ‖ KDD */
		dd[0] = 1;
		dd[4] = (uint8_t)t;
		memcpy(dd + 6, kdd, GP_KDD_LEN);
		return 0;
	default:
		return GP_ERR_INVAL;
	}
	dd[6] = 0xF0;
	dd[7] = (uint8_t)t;
	memcpy(dd + 8, dd, 6);
	dd[14] = 0x0F;
	dd[15] = (uint8_t)t;
	return 0;
}

static int
div_des3(enum gp_div_method m, const uint8_t *master,
    const uint8_t kdd[GP_KDD_LEN], int t, uint8_t out[16])
{
	struct gp_des3 d;
	uint8_t dd[16];
	int r;

	if ((r = gp_div_data(m, kdd, t, dd)) != 0)
		return r;
	if ((r = gp_des3_init(&d, master)) != 0)
		return r;
	r = gp_des3_ecb_enc(&d, dd, 16, out);
	gp_des3_free(&d);
	return r;
}

/* KDF3: block i = CMAC(master, i ‖ 000000 ‖ t ‖ 00 ‖ KDD). */
static int
div_kdf3(const uint8_t *master, size_t mlen, const uint8_t kdd[GP_KDD_LEN],
    int t, uint8_t *out)
{
	struct gp_aes a;
	uint8_t dd[16], blk[16];
	size_t done = 0, take;
	int r;

	if ((r = gp_div_data(GP_DIV_KDF3, kdd, t, dd)) != 0)
		return r;
	if ((r = gp_aes_init(&a, master, mlen)) != 0)
		return r;
	for (; done < mlen; dd[0]++) {
		if ((r = gp_aes_cmac(&a, dd, sizeof(dd), blk)) != 0)
			break;
		take = mlen - done < 16 ? mlen - done : 16;
		memcpy(out + done, blk, take);
		done += take;
	}
	gp_aes_free(&a);
	gp_wipe(blk, sizeof(blk));
	return r;
}

int
gp_diversify(enum gp_div_method m, const uint8_t *master, size_t mlen,
    const uint8_t kdd[GP_KDD_LEN], int t, uint8_t *out)
{
	if (t < GP_KEY_ENC || t > GP_KEY_DEK)
		return GP_ERR_INVAL;
	switch (m) {
	case GP_DIV_NONE:
		if (mlen == 0 || mlen > GP_KEY_MAX)
			return GP_ERR_INVAL;
		memcpy(out, master, mlen);
		return 0;
	case GP_DIV_EMV:
	case GP_DIV_VISA2:
		if (mlen != 16)
			return GP_ERR_INVAL;
		return div_des3(m, master, kdd, t, out);
	case GP_DIV_KDF3:
		if (mlen != 16 && mlen != 24 && mlen != 32)
			return GP_ERR_INVAL;
		return div_kdf3(master, mlen, kdd, t, out);
	}
	return GP_ERR_INVAL;
}

int
gp_div_method_parse(const char *s, enum gp_div_method *m)
{
	if (strcmp(s, "none") == 0)
		*m = GP_DIV_NONE;
	else if (strcmp(s, "emv") == 0)
		*m = GP_DIV_EMV;
	else if (strcmp(s, "visa2") == 0)
		*m = GP_DIV_VISA2;
	else if (strcmp(s, "kdf3") == 0)
		*m = GP_DIV_KDF3;
	else
		return GP_ERR_UNSUPPORTED;
	return 0;
}
