/*
 * Signing requests of tsm-keyd: HMAC-SHA256 for the audit chain. DAP and
 * token signatures (RSA, ECDSA P-256) are listed in docs/keys.md as not
 * yet built: the requests answer KEYS_ERR_UNSUPPORTED.
 */
#include <string.h>

#include "keyd_int.h"

int
keyd_hmac(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	CK_MECHANISM m = { CKM_SHA256_HMAC, NULL, 0 };
	struct keyd_obj *o;
	uint8_t mac[32];
	CK_ULONG n = sizeof(mac);
	int r;

	if ((r = keyd_find(k, q->label, q->ver, KEYS_ROLE_HMAC, &o)) != 0)
		return r;
	if ((r = keyd_rv(k->f->C_SignInit(k->sh, &m, o->ses))) != 0 ||
	    (r = keyd_rv(k->f->C_Sign(k->sh, (CK_BYTE *)(uintptr_t)q->data,
	    q->datalen, mac, &n))) != 0)
		return r;
	if (n != 32 || gp_wr_put(w, mac, 32) != 0)
		r = KEYS_ERR_HSM;
	return r;
}

int
keyd_sign(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	return KEYS_ERR_UNSUPPORTED;
}

int
keyd_pubkey(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	return KEYS_ERR_UNSUPPORTED;
}
