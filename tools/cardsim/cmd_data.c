/*
 * GET DATA on the ISD (GP 2.3.1 11.3, H.2, H.4): CPLC, card recognition
 * data, key information, IIN, CIN, KDD and extended card resources.
 */
#include <string.h>

#include "gp/cmd.h"
#include "gp/tlv.h"
#include "sim_int.h"

/* 1.2.840.114283 (GlobalPlatform) */
#define GP_OID	0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B

/* 73 { 06 GP/1, 60 {06 GP/2/2.3.1}, 63 {06 GP/3}, 64 {06 GP/4/scp/i},
 * 65 {06 card config}, 66 {06 chip: Java Card} } */
int
sim_card_recognition(const struct sim_state *st, struct gp_wr *w)
{
	static const uint8_t crd[] = { 0x06, 0x07, GP_OID, 0x01 };
	static const uint8_t ver[] = { 0x06, 0x0A, GP_OID, 0x02, 0x02, 0x03,
	    0x01 };
	static const uint8_t ident[] = { 0x06, 0x07, GP_OID, 0x03 };
	static const uint8_t chip[] = { 0x06, 0x08, 0x2B, 0x06, 0x01, 0x04,
	    0x01, 0x2A, 0x02, 0x6E };
	uint8_t scp[] = { 0x06, 0x09, GP_OID, 0x04, 0x00, 0x00 };
	size_t mark;
	int r;

	scp[9] = (uint8_t)st->proto;
	scp[10] = st->i;
	if ((r = gp_tlv_open(w, 0x73, &mark)) != 0 ||
	    (r = gp_wr_put(w, crd, sizeof(crd))) != 0 ||
	    (r = gp_tlv_put(w, 0x60, ver, sizeof(ver))) != 0 ||
	    (r = gp_tlv_put(w, 0x63, ident, sizeof(ident))) != 0 ||
	    (r = gp_tlv_put(w, 0x64, scp, sizeof(scp))) != 0 ||
	    (r = gp_tlv_put(w, 0x66, chip, sizeof(chip))) != 0)
		return r;
	return gp_tlv_close(w, mark);
}

static int
put_be(struct gp_wr *w, uint32_t tag, uint32_t v, size_t n)
{
	uint8_t b[4];
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return gp_tlv_put(w, tag, b, n);
}

static int
resources(struct sim_card *c, struct gp_wr *w)
{
	size_t mark, nfree = sim_mem_free(&c->st);
	int r;

	if ((r = gp_tlv_open(w, 0xFF21, &mark)) != 0 ||
	    (r = put_be(w, 0x81, (uint32_t)c->st.napp, 2)) != 0 ||
	    (r = put_be(w, 0x82, (uint32_t)nfree, 4)) != 0 ||
	    (r = put_be(w, 0x83, 2048, 2)) != 0)
		return r;
	return gp_tlv_close(w, mark);
}

uint16_t
sim_cmd_get_data(struct sim_card *c, const struct gp_apdu *a, struct gp_wr *o)
{
	uint16_t tag = (uint16_t)(a->p1 << 8 | a->p2);
	size_t mark;
	int r;

	switch (tag) {
	case GP_DATA_CPLC:
		r = gp_tlv_put(o, 0x9F7F, c->st.cplc, sizeof(c->st.cplc));
		break;
	case GP_DATA_CARD_DATA:
		if ((r = gp_tlv_open(o, 0x66, &mark)) == 0 &&
		    (r = sim_card_recognition(&c->st, o)) == 0)
			r = gp_tlv_close(o, mark);
		break;
	case GP_DATA_KEY_INFO:
		r = sim_key_info(&c->st, o);
		break;
	case GP_DATA_IIN:
		r = gp_tlv_put(o, 0x42, c->st.iin, c->st.iin_len);
		break;
	case GP_DATA_CIN:
		r = gp_tlv_put(o, 0x45, c->st.cin, c->st.cin_len);
		break;
	case 0x00CF:	/* key diversification data, as GPPro reads it */
		r = gp_tlv_put(o, 0xCF, c->st.kdd, GP_KDD_LEN);
		break;
	case GP_DATA_RESOURCES:
		r = resources(c, o);
		break;
	default:
		return SW_REF_NOT_FOUND;
	}
	return r == 0 ? SW_OK : SW_NO_MEMORY;
}
