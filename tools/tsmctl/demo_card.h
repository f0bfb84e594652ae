/*
 * A minimal GlobalPlatform card for `tsmctl demo`: an Issuer Security
 * Domain on libgp's card role that takes SCP03, INSTALL [for load], LOAD,
 * INSTALL [for install and make selectable] and GET STATUS. It exists so
 * the main job needs nothing else; tsm-cardsim (tools/cardsim, planned) is
 * the full virtual card.
 */
#ifndef TSMCTL_DEMO_CARD_H
#define TSMCTL_DEMO_CARD_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"
#include "gp/scp.h"

struct demo_card;

struct demo_card *demo_card_new(const struct gp_keyset *,
	    const uint8_t kdd[GP_KDD_LEN], uint8_t i, uint32_t seq);
void	demo_card_free(struct demo_card *);
/* One C-APDU in, one R-APDU (data ‖ SW) out. Never fails but on memory. */
int	demo_card_transmit(struct demo_card *, const uint8_t *cmd, size_t n,
	    struct gp_wr *rsp);

#endif
