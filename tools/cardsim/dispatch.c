/*
 * The APDU dispatcher: class and channel checks, SELECT, the secure
 * channel (INITIALIZE UPDATE, EXTERNAL AUTHENTICATE, unwrapping and
 * wrapping with libgp's card role), then the ISD's commands or the
 * selected instance's. Every path ends in a status word.
 */
#include <string.h>

#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/tlv.h"
#include "sim_int.h"

#define OUT_MAX		4200	/* a GET STATUS page and its margin */

void
sim_session_close(struct sim_card *c)
{
	gp_scp_free(&c->scp);
	memset(&c->scp, 0, sizeof(c->scp));
	sim_load_abort(c);
	c->perso = 0;
	c->status_more = 0;
}

/* FCI: 6F { 84 AID, A5 { [73 card recognition] [9F65 01 FF] } } */
static int
select_fci(struct sim_card *c, const struct sim_aid *aid, int isd,
    struct gp_wr *o)
{
	static const uint8_t maxlen = 0xFF;
	size_t m6f, ma5;
	int r;

	if ((r = gp_tlv_open(o, 0x6F, &m6f)) != 0 ||
	    (r = gp_tlv_put(o, 0x84, aid->b, aid->len)) != 0 ||
	    (r = gp_tlv_open(o, 0xA5, &ma5)) != 0)
		return r;
	if (isd && ((r = sim_card_recognition(&c->st, o)) != 0 ||
	    (r = gp_tlv_put(o, 0x9F65, &maxlen, 1)) != 0))
		return r;
	if ((r = gp_tlv_close(o, ma5)) != 0)
		return r;
	return gp_tlv_close(o, m6f);
}

static int
aid_prefix(const struct sim_aid *a, const uint8_t *p, size_t n)
{
	return n <= a->len && memcmp(a->b, p, n) == 0;
}

static struct sim_app *
select_find(struct sim_card *c, const uint8_t *p, size_t n)
{
	struct sim_app *a;
	size_t k;

	if ((a = sim_app_find(&c->st, p, n)) != NULL)
		return a;
	for (k = 0; k < c->st.napp; k++)	/* partial AID (ISO 7816-4) */
		if (aid_prefix(&c->st.app[k].aid, p, n))
			return &c->st.app[k];
	return NULL;
}

static uint16_t
do_select(struct sim_card *c, const struct gp_apdu *a, struct gp_wr *o)
{
	struct sim_app *app;

	if (a->p1 != 0x04)
		return SW_WRONG_P1P2;
	if ((a->p2 & 0xF1) != 0)
		return SW_WRONG_P1P2;
	sim_session_close(c);
	c->isd_sel = 0;
	c->sel.len = 0;
	if (a->lc > 16)
		return SW_NOT_FOUND;
	if (a->lc == 0 || aid_prefix(&c->st.isd, a->data, a->lc)) {
		c->isd_sel = 1;
		return select_fci(c, &c->st.isd, 1, o) == 0 ? SW_OK :
		    SW_NO_MEMORY;
	}
	if ((app = select_find(c, a->data, a->lc)) == NULL ||
	    c->st.lifecycle == SIM_LC_LOCKED ||
	    c->st.lifecycle == SIM_LC_TERMINATED)
		return SW_NOT_FOUND;
	if ((app->lifecycle & SIM_APP_LOCKED) ||
	    app->lifecycle == SIM_APP_INSTALLED)
		return SW_SELECT_FAIL;
	c->sel = app->aid;
	return select_fci(c, &app->aid, 0, o) == 0 ? SW_OK : SW_NO_MEMORY;
}

static uint16_t
iu_check(struct sim_card *c, const struct gp_apdu *a, struct sim_keyset **ks)
{
	if (!sim_lc_ins_allowed(c->st.lifecycle, a->ins))
		return SW_CONDITIONS;
	if ((a->cla & 0x04) != 0)
		return SW_CLA;
	if (a->p2 != 0)
		return SW_WRONG_P1P2;
	*ks = a->p1 == 0 ? &c->st.ks[0] : sim_ks_find(&c->st, a->p1);
	if (*ks == NULL)
		return SW_REF_NOT_FOUND;
	if ((*ks)->fails >= c->st.auth_limit)
		return SW_AUTH_BLOCKED;
	if (a->lc != c->st.s)
		return SW_WRONG_LEN;
	return SW_OK;
}

