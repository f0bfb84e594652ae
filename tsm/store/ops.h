/*
 * The operations queue and what a provisioning session writes: queueing
 * an operation, the pending operations of a card, the session's start
 * (operations marked running) and its end (results, the card's
 * application instances, the card's contact data and the audit records,
 * in one transaction). Built on the store interface of store.h; the same
 * SQL runs on SQLite and MariaDB.
 *
 * Operation states:
 *   queued     waiting for the next session with the card
 *   running    in a session's authenticated script right now
 *   uncertain  a session ended without its outcome (link or card lost,
 *              server killed): the next session reconciles with GET
 *              STATUS before deciding
 *   done, failed   final; result says why
 */
#ifndef TSM_STORE_OPS_H
#define TSM_STORE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define TSM_OP_PAYLOAD_MAX	(2 * 1024 * 1024)
#define TSM_OP_RESULT_MAX	255
#define TSM_AID_HEX_MAX		32

struct tsm_op {
	int64_t	 id;
	int64_t	 card_id;
	char	 kind[16];
	char	 state[16];
	int	 attempts;
	char	*payload;		/* heap, NUL-terminated; tsm_op_clear */
	char	 result[TSM_OP_RESULT_MAX + 1];
	int64_t	 created;
};

void	tsm_op_clear(struct tsm_op *);

/*
 * Queues an operation for the card csn. idem_key makes it idempotent: a
 * second queue with the same key returns the first operation's id with
 * *existed set. The audit record ("op.queue") is in the same transaction.
 */
int	tsm_store_op_queue(struct tsm_store *, const char *csn,
	    const char *kind, const char *payload, const char *idem_key,
	    const char *actor, int64_t *id, int *existed);
int	tsm_store_op_get(struct tsm_store *, int64_t id, struct tsm_op *);
/* Queued, running and uncertain operations of a card, oldest first;
 * GP_ERR-free: TSM_STORE_ERR_TOOLARGE when more than cap are pending. */
int	tsm_store_op_pending(struct tsm_store *, int64_t card_id,
	    struct tsm_op *ops, size_t cap, size_t *n);

/* Every operation of a card, oldest first (fn returns non-zero to stop). */
typedef int (*tsm_op_fn)(void *, const struct tsm_op *);
int	tsm_store_op_list(struct tsm_store *, int64_t card_id, tsm_op_fn,
	    void *);

/* Whether csn is the only card whose key diversification data is kdd: 0,
 * TSM_STORE_ERR_EXISTS when another card shares it, NOTFOUND when csn
 * does not have it. One index lookup, no card read. */
int	tsm_store_card_kdd_sole(struct tsm_store *, const char *kdd,
	    const char *csn);
/* A card by its key diversification data (hex), when no CSN matched. */
int	tsm_store_card_find_kdd(struct tsm_store *, const char *kdd,
	    struct tsm_card *);

/*
 * Application versions an install refers to: provider, application and
 * version rows created on first sight (approved: the operator queued it).
 */
struct tsm_app_ref {
	const char	*provider;
	const char	*name;
	const char	*package_aid;	/* hex */
	const char	*version;	/* "1.0" */
	const char	*cap_sha256;	/* hex */
	int64_t		 cap_size;
	const uint8_t	*cap;		/* the file, kept once per version */
	size_t		 cap_len;	/* (NULL: not kept) */
};
int	tsm_store_app_version_ensure(struct tsm_store *,
	    const struct tsm_app_ref *, int64_t *version_id);
/*
 * The CAP file of an application version, as registered: only when its
 * recorded SHA-256 is cap_sha256 (hex), else TSM_STORE_ERR_NOTFOUND, as
 * for a version registered without its bytes. *cap is the caller's
 * (free); at most TSM_CAP_FILE_MAX bytes.
 */
#define TSM_CAP_FILE_MAX	(1024 * 1024)
int	tsm_store_app_version_cap(struct tsm_store *, int64_t version_id,
	    const char *cap_sha256, uint8_t **cap, size_t *len);

