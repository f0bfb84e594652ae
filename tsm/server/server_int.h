/*
 * Internal to tsm/server: the server, its loops, the worker pool, the
 * session table, metrics, TLS and the session engine.
 *
 * Threads: N event loops (one per core by default) accept on one
 * listening socket and run HTTP; W worker threads run everything slow
 * (store, tsm-keyd). A request that needs a worker is parked: the job
 * carries a libevent event of the loop that parked it, and the worker
 * activates it when done, so the reply is sent from the loop's thread.
 * A session is touched by one thread at a time: its busy flag, taken
 * under the table lock, says who.
 */
#ifndef TSM_SERVER_INT_H
#define TSM_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "gp/scp.h"
#include "server/server.h"
#include "store/ops.h"
#include "store/store.h"

struct event_base;
struct event;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;
struct keys_client;
struct tsm_script;
struct gp_span;

/* ---- metrics (metrics.c) -------------------------------------------- */
enum tsm_result_kind {
	TSM_RES_DONE = 0,	/* operations ran (or nothing to do) */
	TSM_RES_FAILED,		/* an operation failed on the card */
	TSM_RES_UNKNOWN_CARD,
	TSM_RES_ERROR,		/* protocol, card, keyd or store error */
	TSM_RES_EXPIRED,	/* agent never came back */
	TSM_RES_N
};

struct tsm_metrics {
	atomic_ullong	sessions_started;
	atomic_ullong	sessions_ended[TSM_RES_N];
	atomic_llong	sessions_active;
	atomic_llong	connections_active;
	atomic_ullong	connections_total;
	atomic_ullong	exchanges;
	atomic_ullong	http_errors[6];	/* 400 401 403 409 413 other */
	atomic_ullong	ops_done, ops_failed, ops_uncertain, ops_requeued;
	atomic_ullong	precomputed, precompute_misses;
	atomic_ullong	exchange_us_sum;	/* request in -> reply out */
	atomic_ullong	exchange_us_bucket[8];
	atomic_ullong	jobs_queued;
	atomic_llong	jobs_pending;
};

void	tsm_metrics_http_error(struct tsm_metrics *, int code);
void	tsm_metrics_exchange(struct tsm_metrics *, uint64_t us);
/* Prometheus text exposition into a malloc'd string. */
char	*tsm_metrics_render(const struct tsm_metrics *, int draining,
	    size_t *len);

/* ---- TLS (tls.c) ---------------------------------------------------- */
struct tsm_tls {
	pthread_mutex_t	 mu;
	SSL_CTX		*ctx;
	const struct tsm_server_cfg *cfg;
	struct timespec	 crl_mtime;
	time_t		 checked;
};

int	tsm_tls_init(struct tsm_tls *, const struct tsm_server_cfg *);
void	tsm_tls_free(struct tsm_tls *);
/* A new server SSL, with the CRL reloaded when its file changed. */
SSL	*tsm_tls_new_ssl(struct tsm_tls *);
/*
 * The agent behind a connection: 0 and its id (certificate CN), or 401
 * (no certificate) / 403 (refused: untrusted, expired, revoked) with a
 * reason.
 */
int	tsm_tls_peer(SSL *, char *id, size_t idlen, const char **why);

/* ---- worker pool (pool.c) ------------------------------------------- */
struct tsm_worker {
	int			 idx;
	struct tsm_server	*srv;
	struct tsm_store	*store;
	struct keys_client	*keys;
	pthread_t		 th;
};

struct tsm_job;
typedef void (*tsm_job_fn)(struct tsm_worker *, struct tsm_job *);
typedef void (*tsm_job_done_fn)(struct tsm_job *);

struct tsm_job {
	tsm_job_fn		 run;		/* on a worker */
	tsm_job_done_fn		 done;		/* back on the loop */
	struct event		*ev;		/* the loop's completion event */
	struct tsm_job		*next;
	void			*arg;
};

struct tsm_pool {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct tsm_job		*head, *tail;
	int			 stop;
	int			 n;		/* threads running */
	int			 nalloc;
	struct tsm_worker	*w;
};

int	tsm_pool_start(struct tsm_pool *, struct tsm_server *, int n);
/* ev: an event on the submitting loop whose callback calls job->done. */
void	tsm_pool_submit(struct tsm_pool *, struct tsm_job *);
void	tsm_pool_stop(struct tsm_pool *);

