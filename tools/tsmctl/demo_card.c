/*
 * The demo card: an ISD answering the commands `tsmctl demo` sends. The
 * registry holds load files (with their applet AIDs, read off the Applet
 * component) and application instances. Status words follow GP 2.3.1.
 */
#include <stdlib.h>
#include <string.h>

#include "gp/apdu.h"
#include "gp/err.h"
#include "gp/tlv.h"
#include "demo_card.h"

#define DEMO_MAX	8
#define DEMO_LOAD_MAX	(1024 * 1024)

static const uint8_t isd_aid[] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00,
    0x00, 0x00 };

struct demo_aid {
	uint8_t		len;
	uint8_t		b[16];
};

struct demo_elf {
	struct demo_aid	aid;
	struct demo_aid	applets[DEMO_MAX];
	size_t		napplets;
};

struct demo_app {
	struct demo_aid	aid;
	size_t		elf;
	uint8_t		lifecycle;
};

struct demo_card {
	struct gp_keyset ks;
	uint8_t		kdd[GP_KDD_LEN];
	uint8_t		i;
	uint32_t	seq;
	struct gp_scp	scp;
	int		isd_selected;
	struct demo_elf	elfs[DEMO_MAX];
	size_t		nelfs;
	struct demo_app	apps[DEMO_MAX];
	size_t		napps;
	struct demo_aid	loading;	/* INSTALL [for load] target */
	struct gp_wr	load;
	unsigned	next_block;
	int		in_load;
};

struct demo_card *
demo_card_new(const struct gp_keyset *ks, const uint8_t kdd[GP_KDD_LEN],
    uint8_t i, uint32_t seq)
{
	struct demo_card *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->ks = *ks;
	memcpy(c->kdd, kdd, GP_KDD_LEN);
	c->i = i;
	c->seq = seq;
	gp_wr_init_dyn(&c->load, DEMO_LOAD_MAX);
	return c;
}

void
demo_card_free(struct demo_card *c)
{
	if (c == NULL)
		return;
	gp_scp_free(&c->scp);
	gp_wr_free(&c->load);
	gp_wipe(c, sizeof(*c));
	free(c);
}

static int
aid_set(struct demo_aid *a, const uint8_t *p, size_t n)
{
	if (n < 5 || n > 16)
		return -1;
	a->len = (uint8_t)n;
	memcpy(a->b, p, n);
	return 0;
}

static int
aid_eq(const struct demo_aid *a, const uint8_t *p, size_t n)
{
	return a->len == n && memcmp(a->b, p, n) == 0;
}

/* Applet AIDs from the Applet component (tag 3) of a load file block. */
static int
elf_from_lfdb(struct demo_elf *e, const uint8_t *p, size_t n)
{
	struct gp_rd rd, ap;
	const uint8_t *info, *aid;
	uint8_t tag, count, i;
	uint16_t size;
	size_t alen;

	gp_rd_init(&rd, p, n);
	while (gp_rd_left(&rd) > 0) {
		if (gp_rd_u8(&rd, &tag) || gp_rd_u16(&rd, &size) ||
		    gp_rd_bytes(&rd, size, &info))
			return -1;
		if (tag != 3)
			continue;
		gp_rd_init(&ap, info, size);
		if (gp_rd_u8(&ap, &count) || count > DEMO_MAX)
			return -1;
		for (i = 0; i < count; i++)
			if (gp_rd_lv(&ap, &aid, &alen) || gp_rd_skip(&ap, 2) ||
			    aid_set(&e->applets[e->napplets++], aid, alen))
				return -1;
	}
	return 0;
}

