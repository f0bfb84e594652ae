/*
 * Runs one command script on the card (contract in docs/agent.md): every
 * C-APDU in order; 61xx answered with GET RESPONSE (Le = xx) and the data
 * gathered, 6Cxx answered by sending the command again with Le = xx, both
 * as gp_sw_next says; the final R-APDU of each command recorded; the run
 * stops after the first command whose final SW is neither 9000 nor a
 * 62xx/63xx warning, or whose final R-APDU is not the one the script
 * said to expect (DF 20): the TSM pre-computes SCP03 scripts from a
 * predicted card challenge, and EXTERNAL AUTHENTICATE must never reach a
 * card that answered otherwise (a wrong key tried again blocks it).
 */
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"
#include "gp/apdu.h"
#include "gp/err.h"
#include "gp/script.h"
#include "gp/tlv.h"

#define RAPDU_MAX	(65536 + 2)
#define GETRSP_ROUNDS	64		/* a card that never stops saying 61 */
/* Room left in the body for the TLV framing of AGENT_SCRIPT_MAX R-APDUs
 * (23 82 hi lo each, and the template's head). */
#define ACC_MAX		(AGENT_BODY_MAX - 4 * AGENT_SCRIPT_MAX - 16)

struct run {
	const struct agent_card	*card;
	uint8_t			*rbuf;		/* RAPDU_MAX */
	uint8_t			 cbuf[4 + 3 + 2];	/* GET RESPONSE */
	uint8_t			*rebuf;		/* GP_APDU_WIRE_MAX */
	struct gp_wr		 acc;		/* all R-APDUs */
	size_t			*off;		/* [commands + 1] */
};

const char *
agent_script_status_name(enum agent_script_status s)
{
	switch (s) {
	case AGENT_SS_OK:		return "ok";
	case AGENT_SS_SECURITY:		return "security-error";
	case AGENT_SS_UNKNOWN_APP:	return "unknown-application";
	case AGENT_SS_CARD_REMOVED:	return "card-removed";
	case AGENT_SS_LINK:		return "link-error";
	case AGENT_SS_UNEXPECTED:	return "unexpected-response";
	}
	return "link-error";
}

/* The same command with Le = ne (6Cxx). */
static int
resend_apdu(struct run *x, const uint8_t *cmd, size_t n, size_t ne,
    size_t *len)
{
	struct gp_apdu a;
	struct gp_wr w;

	gp_wr_init(&w, x->rebuf, GP_APDU_WIRE_MAX);
	if (gp_apdu_parse(cmd, n, &a) != 0)
		return AGENT_ERR_INVAL;
	a.ne = ne;
	if (gp_apdu_encode(&a, &w) != 0)
		return AGENT_ERR_INVAL;
	*len = w.len;
	return 0;
}

/* GET RESPONSE on the command's logical channel. */
static int
get_response(struct run *x, uint8_t cla, size_t ne, size_t *len)
{
	struct gp_wr w;

	gp_wr_init(&w, x->cbuf, sizeof(x->cbuf));
	if (gp_apdu_get_response(ne, &w) != 0)
		return AGENT_ERR_INVAL;
	x->cbuf[0] = cla & 0x03;
	*len = w.len;
	return 0;
}

/* One command and its follow-ups; appends data ‖ SW to x->acc. */
static int
run_one(struct run *x, const uint8_t *cmd, size_t n, uint16_t *sw)
{
	const struct agent_card_ops *ops = x->card->ops;
	const uint8_t *c = cmd;
	size_t cn = n, rl, ne, start = x->acc.len;
	int r, rounds = 0, resent = 0;
	enum gp_sw_next next;

	for (;;) {
		rl = 0;
		if ((r = ops->transmit(x->card->ctx, c, cn, x->rbuf, RAPDU_MAX,
		    &rl)) != 0)
			return r;
		if (rl < 2 || rl > RAPDU_MAX)
			return AGENT_ERR_CARD;
		*sw = (uint16_t)(x->rbuf[rl - 2] << 8 | x->rbuf[rl - 1]);
		if (gp_wr_put(&x->acc, x->rbuf, rl - 2) != 0)
			return AGENT_ERR_TOOBIG;
		next = gp_sw_next(*sw, &ne);
		if (next == GP_SW_GET_RESPONSE && ++rounds <= GETRSP_ROUNDS) {
			if ((r = get_response(x, cmd[0], ne, &cn)) != 0)
				return r;
			c = x->cbuf;
		} else if (next == GP_SW_RESEND && !resent++) {
			x->acc.len = start;
			if ((r = resend_apdu(x, cmd, n, ne, &cn)) != 0)
				return r;
			c = x->rebuf;
		} else
			break;
	}
	return gp_wr_u16(&x->acc, *sw) != 0 ? AGENT_ERR_TOOBIG : 0;
}

