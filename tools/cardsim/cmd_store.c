/*
 * STORE DATA (GP 2.3.1 11.11) and the generic applet's GET DATA. A
 * series of blocks (P2 counting from 00, P1 b8 on the last) is gathered
 * in RAM and written to the instance whole when the last block arrives,
 * so that a power cut never leaves half a personalisation. Encrypted
 * DGIs (P1 b7b6 = 11) are decrypted under the DEK as EMV CPS does.
 */
#include <string.h>

#include "gp/cmd.h"
#include "gp/tlv.h"
#include "sim_int.h"

/* DGI: tag (2) ‖ length (1, or FF ‖ 2) ‖ value. */
static int
dgi_read(struct gp_rd *rd, uint16_t *tag, const uint8_t **v, size_t *n)
{
	uint8_t l;
	uint16_t l2;

	if (gp_rd_u16(rd, tag) || gp_rd_u8(rd, &l))
		return -1;
	if (l == 0xFF) {
		if (gp_rd_u16(rd, &l2))
			return -1;
		*n = l2;
	} else
		*n = l;
	return gp_rd_bytes(rd, *n, v);
}

static int
dgi_check(const uint8_t *p, size_t n)
{
	struct gp_rd rd;
	const uint8_t *v;
	uint16_t tag;
	size_t vn;

	gp_rd_init(&rd, p, n);
	while (gp_rd_left(&rd) > 0)
		if (dgi_read(&rd, &tag, &v, &vn) != 0)
			return -1;
	return 0;
}

/* Appends whole DGIs with their values decrypted. */
static uint16_t
store_decrypt(struct sim_card *c, const struct gp_apdu *a, struct gp_wr *w)
{
	uint8_t clear[SIM_DATA_MAX];
	struct gp_rd rd;
	const uint8_t *v;
	uint16_t tag, sw = SW_OK;
	size_t n;

	gp_rd_init(&rd, a->data, a->lc);
	while (gp_rd_left(&rd) > 0 && sw == SW_OK) {
		if (dgi_read(&rd, &tag, &v, &n) != 0 || n > sizeof(clear) ||
		    sim_dek_decrypt(c, v, n, clear) != 0)
			sw = SW_WRONG_DATA;
		else if (gp_wr_u16(w, tag) || (n < 255 ? gp_wr_u8(w,
		    (uint8_t)n) : gp_wr_u8(w, 0xFF) || gp_wr_u16(w,
		    (uint16_t)n)) || gp_wr_put(w, clear, n))
			sw = SW_NO_MEMORY;
	}
	gp_wipe(clear, sizeof(clear));
	return sw;
}

/* ISD data: BER-TLV IIN (42) and CIN (45). */
static uint16_t
store_isd(struct sim_card *c, const uint8_t *p, size_t n)
{
	struct gp_tlv_it it;
	struct gp_tlv t;
	int r;

	gp_tlv_it_init(&it, p, n);
	while ((r = gp_tlv_next(&it, &t)) == 1) {
		if ((t.tag != 0x42 && t.tag != 0x45) || t.len > 16)
			return SW_WRONG_DATA;
		memcpy(t.tag == 0x42 ? c->st.iin : c->st.cin, t.v, t.len);
		*(t.tag == 0x42 ? &c->st.iin_len : &c->st.cin_len) = t.len;
	}
	if (r < 0)
		return SW_WRONG_DATA;
	c->dirty = 1;
	return SW_OK;
}

static uint16_t
store_finish(struct sim_card *c, uint8_t fmt)
{
	struct sim_app *a;
	size_t base;

	if ((fmt == GP_STORE_DGI && dgi_check(c->store_buf, c->store_len)) ||
	    (fmt == GP_STORE_BERTLV && gp_tlv_check(c->store_buf,
	    c->store_len, 0)))
		return SW_WRONG_DATA;
	if (!c->perso)
		return store_isd(c, c->store_buf, c->store_len);
	if ((a = sim_app_find(&c->st, c->perso_aid.b, c->perso_aid.len)) ==
	    NULL)
		return SW_REF_NOT_FOUND;
	base = a->size - a->data_len;
	if (c->store_len > a->data_len &&
	    c->store_len - a->data_len > sim_mem_free(&c->st))
		return SW_NO_MEMORY;
	memcpy(a->data, c->store_buf, c->store_len);
	a->data_len = c->store_len;
	a->size = base + c->store_len;
	a->fmt = fmt;
	if (a->lifecycle == SIM_APP_SELECTABLE)
		a->lifecycle = SIM_APP_PERSO;
	c->dirty = 1;
	return SW_OK;
}

uint16_t
sim_cmd_store_data(struct sim_card *c, const struct gp_apdu *a,
    struct gp_wr *o)
{
	struct gp_wr w;
	uint16_t sw = SW_OK;

	if (a->p2 != (c->store_next & 0xFF))
		return SW_WRONG_P1P2;
	if (c->store_next == 0)
		c->store_len = 0;
	gp_wr_init(&w, c->store_buf + c->store_len,
	    sizeof(c->store_buf) - c->store_len);
	if ((a->p1 & GP_STORE_ENC) == GP_STORE_ENC)
		sw = store_decrypt(c, a, &w);
	else if (gp_wr_put(&w, a->data, a->lc) != 0)
		sw = SW_NO_MEMORY;
	if (sw != SW_OK) {
		c->store_next = 0;
		return sw;
	}
	c->store_len += w.len;
	c->store_next++;
	if (!(a->p1 & GP_STORE_LAST))
		return SW_OK;
	c->store_next = 0;
	sw = store_finish(c, a->p1 & 0x18);
	gp_wipe(c->store_buf, c->store_len);
	c->store_len = 0;
	return sw;
}

/* P1P2 00 00: everything stored; else the DGI's value or the TLV. */
uint16_t
sim_app_get_data(struct sim_card *c, const struct sim_app *app,
    const struct gp_apdu *a, struct gp_wr *o)
{
	uint16_t tag = (uint16_t)(a->p1 << 8 | a->p2), dt;
	struct gp_tlv_it it;
	struct gp_tlv t;
	struct gp_rd rd;
	const uint8_t *v;
	size_t n;

	if (tag == 0)
		return gp_wr_put(o, app->data, app->data_len) ? SW_NO_MEMORY :
		    SW_OK;
	if (app->fmt == GP_STORE_DGI) {
		gp_rd_init(&rd, app->data, app->data_len);
		while (gp_rd_left(&rd) > 0 && dgi_read(&rd, &dt, &v, &n) == 0)
			if (dt == tag)
				return gp_wr_put(o, v, n) ? SW_NO_MEMORY :
				    SW_OK;
		return SW_REF_NOT_FOUND;
	}
	gp_tlv_it_init(&it, app->data, app->data_len);
	while (gp_tlv_next(&it, &t) == 1)
		if (t.tag == tag || (a->p1 == 0 && t.tag == a->p2))
			return gp_wr_put(o, t.raw, t.rawlen) ? SW_NO_MEMORY :
			    SW_OK;
	return SW_REF_NOT_FOUND;
}
