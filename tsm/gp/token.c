/*
 * Delegated Management token data: GP Card Specification 2.3.1 C.4.1
 * (load, install, make selectable, extradition, registry update tokens:
 * P1 ‖ P2 ‖ Lc ‖ the INSTALL data field up to, not including, the token
 * LV) and C.4.2 (delete token, in the layout kaoh/globalplatform signs:
 * 4F ‖ LV(AID) per AID).
 */
#include "gp/err.h"
#include "gp/token.h"

/* Writes P1 ‖ P2 ‖ Lc ‖ fields; the fields were built in a 255-byte box. */
static int
token_out(uint8_t p1, uint8_t p2, const struct gp_wr *f, struct gp_wr *w)
{
	int r;

	if ((r = gp_wr_reserve(w, 3 + f->len)) != 0 ||
	    (r = gp_wr_u8(w, p1)) != 0 || (r = gp_wr_u8(w, p2)) != 0 ||
	    (r = gp_wr_u8(w, (uint8_t)f->len)) != 0)
		return r;
	return gp_wr_put(w, f->p, f->len);
}

int
gp_token_install(uint8_t p1, const struct gp_install *in, struct gp_wr *w)
{
	uint8_t buf[0xFF];
	struct gp_wr f;
	int r;

	gp_wr_init(&f, buf, sizeof(buf));
	if ((r = gp_install_fields(p1, in, &f)) != 0)
		return r == GP_ERR_SPACE ? GP_ERR_TOOLARGE : r;
	return token_out(p1, 0x00, &f, w);
}

int
gp_token_delete(uint8_t p2, const struct gp_aid_ref *aids, size_t n,
    struct gp_wr *w)
{
	uint8_t buf[0xFF];
	struct gp_wr f;
	size_t i;
	int r;

	if (aids == NULL || n == 0)
		return GP_ERR_INVAL;
	gp_wr_init(&f, buf, sizeof(buf));
	for (i = 0; i < n; i++) {
		if (aids[i].p == NULL || aids[i].len < GP_AID_MIN ||
		    aids[i].len > GP_AID_MAX)
			return GP_ERR_INVAL;
		if ((r = gp_wr_u8(&f, 0x4F)) != 0 ||
		    (r = gp_wr_lv(&f, aids[i].p, aids[i].len)) != 0)
			return r == GP_ERR_SPACE ? GP_ERR_TOOLARGE : r;
	}
	return token_out(0x00, p2, &f, w);
}
