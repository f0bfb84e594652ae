/*
 * Life cycles: the card's (GP 2.3.1 5.1.1) with its legal transitions and
 * the commands each state allows, and an application's (5.3.1).
 */
#include "gp/cmd.h"
#include "sim_int.h"

/* OP_READY -> INITIALIZED -> SECURED <-> CARD_LOCKED, any -> TERMINATED;
 * never backwards. */
int
sim_lc_card_allowed(uint8_t from, uint8_t to)
{
	if (from == SIM_LC_TERMINATED)
		return 0;
	switch (to) {
	case SIM_LC_INITIALIZED:
		return from == SIM_LC_OP_READY;
	case SIM_LC_SECURED:
		return from == SIM_LC_OP_READY ||
		    from == SIM_LC_INITIALIZED || from == SIM_LC_LOCKED;
	case SIM_LC_LOCKED:
		return from == SIM_LC_SECURED;
	case SIM_LC_TERMINATED:
		return 1;
	}
	return 0;
}

/*
 * CARD_LOCKED: the ISD answers but nothing can be loaded, installed,
 * deleted or personalised. TERMINATED: GET DATA only.
 */
int
sim_lc_ins_allowed(uint8_t lc, uint8_t ins)
{
	if (ins == GP_INS_GET_DATA)
		return 1;
	if (lc == SIM_LC_TERMINATED)
		return 0;
	if (lc != SIM_LC_LOCKED)
		return 1;
	return ins == GP_INS_GET_STATUS || ins == GP_INS_SET_STATUS ||
	    ins == 0x50 || ins == 0x82;
}

/*
 * SET STATUS on an application: P2 b8 locks, 00 unlocks (back to the
 * state it was locked in), 07..7F with b1-b3 set is an application
 * specific state reachable only from SELECTABLE onwards.
 */
uint16_t
sim_app_set_status(struct sim_app *a, uint8_t p2)
{
	if (p2 & 0x80) {
		if (a->lifecycle & SIM_APP_LOCKED)
			return SW_CONDITIONS;
		a->lifecycle |= SIM_APP_LOCKED;
		return SW_OK;
	}
	if (p2 == 0x00) {
		if (!(a->lifecycle & SIM_APP_LOCKED))
			return SW_CONDITIONS;
		a->lifecycle &= (uint8_t)~SIM_APP_LOCKED;
		return SW_OK;
	}
	if ((p2 & 0x07) != 0x07)
		return SW_WRONG_DATA;
	if ((a->lifecycle & SIM_APP_LOCKED) ||
	    a->lifecycle == SIM_APP_INSTALLED)
		return SW_CONDITIONS;
	a->lifecycle = p2;
	return SW_OK;
}
