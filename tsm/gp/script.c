/*
 * ETSI TS 102 226 expanded format scripts (clause 5.2.1: Command
 * Scripting template AA with C-APDU TLVs 22, Immediate Action 81, Error
 * Action 82, Script Chaining 83; clause 5.2.2: Response Scripting template
 * AB with Number of executed command TLV objects 80, R-APDU TLVs 23 and
 * Bad format 90; template tags from TS 101 220 7.2, where AE/AF are the
 * indefinite-length forms). GP Amendment B carries these as the bodies
 * of its HTTP exchanges. One extension of ours: DF 20 after a C-APDU,
 * the exact R-APDU that command must return (script.h). BER-TLV work is
 * tlv.c's; this file only knows which tags may appear where.
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

/* No expectation (len 0), or a whole one: never a half-given one. */
static int
expect_ok(const struct gp_span *e)
{
	return e->len == 0 || (e->p != NULL &&
	    e->len >= GP_SCRIPT_EXPECT_MIN && e->len <= GP_SCRIPT_EXPECT_MAX);
}

int
gp_script_encode_x(const struct gp_span *apdus, const struct gp_span *expect,
    size_t n, struct gp_wr *w)
{
	struct gp_apdu a;
	size_t i, mark;
	int r;

	if (n > 0 && apdus == NULL)
		return GP_ERR_INVAL;
	if ((r = gp_tlv_open(w, GP_SCRIPT_CMD, &mark)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (gp_apdu_parse(apdus[i].p, apdus[i].len, &a) != 0 ||
		    (expect != NULL && !expect_ok(&expect[i])))
			return GP_ERR_INVAL;
		if ((r = gp_tlv_put(w, GP_SCRIPT_CAPDU, apdus[i].p,
		    apdus[i].len)) != 0)
			return r;
		if (expect != NULL && expect[i].len > 0 &&
		    (r = gp_tlv_put(w, GP_SCRIPT_EXPECT, expect[i].p,
		    expect[i].len)) != 0)
			return r;
	}
	return gp_tlv_close(w, mark);
}

int
gp_script_encode(const struct gp_span *apdus, size_t n, struct gp_wr *w)
{
	return gp_script_encode_x(apdus, NULL, n, w);
}

/* Where the children of AA go. */
struct cmd_out {
	struct gp_span	*apdus;
	struct gp_span	*expect;	/* with x only */
	size_t		 cap;
	size_t		*n;
	int		 x;		/* DF 20 understood */
	int		 after_capdu;	/* the previous child was a 22 */
};

/*
 * DF 20 belongs to the C-APDU just before it; anywhere else nobody could
 * tell which command it guards, so the script is malformed.
 */
static int
cmd_expect(const struct gp_tlv *t, struct cmd_out *o, int after_capdu)
{
	if (!o->x)
		return GP_ERR_UNSUPPORTED;
	if (!after_capdu || t->len < GP_SCRIPT_EXPECT_MIN ||
	    t->len > GP_SCRIPT_EXPECT_MAX)
		return GP_ERR_FORMAT;
	o->expect[*o->n - 1].p = t->v;
	o->expect[*o->n - 1].len = t->len;
	return 0;
}

/* One child of AA: a C-APDU goes to the list, DF 20 to its command. */
static int
cmd_child(const struct gp_tlv *t, struct cmd_out *o)
{
	struct gp_apdu a;
	int after_capdu = o->after_capdu;

	o->after_capdu = 0;
	switch (t->tag) {
	case GP_SCRIPT_CAPDU:
		if (gp_apdu_parse(t->v, t->len, &a) != 0)
			return GP_ERR_FORMAT;
		if (*o->n >= o->cap)
			return GP_ERR_SPACE;
		o->apdus[*o->n].p = t->v;
		o->apdus[*o->n].len = t->len;
		if (o->x) {
			o->expect[*o->n].p = NULL;
			o->expect[*o->n].len = 0;
		}
		(*o->n)++;
		o->after_capdu = 1;
		return 0;
	case GP_SCRIPT_EXPECT:
		return cmd_expect(t, o, after_capdu);
	case GP_SCRIPT_CHAINING:
		return 0;
	case GP_SCRIPT_IMMEDIATE:
	case GP_SCRIPT_ERROR_ACTION:
		return GP_ERR_UNSUPPORTED;
	}
	return GP_ERR_FORMAT;
}

static int
cmd_decode(const uint8_t *p, size_t len, struct cmd_out *o)
{
	struct gp_tlv t, c;
	struct gp_tlv_it it;
	int r;

	*o->n = 0;
	if (o->cap > 0 && (o->apdus == NULL || (o->x && o->expect == NULL)))
		return GP_ERR_INVAL;
	if ((r = template(p, len, GP_SCRIPT_CMD, &t)) != 0)
		return r;
	gp_tlv_it_init(&it, t.v, t.len);
	while ((r = gp_tlv_next(&it, &c)) == 1)
		if ((r = cmd_child(&c, o)) != 0)
			return r;
	return r;
}

int
gp_script_decode(const uint8_t *p, size_t len, struct gp_span *apdus,
    size_t cap, size_t *n)
{
	struct cmd_out o = { .apdus = apdus, .cap = cap, .n = n };

	return cmd_decode(p, len, &o);
}

int
gp_script_decode_x(const uint8_t *p, size_t len, struct gp_span *apdus,
    struct gp_span *expect, size_t cap, size_t *n)
{
	struct cmd_out o = { .apdus = apdus, .expect = expect, .cap = cap,
	    .n = n, .x = 1 };

	return cmd_decode(p, len, &o);
}

/* A count: one byte up to 255 (TS 102 226), two beyond (our extension
 * for scripts of more than 255 commands, docs/protocol/agent.md). */
static int
put_count(struct gp_wr *w, unsigned tag, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return v <= 0xFF ? gp_tlv_put(w, tag, b + 1, 1) :
	    gp_tlv_put(w, tag, b, 2);
}

/* Its reader: the shortest form only, so that every count has one
 * encoding. */
static int
get_count(const struct gp_tlv *t, unsigned *v)
{
	if (t->len == 1) {
		*v = t->v[0];
		return 0;
	}
	if (t->len != 2 || t->v[0] == 0)
		return GP_ERR_FORMAT;
	*v = (unsigned)t->v[0] << 8 | t->v[1];
	return 0;
}

int
gp_script_rsp_encode(const struct gp_script_rsp *rsp, struct gp_wr *w)
{
	size_t i, mark;
	int r;

	if (rsp->executed > GP_SCRIPT_CMDS_MAX ||
	    rsp->bad_format > (int)GP_SCRIPT_CMDS_MAX ||
	    (rsp->n > 0 && rsp->rapdus == NULL))
		return GP_ERR_INVAL;
	if ((r = gp_tlv_open(w, GP_SCRIPT_RSP, &mark)) != 0 ||
	    (r = put_count(w, GP_SCRIPT_EXECUTED, rsp->executed)) != 0)
		return r;
	for (i = 0; i < rsp->n; i++) {
		if (rsp->rapdus[i].len < 2)	/* at least SW1 SW2 */
			return GP_ERR_INVAL;
		if ((r = gp_tlv_put(w, GP_SCRIPT_RAPDU, rsp->rapdus[i].p,
		    rsp->rapdus[i].len)) != 0)
			return r;
	}
	if (rsp->bad_format >= 0 && (r = put_count(w, GP_SCRIPT_BAD_FORMAT,
	    (unsigned)rsp->bad_format)) != 0)
		return r;
	return gp_tlv_close(w, mark);
}

/* One child of AB; *seen counts the mandatory executed-commands TLV. */
static int
rsp_child(const struct gp_tlv *t, struct gp_script_rsp *rsp, int *seen)
{
	switch (t->tag) {
	case GP_SCRIPT_EXECUTED:
		if ((*seen)++)
			return GP_ERR_FORMAT;
		return get_count(t, &rsp->executed);
	case GP_SCRIPT_RAPDU:
		if (t->len < 2)
			return GP_ERR_FORMAT;
		if (rsp->n >= rsp->cap)
			return GP_ERR_SPACE;
		rsp->rapdus[rsp->n].p = t->v;
		rsp->rapdus[rsp->n++].len = t->len;
		return 0;
	case GP_SCRIPT_BAD_FORMAT: {
		unsigned v;
		int r;

		if (rsp->bad_format >= 0)
			return GP_ERR_FORMAT;
		if ((r = get_count(t, &v)) != 0)
			return r;
		rsp->bad_format = (int)v;
		return 0;
	}
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
