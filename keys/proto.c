/*
 * The request table of tsm-keyd and the one parser of request bytes. Every
 * request is read through gp_rd; lengths are checked against fixed limits
 * before anything is used.
 */
#include <string.h>

#include "gp/buf.h"
#include "gp/err.h"
#include "keys_proto.h"

static const struct {
	const char	*name;
	unsigned	 fields;
} req_table[KEYS_REQ_MAX + 1] = {
	[KEYS_REQ_PING] = { "ping", 0 },
	[KEYS_REQ_OPEN] = { "open", KF_LABEL | KF_VER | KF_PROTO | KF_HC |
	    KF_RSP | KF_AID },
	[KEYS_REQ_PUTKEY] = { "putkey", KF_LABEL | KF_VER | KF_PROTO |
	    KF_KDD | KF_SEQ | KF_TARGET },
	[KEYS_REQ_CARD_KCV] = { "card-kcv", KF_LABEL | KF_VER | KF_KDD },
	[KEYS_REQ_GENERATE] = { "generate", KF_LABEL | KF_VER | KF_ROLE |
	    KF_METHOD | KF_ALG | KF_KLEN },
	[KEYS_REQ_IMPORT] = { "import", KF_LABEL | KF_VER | KF_ROLE |
	    KF_METHOD | KF_ALG | KF_COMPS },
	[KEYS_REQ_IMPORT_WRAPPED] = { "import-wrapped", KF_LABEL | KF_VER |
	    KF_ROLE | KF_METHOD | KF_ALG | KF_KLEN | KF_WRAP },
	[KEYS_REQ_LIST] = { "list", 0 },
	[KEYS_REQ_HMAC] = { "hmac", KF_LABEL | KF_VER | KF_DATA },
	[KEYS_REQ_SIGN] = { "sign", KF_LABEL | KF_VER | KF_SIGALG | KF_DATA },
	[KEYS_REQ_PUBKEY] = { "pubkey", KF_LABEL | KF_VER },
	[KEYS_REQ_SIGN_TOKEN] = { "sign-token", KF_LABEL | KF_VER |
	    KF_SIGALG | KF_DATA },
	[KEYS_REQ_IMPORT_PAIR] = { "import-pair", KF_LABEL | KF_VER |
	    KF_ROLE | KF_DATA },
	[KEYS_REQ_RECEIPT] = { "verify-receipt", KF_LABEL | KF_VER |
	    KF_DATA | KF_MAC },
	[KEYS_REQ_DGI] = { "encrypt-dgi", KF_LABEL | KF_VER | KF_PROTO |
	    KF_KDD | KF_SEQ | KF_DATA },
	[KEYS_REQ_PREDICT] = { "predict", KF_LABEL | KF_VER | KF_PROTO |
	    KF_HC | KF_KDD | KF_CTR | KF_AID },
};

unsigned
keys_req_fields(uint8_t type)
{
	if (type == 0 || type > KEYS_REQ_MAX)
		return 0;
	return req_table[type].fields;
}

const char *
keys_req_name(uint8_t type)
{
	if (type == 0 || type > KEYS_REQ_MAX)
		return "unknown";
	return req_table[type].name;
}

int
keys_label_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > KEYS_LABEL_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

static int
rd_label(struct gp_rd *rd, char out[KEYS_LABEL_MAX + 1])
{
	const uint8_t *p;
	size_t n;

	if (gp_rd_lv(rd, &p, &n) != 0)
		return KEYS_ERR_PROTO;
	if (n == 0 || n > KEYS_LABEL_MAX)
		return KEYS_ERR_PROTO;
	memcpy(out, p, n);
	out[n] = '\0';
	if (strlen(out) != n || !keys_label_valid(out))
		return KEYS_ERR_PROTO;
	return 0;
}

static int
rd_lv_max(struct gp_rd *rd, const uint8_t **p, size_t *n, size_t min,
    size_t max)
{
	if (gp_rd_lv(rd, p, n) != 0 || *n < min || *n > max)
		return KEYS_ERR_PROTO;
	return 0;
}

static int
rd_u8s(struct gp_rd *rd, uint8_t *a, uint8_t *b, uint8_t *c)
{
	if (gp_rd_u8(rd, a) != 0 || (b != NULL && gp_rd_u8(rd, b) != 0) ||
	    (c != NULL && gp_rd_u8(rd, c) != 0))
		return KEYS_ERR_PROTO;
	return 0;
}

