/*
 * The vpcd link (vsmartcard's virtual reader driver for pcscd): a TCP
 * stream of messages, each a 2-byte big-endian length and that many
 * bytes. A 1-byte message is a control code (00 power off, 01 power on,
 * 02 reset, 04 ATR request, answered with the ATR); anything longer is a
 * command APDU, answered with the response APDU.
 *
 * Two ways to meet: vpcd listens (DEVICENAME /dev/null:PORT) and the card
 * connects, or the card listens and vpcd connects out to it (DEVICENAME
 * /dev/null:HOST:PORT). The second keeps pcscd off the network: ours.
 */
#ifndef SIM_VPCD_H
#define SIM_VPCD_H

#include <signal.h>
#include <stdint.h>

#include "cardsim.h"

#define SIM_VPCD_CTRL_OFF	0x00
#define SIM_VPCD_CTRL_ON	0x01
#define SIM_VPCD_CTRL_RESET	0x02
#define SIM_VPCD_CTRL_ATR	0x04

/* Listening socket on host:port (port 0: any); *bound gets the port. */
int	sim_vpcd_listen(const char *host, uint16_t port, int *fd,
	    uint16_t *bound);
int	sim_vpcd_connect(const char *host, uint16_t port, int *fd);
/*
 * Serves one connection until the peer closes it (0), an I/O error
 * (SIM_ERR_IO) or *stop becomes non-zero. Closes fd.
 */
int	sim_vpcd_serve(struct sim_card *, int fd, volatile sig_atomic_t *stop,
	    int verbose);

#endif