/* ---- sessions (session.c) ------------------------------------------- */
#define TSM_SID_LEN		32	/* hex of 16 random bytes */
#define TSM_OPS_MAX		16	/* operations per session */
/*
 * Commands of one script: 255 for any agent (TS 102 226 counts executed
 * commands in one byte); up to TSM_CMDS_MAX for an agent that announces
 * more in X-TSM-Script-Max (a count then takes two bytes, 80 02: docs/
 * protocol/agent.md). A load file over about 59 KB needs more than 255.
 */
#define TSM_CMDS_STD		255
#define TSM_CMDS_MAX		1024
/* The commands per script an X-TSM-Script-Max value allows (http.c). */
size_t	tsm_http_script_max(const char *);
#define TSM_REG_MAX		64	/* registry entries kept */

enum tsm_sess_state {
	TSM_SESS_DISCOVERY = 1,	/* discovery script sent */
	TSM_SESS_RECONCILE,	/* registry read sent (uncertain ops) */
	TSM_SESS_JOB,		/* the job script sent */
	TSM_SESS_DONE,		/* 204 sent */
};

/* What one command of a script is for. */
enum tsm_cmd_role {
	TSM_CMD_AUTH = 1,	/* EXTERNAL AUTHENTICATE */
	TSM_CMD_OP,		/* part of operation op */
	TSM_CMD_STATUS_APPS,	/* GET STATUS applications */
	TSM_CMD_STATUS_ELF,	/* GET STATUS load files */
	TSM_CMD_STATUS_CARD,	/* GET STATUS ISD (card life cycle) */
	TSM_CMD_PLAIN,		/* before the channel: SELECT, GET DATA,
				 * INITIALIZE UPDATE of a pre-computed
				 * script */
};

struct tsm_cmd_tag {
	uint8_t		role;
	uint8_t		op;	/* index into ops[] */
	uint8_t		last;	/* last command of its operation */
	uint8_t		what;	/* op-specific: see plan.c */
};

/* A registry entry the session read (copied out of the response). */
struct tsm_reg {
	uint8_t		aid[16];
	uint8_t		aid_len;
	uint8_t		lifecycle;
	uint8_t		elf[16];	/* apps: their load file */
	uint8_t		elf_len;
	uint8_t		is_elf;
};

struct tsm_reply {
	int		 code;		/* 200, 204, or an error code */
	uint8_t		*body;		/* 200: the script; error: text */
	size_t		 len;
	char		 result[160];	/* 204: X-Admin-Result */
};

void	tsm_reply_clear(struct tsm_reply *);
/* An error reply with a text body; the final 204 with its sentence. */
void	tsm_reply_text(struct tsm_reply *, int code, const char *text);
void	tsm_reply_end(struct tsm_reply *, const char *sentence);

