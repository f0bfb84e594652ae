/*
 * ETSI TS 102 226 expanded format scripts (clause 5.2.1: Command
 * Scripting template AA with C-APDU TLVs 22, Immediate Action 81, Error
 * Action 82, Script Chaining 83; clause 5.2.2: Response Scripting template
 * AB with Number of executed command TLV objects 80, R-APDU TLVs 23 and
 * Bad format 90; template tags from TS 101 220 7.2, where AE/AF are the
 * indefinite-length forms). GP Amendment B carries these as the bodies
 * of its HTTP exchanges. BER-TLV work is tlv.c's; this file only knows
 * which tags may appear where.
 */
#include "gp/apdu.h"
#include "gp/err.h"
#include "gp/script.h"

/* AE/AF or AA 80 / AB 80: the indefinite forms this format refuses. */
static int
indefinite(const uint8_t *p, size_t n)
{
	if (n >= 1 && (p[0] == GP_SCRIPT_CMD_INDEF ||
	    p[0] == GP_SCRIPT_RSP_INDEF))
		return 1;
	return n >= 2 && (p[0] == GP_SCRIPT_CMD || p[0] == GP_SCRIPT_RSP) &&
	    p[1] == 0x80;
}

/* The outer template, exactly one TLV filling the buffer. */
static int
template(const uint8_t *p, size_t n, uint32_t tag, struct gp_tlv *t)
{
	if (p == NULL || n == 0)
		return GP_ERR_TRUNC;
	if (indefinite(p, n))
		return GP_ERR_UNSUPPORTED;
	return gp_tlv_parse_one(p, n, tag, t);
}

int
gp_script_encode(const struct gp_span *apdus, size_t n, struct gp_wr *w)
{
	struct gp_apdu a;
	size_t i, mark;
	int r;

	if (n > 0 && apdus == NULL)
		return GP_ERR_INVAL;
	if ((r = gp_tlv_open(w, GP_SCRIPT_CMD, &mark)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (gp_apdu_parse(apdus[i].p, apdus[i].len, &a) != 0)
			return GP_ERR_INVAL;
		if ((r = gp_tlv_put(w, GP_SCRIPT_CAPDU, apdus[i].p,
		    apdus[i].len)) != 0)
			return r;
	}
	return gp_tlv_close(w, mark);
}

/* One child of AA: a C-APDU goes to the list, 83 is skipped. */
static int
cmd_child(const struct gp_tlv *t, struct gp_span *apdus, size_t cap,
    size_t *n)
{
	struct gp_apdu a;

	switch (t->tag) {
	case GP_SCRIPT_CAPDU:
		if (gp_apdu_parse(t->v, t->len, &a) != 0)
			return GP_ERR_FORMAT;
		if (*n >= cap)
			return GP_ERR_SPACE;
		apdus[*n].p = t->v;
		apdus[(*n)++].len = t->len;
		return 0;
	case GP_SCRIPT_CHAINING:
		return 0;
	case GP_SCRIPT_IMMEDIATE:
	case GP_SCRIPT_ERROR_ACTION:
		return GP_ERR_UNSUPPORTED;
	}
	return GP_ERR_FORMAT;
}

int
gp_script_decode(const uint8_t *p, size_t len, struct gp_span *apdus,
    size_t cap, size_t *n)
{
	struct gp_tlv t, c;
	struct gp_tlv_it it;
	int r;

	*n = 0;
	if (cap > 0 && apdus == NULL)
		return GP_ERR_INVAL;
	if ((r = template(p, len, GP_SCRIPT_CMD, &t)) != 0)
		return r;
	gp_tlv_it_init(&it, t.v, t.len);
	while ((r = gp_tlv_next(&it, &c)) == 1)
		if ((r = cmd_child(&c, apdus, cap, n)) != 0)
			return r;
	return r;
}

int
gp_script_rsp_encode(const struct gp_script_rsp *rsp, struct gp_wr *w)
{
	uint8_t ex, bf;
	size_t i, mark;
	int r;

	if (rsp->executed > 0xFF || rsp->bad_format > 0xFF ||
	    (rsp->n > 0 && rsp->rapdus == NULL))
		return GP_ERR_INVAL;
	ex = (uint8_t)rsp->executed;
	if ((r = gp_tlv_open(w, GP_SCRIPT_RSP, &mark)) != 0 ||
	    (r = gp_tlv_put(w, GP_SCRIPT_EXECUTED, &ex, 1)) != 0)
		return r;
	for (i = 0; i < rsp->n; i++) {
		if (rsp->rapdus[i].len < 2)	/* at least SW1 SW2 */
			return GP_ERR_INVAL;
		if ((r = gp_tlv_put(w, GP_SCRIPT_RAPDU, rsp->rapdus[i].p,
		    rsp->rapdus[i].len)) != 0)
			return r;
	}
	if (rsp->bad_format >= 0) {
		bf = (uint8_t)rsp->bad_format;
		if ((r = gp_tlv_put(w, GP_SCRIPT_BAD_FORMAT, &bf, 1)) != 0)
			return r;
	}
	return gp_tlv_close(w, mark);
}

/* One child of AB; *seen counts the mandatory executed-commands TLV. */
static int
rsp_child(const struct gp_tlv *t, struct gp_script_rsp *rsp, int *seen)
{
	switch (t->tag) {
	case GP_SCRIPT_EXECUTED:
		if (t->len != 1 || (*seen)++)
			return GP_ERR_FORMAT;
		rsp->executed = t->v[0];
		return 0;
	case GP_SCRIPT_RAPDU:
		if (t->len < 2)
			return GP_ERR_FORMAT;
		if (rsp->n >= rsp->cap)
			return GP_ERR_SPACE;
		rsp->rapdus[rsp->n].p = t->v;
		rsp->rapdus[rsp->n++].len = t->len;
		return 0;
	case GP_SCRIPT_BAD_FORMAT:
		if (t->len != 1 || rsp->bad_format >= 0)
			return GP_ERR_FORMAT;
		rsp->bad_format = t->v[0];
		return 0;
	case GP_SCRIPT_IMMEDIATE:	/* immediate action response */
		return 0;
	}
	return GP_ERR_FORMAT;
}

int
gp_script_rsp_decode(const uint8_t *p, size_t len, struct gp_script_rsp *rsp)
{
	struct gp_tlv t, c;
	struct gp_tlv_it it;
	int r, seen = 0;

	rsp->n = 0;
	rsp->executed = 0;
	rsp->bad_format = -1;
	if (rsp->cap > 0 && rsp->rapdus == NULL)
		return GP_ERR_INVAL;
	if ((r = template(p, len, GP_SCRIPT_RSP, &t)) != 0)
		return r;
	gp_tlv_it_init(&it, t.v, t.len);
	while ((r = gp_tlv_next(&it, &c)) == 1)
		if ((r = rsp_child(&c, rsp, &seen)) != 0)
			return r;
	if (r != 0)
		return r;
	return seen ? 0 : GP_ERR_FORMAT;
}