static int
rd_comps(struct gp_rd *rd, struct keys_req *r)
{
	uint8_t n;
	size_t k;

	if (gp_rd_u8(rd, &n) != 0 || n < 2 || n > 3)
		return KEYS_ERR_PROTO;
	r->ncomp = n;
	for (k = 0; k < n; k++) {
		if (rd_lv_max(rd, &r->comp[k], &r->complen[k], 16,
		    GP_KEY_MAX) != 0 || gp_rd_copy(rd, r->kcv[k], 3) != 0)
			return KEYS_ERR_PROTO;
	}
	return 0;
}

static int
rd_data(struct gp_rd *rd, struct keys_req *r)
{
	uint16_t n;

	if (gp_rd_u16(rd, &n) != 0 || n > KEYS_DATA_MAX ||
	    gp_rd_bytes(rd, n, &r->data) != 0)
		return KEYS_ERR_PROTO;
	r->datalen = n;
	return 0;
}

int
keys_req_parse(const uint8_t *buf, size_t n, struct keys_req *r)
{
	struct gp_rd rd;
	unsigned f;
	int e = KEYS_ERR_PROTO;

	memset(r, 0, sizeof(*r));
	if (n > KEYS_MSG_MAX)
		return KEYS_ERR_TOOLARGE;
	gp_rd_init(&rd, buf, n);
	if (gp_rd_u8(&rd, &r->type) != 0 || r->type == 0 ||
	    r->type > KEYS_REQ_MAX)
		return KEYS_ERR_PROTO;
	f = keys_req_fields(r->type);
	if ((f & KF_LABEL) && rd_label(&rd, r->label) != 0)
		goto out;
	if ((f & KF_VER) && rd_u8s(&rd, &r->ver, NULL, NULL) != 0)
		goto out;
	if ((f & KF_ROLE) && (rd_u8s(&rd, &r->role, NULL, NULL) != 0 ||
	    r->role > KEYS_ROLE_MAX))
		goto out;
	if ((f & KF_METHOD) && (rd_u8s(&rd, &r->method, NULL, NULL) != 0 ||
	    r->method > GP_DIV_KDF3))
		goto out;
	if ((f & KF_ALG) && (rd_u8s(&rd, &r->alg, NULL, NULL) != 0 ||
	    r->alg < KEYS_ALG_DES3 || r->alg > KEYS_ALG_EC))
		goto out;
	if ((f & KF_KLEN) && rd_u8s(&rd, &r->klen, NULL, NULL) != 0)
		goto out;
	if ((f & KF_SIGALG) && (rd_u8s(&rd, &r->sigalg, NULL, NULL) != 0 ||
	    r->sigalg > KEYS_SIG_LAST))
		goto out;
	if ((f & KF_PROTO) && (rd_u8s(&rd, &r->proto, &r->i, &r->s) != 0 ||
	    (r->proto != 2 && r->proto != 3) || (r->s != 8 && r->s != 16)))
		goto out;
	if ((f & KF_HC) && rd_lv_max(&rd, &r->hc, &r->hclen, 8, 16) != 0)
		goto out;
	if ((f & KF_RSP) && rd_lv_max(&rd, &r->rsp, &r->rsplen, 28, 64) != 0)
		goto out;
	if ((f & KF_KDD) && gp_rd_copy(&rd, r->kdd, GP_KDD_LEN) != 0)
		goto out;
	if ((f & KF_SEQ) && gp_rd_copy(&rd, r->seq, 2) != 0)
		goto out;
	if ((f & KF_CTR) && gp_rd_u24(&rd, &r->ctr) != 0)
		goto out;
	if ((f & (KF_TARGET | KF_WRAP)) && (rd_label(&rd, r->label2) != 0 ||
	    rd_u8s(&rd, &r->ver2, NULL, NULL) != 0))
		goto out;
	if ((f & KF_TARGET) && rd_u8s(&rd, &r->old_kvn, &r->new_kvn,
	    &r->key_id) != 0)
		goto out;
	if ((f & KF_WRAP) && (rd_lv_max(&rd, &r->blob, &r->bloblen, 16,
	    64) != 0 || gp_rd_copy(&rd, r->kcv[0], 3) != 0))
		goto out;
	if ((f & KF_COMPS) && rd_comps(&rd, r) != 0)
		goto out;
	if ((f & KF_DATA) && rd_data(&rd, r) != 0)
		goto out;
	if ((f & KF_MAC) && rd_lv_max(&rd, &r->mac, &r->maclen, 8, 16) != 0)
		goto out;
	if ((f & KF_AID) && (rd_lv_max(&rd, &r->aid, &r->aidlen, 0, 16) != 0 ||
	    (r->aidlen > 0 && r->aidlen < 5)))
		goto out;
	if (gp_rd_left(&rd) != 0)
		goto out;
	e = 0;
out:
	return e;
}