struct tsm_session {
	char		 id[TSM_SID_LEN + 1];
	char		 agent[65];
	int		 state;
	int		 busy;
	int		 dead;		/* removed from the table */
	int64_t		 last_ms;
	int		 exchanges;
	size_t		 cmds_max;	/* commands per script for its agent */
	/* Discovery. */
	uint8_t		 hc[8];		/* host challenge */
	uint8_t		 iu[64];	/* INITIALIZE UPDATE response data */
	size_t		 iu_len;
	char		 csn[TSM_CSN_MAX + 1];
	char		 kdd[2 * GP_KDD_LEN + 1];
	struct tsm_card	 card;
	int		 have_card;
	int		 store_session;	/* session row written */
	char		 store_sid[TSM_SID_LEN + 4];	/* its id */
	/* A pre-computed script (precompute.c): its plain commands before
	 * EXTERNAL AUTHENTICATE (0: none), s->iu holding the predicted
	 * INITIALIZE UPDATE answer. */
	size_t		 pre;
	int		 auth_ok;	/* the card took EXTERNAL AUTHENTICATE */
	int		 iu_verified;	/* s->iu's cryptogram checked (keyd) */
	/* Secure channel (session keys: wiped by gp_scp_free). */
	struct gp_scp	 scp;
	int		 scp_open;
	uint8_t		 level;
	char		 open_label[33];	/* keyd label of the card's keys */
	uint8_t		 open_kvn;		/* and their version */
	/* The card's next session: the registry is read first (refresh, or
	 * a rotation whose card life cycle is not known yet). */
	int		 need_read;
	/*
	 * Operations and the script in flight. Everything below that is an
	 * array lives on the heap: ops..rot_kcv in one block (struct
	 * tsm_sess_ops) from tsm_session_new, tags and marks sized to the
	 * script when it is built (tsm_session_cmds), reg grown as entries
	 * are read (tsm_session_reg). All freed at the final 204, when the
	 * session becomes a tombstone (tsm_session_release).
	 */
	struct tsm_sess_ops *opblk;
	struct tsm_op	*ops;		/* [TSM_OPS_MAX] */
	size_t		 nops;
	int		*op_state;	/* enum tsm_op_st, [TSM_OPS_MAX] */
	char		(*op_result)[128];
	uint8_t		*op_refused;	/* [TSM_OPS_MAX] */
	struct tsm_cmd_tag *tags;	/* [cmds_cap] */
	size_t		 ncmds;
	size_t		 cmds_cap;
	/*
	 * The whole script is wrapped before the card sees any of it, but
	 * an R-MAC (and R-ENC) is computed with the state of its own
	 * command: a libgp mark per command for the unwrap.
	 */
	struct gp_scp_mark *marks;	/* [marks_cap], wiped when freed */
	size_t		 marks_cap;
	/* Registry read by the session. */
	struct tsm_reg	*reg;		/* [reg_cap] */
	size_t		 nreg;
	size_t		 reg_cap;
	int		 reg_complete;
	int		 apps_complete;	/* reg holds every application */
	int		 rd_elf_done, rd_apps_done;	/* reconcile reads */
	uint8_t		 card_lc;
	int		 have_card_lc;
	/* Duplicate / resume detection: the last request and our reply. */
	uint8_t		 last_req[32];
	int		 have_last;
	struct tsm_reply last_reply;
	int		 last_reply_kept;
	/* Key rotation: expected PUT KEY answer (new KVN, 3 KCVs) per op. */
	uint8_t		*rot_kvn;	/* [TSM_OPS_MAX] */
	uint8_t		(*rot_kcv)[9];
	int		 putkey_planned;	/* the keys change in this script */
	const char	*card_msg;	/* card-level news for the cardholder */
	/* What the cardholder is told. */
	int		 installed, removed, changed, failed;
	struct tsm_session *hnext;	/* table bucket chain */
	int		 tomb;		/* shrunk after the final 204 */
};

/* The per-session operation block (ops and their outcomes). */
struct tsm_sess_ops {
	struct tsm_op	 ops[TSM_OPS_MAX];
	int		 op_state[TSM_OPS_MAX];
	char		 op_result[TSM_OPS_MAX][128];
	/* Failed while planning: never sent, so still queued in the store
	 * (the session end records the failure from there). */
	uint8_t		 op_refused[TSM_OPS_MAX];
	uint8_t		 rot_kvn[TSM_OPS_MAX];
	uint8_t		 rot_kcv[TSM_OPS_MAX][9];
};

enum tsm_op_st {
	TSM_OPST_PENDING = 0,	/* not in a script yet */
	TSM_OPST_PLANNED,	/* in the script in flight */
	TSM_OPST_DONE,
	TSM_OPST_FAILED,
	TSM_OPST_UNCERTAIN,
	TSM_OPST_SKIPPED,	/* not reached: stays queued */
};

/* Sessions by id: a chained hash (power-of-two buckets) under mu. */
struct tsm_sessions {
	pthread_mutex_t		 mu;
	struct tsm_session	**v;		/* buckets */
	size_t			 n, cap;	/* sessions, buckets */
};

int	tsm_sessions_init(struct tsm_sessions *);
void	tsm_sessions_free(struct tsm_sessions *);
/* A new session, registered and busy. */
int	tsm_session_new(struct tsm_sessions *, const char *agent,
	    struct tsm_session **);
/* Takes a session (busy) by id for agent: 0, NOTFOUND, BUSY. */
int	tsm_session_take(struct tsm_sessions *, const char *id,
	    const char *agent, struct tsm_session **);
void	tsm_session_release(struct tsm_sessions *, struct tsm_session *);
/* Removes and frees (wiping keys). The session must be taken. */
void	tsm_session_end(struct tsm_sessions *, struct tsm_session *);
/* Takes out the sessions idle since before cutoff (for expiry). */
size_t	tsm_sessions_expired(struct tsm_sessions *, int64_t cutoff,
	    struct tsm_session **out, size_t cap);
