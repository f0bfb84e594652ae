/*
 * Internal to the secure channel files (scp.c, scp02.c, scp03.c): the
 * per-protocol entry points that scp.c dispatches to.
 */
#ifndef GP_SCP_INT_H
#define GP_SCP_INT_H

#include "gp/apdu.h"
#include "gp/scp.h"

int	gp_scp03_host_auth(struct gp_scp *, const struct gp_keyset *,
	    const uint8_t *, size_t);
int	gp_scp03_host_auth_keys(struct gp_scp *, const struct gp_scp_keys *,
	    const uint8_t *, size_t);
int	gp_scp02_host_auth_keys(struct gp_scp *, const struct gp_scp_keys *,
	    const uint8_t *, size_t);
int	gp_scp03_ext_auth_mac(struct gp_scp *, const uint8_t *hdr,
	    uint8_t mac[16]);
int	gp_scp03_wrap(struct gp_scp *, const struct gp_apdu *, struct gp_wr *);
int	gp_scp03_unwrap(struct gp_scp *, const uint8_t *, size_t,
	    struct gp_wr *);
int	gp_scp03_card_keys(struct gp_scp *, const struct gp_scp_card_cfg *,
	    const struct gp_keyset *);
int	gp_scp03_card_unwrap(struct gp_scp *, const struct gp_apdu *,
	    struct gp_wr *);
int	gp_scp03_card_wrap(struct gp_scp *, const uint8_t *, size_t, uint16_t,
	    struct gp_wr *);
int	gp_scp03_set_keys(struct gp_scp *, const uint8_t *enc,
	    const uint8_t *mac, const uint8_t *rmac, size_t klen);

int	gp_scp02_host_auth(struct gp_scp *, const struct gp_keyset *,
	    const uint8_t *, size_t);
int	gp_scp02_ext_auth_mac(struct gp_scp *, const uint8_t *hdr,
	    uint8_t mac[8]);
int	gp_scp02_wrap(struct gp_scp *, const struct gp_apdu *, struct gp_wr *);
int	gp_scp02_unwrap(struct gp_scp *, const uint8_t *, size_t,
	    struct gp_wr *);
int	gp_scp02_card_keys(struct gp_scp *, const struct gp_scp_card_cfg *,
	    const struct gp_keyset *);
int	gp_scp02_card_unwrap(struct gp_scp *, const struct gp_apdu *,
	    struct gp_wr *);
int	gp_scp02_card_wrap(struct gp_scp *, const uint8_t *, size_t, uint16_t,
	    struct gp_wr *);
int	gp_scp02_set_keys(struct gp_scp *, const uint8_t *enc,
	    const uint8_t *mac, const uint8_t *rmac);

/* Writes the header and Lc of a wrapped command; returns where data goes. */
int	gp_scp_put_header(struct gp_wr *, const struct gp_apdu *, size_t lc,
	    int ext);
/*
 * Writes a plain command at w->len whose data already sits in w's slack
 * at w->len + 7 (where unwrap decrypted it); slides it into place.
 */
int	gp_scp_put_plain(struct gp_wr *, const struct gp_apdu *, size_t used);
int	gp_scp_put_le(struct gp_wr *, size_t ne, size_t lc, int ext);
/* 9000, 62xx and 63xx: the responses that carry data and an R-MAC. */
int	gp_scp_sw_has_rmac(uint16_t sw);

#endif
