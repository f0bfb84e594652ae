/*
 * INSTALL [for install], [for make selectable], [for personalization]
 * (GP 2.3.1 11.5); INSTALL [for load] lives in cmd_load.c.
 */
#include <string.h>

#include "gp/cmd.h"
#include "gp/tlv.h"
#include "sim_int.h"

struct inst {
	const uint8_t	*elf, *mod, *app, *priv, *par;
	size_t		 elfn, modn, appn, privn, parn;
};

/* LV ELF, LV module, LV application, LV privileges, LV parameters,
 * [LV token] (an empty token only: no delegated management here). */
static int
inst_parse(struct gp_rd *rd, struct inst *f)
{
	const uint8_t *tok;
	size_t tn = 0;

	if (gp_rd_lv(rd, &f->elf, &f->elfn) || gp_rd_lv(rd, &f->mod,
	    &f->modn) || gp_rd_lv(rd, &f->app, &f->appn) ||
	    gp_rd_lv(rd, &f->priv, &f->privn) || gp_rd_lv(rd, &f->par,
	    &f->parn))
		return -1;
	if (gp_rd_left(rd) > 0 && gp_rd_lv(rd, &tok, &tn) != 0)
		return -1;
	return gp_rd_left(rd) == 0 && tn == 0 ? 0 : -1;
}

/* C9 application parameters and EF { C8 non-volatile quota } -> bytes. */
static int
inst_cost(const struct inst *f, size_t *cost)
{
	struct gp_tlv t, ef;
	size_t i, q = 0;

	*cost = SIM_APP_BASE;
	if (f->parn == 0 || gp_tlv_check(f->par, f->parn, 0) != 0)
		return -1;
	if (gp_tlv_find(f->par, f->parn, 0xC9, &t) != 0)
		return -1;	/* C9 is mandatory, even empty */
	*cost += t.len;
	if (gp_tlv_find(f->par, f->parn, 0xEF, &ef) == 0 &&
	    gp_tlv_find(ef.v, ef.len, 0xC8, &t) == 0) {
		if (t.len == 0 || t.len > 4)
			return -1;
		for (i = 0; i < t.len; i++)
			q = (q << 8) | t.v[i];
		*cost += q > SIM_LOAD_MAX ? SIM_LOAD_MAX : q;
	}
	return 0;
}

static uint16_t
inst_module(struct sim_card *c, const struct inst *f, struct sim_elf **e)
{
	size_t k;

	if ((*e = sim_elf_find(&c->st, f->elf, f->elfn)) == NULL)
		return SW_REF_NOT_FOUND;
	for (k = 0; k < (*e)->nmods; k++)
		if (sim_aid_eq(&(*e)->mods[k], f->mod, f->modn))
			return SW_OK;
	return SW_REF_NOT_FOUND;
}

static uint16_t
install_app(struct sim_card *c, struct gp_rd *rd, uint8_t p1)
{
	struct sim_app *a;
	struct sim_elf *e;
	struct inst f;
	size_t cost;
	uint16_t sw;

	if (inst_parse(rd, &f) != 0 || (f.privn != 1 && f.privn != 3) ||
	    f.appn < 5 || f.appn > 16 || inst_cost(&f, &cost) != 0)
		return SW_WRONG_DATA;
	if ((sw = inst_module(c, &f, &e)) != SW_OK)
		return sw;
	if (sim_aid_in_use(&c->st, f.app, f.appn))
		return SW_WRONG_DATA;
	if (((f.priv[0] & SIM_PRIV_SD) != 0) != (e->rom != 0))
		return SW_WRONG_DATA;	/* only the SD module makes SDs */
	if (c->st.napp == SIM_APP_MAX || cost > sim_mem_free(&c->st))
		return SW_NO_MEMORY;
	a = &c->st.app[c->st.napp++];
	memset(a, 0, sizeof(*a));
	(void)sim_aid_set(&a->aid, f.app, f.appn);
	a->elf = e->aid;
	(void)sim_aid_set(&a->mod, f.mod, f.modn);
	a->sd = e->sd;
	memcpy(a->priv, f.priv, f.privn);
	a->size = cost;
	a->lifecycle = (p1 & GP_INSTALL_SELECTABLE) ? SIM_APP_SELECTABLE :
	    SIM_APP_INSTALLED;
	c->dirty = 1;
	return SW_OK;
}

static uint16_t
make_selectable(struct sim_card *c, struct gp_rd *rd)
{
	struct sim_app *a;
	struct inst f;

	if (inst_parse(rd, &f) != 0 || f.elfn != 0 || f.modn != 0)
		return SW_WRONG_DATA;
	if ((a = sim_app_find(&c->st, f.app, f.appn)) == NULL)
		return SW_REF_NOT_FOUND;
	if (a->lifecycle != SIM_APP_INSTALLED)
		return SW_CONDITIONS;
	a->lifecycle = SIM_APP_SELECTABLE;
	c->dirty = 1;
	return SW_OK;
}

/* The next STORE DATA series goes to this application. */
static uint16_t
install_perso(struct sim_card *c, struct gp_rd *rd)
{
	struct sim_app *a;
	struct inst f;

	if (inst_parse(rd, &f) != 0 || f.elfn != 0 || f.modn != 0)
		return SW_WRONG_DATA;
	if ((a = sim_app_find(&c->st, f.app, f.appn)) == NULL)
		return SW_REF_NOT_FOUND;
	if ((a->lifecycle & SIM_APP_LOCKED) ||
	    !sim_aid_same(&a->sd, &c->st.isd))
		return SW_CONDITIONS;
	c->perso = 1;
	c->perso_aid = a->aid;
	c->store_next = 0;
	c->store_len = 0;
	return SW_OK;
}

uint16_t
sim_cmd_install(struct sim_card *c, const struct gp_apdu *a, struct gp_wr *o)
{
	struct gp_rd rd;
	uint16_t sw;

	gp_rd_init(&rd, a->data, a->lc);
	if (a->p2 != 0)
		return SW_WRONG_P1P2;
	switch (a->p1 & 0x7F) {
	case GP_INSTALL_LOAD:
		sw = sim_install_for_load(c, a->p2, &rd);
		break;
	case GP_INSTALL_INSTALL:
	case GP_INSTALL_AND_SELECT:
		sw = install_app(c, &rd, a->p1);
		break;
	case GP_INSTALL_SELECTABLE:
		sw = make_selectable(c, &rd);
		break;
	case GP_INSTALL_PERSO:
		sw = install_perso(c, &rd);
		break;
	default:
		return SW_WRONG_P1P2;
	}
	if (sw == SW_OK && gp_wr_u8(o, 0x00) != 0)
		sw = SW_NO_MEMORY;
	return sw;
}