/* Last LOAD block: C4 ‖ length ‖ block; the Header must name the AID. */
static uint16_t
load_finish(struct demo_card *c)
{
	struct demo_elf *e = &c->elfs[c->nelfs];
	struct gp_tlv t;
	const uint8_t *v;

	if (c->nelfs == DEMO_MAX)
		return 0x6A84;
	if (gp_tlv_parse_one(c->load.p, c->load.len, 0xC4, &t) != 0 ||
	    t.rawlen != c->load.len || t.len < 13)
		return 0x6A80;
	v = t.v;
	/* Header: tag 01, size, DECAFFED, versions, flags, AID LV. */
	if (v[0] != 0x01 || memcmp(v + 3, "\xDE\xCA\xFF\xED", 4) != 0 ||
	    t.len < 13u + v[12] || !aid_eq(&c->loading, v + 13, v[12]))
		return 0x6A80;
	memset(e, 0, sizeof(*e));
	e->aid = c->loading;
	if (elf_from_lfdb(e, t.v, t.len) != 0)
		return 0x6A80;
	c->nelfs++;
	return 0x9000;
}

static uint16_t
do_load(struct demo_card *c, const struct gp_apdu *a)
{
	if (!c->in_load || a->p2 != c->next_block)
		return 0x6985;
	if (gp_wr_put(&c->load, a->data, a->lc) != 0)
		return 0x6A84;
	c->next_block++;
	if (!(a->p1 & 0x80))
		return 0x9000;
	c->in_load = 0;
	return load_finish(c);
}

/* INSTALL [for load]: LV ELF AID, LV SD AID, LV hash, LV params, LV token */
static uint16_t
install_load(struct demo_card *c, struct gp_rd *rd)
{
	const uint8_t *aid;
	size_t n;

	if (gp_rd_lv(rd, &aid, &n) != 0 || aid_set(&c->loading, aid, n) != 0)
		return 0x6A80;
	gp_wr_reset(&c->load);
	c->next_block = 0;
	c->in_load = 1;
	return 0x9000;
}

/* INSTALL [for install (and make selectable)]: ELF, module, app AIDs. */
static uint16_t
install_app(struct demo_card *c, struct gp_rd *rd, uint8_t p1)
{
	const uint8_t *elf, *mod, *app;
	size_t en, mn, an, e, k;

	if (gp_rd_lv(rd, &elf, &en) || gp_rd_lv(rd, &mod, &mn) ||
	    gp_rd_lv(rd, &app, &an))
		return 0x6A80;
	for (e = 0; e < c->nelfs && !aid_eq(&c->elfs[e].aid, elf, en); e++)
		;
	if (e == c->nelfs)
		return 0x6A88;		/* referenced data not found */
	for (k = 0; k < c->elfs[e].napplets &&
	    !aid_eq(&c->elfs[e].applets[k], mod, mn); k++)
		;
	if (k == c->elfs[e].napplets)
		return 0x6A88;
	for (k = 0; k < c->napps; k++)
		if (aid_eq(&c->apps[k].aid, app, an))
			return 0x6A80;	/* instance AID already in use */
	if (c->napps == DEMO_MAX)
		return 0x6A84;
	if (aid_set(&c->apps[c->napps].aid, app, an) != 0)
		return 0x6A80;
	c->apps[c->napps].elf = e;
	c->apps[c->napps].lifecycle = (p1 & 0x08) ? 0x07 : 0x03;
	c->napps++;
	return 0x9000;
}

static uint16_t
do_install(struct demo_card *c, const struct gp_apdu *a)
{
	struct gp_rd rd;

	gp_rd_init(&rd, a->data, a->lc);
	if (a->p1 == 0x02)
		return install_load(c, &rd);
	if (a->p1 == 0x0C || a->p1 == 0x04)
		return install_app(c, &rd, a->p1);
	return 0x6A86;
}

/* GET STATUS, tag format: E3 { 4F aid, 9F70 state, C5 privileges, C4 }. */
static uint16_t
do_get_status(struct demo_card *c, const struct gp_apdu *a, struct gp_wr *o)
{
	size_t k, mark;
	uint8_t priv = 0x00;

	if (a->p1 != 0x40 || (a->p2 & 0xFE) != 0x02)
		return 0x6A86;
	if (c->napps == 0)
		return 0x6A88;
	for (k = 0; k < c->napps; k++) {
		if (gp_tlv_open(o, 0xE3, &mark) ||
		    gp_tlv_put(o, 0x4F, c->apps[k].aid.b, c->apps[k].aid.len) ||
		    gp_tlv_put(o, 0x9F70, &c->apps[k].lifecycle, 1) ||
		    gp_tlv_put(o, 0xC5, &priv, 1) ||
		    gp_tlv_put(o, 0xC4, c->elfs[c->apps[k].elf].aid.b,
		    c->elfs[c->apps[k].elf].aid.len) || gp_tlv_close(o, mark))
			return 0x6A84;
	}
	return 0x9000;
}