static int
wr_label(struct gp_wr *w, const char *s)
{
	if (!keys_label_valid(s))
		return KEYS_ERR_INVAL;
	return gp_wr_lv(w, s, strlen(s)) == 0 ? 0 : KEYS_ERR_TOOLARGE;
}

static int
wr_body(const struct keys_req *r, unsigned f, struct gp_wr *w)
{
	size_t k;
	int e = 0;

	if ((f & KF_LABEL) && (e = wr_label(w, r->label)) != 0)
		return e;
	if (((f & KF_VER) && gp_wr_u8(w, r->ver) != 0) ||
	    ((f & KF_ROLE) && gp_wr_u8(w, r->role) != 0) ||
	    ((f & KF_METHOD) && gp_wr_u8(w, r->method) != 0) ||
	    ((f & KF_ALG) && gp_wr_u8(w, r->alg) != 0) ||
	    ((f & KF_KLEN) && gp_wr_u8(w, r->klen) != 0) ||
	    ((f & KF_SIGALG) && gp_wr_u8(w, r->sigalg) != 0))
		return KEYS_ERR_TOOLARGE;
	if ((f & KF_PROTO) && (gp_wr_u8(w, r->proto) != 0 ||
	    gp_wr_u8(w, r->i) != 0 || gp_wr_u8(w, r->s) != 0))
		return KEYS_ERR_TOOLARGE;
	if (((f & KF_HC) && gp_wr_lv(w, r->hc, r->hclen) != 0) ||
	    ((f & KF_RSP) && gp_wr_lv(w, r->rsp, r->rsplen) != 0) ||
	    ((f & KF_KDD) && gp_wr_put(w, r->kdd, GP_KDD_LEN) != 0) ||
	    ((f & KF_SEQ) && gp_wr_put(w, r->seq, 2) != 0))
		return KEYS_ERR_TOOLARGE;
	if ((f & KF_CTR) && r->ctr > 0xFFFFFF)
		return KEYS_ERR_INVAL;
	if ((f & KF_CTR) && (gp_wr_u8(w, (uint8_t)(r->ctr >> 16)) != 0 ||
	    gp_wr_u16(w, (uint16_t)r->ctr) != 0))
		return KEYS_ERR_TOOLARGE;
	if ((f & (KF_TARGET | KF_WRAP)) && ((e = wr_label(w, r->label2)) != 0
	    || gp_wr_u8(w, r->ver2) != 0))
		return e != 0 ? e : KEYS_ERR_TOOLARGE;
	if ((f & KF_TARGET) && (gp_wr_u8(w, r->old_kvn) != 0 ||
	    gp_wr_u8(w, r->new_kvn) != 0 || gp_wr_u8(w, r->key_id) != 0))
		return KEYS_ERR_TOOLARGE;
	if ((f & KF_WRAP) && (gp_wr_lv(w, r->blob, r->bloblen) != 0 ||
	    gp_wr_put(w, r->kcv[0], 3) != 0))
		return KEYS_ERR_TOOLARGE;
	if (f & KF_COMPS) {
		if (r->ncomp > 3 || gp_wr_u8(w, (uint8_t)r->ncomp) != 0)
			return KEYS_ERR_TOOLARGE;
		for (k = 0; k < r->ncomp; k++)
			if (gp_wr_lv(w, r->comp[k], r->complen[k]) != 0 ||
			    gp_wr_put(w, r->kcv[k], 3) != 0)
				return KEYS_ERR_TOOLARGE;
	}
	if ((f & KF_DATA) && (r->datalen > KEYS_DATA_MAX ||
	    gp_wr_u16(w, (uint16_t)r->datalen) != 0 ||
	    gp_wr_put(w, r->data, r->datalen) != 0))
		return KEYS_ERR_TOOLARGE;
	if ((f & KF_MAC) && gp_wr_lv(w, r->mac, r->maclen) != 0)
		return KEYS_ERR_TOOLARGE;
	if ((f & KF_AID) && (r->aidlen > 16 ||
	    gp_wr_lv(w, r->aid, r->aidlen) != 0))
		return KEYS_ERR_TOOLARGE;
	return 0;
}

int
keys_req_encode(const struct keys_req *r, struct gp_wr *w)
{
	if (r->type == 0 || r->type > KEYS_REQ_MAX)
		return KEYS_ERR_INVAL;
	if (gp_wr_u8(w, r->type) != 0)
		return KEYS_ERR_TOOLARGE;
	return wr_body(r, keys_req_fields(r->type), w);
}