static enum agent_script_status
stop_status(const uint8_t *cmd, uint16_t sw)
{
	if (sw == 0x6982)
		return AGENT_SS_SECURITY;
	if (sw == 0x6A82 && cmd[1] == 0xA4)
		return AGENT_SS_UNKNOWN_APP;
	return AGENT_SS_OK;
}

static int
encode(struct run *x, unsigned nr, int bad, struct gp_wr *out)
{
	struct gp_script_rsp rsp = { .cap = nr };
	struct gp_span *sp;
	unsigned i;
	int r;

	if ((sp = calloc(nr > 0 ? nr : 1, sizeof(*sp))) == NULL)
		return AGENT_ERR_NOMEM;
	x->off[nr] = x->acc.len;
	for (i = 0; i < nr; i++) {
		sp[i].p = x->acc.p + x->off[i];
		sp[i].len = x->off[i + 1] - x->off[i];
	}
	rsp.rapdus = sp;
	rsp.n = nr;
	rsp.executed = nr;
	rsp.bad_format = bad;
	gp_wr_reset(out);
	r = gp_script_rsp_encode(&rsp, out) != 0 ? AGENT_ERR_TOOBIG : 0;
	free(sp);
	return r;
}

/*
 * How many entries to make room for: the TLVs inside the script's
 * template, never more than AGENT_SCRIPT_MAX. Only the memory depends on
 * it: the decoder finds what is wrong with a script, and one of more
 * commands than AGENT_SCRIPT_MAX is refused there.
 */
static size_t
script_cap(const uint8_t *p, size_t len)
{
	struct gp_tlv_it it;
	struct gp_tlv t;
	size_t n = 0;

	gp_tlv_it_init(&it, p, len);
	if (gp_tlv_next(&it, &t) != 1)
		return 1;
	gp_tlv_it_init(&it, t.v, t.len);
	while (n < AGENT_SCRIPT_MAX && gp_tlv_next(&it, &t) == 1)
		n++;
	return n > 0 ? n : 1;
}

/* The R-APDU just recorded (acc from off[i]) is the expected one. */
static int
as_expected(const struct run *x, size_t i, const struct gp_span *e)
{
	size_t len = x->acc.len - x->off[i];

	if (e->len == 0)
		return 1;
	/* Constant time: an INITIALIZE UPDATE answer holds a cryptogram. */
	return len == e->len &&
	    gp_ct_memcmp(x->acc.p + x->off[i], e->p, len) == 0;
}

static int
run_all(struct run *x, const struct gp_span *cmds,
    const struct gp_span *expect, size_t n, struct agent_exec *res)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		x->off[i] = x->acc.len;
		if ((r = run_one(x, cmds[i].p, cmds[i].len,
		    &res->last_sw)) != 0) {
			x->acc.len = x->off[i];
			res->card_err = r;
			res->status = r == AGENT_ERR_CARD_REMOVED ?
			    AGENT_SS_CARD_REMOVED : AGENT_SS_LINK;
			return 0;
		}
		res->executed++;
		if (!as_expected(x, i, &expect[i])) {
			res->status = AGENT_SS_UNEXPECTED;
			return 0;
		}
		if (res->last_sw != 0x9000 && !gp_sw_warning(res->last_sw)) {
			res->status = stop_status(cmds[i].p, res->last_sw);
			return 0;
		}
	}
	return 0;
}

int
agent_exec_script(const struct agent_card *card, const uint8_t *p,
    size_t len, struct gp_wr *out, struct agent_exec *res)
{
	struct gp_span *cmds = NULL, *expect = NULL;
	struct run *x = NULL;
	size_t n = 0;
	int r, bad = -1;

	size_t cap = script_cap(p, len);

	memset(res, 0, sizeof(*res));
	if ((cmds = calloc(cap, sizeof(*cmds))) == NULL ||
	    (expect = calloc(cap, sizeof(*expect))) == NULL ||
	    (x = calloc(1, sizeof(*x))) == NULL ||
	    (x->off = calloc(cap + 1, sizeof(*x->off))) == NULL ||
	    (x->rbuf = malloc(RAPDU_MAX)) == NULL ||
	    (x->rebuf = malloc(GP_APDU_WIRE_MAX)) == NULL) {
		r = AGENT_ERR_NOMEM;
		goto out;
	}
	x->card = card;
	gp_wr_init_dyn(&x->acc, ACC_MAX);
	if ((r = gp_script_decode_x(p, len, cmds, expect, cap, &n)) != 0)
		bad = r == GP_ERR_TRUNC ? GP_SCRIPT_BAD_LENGTH :
		    GP_SCRIPT_BAD_TAG;
	else if ((r = run_all(x, cmds, expect, n, res)) != 0)
		goto out;
	r = encode(x, res->executed, bad, out);
 out:
	if (x != NULL) {
		gp_wr_free(&x->acc);
		if (x->rbuf != NULL)
			gp_wipe(x->rbuf, RAPDU_MAX);
		free(x->rbuf);
		free(x->rebuf);
		free(x->off);
	}
	free(x);
	free(expect);
	free(cmds);
	return r;
}
