/*
 * A small GP host for the cardsim tests, the integration test and the
 * benchmark: libgp's host role over any transmit function (in process or
 * PC/SC). Not a TSM: just enough to drive a card through a lifecycle.
 */
#ifndef SIMHOST_H
#define SIMHOST_H

#include <stddef.h>
#include <stdint.h>

#include "gp/apdu.h"
#include "gp/cap.h"
#include "gp/scp.h"

typedef int (*sh_xmit)(void *arg, const uint8_t *cmd, size_t n,
    uint8_t *rsp, size_t cap, size_t *rlen);

struct sh {
	sh_xmit		 xmit;
	void		*arg;
	struct gp_scp	 scp;
	uint8_t		 cmd[GP_APDU_WIRE_MAX];
	uint8_t		 wire[GP_APDU_WIRE_MAX];
	uint8_t		 rsp[GP_APDU_WIRE_MAX];
	uint8_t		 plain[GP_APDU_WIRE_MAX];
	const uint8_t	*data;		/* last response data (plain) */
	size_t		 dlen;
	uint16_t	 sw;
	int		 err;		/* last transport error */
};

extern const uint8_t sh_isd[8];

void	sh_init(struct sh *, sh_xmit, void *);
void	sh_close(struct sh *);
/* Sends a command (wrapped when the channel is open); 0 or transport
 * / crypto error; the status word is in sh->sw. */
int	sh_send(struct sh *, const uint8_t *cmd, size_t n);
int	sh_send_wr(struct sh *, const struct gp_wr *);
uint16_t sh_sw(struct sh *, const uint8_t *cmd, size_t n);
int	sh_select(struct sh *, const uint8_t *aid, size_t n);
/* SELECT ISD, INITIALIZE UPDATE, cryptogram check, EXTERNAL AUTH. */
int	sh_open(struct sh *, int proto, uint8_t i, uint8_t s, uint8_t kvn,
	    const struct gp_keyset *, uint8_t level);
int	sh_load(struct sh *, const struct gp_cap *, size_t block);
int	sh_install(struct sh *, const uint8_t *elf, size_t en,
	    const uint8_t *mod, size_t mn, const uint8_t *app, size_t an,
	    uint8_t p1);
int	sh_delete(struct sh *, const uint8_t *aid, size_t n, int related);
int	sh_perso(struct sh *, const uint8_t *app, size_t an,
	    const uint8_t *dgis, size_t n);
/* Keys 40.. of length len; kvn. */
void	sh_default_keys(struct gp_keyset *, size_t len, uint8_t kvn);
/* Path of a CAP in the vectors (TSM_VECTORS or TSM_VECTORS_DIR). */
const char *sh_cap_path(const char *name);

#endif
