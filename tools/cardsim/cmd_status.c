/*
 * GET STATUS (GP 2.3.1 11.4) in both response formats, with paging: a
 * response holds whole entries up to the page size and ends in 6310;
 * the host continues with P2 b1 set.
 */
#include <string.h>

#include "gp/cmd.h"
#include "gp/tlv.h"
#include "sim_int.h"

struct entry {
	const struct sim_aid *aid;
	uint8_t		 lc;
	const uint8_t	*priv;		/* 3 bytes, or NULL (load files) */
	const struct sim_aid *elf, *sd;
	const struct sim_elf *file;	/* modules and version */
};

static int
entry_at(struct sim_card *c, uint8_t p1, size_t i, struct entry *e)
{
	static const uint8_t nopriv[3];
	const struct sim_app *a;

	memset(e, 0, sizeof(*e));
	if (p1 == GP_STATUS_ISD) {
		if (i > 0)
			return 0;
		e->aid = &c->st.isd;
		e->lc = c->st.lifecycle;	/* the ISD reports the card's */
		e->priv = (const uint8_t *)"\x9E\xFE\x80";
		return 1;
	}
	if (p1 == GP_STATUS_APPS) {
		if (i >= c->st.napp)
			return 0;
		a = &c->st.app[i];
		e->aid = &a->aid;
		e->lc = a->lifecycle;
		e->priv = a->priv;
		e->elf = &a->elf;
		e->sd = &a->sd;
		return 1;
	}
	if (i >= c->st.nelf)
		return 0;
	e->aid = &c->st.elf[i].aid;
	e->lc = SIM_ELF_LOADED;
	e->priv = nopriv;
	e->sd = &c->st.elf[i].sd;
	e->file = &c->st.elf[i];
	return 1;
}

static int
put_legacy(const struct entry *e, int modules, struct gp_wr *w)
{
	size_t k;
	int r;

	if ((r = gp_wr_lv(w, e->aid->b, e->aid->len)) != 0 ||
	    (r = gp_wr_u8(w, e->lc)) != 0 || (r = gp_wr_u8(w, e->priv[0])) != 0)
		return r;
	if (!modules)
		return 0;
	if ((r = gp_wr_u8(w, (uint8_t)e->file->nmods)) != 0)
		return r;
	for (k = 0; k < e->file->nmods; k++)
		if ((r = gp_wr_lv(w, e->file->mods[k].b,
		    e->file->mods[k].len)) != 0)
			return r;
	return 0;
}

static int
put_tagged(const struct entry *e, int modules, struct gp_wr *w)
{
	size_t mark, k;
	int r;

	if ((r = gp_tlv_open(w, 0xE3, &mark)) != 0 ||
	    (r = gp_tlv_put(w, 0x4F, e->aid->b, e->aid->len)) != 0 ||
	    (r = gp_tlv_put(w, 0x9F70, &e->lc, 1)) != 0)
		return r;
	if (e->file == NULL && (r = gp_tlv_put(w, 0xC5, e->priv, 3)) != 0)
		return r;
	if (e->elf != NULL && (r = gp_tlv_put(w, 0xC4, e->elf->b,
	    e->elf->len)) != 0)
		return r;
	if (e->file != NULL && (r = gp_tlv_put(w, 0xCE, e->file->version,
	    2)) != 0)
		return r;
	if (e->sd != NULL && (r = gp_tlv_put(w, 0xCC, e->sd->b,
	    e->sd->len)) != 0)
		return r;
	for (k = 0; modules && k < e->file->nmods; k++)
		if ((r = gp_tlv_put(w, 0x84, e->file->mods[k].b,
		    e->file->mods[k].len)) != 0)
			return r;
	return gp_tlv_close(w, mark);
}

/* Search criteria: 4F with an AID prefix (4F 00: everything). */
static int
status_criteria(const struct gp_apdu *a, struct sim_aid *crit)
{
	struct gp_tlv t;

	if (gp_tlv_check(a->data, a->lc, 0) != 0 ||
	    gp_tlv_find(a->data, a->lc, 0x4F, &t) != 0 || t.len > 16)
		return -1;
	crit->len = (uint8_t)t.len;
	memcpy(crit->b, t.v, t.len);
	return 0;
}

static uint16_t
status_page(struct sim_card *c, size_t start, struct gp_wr *o)
{
	uint8_t buf[1024];
	struct gp_wr e;
	struct entry ent;
	int tagged = c->status_p2 & GP_STATUS_TAGGED;
	int mods = c->status_p1 == GP_STATUS_ELF_MODULES;
	size_t i, found = 0;

	for (i = start; entry_at(c, c->status_p1, i, &ent); i++) {
		if (ent.aid->len < c->status_crit.len || memcmp(ent.aid->b,
		    c->status_crit.b, c->status_crit.len) != 0)
			continue;
		gp_wr_init(&e, buf, sizeof(buf));
		if ((tagged ? put_tagged(&ent, mods, &e) :
		    put_legacy(&ent, mods, &e)) != 0)
			return SW_NO_MEMORY;
		if (found > 0 && o->len + e.len > c->st.status_page) {
			c->status_more = 1;
			c->status_next = i;
			return SW_MORE;
		}
		if (gp_wr_put(o, e.p, e.len) != 0)
			return SW_NO_MEMORY;
		found++;
	}
	c->status_more = 0;
	return found > 0 || start > 0 ? SW_OK : SW_REF_NOT_FOUND;
}

uint16_t
sim_cmd_get_status(struct sim_card *c, const struct gp_apdu *a,
    struct gp_wr *o)
{
	struct sim_aid crit;

	if (a->p1 != GP_STATUS_ISD && a->p1 != GP_STATUS_APPS &&
	    a->p1 != GP_STATUS_ELF && a->p1 != GP_STATUS_ELF_MODULES)
		return SW_WRONG_P1P2;
	if ((a->p2 & ~0x03) != 0)
		return SW_WRONG_P1P2;
	if (status_criteria(a, &crit) != 0)
		return SW_WRONG_DATA;
	if (a->p2 & GP_STATUS_NEXT) {
		if (!c->status_more || c->status_p1 != a->p1 ||
		    c->status_p2 != (a->p2 & GP_STATUS_TAGGED))
			return SW_CONDITIONS;
		return status_page(c, c->status_next, o);
	}
	c->status_p1 = a->p1;
	c->status_p2 = a->p2 & GP_STATUS_TAGGED;
	c->status_crit = crit;
	return status_page(c, 0, o);
}
