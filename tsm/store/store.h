/*
 * The store: the issuer's card base behind one interface, with an embedded
 * SQLite backend and a MariaDB (Connector/C) backend chosen by URL:
 *
 *	sqlite:/path/file.db
 *	mariadb://user[:password]@host[:port]/db[?socket=/path&pool=N]
 *
 * Every fallible function returns 0 or a negative enum tsm_store_err;
 * tsm_store_strerror() names it and tsm_store_errmsg() gives the backend's
 * last message. A handle is used by one thread at a time; open one handle
 * per thread (MariaDB handles on the same URL share a connection pool).
 * No key value is ever stored: key versions and KCVs only.
 */
#ifndef TSM_STORE_H
#define TSM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum tsm_store_err {
	TSM_STORE_OK = 0,
	TSM_STORE_ERR_INVAL = -1,	/* invalid argument */
	TSM_STORE_ERR_NOMEM = -2,	/* allocation failed */
	TSM_STORE_ERR_URL = -3,		/* malformed or unknown store URL */
	TSM_STORE_ERR_UNSUPPORTED = -4,	/* backend not in this build */
	TSM_STORE_ERR_CONNECT = -5,	/* cannot open or reach the database */
	TSM_STORE_ERR_DB = -6,		/* the database refused a statement */
	TSM_STORE_ERR_BUSY = -7,	/* locked / deadlocked after retries */
	TSM_STORE_ERR_NOTFOUND = -8,	/* no such card, holder, ... */
	TSM_STORE_ERR_EXISTS = -9,	/* unique key already present */
	TSM_STORE_ERR_TRANSITION = -10,	/* illegal lifecycle transition */
	TSM_STORE_ERR_SCHEMA = -11,	/* schema missing, older or newer */
	TSM_STORE_ERR_DESTRUCTIVE = -12, /* migration needs explicit consent */
	TSM_STORE_ERR_IO = -13,		/* a file could not be read/written */
	TSM_STORE_ERR_FORMAT = -14,	/* malformed import row or file */
	TSM_STORE_ERR_CRYPTO = -15,	/* encryption or hashing failed */
	TSM_STORE_ERR_TAMPER = -16,	/* audit chain broken */
	TSM_STORE_ERR_RETRY = -17,	/* transient: transaction is retried */
	TSM_STORE_ERR_ROWS = -18,	/* import had bad rows; see report */
	TSM_STORE_ERR_TOOLARGE = -19,	/* a field exceeds its limit */
};

const char *tsm_store_strerror(int);

struct tsm_store;

struct tsm_store_opts {
	const char	*key_file;	/* KEK for personal fields; NULL: */
					/* <db>.kek (sqlite), required else */
	int		 pool_size;	/* MariaDB connections (default 4) */
};

int	tsm_store_open(struct tsm_store **, const char *url,
	    const struct tsm_store_opts *);
void	tsm_store_close(struct tsm_store *);
const char *tsm_store_errmsg(const struct tsm_store *);
const char *tsm_store_backend(const struct tsm_store *);
/* Bytes the database occupies (files or InnoDB tables). */
int	tsm_store_disk_bytes(struct tsm_store *, int64_t *);

/* ---- schema ---------------------------------------------------------- */
struct tsm_store_status {
	int	version;	/* applied; 0 on an empty database */
	int	latest;		/* the newest this binary carries */
	int	pending;
};
int	tsm_store_status(struct tsm_store *, struct tsm_store_status *);
/* Applies pending migrations; a destructive one needs allow_destructive. */
int	tsm_store_migrate(struct tsm_store *, int allow_destructive,
	    int *applied);
/* For tsmd start: 0 when the schema is exactly current. */
int	tsm_store_check_schema(struct tsm_store *);

/* ---- lifecycle (lifecycle.c: pure) ------------------------------------ */
enum tsm_card_state {
	TSM_CARD_MANUFACTURED = 0,
	TSM_CARD_IN_STOCK,
	TSM_CARD_ALLOCATED,
	TSM_CARD_ISSUED,
	TSM_CARD_ACTIVE,
	TSM_CARD_SUSPENDED,
	TSM_CARD_LOST,
	TSM_CARD_STOLEN,
	TSM_CARD_TERMINATED,
	TSM_CARD_NSTATES
};

const char *tsm_card_state_name(enum tsm_card_state);
int	tsm_card_state_parse(const char *, enum tsm_card_state *);

#define TSM_CSN_MAX	64	/* hex digits */
#define TSM_NAME_MAX	190

struct tsm_card {
	int64_t			id;
	char			csn[TSM_CSN_MAX + 1];
	char			iin[33];
	char			cin[33];
	char			kdd[65];
	char			product[TSM_NAME_MAX + 1];
	char			batch[TSM_NAME_MAX + 1];
	int			transport_kv;	/* -1: unknown */
	enum tsm_card_state	state;
	char			location[TSM_NAME_MAX + 1];
	int64_t			holder_id;	/* 0: none */
	char			gp_state[17];	/* "" unknown, or OP_READY... */
	int64_t			replaced_by;	/* card id, 0: none */
	int64_t			last_contact;	/* ms since epoch, 0: never */
	int64_t			free_memory;	/* -1: unknown */
	int			errors;
	int64_t			updated;
};

struct tsm_transition {
	enum tsm_card_state	 to;
	const char		*location;	/* in_stock, allocated */
	int64_t			 holder_id;	/* issued */
	const char		*actor;		/* who asks (audited) */
	const char		*reason;	/* free text (audited) */
};