size_t	tsm_sessions_count(struct tsm_sessions *);
/* Resize the per-script arrays to n entries, keeping the first ones
 * (new ones zeroed): tags (TSM_CMDS_MAX while a script is planned, then
 * its size), marks (the wrapped script's size; wiped when moved or
 * freed), the registry. n == 0 frees. */
int	tsm_session_tags(struct tsm_session *, size_t n);
int	tsm_session_marks(struct tsm_session *, size_t n);
int	tsm_session_reg(struct tsm_session *, size_t n);
void	tsm_session_free(struct tsm_session *);
int64_t	tsm_mono_ms(void);

/* ---- engine (engine.c, precompute.c, plan.c) ------------------------ */
extern const uint8_t tsm_isd_aid[8];
/* The CSN (20 hex digits) of a CPLC (GET DATA 9F7F data): 0 or -1. */
int	tsm_engine_csn(const uint8_t *, size_t, char *csn);
/* Label and version of the keyd key set the card answered with (kvn). */
void	tsm_engine_channel_label(struct tsm_session *,
	    const struct tsm_server_cfg *, uint8_t kvn);
/* keyd's session keys for the answer in s->iu into s->scp, checked, and
 * EXTERNAL AUTHENTICATE into ea (engine.c). */
struct keys_session;
int	tsm_engine_channel_auth(struct tsm_session *,
	    const struct keys_session *, int proto, uint8_t i, struct gp_wr *);
/* The card's pending operations into s->ops (*uncertain: some are not
 * queued: the registry must be read first). */
int	tsm_engine_load_ops(struct tsm_worker *, struct tsm_session *,
	    int *uncertain);
/*
 * On a worker, exchange 1 of an agent that named its card (X-Admin-Card):
 * for an SCP03 card with a pseudo-random challenge whose counter the
 * store knows, the whole job script with INITIALIZE UPDATE's answer
 * predicted; else (or on any doubt) the discovery script.
 */
void	tsm_engine_precompute(struct tsm_worker *, struct tsm_session *,
	    const char *csn, struct tsm_reply *);
/* On a worker: the answers to a pre-computed script that stopped at or
 * before INITIALIZE UPDATE (a wrong guess): operations back to the
 * queue, then on as after a discovery script. */
void	tsm_engine_pre_fallback(struct tsm_worker *, struct tsm_session *,
	    struct gp_span *rap, size_t n, const char *status,
	    struct tsm_reply *);
/* The store side of tsm_engine_finish alone (respond.c). */
int	tsm_engine_store_end(struct tsm_worker *, struct tsm_session *,
	    const char *state, int *uncertain);
/* First exchange: the discovery script. */
int	tsm_engine_discovery(struct tsm_session *, struct tsm_reply *);
/* Checks and keeps the discovery responses (on the loop: no I/O). */
int	tsm_engine_discovered(struct tsm_session *, const uint8_t *, size_t,
	    const char *status, struct tsm_reply *);
/* On a worker: identify, load operations, open the channel, build. */
void	tsm_engine_identify(struct tsm_worker *, struct tsm_session *,
	    struct tsm_reply *);
/* On a worker: responses of the reconcile or job script. */
void	tsm_engine_responses(struct tsm_worker *, struct tsm_session *,
	    const uint8_t *, size_t, const char *status, struct tsm_reply *);
/* On a worker: a session that expired or was abandoned mid-script. */
void	tsm_engine_abandon(struct tsm_worker *, struct tsm_session *);
/* Wrapped scripts after EXTERNAL AUTHENTICATE (engine.c): the pending
 * operations then the registry read; or the registry read of a
 * reconciliation (more: 0 first page, 1 load files go on, 2 apps go on). */
int	tsm_engine_build_job(struct tsm_worker *, struct tsm_session *,
	    struct tsm_script *, int64_t *ids, size_t *nids);
int	tsm_engine_build_reconcile(struct tsm_session *, struct tsm_script *,
	    uint8_t more);
/* Ends a session: outcomes committed, keys wiped, the 204 (respond.c). */
void	tsm_engine_finish(struct tsm_worker *, struct tsm_session *,
	    const char *state, struct tsm_reply *);

