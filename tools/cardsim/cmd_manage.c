/*
 * DELETE (GP 2.3.1 11.2) with related objects, and SET STATUS (11.10):
 * the card's life cycle, an application's, a security domain's with its
 * associated applications.
 */
#include <string.h>

#include "gp/cmd.h"
#include "gp/tlv.h"
#include "sim_int.h"

static void
perso_forget(struct sim_card *c, const struct sim_aid *aid)
{
	if (c->perso && sim_aid_same(&c->perso_aid, aid))
		c->perso = 0;
}

static size_t
sd_members(const struct sim_state *st, const struct sim_aid *sd)
{
	size_t k, n = 0;

	for (k = 0; k < st->napp; k++)
		n += sim_aid_same(&st->app[k].sd, sd);
	return n;
}

static uint16_t
delete_app(struct sim_card *c, struct sim_app *a, int related)
{
	struct sim_aid sd = a->aid;
	size_t k;

	if (sd_members(&c->st, &sd) > 0) {
		if (!related)
			return SW_CONDITIONS;
		for (k = c->st.napp; k-- > 0;)
			if (sim_aid_same(&c->st.app[k].sd, &sd)) {
				perso_forget(c, &c->st.app[k].aid);
				sim_app_remove(&c->st, &c->st.app[k]);
			}
		a = sim_app_find(&c->st, sd.b, sd.len);
	}
	perso_forget(c, &sd);
	sim_app_remove(&c->st, a);
	c->dirty = 1;
	return SW_OK;
}

static uint16_t
delete_elf(struct sim_card *c, struct sim_elf *e, int related)
{
	struct sim_aid aid = e->aid;
	size_t k;

	if (e->rom || sim_elf_imported(&c->st, e))
		return SW_CONDITIONS;
	if (sim_elf_instances(&c->st, e) > 0 && !related)
		return SW_CONDITIONS;
	for (k = c->st.napp; k-- > 0;)
		if (sim_aid_same(&c->st.app[k].elf, &aid)) {
			if (sd_members(&c->st, &c->st.app[k].aid) > 0)
				return SW_CONDITIONS;
		}
	for (k = c->st.napp; k-- > 0;)
		if (sim_aid_same(&c->st.app[k].elf, &aid)) {
			perso_forget(c, &c->st.app[k].aid);
			sim_app_remove(&c->st, &c->st.app[k]);
		}
	sim_elf_remove(&c->st, sim_elf_find(&c->st, aid.b, aid.len));
	c->dirty = 1;
	return SW_OK;
}

uint16_t
sim_cmd_delete(struct sim_card *c, const struct gp_apdu *a, struct gp_wr *o)
{
	struct sim_app *app;
	struct sim_elf *elf;
	struct gp_tlv t;
	uint16_t sw;

	if (a->p1 != 0 || (a->p2 != GP_DELETE_OBJECT &&
	    a->p2 != GP_DELETE_RELATED))
		return SW_WRONG_P1P2;
	if (gp_tlv_check(a->data, a->lc, 0) != 0 ||
	    gp_tlv_find(a->data, a->lc, 0x4F, &t) != 0 || t.len < 5 ||
	    t.len > 16)
		return SW_WRONG_DATA;
	if (sim_aid_eq(&c->st.isd, t.v, t.len))
		return SW_CONDITIONS;
	if ((app = sim_app_find(&c->st, t.v, t.len)) != NULL)
		sw = delete_app(c, app, a->p2 == GP_DELETE_RELATED);
	else if ((elf = sim_elf_find(&c->st, t.v, t.len)) != NULL)
		sw = delete_elf(c, elf, a->p2 == GP_DELETE_RELATED);
	else
		return SW_REF_NOT_FOUND;
	if (sw == SW_OK && gp_wr_u8(o, 0x00) != 0)
		sw = SW_NO_MEMORY;
	return sw;
}

static uint16_t
set_card(struct sim_card *c, const struct gp_apdu *a)
{
	if (a->lc != 0 && !sim_aid_eq(&c->st.isd, a->data, a->lc))
		return SW_REF_NOT_FOUND;
	if (a->p2 != SIM_LC_INITIALIZED && a->p2 != SIM_LC_SECURED &&
	    a->p2 != SIM_LC_LOCKED && a->p2 != SIM_LC_TERMINATED)
		return SW_WRONG_DATA;
	if (!sim_lc_card_allowed(c->st.lifecycle, a->p2))
		return SW_CONDITIONS;
	c->st.lifecycle = a->p2;
	c->dirty = 1;
	return SW_OK;
}

/* An SD and its applications lock and unlock together. */
static uint16_t
set_sd_apps(struct sim_card *c, struct sim_app *sd, uint8_t p2)
{
	struct sim_app saved[SIM_APP_MAX];
	uint16_t sw;
	size_t k;

	if (!(sd->priv[0] & SIM_PRIV_SD) || (p2 != 0x80 && p2 != 0x00))
		return SW_WRONG_DATA;
	memcpy(saved, c->st.app, sizeof(saved));
	if ((sw = sim_app_set_status(sd, p2)) != SW_OK)
		return sw;
	for (k = 0; k < c->st.napp; k++)
		if (sim_aid_same(&c->st.app[k].sd, &sd->aid) &&
		    (sw = sim_app_set_status(&c->st.app[k], p2)) != SW_OK)
			break;
	if (sw != SW_OK) {	/* all or nothing */
		memcpy(c->st.app, saved, sizeof(saved));
		return sw;
	}
	return SW_OK;
}

uint16_t
sim_cmd_set_status(struct sim_card *c, const struct gp_apdu *a,
    struct gp_wr *o)
{
	struct sim_app *app;
	uint16_t sw;

	if (a->p1 == GP_SETSTATUS_ISD)
		return set_card(c, a);
	if (a->p1 != GP_SETSTATUS_APP && a->p1 != GP_SETSTATUS_SD_APPS)
		return SW_WRONG_P1P2;
	if (a->lc < 5 || a->lc > 16)
		return SW_WRONG_DATA;
	if ((app = sim_app_find(&c->st, a->data, a->lc)) == NULL)
		return SW_REF_NOT_FOUND;
	if (a->p1 == GP_SETSTATUS_APP)
		sw = sim_app_set_status(app, a->p2);
	else
		sw = set_sd_apps(c, app, a->p2);
	if (sw == SW_OK)
		c->dirty = 1;
	return sw;
}