/*
 * Checks t against the card as it is. Returns 0 (allowed; *noop set when
 * the card is already there with the same parameters) or
 * TSM_STORE_ERR_TRANSITION with a reason in why.
 */
int	tsm_lifecycle_check(const struct tsm_card *,
	    const struct tsm_transition *, int *noop, char *why, size_t);

/* ---- cards ----------------------------------------------------------- */
struct tsm_product {
	const char	*name;
	const char	*gp_version;	/* "2.3.1" */
	const char	*jc_version;	/* "3.0.4" */
	int		 scp;		/* 2 or 3, 0 unknown */
	int		 scp_i;		/* i parameter */
	const char	*diversification; /* none|emv|visa2|kdf3 */
	const char	*key_versions;	/* "1,2,3" */
	int64_t		 memory;
};
int	tsm_store_product_add(struct tsm_store *, const struct tsm_product *,
	    int64_t *id);

int	tsm_store_card_get(struct tsm_store *, const char *csn,
	    struct tsm_card *);
/* Applies a checked transition, its history row and its audit record in
 * one transaction. *changed is 0 for an idempotent repeat. */
int	tsm_store_card_transition(struct tsm_store *, const char *csn,
	    const struct tsm_transition *, int *changed, char *why, size_t);
/* Replacement: old goes terminated with replaced_by = new; new (in_stock
 * or allocated) is issued to old's holder. */
int	tsm_store_card_replace(struct tsm_store *, const char *old_csn,
	    const char *new_csn, const char *actor, char *why, size_t);

struct tsm_card_filter {
	int		 state;		/* -1: any */
	const char	*batch;		/* NULL: any */
	int64_t		 after_id;	/* paging */
	int		 limit;		/* 0: 100 */
};
typedef int (*tsm_card_fn)(void *, const struct tsm_card *);
int	tsm_store_card_list(struct tsm_store *, const struct tsm_card_filter *,
	    tsm_card_fn, void *);

struct tsm_card_event {
	int64_t			 id;
	enum tsm_card_state	 from;
	enum tsm_card_state	 to;
	const char		*location;
	const char		*actor;
	const char		*reason;
	int64_t			 at;
};
typedef int (*tsm_event_fn)(void *, const struct tsm_card_event *);
int	tsm_store_card_history(struct tsm_store *, const char *csn,
	    tsm_event_fn, void *);
int	tsm_store_card_count(struct tsm_store *, int64_t *);

/* ---- cardholders: personal fields encrypted at field level ------------ */
struct tsm_holder {
	char	name[256];
	char	email[256];
	char	phone[64];
};
int	tsm_store_holder_add(struct tsm_store *, const struct tsm_holder *,
	    int64_t *id);
int	tsm_store_holder_get(struct tsm_store *, int64_t,
	    struct tsm_holder *);

/*
 * Key-encryption hook: wraps and unwraps the data keys. The embedded
 * default is a local key file; tsm-keyd replaces it when present.
 */
struct tsm_kek {
	char	id[32];		/* names the KEK (stored), never its value */
	int	(*wrap)(void *, const uint8_t *, size_t, uint8_t *, size_t *);
	int	(*unwrap)(void *, const uint8_t *, size_t, uint8_t *, size_t *);
	void	*ctx;
};
void	tsm_store_set_kek(struct tsm_store *, const struct tsm_kek *);

/* ---- audit: append-only hash chain ------------------------------------ */
/*
 * link = H(prev_link || record). The embedded default is SHA-256; keyd's
 * HMAC replaces it through this hook (alg is stored with each record).
 */
struct tsm_audit_hasher {
	const char	*alg;
	int		(*link)(void *, const uint8_t prev[32], const uint8_t *,
			    size_t, uint8_t out[32]);
	void		*ctx;
};
void	tsm_store_set_audit_hasher(struct tsm_store *,
	    const struct tsm_audit_hasher *);
int	tsm_store_audit_append(struct tsm_store *, const char *actor,
	    const char *action, const char *object, const char *detail);

struct tsm_audit_report {
	int64_t	records;	/* verified records */
	int64_t	first_bad;	/* seq of the first broken link, 0: none */
	char	why[160];
};
int	tsm_store_audit_verify(struct tsm_store *, struct tsm_audit_report *);

/* ---- bulk import --------------------------------------------------- */
enum tsm_import_format { TSM_IMPORT_AUTO, TSM_IMPORT_CSV, TSM_IMPORT_JSON };

struct tsm_import_opts {
	enum tsm_import_format	 format;
	uint64_t		 commit_every;	/* 0: one transaction */
	int			 skip_bad;	/* commit good rows anyway */
	uint64_t		 max_bad;	/* stop reporting after (0: 100) */
	const char		*actor;
	void	(*bad_row)(void *, uint64_t line, const char *why);
	void	(*progress)(void *, uint64_t done_bytes, uint64_t total,
		    uint64_t rows);
	void			*arg;
};

struct tsm_import_result {
	uint64_t	rows;		/* data rows read */
	uint64_t	imported;	/* committed */
	uint64_t	bad;
	uint64_t	transactions;
};

int	tsm_store_import_fp(struct tsm_store *, FILE *, const char *name,
	    const struct tsm_import_opts *, struct tsm_import_result *);
int	tsm_store_import_file(struct tsm_store *, const char *path,
	    const struct tsm_import_opts *, struct tsm_import_result *);

#endif