/* A command inside the secure channel, after unwrapping. */
static uint16_t
dispatch(struct demo_card *c, const struct gp_apdu *a, struct gp_wr *o)
{
	if (a->cla != 0x80)
		return 0x6E00;
	switch (a->ins) {
	case 0xE6:
		return do_install(c, a);
	case 0xE8:
		return do_load(c, a);
	case 0xF2:
		return do_get_status(c, a, o);
	}
	return 0x6D00;
}

static uint16_t
do_select(struct demo_card *c, const struct gp_apdu *a)
{
	size_t k;

	gp_scp_free(&c->scp);	/* selecting ends any secure channel */
	c->isd_selected = 0;
	if (a->lc == sizeof(isd_aid) && memcmp(a->data, isd_aid, a->lc) == 0) {
		c->isd_selected = 1;
		return 0x9000;
	}
	for (k = 0; k < c->napps; k++)
		if (aid_eq(&c->apps[k].aid, a->data, a->lc))
			return c->apps[k].lifecycle == 0x07 ? 0x9000 : 0x6999;
	return 0x6A82;
}

static int
secured(struct demo_card *c, const uint8_t *cmd, size_t n, struct gp_wr *rsp)
{
	uint8_t pbuf[GP_APDU_WIRE_MAX], obuf[512];
	struct gp_wr pw, ow;
	struct gp_apdu a;
	uint16_t sw;

	gp_wr_init(&pw, pbuf, sizeof(pbuf));
	gp_wr_init(&ow, obuf, sizeof(obuf));
	if (gp_scp_card_unwrap(&c->scp, cmd, n, &pw) != 0) {
		gp_scp_free(&c->scp);
		return gp_rapdu_encode(NULL, 0, 0x6982, rsp);
	}
	if (gp_apdu_parse(pw.p, pw.len, &a) != 0)
		sw = 0x6700;
	else
		sw = dispatch(c, &a, &ow);
	return gp_scp_card_wrap(&c->scp, ow.p, sw == 0x9000 ? ow.len : 0, sw,
	    rsp);
}

int
demo_card_transmit(struct demo_card *c, const uint8_t *cmd, size_t n,
    struct gp_wr *rsp)
{
	struct gp_scp_card_cfg cfg = { .proto = 3, .i = c->i, .s = 8,
	    .seq = c->seq, .sd_aid = isd_aid, .sd_aid_len = sizeof(isd_aid) };
	struct gp_apdu a;
	int r;

	if (gp_apdu_parse(cmd, n, &a) != 0)
		return gp_rapdu_encode(NULL, 0, 0x6700, rsp);
	if (a.cla == 0x00 && a.ins == 0xA4 && a.p1 == 0x04)
		return gp_rapdu_encode(NULL, 0, do_select(c, &a), rsp);
	if (!c->isd_selected)
		return gp_rapdu_encode(NULL, 0, 0x6D00, rsp);
	if ((a.cla & ~0x03) == 0x80 && a.ins == 0x50) {
		memcpy(cfg.kdd, c->kdd, GP_KDD_LEN);
		c->seq++;	/* a new challenge for every INITIALIZE UPDATE */
		cfg.seq = c->seq;
		r = gp_scp_card_init_update(&c->scp, &cfg, &c->ks, cmd, n, rsp);
		return r == 0 ? 0 : gp_rapdu_encode(NULL, 0, 0x6A80, rsp);
	}
	if (a.cla == 0x84 && a.ins == 0x82) {
		r = gp_scp_card_ext_auth(&c->scp, cmd, n);
		return gp_rapdu_encode(NULL, 0, r == 0 ? 0x9000 : 0x6300, rsp);
	}
	if (c->scp.state == GP_SCP_OPEN)
		return secured(c, cmd, n, rsp);
	return gp_rapdu_encode(NULL, 0, 0x6982, rsp);
}
