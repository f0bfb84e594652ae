/*
 * libcardsim: a virtual GlobalPlatform 2.3.1 card (tsm-cardsim's core).
 *
 * One struct sim_card is one card: an Issuer Security Domain with SCP02 or
 * SCP03 key sets (per profile), the card life cycle, a registry of load
 * files, applications and security domains, memory accounting, and a
 * persistent image (in memory, and as JSON in a state file when given)
 * committed after every APDU that changed it. Power can be cut after any
 * APDU (sim_card_tear), and the card comes back from its last committed
 * image, as GP requires.
 *
 * sim_card_transmit takes one command APDU and returns the response APDU
 * (data and SW); the card never crashes or hangs on any input.
 */
#ifndef SIM_CARDSIM_H
#define SIM_CARDSIM_H

#include <stddef.h>
#include <stdint.h>

enum sim_err {
	SIM_OK = 0,
	SIM_ERR_INVAL = -1,	/* bad argument */
	SIM_ERR_NOMEM = -2,
	SIM_ERR_IO = -3,	/* state file could not be read or written */
	SIM_ERR_FORMAT = -4,	/* state file malformed */
	SIM_ERR_PROFILE = -5,	/* unknown profile */
	SIM_ERR_SPACE = -6,	/* response buffer too small */
	SIM_ERR_TORN = -7,	/* the power was cut: no response */
	SIM_ERR_CRYPTO = -8,
	SIM_ERR_INCONSISTENT = -9, /* registry/memory check failed */
};

const char *sim_strerror(int);

struct sim_card;

struct sim_opts {
	const char	*profile;	/* NULL: "scp03-aes128" */
	const char	*state_path;	/* NULL: in memory only */
	size_t		 mem_total;	/* 0: profile default (NVM bytes) */
	size_t		 status_page;	/* 0: default GET STATUS page size */
	unsigned	 auth_limit;	/* 0: default failed-auth limit */
};

/* Opens state_path when it exists, else a new card of the profile. */
int	sim_card_open(const struct sim_opts *, struct sim_card **);

/*
 * A new card whose ISD key set is given explicitly, for replaying
 * recorded sessions (known-answer vectors): protocol, i, s, the static
 * keys and their version, the KDD, the sequence counter and, optionally,
 * a fixed card challenge (a card with a predictable RNG). Everything
 * else is as in a new card of opts->profile (NULL: the default);
 * opts->state_path, when given, is overwritten. The keys are copied into
 * the card; the caller wipes its own.
 */
struct sim_keys {
	int		 proto;		/* 2 (SCP02) or 3 (SCP03) */
	uint8_t		 i;
	uint8_t		 s;		/* SCP03: 8 or 16; SCP02: 8 */
	uint8_t		 kvn;		/* 00..7F (00: as recorded on some cards) */
	const uint8_t	*enc, *mac, *dek;
	size_t		 len;		/* 3DES: 16; AES: 16, 24 or 32 */
	const uint8_t	*kdd;		/* 10 bytes; NULL: the profile's */
	/* The counter the next INITIALIZE UPDATE uses (SCP03: 24 bits,
	 * SCP02: 16 bits). */
	uint32_t	 seq;
	/* Fixed card challenge (SCP03: s bytes, SCP02: 6), used by every
	 * session; NULL: pseudo-random when i says so, else random. */
	const uint8_t	*challenge;
	const uint8_t	*isd;		/* ISD AID (5..16 bytes); NULL: GP's */
	size_t		 isd_len;
};

int	sim_card_open_keys(const struct sim_opts *, const struct sim_keys *,
	    struct sim_card **);

/*
 * Test tap: fn sees every command the card runs inside a secure channel,
 * as it is after secure messaging was removed (C-MAC checked and
 * stripped, data decrypted: the command as the host built it before
 * wrapping). NULL removes it.
 */
typedef void (*sim_tap_fn)(void *arg, const uint8_t *cmd, size_t n);
void	sim_card_tap(struct sim_card *, sim_tap_fn, void *arg);

void	sim_card_free(struct sim_card *);
/* Power up / warm reset: volatile state cleared, image reloaded. */
int	sim_card_reset(struct sim_card *);
int	sim_card_atr(const struct sim_card *, const uint8_t **atr,
	    size_t *len);
/* rsp gets data ‖ SW1 SW2. SIM_ERR_TORN when the power was cut. */
int	sim_card_transmit(struct sim_card *, const uint8_t *cmd, size_t n,
	    uint8_t *rsp, size_t cap, size_t *rlen);

/*
 * Tearing: the n-th APDU from now (n >= 1) loses the power. With
 * SIM_TEAR_BEFORE the APDU's writes are lost (cut during the command);
 * with SIM_TEAR_AFTER they are committed but the response is lost. The
 * card stays mute (SIM_ERR_TORN) until sim_card_reset.
 */
#define SIM_TEAR_BEFORE	1
#define SIM_TEAR_AFTER	2
void	sim_card_tear(struct sim_card *, unsigned n, int mode);

/* Registry and memory consistency; why gets a reason on failure. */
int	sim_card_check(const struct sim_card *, char *why, size_t whylen);

/* Counters for tests and tools. */
struct sim_stats {
	size_t		 nelf;		/* load files (ROM ones included) */
	size_t		 napp;		/* applications and SSDs */
	size_t		 mem_total;
	size_t		 mem_free;
	uint8_t		 lifecycle;	/* card life cycle state */
	unsigned long	 napdu;
};

void	sim_card_stats(const struct sim_card *, struct sim_stats *);

/* Profiles: sim_profile_name(i) for i = 0.. until NULL. */
const char *sim_profile_name(size_t);
/* Default ISD AID A000000151000000 (GP). */
extern const uint8_t sim_isd_aid[8];

#endif
