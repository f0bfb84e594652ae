/*
 * INSTALL parameter encodings: GP Card Specification 2.3.1 table 11-49
 * (C9/EF/EA), security domain parameters (tags 81..87 as kaoh's
 * GP211_install names them) and ETSI TS 102 226 8.2.1.3.2 (SIM and UICC
 * toolkit and access parameters).
 */
#include "gp/err.h"
#include "gp/params.h"
#include "gp/tlv.h"

/* Install parameters live in a 255-byte LV: so does every part. */
static int
put_tlv(struct gp_wr *w, uint8_t tag, const uint8_t *v, size_t n)
{
	if (n > 0xFF)
		return GP_ERR_TOOLARGE;
	return gp_tlv_put(w, tag, v, n);
}

static int
put_opt(struct gp_wr *w, uint8_t tag, const struct gp_param *p)
{
	return p->set ? put_tlv(w, tag, p->p, p->len) : 0;
}

int
gp_params_sd(const struct gp_sd_params *sp, struct gp_wr *w)
{
	static const uint8_t perso[2] = { 0x84, 0x00 };
	int r;

	if (sp->scp.set && sp->scp.len % 2 != 0)	/* id ‖ i pairs */
		return GP_ERR_INVAL;
	if ((r = put_opt(w, 0x81, &sp->scp)) != 0 ||
	    (r = put_opt(w, 0x82, &sp->accept_extr_here)) != 0 ||
	    (r = put_opt(w, 0x83, &sp->accept_deletion)) != 0)
		return r;
	if (sp->personalized && (r = gp_wr_put(w, perso, sizeof(perso))) != 0)
		return r;
	if ((r = put_opt(w, 0x86, &sp->casd_capability)) != 0)
		return r;
	return put_opt(w, 0x87, &sp->accept_extr_away);
}

/* Toolkit block, TS 102 226 order: everything up to the TAR values. */
static int
put_toolkit(struct gp_wr *w, const struct gp_toolkit *tk)
{
	int r;

	if (tk->menu_len % 2 != 0 || tk->menu_len / 2 > 0xFF ||
	    (tk->menu_len && tk->menu == NULL) || tk->tars_len % 3 != 0)
		return GP_ERR_INVAL;
	if ((r = gp_wr_u8(w, tk->priority)) != 0 ||
	    (r = gp_wr_u8(w, tk->max_timers)) != 0 ||
	    (r = gp_wr_u8(w, tk->max_text)) != 0 ||
	    (r = gp_wr_u8(w, (uint8_t)(tk->menu_len / 2))) != 0 ||
	    (r = gp_wr_put(w, tk->menu, tk->menu_len)) != 0 ||
	    (r = gp_wr_u8(w, tk->max_channels)) != 0 ||
	    (r = gp_wr_lv(w, tk->msl, tk->msl_len)) != 0)
		return r;
	return gp_wr_lv(w, tk->tars, tk->tars_len);
}

static int
put_rules(struct gp_wr *w, const struct gp_uicc_rule *rules, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		if ((r = gp_wr_lv(w, rules[i].aid, rules[i].aid_len)) != 0 ||
		    (r = gp_wr_lv(w, rules[i].domain,
		    rules[i].domain_len)) != 0 ||
		    (r = gp_wr_lv(w, rules[i].dap, rules[i].dap_len)) != 0)
			return r;
	return 0;
}

/* The value of the 80 (toolkit) or 81 (rules) part, capped at 255. */
static int
uicc_part(const struct gp_toolkit *tk, const struct gp_uicc_rule *rules,
    size_t nrules, struct gp_wr *t)
{
	int r;

	if (tk != NULL) {
		if ((r = put_toolkit(t, tk)) == 0)
			r = gp_wr_u8(t, tk->max_services);
	} else
		r = put_rules(t, rules, nrules);
	return r == GP_ERR_SPACE ? GP_ERR_TOOLARGE : r;
}

int
gp_params_uicc(const struct gp_toolkit *tk, const struct gp_uicc_rule *rules,
    size_t nrules, struct gp_wr *w)
{
	uint8_t buf[0xFF];
	struct gp_wr t;
	int r;

	if (tk == NULL || (nrules > 0 && rules == NULL))
		return GP_ERR_INVAL;
	gp_wr_init(&t, buf, sizeof(buf));
	if ((r = uicc_part(tk, NULL, 0, &t)) != 0 ||
	    (r = put_tlv(w, 0x80, buf, t.len)) != 0 || nrules == 0)
		return r;
	gp_wr_init(&t, buf, sizeof(buf));
	if ((r = uicc_part(NULL, rules, nrules, &t)) != 0)
		return r;
	return put_tlv(w, 0x81, buf, t.len);
}

int
gp_params_sim(const uint8_t *domain, size_t domain_len,
    const struct gp_toolkit *tk, struct gp_wr *w)
{
	int r;

	if (tk == NULL)
		return GP_ERR_INVAL;
	if ((r = gp_wr_lv(w, domain, domain_len)) != 0)
		return r;
	return put_toolkit(w, tk);
}

int
gp_params_c9(const uint8_t *app, size_t app_len, struct gp_wr *w)
{
	return put_tlv(w, 0xC9, app, app_len);
}

int
gp_params_install(const uint8_t *app, size_t app_len, const uint8_t *sys,
    size_t sys_len, const uint8_t *uicc, size_t uicc_len, struct gp_wr *w)
{
	int r;

	if ((r = gp_params_c9(app, app_len, w)) != 0)
		return r;
	if (sys_len > 0 && (r = put_tlv(w, 0xEF, sys, sys_len)) != 0)
		return r;
	if (uicc_len > 0 && (r = put_tlv(w, 0xEA, uicc, uicc_len)) != 0)
		return r;
	return 0;
}