static int
do_init_update(struct sim_card *c, const struct gp_apdu *a,
    const uint8_t *cmd, size_t n, struct gp_wr *rsp)
{
	struct gp_scp_card_cfg cfg;
	struct sim_keyset *ks = NULL;
	struct gp_keyset g;
	uint16_t sw;
	int r;

	sim_session_close(c);
	if ((sw = iu_check(c, a, &ks)) != SW_OK)
		return gp_rapdu_encode(NULL, 0, sw, rsp);
	memset(&cfg, 0, sizeof(cfg));
	cfg.proto = c->st.proto;
	cfg.i = c->st.i;
	cfg.s = c->st.s;
	memcpy(cfg.kdd, c->st.kdd, GP_KDD_LEN);
	if (c->st.proto == 3) {	/* a new challenge for every session */
		ks->seq = (ks->seq + 1) & 0xFFFFFF;
		c->dirty = 1;
	}
	cfg.seq = ks->seq;
	if (c->st.challenge_len != 0)	/* a card with a predictable RNG */
		cfg.card_challenge = c->st.challenge;
	cfg.sd_aid = c->st.isd.b;
	cfg.sd_aid_len = c->st.isd.len;
	c->ks_idx = (int)(ks - c->st.ks);
	sim_ks_to_gp(ks, &g);
	r = gp_scp_card_init_update(&c->scp, &cfg, &g, cmd, n, rsp);
	gp_keyset_wipe(&g);
	if (r == 0)
		return 0;
	gp_scp_free(&c->scp);
	return gp_rapdu_encode(NULL, 0, r == GP_ERR_NOTFOUND ?
	    SW_REF_NOT_FOUND : SW_WRONG_DATA, rsp);
}

static uint16_t
do_ext_auth(struct sim_card *c, const uint8_t *cmd, size_t n)
{
	struct sim_keyset *ks = &c->st.ks[c->ks_idx];
	int r;

	if (c->scp.state != GP_SCP_KEYS)
		return SW_CONDITIONS;
	if ((r = gp_scp_card_ext_auth(&c->scp, cmd, n)) == 0) {
		if (ks->fails != 0 || c->st.proto == 2)
			c->dirty = 1;
		ks->fails = 0;
		if (c->st.proto == 2)	/* SCP02: counts opened sessions */
			ks->seq = (ks->seq + 1) & 0xFFFF;
		return SW_OK;
	}
	sim_session_close(c);
	if (r == GP_ERR_AUTH) {
		ks->fails++;
		c->dirty = 1;
		return SW_AUTH_FAIL;
	}
	return r == GP_ERR_INVAL ? SW_WRONG_P1P2 : SW_WRONG_LEN;
}

/* The ISD's commands; authed: inside an open secure channel. */
static uint16_t
isd_command(struct sim_card *c, const struct gp_apdu *a, int authed,
    struct gp_wr *o)
{
	uint16_t (*h)(struct sim_card *, const struct gp_apdu *,
	    struct gp_wr *) = NULL;

	switch (a->ins) {
	case GP_INS_GET_DATA:
		if (!sim_lc_ins_allowed(c->st.lifecycle, a->ins))
			return SW_CONDITIONS;
		return sim_cmd_get_data(c, a, o);
	case GP_INS_INSTALL: h = sim_cmd_install; break;
	case GP_INS_LOAD: h = sim_cmd_load; break;
	case GP_INS_DELETE: h = sim_cmd_delete; break;
	case GP_INS_SET_STATUS: h = sim_cmd_set_status; break;
	case GP_INS_PUT_KEY: h = sim_put_key; break;
	case GP_INS_STORE_DATA: h = sim_cmd_store_data; break;
	case GP_INS_GET_STATUS: h = sim_cmd_get_status; break;
	default:
		return SW_INS;
	}
	if ((a->cla & ~0x04) != GP_CLA_GP)
		return SW_CLA;
	if (!authed)
		return SW_SEC_STATUS;
	if (!sim_lc_ins_allowed(c->st.lifecycle, a->ins))
		return SW_CONDITIONS;
	return h(c, a, o);
}

/* The generic personalisable applet behind every instance. */
static uint16_t
app_command(struct sim_card *c, const struct gp_apdu *a, struct gp_wr *o)
{
	struct sim_app *app;

	if ((app = sim_app_find(&c->st, c->sel.b, c->sel.len)) == NULL)
		return SW_CONDITIONS;
	if (app->lifecycle & SIM_APP_LOCKED)
		return SW_CONDITIONS;
	if (a->cla != 0x00 && a->cla != 0x80)
		return SW_CLA;
	if (a->ins == GP_INS_GET_DATA)
		return sim_app_get_data(c, app, a, o);
	return SW_INS;
}

