/* Shared fixtures of the cardsim unit tests. */
#ifndef SIMTEST_COMMON_H
#define SIMTEST_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cardsim.h"
#include "simhost.h"

struct fx {
	struct sim_card	*card;
	struct sh	 h;
	struct gp_keyset ks;
	int		 proto;
	uint8_t		 i, s, level, kvn;
};

static inline int
fx_xmit(void *arg, const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap,
    size_t *rlen)
{
	return sim_card_transmit(arg, cmd, n, rsp, cap, rlen);
}

#endif
