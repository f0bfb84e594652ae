/*
 * The fixed request table of tsm-keyd: parse (keys_req_parse), check the
 * caller, run the handler, audit. The answer is status ‖ result; a failed
 * request carries no result at all.
 */
#include <string.h>

#include "keyd_int.h"

static int
list(struct keyd *k, struct gp_wr *w)
{
	struct keyd_obj o[KEYD_OBJ_MAX];
	size_t n, i;
	int r;

	if ((r = keyd_scan(k, o, KEYD_OBJ_MAX, &n)) != 0)
		return r;
	if (gp_wr_u16(w, (uint16_t)n) != 0)
		return KEYS_ERR_TOOLARGE;
	for (i = 0; i < n; i++)
		if (gp_wr_lv(w, o[i].label, strlen(o[i].label)) != 0 ||
		    gp_wr_u8(w, o[i].ver) != 0 || gp_wr_u8(w, o[i].role) != 0 ||
		    gp_wr_u8(w, o[i].method) != 0 ||
		    gp_wr_u8(w, o[i].alg) != 0 || gp_wr_u8(w, o[i].len) != 0 ||
		    gp_wr_put(w, o[i].kcv, 3) != 0)
			return KEYS_ERR_TOOLARGE;
	return 0;
}

static int
handle(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	uint8_t kcv[3];
	int r;

	switch (q->type) {
	case KEYS_REQ_PING:
		return 0;
	case KEYS_REQ_OPEN:
		return keyd_open(k, q, w);
	case KEYS_REQ_PREDICT:
		return keyd_predict(k, q, w);
	case KEYS_REQ_PUTKEY:
		return keyd_putkey(k, q, w);
	case KEYS_REQ_CARD_KCV:
		return keyd_card_kcv(k, q, w);
	case KEYS_REQ_GENERATE:
	case KEYS_REQ_IMPORT:
	case KEYS_REQ_IMPORT_WRAPPED:
	case KEYS_REQ_IMPORT_PAIR:
		if (q->type == KEYS_REQ_GENERATE && q->role == KEYS_ROLE_DAP)
			r = keyd_generate_pair(k, q, kcv);
		else if (q->type == KEYS_REQ_GENERATE)
			r = keyd_generate(k, q, kcv);
		else if (q->type == KEYS_REQ_IMPORT_PAIR)
			r = keyd_import_pair(k, q, kcv);
		else if (q->type == KEYS_REQ_IMPORT)
			r = keyd_import(k, q, kcv);
		else
			r = keyd_import_wrapped(k, q, kcv);
		if (r == 0 && gp_wr_put(w, kcv, 3) != 0)
			r = KEYS_ERR_TOOLARGE;
		return r;
	case KEYS_REQ_LIST:
		return list(k, w);
	case KEYS_REQ_HMAC:
		return keyd_hmac(k, q, w);
	case KEYS_REQ_SIGN:
		return keyd_sign(k, q, w);
	case KEYS_REQ_PUBKEY:
		return keyd_pubkey(k, q, w);
	case KEYS_REQ_SIGN_TOKEN:
		return keyd_sign_token(k, q, w);
	case KEYS_REQ_RECEIPT:
		return keyd_receipt(k, q, w);
	case KEYS_REQ_DGI:
		return keyd_dgi(k, q, w);
	}
	return KEYS_ERR_PROTO;
}

int
keyd_dispatch(struct keyd *k, uid_t uid, pid_t pid, uid_t allowed,
    const uint8_t *req, size_t n, struct gp_wr *ans)
{
	struct keys_req q;
	int r;

	gp_wr_reset(ans);
	if ((r = keys_req_parse(req, n, &q)) == 0 && uid != allowed)
		r = KEYS_ERR_DENIED;
	if (r == 0 && gp_wr_u8(ans, 0) != 0)
		r = KEYS_ERR_TOOLARGE;
	if (r == 0)
		r = handle(k, &q, ans);
	keyd_audit(k, uid, pid, &q, r);
	if (r != 0) {
		gp_wr_reset(ans);	/* wipes any partial result */
		if (gp_wr_u8(ans, (uint8_t)-r) != 0)
			return KEYS_ERR_TOOLARGE;
	}
	return r;
}