/*
 * The parts of a CAP file an install script needs (capcache.c), parsed
 * once per distinct file. The caller owns v (tsm_capv_free).
 * tsm_capv_find: the entry of the CAP whose bytes have SHA-256 sha (*hit
 * 0: none). tsm_capv_put: parses the bytes into v and the table, after
 * checking that their SHA-256 is sha (GP_ERR_AUTH if not).
 * tsm_capv_get: the same from the CAP in hex, as payloads queued before
 * schema 0005 hold it (hex: n characters, then a NUL), by the SHA-256 of
 * the text.
 */
struct tsm_capv {
	uint8_t		 pkg[16];
	size_t		 pkg_len;
	uint8_t		*lfdb;		/* Load File Data Block */
	size_t		 lfdb_len;
	uint8_t		 hash[32];	/* its SHA-256 (INSTALL [for load]) */
	size_t		 hash_len;
};
int	tsm_capv_find(const uint8_t sha[32], struct tsm_capv *v, int *hit);
int	tsm_capv_put(const uint8_t sha[32], const uint8_t *cap, size_t n,
	    struct tsm_capv *v);
int	tsm_capv_get(const char *hex, size_t n, struct tsm_capv *v,
	    int *hit);
void	tsm_capv_free(struct tsm_capv *);
void	tsm_capv_cache_clear(void);	/* at exit: nothing left to free */

/* Plans (plan.c): the wrapped commands of each operation kind. */
struct tsm_script {
	struct gp_wr	 w;		/* concatenated wrapped C-APDUs */
	size_t		 off[TSM_CMDS_MAX + 1];
	size_t		 n;
	size_t		 max;		/* the session's cmds_max (0: 255) */
};
#define TSM_SCRIPT_MAX(sc)	((sc)->max != 0 ? (sc)->max : TSM_CMDS_STD)
/* 0 planned (or found done), TSM_PLAN_DEFER (stays queued for the next
 * session), or an error with why. */
#define TSM_PLAN_DEFER	1
int	tsm_plan_op(struct tsm_worker *, struct tsm_session *, size_t op,
	    struct tsm_script *, char *why, size_t);
/* Whether op must come after every other one (terminate). */
int	tsm_plan_is_last(const struct tsm_session *, size_t op);
/* Whether the session must read the registry before planning op. */
int	tsm_plan_needs_read(const struct tsm_session *, size_t op);
/* Evaluates one executed command of an operation (plain R-APDU). */
void	tsm_plan_result(struct tsm_session *, const struct tsm_cmd_tag *,
	    const uint8_t *data, size_t len, uint16_t sw);
/* Counts a finished operation for the cardholder's sentence. */
void	tsm_plan_count(struct tsm_session *, size_t op);
/* Settles uncertain operations against the registry read. */
void	tsm_plan_reconcile(struct tsm_session *);
/* Store changes of a finished operation (instances). */
size_t	tsm_plan_instances(struct tsm_worker *, struct tsm_session *,
	    size_t op, struct tsm_instance_change *, size_t cap,
	    char (*aids)[33]);
/* Card-level changes of the finished operations (rotation, terminate). */
void	tsm_plan_card(struct tsm_session *, struct tsm_session_end *,
	    char kcv[3][7]);

/* ---- the server (server.c, http.c) ---------------------------------- */
struct tsm_loop {
	int			 idx;
	struct tsm_server	*srv;
	struct event_base	*base;
	struct evhttp		*http;
	struct evhttp		*mhttp;		/* metrics, loop 0 only */
	struct evhttp_bound_socket *bound, *mbound;
	struct event		*tick;
	pthread_t		 th;
};

struct tsm_server {
	struct tsm_server_cfg	 cfg;
	struct tsm_tls		 tls;
	struct tsm_pool		 pool;
	struct tsm_sessions	 sessions;
	struct tsm_metrics	 metrics;
	struct tsm_loop		*loops;
	int			 nloops;
	int			 lfd, mfd;
	int			 port, mport;
	atomic_int		 draining;
	atomic_int		 stopping;
	int64_t			 drain_deadline;
	struct event		*sig_term, *sig_int, *stop_ev;
};

int	tsm_http_setup(struct tsm_loop *);
void	tsm_http_stop_accepting(struct tsm_loop *);
void	tsm_http_teardown(struct tsm_loop *);
/* A session taken out of the table: closed in the store on a worker
 * (operations in flight become uncertain), then freed. */
void	tsm_http_abandon(struct tsm_loop *, struct tsm_session *);
void	tsm_server_sweep(struct tsm_server *);

#endif