/* A command under secure messaging: unwrap, run, wrap. */
static int
secured(struct sim_card *c, const uint8_t *cmd, size_t n, struct gp_wr *rsp)
{
	uint8_t pbuf[GP_APDU_WIRE_MAX], obuf[OUT_MAX];
	struct gp_wr pw, ow;
	struct gp_apdu in;
	uint16_t sw;
	int r;

	gp_wr_init(&pw, pbuf, sizeof(pbuf));
	gp_wr_init(&ow, obuf, sizeof(obuf));
	if (gp_scp_card_unwrap(&c->scp, cmd, n, &pw) != 0) {
		sim_session_close(c);
		r = gp_rapdu_encode(NULL, 0, SW_SEC_STATUS, rsp);
		goto out;
	}
	if (c->tap != NULL)
		c->tap(c->tap_arg, pw.p, pw.len);
	if (gp_apdu_parse(pw.p, pw.len, &in) != 0)
		sw = SW_WRONG_LEN;
	else {
		in.cla &= (uint8_t)~0x04;
		sw = isd_command(c, &in, 1, &ow);
	}
	if ((sw & 0xFF00) != 0x9000 && sw != SW_MORE)
		ow.len = 0;
	r = gp_scp_card_wrap(&c->scp, ow.p, ow.len, sw, rsp);
 out:
	gp_wipe(pbuf, pw.len);
	gp_wipe(obuf, ow.len);
	return r;
}

static int
plain(struct sim_card *c, const struct gp_apdu *a, struct gp_wr *rsp,
    uint16_t (*h)(struct sim_card *, const struct gp_apdu *, int,
    struct gp_wr *), int authed)
{
	uint8_t obuf[OUT_MAX];
	struct gp_wr ow;
	uint16_t sw;
	int r;

	gp_wr_init(&ow, obuf, sizeof(obuf));
	sw = h(c, a, authed, &ow);
	if ((sw & 0xFF00) != 0x9000 && sw != SW_MORE)
		ow.len = 0;
	r = gp_rapdu_encode(ow.p, ow.len, sw, rsp);
	gp_wipe(obuf, ow.len);
	return r;
}

static uint16_t
select_h(struct sim_card *c, const struct gp_apdu *a, int authed,
    struct gp_wr *o)
{
	return do_select(c, a, o);
}

static uint16_t
app_h(struct sim_card *c, const struct gp_apdu *a, int authed,
    struct gp_wr *o)
{
	return app_command(c, a, o);
}

/* ISO classes 0x (inter-industry) and 8x (GP); channel 0; no chaining. */
static uint16_t
class_check(const struct gp_apdu *a)
{
	if ((a->cla & 0x60) != 0 || a->cla == 0xFF)
		return SW_CLA;
	if (a->cla & 0x10)
		return SW_NO_CHAIN;
	if (a->cla & 0x03)
		return SW_NO_CHANNEL;
	return SW_OK;
}

static int
isd_dispatch(struct sim_card *c, const struct gp_apdu *a, const uint8_t *cmd,
    size_t n, struct gp_wr *rsp)
{
	int open = c->scp.state == GP_SCP_OPEN;

	if (a->ins == 0x50 && (a->cla & 0x80))
		return do_init_update(c, a, cmd, n, rsp);
	if (a->ins == 0x82 && (a->cla & 0x80))
		return gp_rapdu_encode(NULL, 0, do_ext_auth(c, cmd, n), rsp);
	if (a->cla & 0x04) {
		if (!open)
			return gp_rapdu_encode(NULL, 0, SW_SEC_STATUS, rsp);
		return secured(c, cmd, n, rsp);
	}
	if (open && !(c->scp.level & GP_SL_CMAC))	/* level 00: clear */
		return secured(c, cmd, n, rsp);
	return plain(c, a, rsp, isd_command, 0);
}

int
sim_dispatch(struct sim_card *c, const uint8_t *cmd, size_t n,
    struct gp_wr *rsp)
{
	struct gp_apdu a;
	uint16_t sw;

	if (gp_apdu_parse(cmd, n, &a) != 0)
		return gp_rapdu_encode(NULL, 0, SW_WRONG_LEN, rsp);
	if ((sw = class_check(&a)) != SW_OK)
		return gp_rapdu_encode(NULL, 0, sw, rsp);
	if (a.ins == GP_INS_SELECT && !(a.cla & 0x80))
		return plain(c, &a, rsp, select_h, 0);
	if (!c->isd_sel) {
		if (c->sel.len == 0)
			return gp_rapdu_encode(NULL, 0, SW_CONDITIONS, rsp);
		return plain(c, &a, rsp, app_h, 0);
	}
	return isd_dispatch(c, &a, cmd, n, rsp);
}
