/*
 * Delegated Management token input data (GP Card Specification 2.3.1,
 * C.4): the bytes a token signs are P1 ‖ P2 ‖ Lc ‖ the command's data
 * field without the token itself. Signing is key custody's job (keys/),
 * never libgp's: this module only lays out the data.
 *
 * Every function fails with GP_ERR_TOOLARGE when the fields exceed 255
 * bytes (Lc is one byte).
 */
#ifndef GP_TOKEN_H
#define GP_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"
#include "gp/cmd.h"

struct gp_aid_ref {
	const uint8_t	*p;
	size_t		 len;
};

/* INSTALL tokens (load, install, make selectable, extradition, ...). */
int	gp_token_install(uint8_t p1, const struct gp_install *,
	    struct gp_wr *);
/* DELETE token: 00 ‖ p2 ‖ Lc ‖ 4F LV(AID) per AID. */
int	gp_token_delete(uint8_t p2, const struct gp_aid_ref *, size_t n,
	    struct gp_wr *);

#endif
