/*
 * Secure channels SCP02 (i = 15, 55) and SCP03 (Amendment D: S8/S16,
 * AES-128/192/256, i = 00/10/30/70), host role and card role.
 *
 * One struct gp_scp holds a session: its session keys as keyed OpenSSL
 * contexts (so per-APDU wrapping allocates nothing), the MAC chaining
 * value and the encryption counter. gp_scp_free() wipes everything.
 * A struct gp_scp must start zeroed; starting a new session on one that
 * was used ends (frees and wipes) the old session first.
 *
 * Host:  gp_scp_host_init  -> INITIALIZE UPDATE
 *        gp_scp_host_auth  (response: card cryptogram verified, constant
 *                          time; GP_ERR_AUTH and nothing else when wrong)
 *        gp_scp_host_ext_auth -> EXTERNAL AUTHENTICATE
 *        gp_scp_wrap / gp_scp_unwrap for every later command/response.
 * Card:  gp_scp_card_init_update (INITIALIZE UPDATE -> response)
 *        gp_scp_card_ext_auth  (verifies host cryptogram and C-MAC)
 *        gp_scp_card_unwrap / gp_scp_card_wrap for every later exchange.
 */
#ifndef GP_SCP_H
#define GP_SCP_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"
#include "gp/crypto.h"
#include "gp/kdf.h"

/* Security level bits (P1 of EXTERNAL AUTHENTICATE). */
#define GP_SL_CMAC	0x01
#define GP_SL_CDEC	0x02
#define GP_SL_RMAC	0x10
#define GP_SL_RENC	0x20

/* SCP02 i bits used here. */
#define GP_SCP02_I_ICV_ENC	0x10
#define GP_SCP02_I_PRAND	0x40	/* well-known pseudo-random challenge */
/* SCP03 i bits. */
#define GP_SCP03_I_PRAND	0x10
#define GP_SCP03_I_RMAC		0x20
#define GP_SCP03_I_RENC		0x40

enum gp_scp_role { GP_SCP_HOST = 1, GP_SCP_CARD = 2 };
enum gp_scp_state {
	GP_SCP_NONE = 0,	/* nothing yet */
	GP_SCP_INIT,		/* INITIALIZE UPDATE sent / answered */
	GP_SCP_KEYS,		/* session keys derived, card cryptogram ok */
	GP_SCP_OPEN,		/* EXTERNAL AUTHENTICATE done */
	GP_SCP_BROKEN,		/* a check failed: the session is over */
};

/* Static keys of a key set (3DES: 16 bytes; AES: 16, 24 or 32). */
struct gp_keyset {
	uint8_t		enc[GP_KEY_MAX];
	uint8_t		mac[GP_KEY_MAX];
	uint8_t		dek[GP_KEY_MAX];
	size_t		len;
	uint8_t		kvn;
};

void	gp_keyset_wipe(struct gp_keyset *);
/* Diversifies all three keys from one master (GP_DIV_NONE copies it). */
int	gp_keyset_diversify(struct gp_keyset *, enum gp_div_method,
	    const uint8_t *master, size_t mlen, const uint8_t kdd[GP_KDD_LEN]);

struct gp_scp {
	int		proto;		/* 2 or 3 */
	int		role;
	int		state;
	uint8_t		i;
	uint8_t		s;		/* MAC/challenge size: 8 or 16 */
	uint8_t		level;
	uint8_t		kvn;
	size_t		klen;
	uint8_t		kdd[GP_KDD_LEN];
	uint8_t		seq[3];		/* SCP02 uses the first 2 */
	uint8_t		host_challenge[16];
	uint8_t		card_challenge[16];
	uint8_t		card_cryptogram[16];
	uint8_t		host_cryptogram[16];
	uint8_t		chain[16];	/* SCP03 MAC chaining value */
	uint8_t		icv[8];		/* SCP02 last C-MAC */
	int		icv_raw;	/* SCP02: next ICV used unencrypted */
	int		fresh;		/* opened from keys, nothing sent yet */
	uint8_t		channel;	/* card: logical channel of the IU */
	uint8_t		ricv[8];	/* SCP02 last R-MAC */
	uint32_t	counter;	/* SCP03 encryption counter, next cmd */
	uint32_t	cmd_counter;	/* counter of the last command */
	uint8_t		dek[GP_KEY_MAX];/* SCP03 static / SCP02 session DEK */
	uint8_t		skey[3][GP_KEY_MAX]; /* S-ENC, S-MAC, S-RMAC values */
	uint8_t		rmac_cmd[4 + 1 + 255]; /* SCP02 R-MAC: last command */
	size_t		rmac_cmd_len;
	int		have_keys;
	union {
		struct {
			struct gp_aes enc, mac, rmac;
		} a;
		struct {
			struct gp_des3 enc, mac, rmac;
		} d;
	} k;
};

/* Session key values, for tests and the vector runner only. */
struct gp_scp_keys {
	uint8_t		enc[GP_KEY_MAX];
	uint8_t		mac[GP_KEY_MAX];
	uint8_t		rmac[GP_KEY_MAX];
	uint8_t		dek[GP_KEY_MAX];
	size_t		len;
};

