/*
 * INSTALL [for load] and LOAD. The blocks are kept in RAM until the last
 * one: a power cut or an error between blocks leaves nothing behind (no
 * half-loaded file, no memory charged). The complete load file is
 * validated by libgp's gp_cap_open_lfdb: the component checks every other
 * part of the project trusts, on the Load File Data Block as received.
 * (It used to be zipped back into a CAP file for gp_cap_open_mem; that
 * ZIP was most of a simulated card's CPU under tsm-loadgen.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gp/cap.h"
#include "gp/tlv.h"
#include "sim_int.h"

void
sim_load_abort(struct sim_card *c)
{
	if (c->load.buf.p != NULL)
		gp_wr_reset(&c->load.buf);
	c->load.active = 0;
	c->load.next = 0;
}

/* EF { C6 code, C7 volatile, C8 non-volatile data } -> bytes asked. */
static int
load_quota(const uint8_t *p, size_t n, size_t *quota)
{
	static const uint32_t tags[] = { 0xC6, 0xC8 };
	struct gp_tlv ef, t;
	size_t k, i;

	*quota = 0;
	if (n == 0)
		return 0;
	if (gp_tlv_check(p, n, 0) != 0)
		return -1;
	if (gp_tlv_find(p, n, 0xEF, &ef) != 0)
		return 0;
	for (k = 0; k < 2; k++) {
		if (gp_tlv_find(ef.v, ef.len, tags[k], &t) != 0)
			continue;
		if (t.len == 0 || t.len > 4)
			return -1;
		for (i = 0; i < t.len; i++)
			*quota = (*quota << 8) | t.v[i];
		*quota = *quota > SIM_LOAD_MAX ? SIM_LOAD_MAX + 1 : *quota;
	}
	return 0;
}

static int
sd_ok(struct sim_state *st, const uint8_t *p, size_t n)
{
	struct sim_app *sd;

	if (n == 0 || sim_aid_eq(&st->isd, p, n))
		return 1;
	sd = sim_app_find(st, p, n);
	return sd != NULL && (sd->priv[0] & SIM_PRIV_SD);
}

/* LV ELF AID, LV SD AID, LV hash, LV load parameters, [LV token]. */
uint16_t
sim_install_for_load(struct sim_card *c, uint8_t p2, struct gp_rd *rd)
{
	const uint8_t *elf, *sd, *hash, *par, *tok;
	size_t en, sn, hn, pn, tn = 0, quota;

	if (p2 != 0)
		return SW_WRONG_P1P2;
	if (gp_rd_lv(rd, &elf, &en) || gp_rd_lv(rd, &sd, &sn) ||
	    gp_rd_lv(rd, &hash, &hn) || gp_rd_lv(rd, &par, &pn) ||
	    (gp_rd_left(rd) > 0 && gp_rd_lv(rd, &tok, &tn)) ||
	    gp_rd_left(rd) != 0 || tn != 0)
		return SW_WRONG_DATA;
	if (en < 5 || en > 16 || (sn != 0 && (sn < 5 || sn > 16)) ||
	    (hn != 0 && hn != 20 && hn != 32) || load_quota(par, pn, &quota))
		return SW_WRONG_DATA;
	if (sim_aid_in_use(&c->st, elf, en))
		return SW_WRONG_DATA;
	if (!sd_ok(&c->st, sd, sn))
		return SW_REF_NOT_FOUND;
	if (quota > sim_mem_free(&c->st) || c->st.nelf == SIM_ELF_MAX)
		return SW_NO_MEMORY;
	sim_load_abort(c);
	(void)sim_aid_set(&c->load.aid, elf, en);
	if (sn == 0 || sim_aid_set(&c->load.sd, sd, sn) != 0)
		c->load.sd = c->st.isd;
	memcpy(c->load.hash, hash, hn);
	c->load.hash_len = hn;
	c->load.quota = quota;
	c->load.active = 1;
	return SW_OK;
}

/* [E2 DAP blocks] C4 lfdb, nothing after: the Load File Data Block. */
static int
load_lfdb(const struct gp_wr *b, const uint8_t **lfdb, size_t *n)
{
	struct gp_rd rd;
	struct gp_tlv t;

	gp_rd_init(&rd, b->p, b->len);
	while (gp_tlv_read(&rd, &t) == 0) {
		if (t.tag == 0xE2)
			continue;	/* DAP: no SD here verifies one */
		if (t.tag != 0xC4 || gp_rd_left(&rd) != 0)
			return -1;
		*lfdb = t.v;
		*n = t.len;
		return 0;
	}
	return -1;
}