/* Application instances the store believes a card holds. */
struct tsm_instance {
	char	 aid[TSM_AID_HEX_MAX + 1];
	char	 package_aid[TSM_AID_HEX_MAX + 1];
	char	 gp_state[17];
	int64_t	 version_id;
};
typedef int (*tsm_instance_fn)(void *, const struct tsm_instance *);
int	tsm_store_instance_list(struct tsm_store *, int64_t card_id,
	    tsm_instance_fn, void *);

/*
 * Session start: the session row, the card's last contact, and every
 * listed operation running with one more attempt, in one transaction.
 */
int	tsm_store_session_begin(struct tsm_store *, const char *sid,
	    int64_t card_id, const char *agent, const int64_t *op_ids,
	    size_t n);
/*
 * The same for a pre-computed script: every listed operation must still
 * be queued (else nothing is written: TSM_STORE_ERR_NOTFOUND), so that
 * a miss puts back exactly what this session took (tsm_session_end
 * unsent: only operations still running for sid).
 */
int	tsm_store_session_claim(struct tsm_store *, const char *sid,
	    int64_t card_id, const char *agent, const int64_t *op_ids,
	    size_t n);
/* More operations of a begun session marked running (one transaction).
 * Operations are running for one session at a time (session_id); a
 * finished one is never marked running again (TSM_STORE_ERR_NOTFOUND). */
int	tsm_store_ops_running(struct tsm_store *, const char *sid,
	    int64_t card_id, const int64_t *op_ids, size_t n);

struct tsm_op_outcome {
	int64_t		 op_id;
	const char	*state;		/* done, failed, queued, uncertain */
	const char	*result;	/* short text, no secret */
	int		 refused;	/* failed before it was ever sent: a
					 * queued operation becomes failed */
};
struct tsm_instance_change {
	const char	*aid;		/* hex: instance, or load file */
	int64_t		 version_id;	/* 0: keep (state change only) */
	const char	*gp_state;	/* NULL: remove the instance, or the
					 * instances of the load file aid */
};
/*
 * The card's ISD secure channel as last authenticated: what it answered
 * INITIALIZE UPDATE with (card_channel). Counters, never a key value.
 */
struct tsm_card_channel {
	int		 kvn;		/* key version it answered with */
	int		 scp;		/* 2 or 3; 0 in a session end:
					 * forget the record */
	int		 i;		/* the protocol's i parameter */
	uint32_t	 seq;		/* sequence counter of that answer */
	char		 agent[65];	/* read: the agent of that session
					 * (written from tsm_session_end) */
};
int	tsm_store_card_channel(struct tsm_store *, int64_t card_id,
	    struct tsm_card_channel *);

struct tsm_session_end {
	const char			*sid;
	const char			*state;	/* done, failed, aborted */
	int64_t				 card_id;
	const char			*csn;
	const char			*agent;
	const char			*card_gp_state;	/* NULL: unchanged */
	const struct tsm_op_outcome	*ops;
	size_t				 nops;
	const struct tsm_instance_change *inst;
	size_t				 ninst;
	/* A key rotation done in the session: the card's ISD key set is
	 * now new_kvn (card_keys replaced: one row per key, KCVs only). */
	int				 new_kvn;	/* 0: unchanged */
	const char			*key_type;	/* "AES", "DES3" */
	const char			*kcv[3];	/* hex: ENC, MAC, DEK */
	/* The card was terminated: its inventory state becomes
	 * terminated (history row and audit record, same transaction). */
	int				 terminated;
	/* The channel the card authenticated in this session (NULL:
	 * unchanged). */
	const struct tsm_card_channel	*channel;
	/* The script never reached the card: operations going back to
	 * the queue do not count the attempt session_begin counted. */
	int				 unsent;
};
int	tsm_store_session_end(struct tsm_store *,
	    const struct tsm_session_end *);

/* The card's ISD key version as recorded by a rotation (card_keys):
 * 0 and *kvn, or TSM_STORE_ERR_NOTFOUND (still the transport keys).
 * kcv (optional) receives the three KCVs, hex. */
int	tsm_store_card_kvn(struct tsm_store *, int64_t card_id, int *kvn,
	    char kcv[3][7]);

#endif