void	gp_scp_free(struct gp_scp *);

/*
 * Host role. s is 8 or 16 (SCP03; SCP02 takes 8); host_challenge has s
 * bytes. For SCP02, i is what the host expects (the response lacks it).
 */
int	gp_scp_host_init(struct gp_scp *, int proto, uint8_t i, uint8_t s,
	    uint8_t kvn, const uint8_t *host_challenge, struct gp_wr *apdu);
/* Parses the response data (no SW); derives keys; checks the cryptogram. */
int	gp_scp_host_auth(struct gp_scp *, const struct gp_keyset *,
	    const uint8_t *rsp, size_t rsplen);
int	gp_scp_host_ext_auth(struct gp_scp *, uint8_t level, struct gp_wr *);
/* The card's SW for EXTERNAL AUTHENTICATE: not 9000 ends the session. */
int	gp_scp_host_confirm(struct gp_scp *, uint16_t sw);
/*
 * Instead of gp_scp_host_auth, when the session keys come from tsm-keyd:
 * the card cryptogram is verified again with them (GP_ERR_AUTH).
 */
int	gp_scp_host_auth_session(struct gp_scp *, const struct gp_scp_keys *,
	    const uint8_t *rsp, size_t rsplen);
int	gp_scp_wrap(struct gp_scp *, const uint8_t *plain, size_t n,
	    struct gp_wr *wire);
int	gp_scp_unwrap(struct gp_scp *, const uint8_t *wire, size_t n,
	    struct gp_wr *plain);

/* Card role. */
struct gp_scp_card_cfg {
	int		 proto;
	uint8_t		 i;
	uint8_t		 s;
	uint8_t		 kdd[GP_KDD_LEN];
	uint32_t	 seq;		/* sequence counter of the key set */
	/* Card challenge: given, or pseudo-random (SCP03 i bit 10, SCP02
	 * i bit 40) from the counter and sd_aid when card_challenge is
	 * NULL, or random otherwise. */
	const uint8_t	*card_challenge;
	const uint8_t	*sd_aid;
	size_t		 sd_aid_len;
};

int	gp_scp_card_init_update(struct gp_scp *, const struct gp_scp_card_cfg *,
	    const struct gp_keyset *, const uint8_t *cmd, size_t cmdlen,
	    struct gp_wr *rsp);
int	gp_scp_card_ext_auth(struct gp_scp *, const uint8_t *cmd, size_t n);
int	gp_scp_card_unwrap(struct gp_scp *, const uint8_t *wire, size_t n,
	    struct gp_wr *plain);
int	gp_scp_card_wrap(struct gp_scp *, const uint8_t *data, size_t n,
	    uint16_t sw, struct gp_wr *wire);

/*
 * Predicts an SCP02 pseudo-random card challenge (i bit 40): the first 6
 * bytes of the C-MAC, with the C-MAC session key of sequence counter seq
 * and a zero ICV, over the selected application's AID.
 */
int	gp_scp02_card_challenge(const uint8_t kmac[16], uint16_t seq,
	    const uint8_t *aid, size_t aidlen, uint8_t out[6]);
/*
 * A whole script is wrapped before the card answers any of it (one HTTP
 * exchange carries it all). Each response's R-MAC / R-ENCRYPTION needs
 * the state right after its own command was wrapped: take a mark after
 * each gp_scp_wrap, and unwrap each response against its mark. Responses
 * are still unwrapped in order (SCP02 chains its R-MACs). The live
 * session state is left as it was.
 */
struct gp_scp_mark {
	uint8_t		chain[16];
	uint32_t	cmd_counter;
	uint8_t		rmac_cmd[4 + 1 + 255];
	size_t		rmac_cmd_len;
};

int	gp_scp_mark_get(const struct gp_scp *, struct gp_scp_mark *);
int	gp_scp_unwrap_marked(struct gp_scp *, const struct gp_scp_mark *,
	    const uint8_t *wire, size_t n, struct gp_wr *plain);

/* Predicts an SCP03 pseudo-random card challenge (s bytes). */
int	gp_scp03_card_challenge(const uint8_t *kenc, size_t klen, uint8_t s,
	    uint32_t seq, const uint8_t *sd_aid, size_t aidlen, uint8_t *out);
/* Copies the session keys out (tests and vectors) of a KEYS or OPEN
 * session; wipe them after. */
int	gp_scp_session_keys(const struct gp_scp *, struct gp_scp_keys *);
/* wrap.* vectors: the chaining value (SCP03: 16 bytes and the counter;
 * SCP02: the previous C-MAC) of a session just opened from session keys. */
int	gp_scp_set_wrap_state(struct gp_scp *, const uint8_t *chain,
	    size_t chainlen, uint32_t counter);
/* Opens a session directly from session keys (wrap.* vectors, tests). */
int	gp_scp_from_session_keys(struct gp_scp *, int proto, int role,
	    uint8_t i, uint8_t s, uint8_t level, const uint8_t *enc,
	    const uint8_t *mac, const uint8_t *rmac, size_t klen);

#endif