static int
load_hash_ok(const struct sim_load *l, const uint8_t *p, size_t n)
{
	uint8_t md[32];
	unsigned int mdlen;

	if (l->hash_len == 0)
		return 1;
	if (!EVP_Digest(p, n, md, &mdlen, l->hash_len == 20 ? EVP_sha1() :
	    EVP_sha256(), NULL))
		return 0;
	return mdlen == l->hash_len && memcmp(md, l->hash, mdlen) == 0;
}

/* Platform packages (java*, javacard*, GP API) are in ROM. */
static int
import_ok(struct sim_state *st, const struct gp_cap_import *im)
{
	static const uint8_t jc[] = { 0xA0, 0x00, 0x00, 0x00, 0x62 };
	static const uint8_t gp[] = { 0xA0, 0x00, 0x00, 0x01, 0x51 };

	if (im->aid.len >= 5 && (memcmp(im->aid.b, jc, 5) == 0 ||
	    memcmp(im->aid.b, gp, 5) == 0))
		return 1;
	return sim_elf_find(st, im->aid.b, im->aid.len) != NULL;
}

static uint16_t
load_register(struct sim_card *c, const struct gp_cap *cap, size_t size)
{
	struct sim_elf *e = &c->st.elf[c->st.nelf];
	size_t k;

	if (!sim_aid_eq(&c->load.aid, cap->pkg.b, cap->pkg.len))
		return SW_WRONG_DATA;
	if (cap->napplets > SIM_MOD_MAX || cap->nimports > SIM_IMP_MAX)
		return SW_NO_MEMORY;
	for (k = 0; k < cap->nimports; k++)
		if (!import_ok(&c->st, &cap->imports[k]))
			return SW_REF_NOT_FOUND;
	if (size > sim_mem_free(&c->st) || c->st.nelf == SIM_ELF_MAX)
		return SW_NO_MEMORY;
	memset(e, 0, sizeof(*e));
	e->aid = c->load.aid;
	e->sd = c->load.sd;
	e->size = size;
	e->version[0] = cap->pkg_major;
	e->version[1] = cap->pkg_minor;
	for (k = 0; k < cap->napplets; k++)
		(void)sim_aid_set(&e->mods[e->nmods++],
		    cap->applets[k].aid.b, cap->applets[k].aid.len);
	for (k = 0; k < cap->nimports; k++)
		(void)sim_aid_set(&e->imports[e->nimports++],
		    cap->imports[k].aid.b, cap->imports[k].aid.len);
	c->st.nelf++;
	c->dirty = 1;
	return SW_OK;
}

static uint16_t
load_finish(struct sim_card *c)
{
	struct gp_cap *cap = NULL;
	const uint8_t *lfdb;
	size_t n;
	uint16_t sw;

	if (load_lfdb(&c->load.buf, &lfdb, &n) != 0 ||
	    !load_hash_ok(&c->load, lfdb, n) ||
	    gp_cap_open_lfdb(lfdb, n, &cap) != 0)
		return SW_WRONG_DATA;
	sw = load_register(c, cap, n > c->load.quota ? n : c->load.quota);
	gp_cap_free(cap);
	return sw;
}

uint16_t
sim_cmd_load(struct sim_card *c, const struct gp_apdu *a, struct gp_wr *o)
{
	uint16_t sw;

	if (!c->load.active)
		return SW_CONDITIONS;
	if ((a->p1 & 0x7F) != 0 || a->p2 != (c->load.next & 0xFF)) {
		sim_load_abort(c);
		return SW_WRONG_P1P2;
	}
	if (c->load.buf.len + a->lc > sim_mem_free(&c->st) ||
	    gp_wr_put(&c->load.buf, a->data, a->lc) != 0) {
		sim_load_abort(c);
		return SW_NO_MEMORY;
	}
	c->load.next++;
	if (!(a->p1 & 0x80))
		return SW_OK;
	sw = load_finish(c);
	sim_load_abort(c);
	if (sw == SW_OK && gp_wr_u8(o, 0x00) != 0)
		sw = SW_NO_MEMORY;
	return sw;
}
