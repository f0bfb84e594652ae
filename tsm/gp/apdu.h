/*
 * ISO 7816-4 command and response APDUs.
 *
 * A parsed gp_apdu points into the caller's bytes; nothing is copied.
 * ne is the expected response length Ne: 0 means "no Le field"; 256 (short)
 * or 65536 (extended) is what an Le of 00 / 0000 means.
 */
#ifndef GP_APDU_H
#define GP_APDU_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"

#define GP_APDU_SHORT_MAX	255
#define GP_APDU_EXT_MAX		65535
/* Longest encoding: 4 header + 3 Lc + 65535 data + 2 Le. */
#define GP_APDU_WIRE_MAX	(4 + 3 + 65535 + 2)

#define GP_CLA_CHAIN		0x10
#define GP_CLA_SM		0x04	/* GP secure messaging indicator */

struct gp_apdu {
	uint8_t		 cla, ins, p1, p2;
	const uint8_t	*data;
	size_t		 lc;
	size_t		 ne;
	int		 ext;	/* parse: was extended; build: force extended */
};

/* 1..4 as in ISO 7816-4 (case 1: no data, no Le; 2: Le; 3: data; 4: both). */
int	gp_apdu_case(const struct gp_apdu *);
int	gp_apdu_parse(const uint8_t *, size_t, struct gp_apdu *);
/* Short encoding when lc <= 255 and ne <= 256, extended otherwise. */
int	gp_apdu_encode(const struct gp_apdu *, struct gp_wr *);
/* Builds the index-th piece of a command chained in pieces of chunk bytes. */
size_t	gp_apdu_chain_count(size_t lc, size_t chunk);
int	gp_apdu_chain_piece(const struct gp_apdu *, size_t chunk, size_t index,
	    struct gp_apdu *piece);

struct gp_rapdu {
	const uint8_t	*data;
	size_t		 len;
	uint16_t	 sw;
};

int	gp_rapdu_parse(const uint8_t *, size_t, struct gp_rapdu *);
int	gp_rapdu_encode(const uint8_t *data, size_t len, uint16_t sw,
	    struct gp_wr *);

/*
 * What a terminal does with a status word (ISO 7816-3 T=0 rules, applied by
 * GP readers in general): 61xx asks for GET RESPONSE with Le = xx; 6Cxx asks
 * to resend the same command with Le = xx (xx = 00 means 256).
 */
enum gp_sw_next {
	GP_SW_DONE = 0,		/* final status, 9000 or an error */
	GP_SW_GET_RESPONSE,	/* send GET RESPONSE with Le = *ne */
	GP_SW_RESEND,		/* resend the last command with Le = *ne */
};

enum gp_sw_next gp_sw_next(uint16_t sw, size_t *ne);
/* 9000 or 61xx. Not 63xx: 6300 is how a card refuses a cryptogram. */
int	gp_sw_ok(uint16_t sw);
/* 62xx / 63xx: a warning, the command may or may not have been done. */
int	gp_sw_warning(uint16_t sw);
int	gp_apdu_get_response(size_t ne, struct gp_wr *);

#endif
