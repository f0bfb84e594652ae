/*
 * The tsmd integration environment, all in one temporary directory: a
 * SoftHSMv2 token and tsm-keyd (tests/integration/keys/keyd_env.c) with
 * the cards' ISD master key, the agent CA and two enrolled agents
 * (tsmctl agent), a migrated SQLite store with a product (tsmctl), and
 * tsmd itself on 127.0.0.1 with ephemeral ports.
 *
 * Cards are libcardsim cards in process, with ISD keys diversified (KDF3)
 * from the master the test put into keyd.
 */
#ifndef TSMD_ENV_H
#define TSMD_ENV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cardsim.h"
#include "gp/scp.h"
#include "keyd_env.h"
#include "store/store.h"

#define ENV_KVN		0x30
#define ENV_PRODUCT	"SIM-SCP03"

struct tsmd_env {
	struct keyd_env	 keyd;
	char		 dir[160];	/* == keyd.dir */
	char		 db[256];	/* store URL */
	char		 ca[200];	/* CA directory */
	char		 conf[200];
	char		 log[200];
	int		 port, mport;
	pid_t		 pid;
};

/* Everything up; 0 or -1 (with a message on stderr). */
int	tenv_start(struct tsmd_env *);
/* tsmd again (after a stop), same directory, store and keys. */
int	tenv_tsmd_start(struct tsmd_env *);
/* SIGTERM and wait up to ms; returns tsmd's exit status or -1. */
int	tenv_tsmd_stop(struct tsmd_env *, int ms);
/* SIGKILL to tsmd, reaped (asserted), then tsmd started again. */
void	tenv_tsmd_kill9(struct tsmd_env *);
/* Stops everything; -1 when tsmd's log shows a sanitizer report. */
int	tenv_stop(struct tsmd_env *);
/* Runs tsmctl with the env's store (printf-style argument string, run
 * by sh); output into out when not NULL. Returns the exit status. */
int	tenv_tsmctl(struct tsmd_env *, char *out, size_t cap,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The issuer's master key (KDF3, AES-128), the key set cards rotate
 * to, imported into keyd as "isd" version kvn; a keys_ error code. */
int	tenv_issuer_import(struct tsmd_env *, uint8_t kvn);
/* The known-answer vector file name (under TSM_VECTORS, else the build's
 * vectors) into out; -1 with a message when it cannot be read. */
int	tenv_vector(const char *name, char *out, size_t cap);
/* The project's demo CAP written as demo.cap in the env's directory, its
 * path into out. Returns tsmctl's exit status. */
int	tenv_demo_cap(struct tsmd_env *, char *out, size_t cap);
/* GET path on the plain metrics listener, the whole answer into out. */
int	tenv_http_get(struct tsmd_env *, const char *path, char *out,
	    size_t cap);
void	tenv_msleep(int ms);

/* A test card: keys diversified from the master for kdd. */
struct tcard {
	struct sim_card	*sim;
	uint8_t		 kdd[GP_KDD_LEN];
	struct gp_keyset ks;
	char		 csn[32];	/* as tsmd derives it from the CPLC */
};

/* A new card numbered n; imported into the store when import is set
 * (with csn_override as its CSN when not NULL: found by KDD then). */
int	tcard_new(struct tsmd_env *, unsigned n, int import,
	    const char *csn_override, struct tcard *);
void	tcard_free(struct tcard *);
/* The card's keys diversified from the issuer's master key (the one of
 * tenv_issuer_import): the test's keys once the card rotated to them. */
int	tcard_issuer_keys(struct tcard *);
/* The card's simulator opened again with its ISD keys; state_path: its
 * image on disk (NULL: none). */
int	tcard_sim_open(struct tcard *, const char *state_path);
/* The card's applications (GET STATUS P1 40) as sorted hex AIDs, each
 * followed by ":" and its life cycle byte in hex; joined by ",". */
int	tcard_registry(struct tcard *, char *out, size_t cap);
/* The store's instances of the card in the same form. */
int	tenv_store_instances(struct tsmd_env *, const char *csn, char *out,
	    size_t cap);
/* An operation's state in the store. */
int	tenv_op_state(struct tsmd_env *, int64_t id, char *state, size_t);

/*
 * The tests' checks, on cmocka: a check that does not hold fails the
 * test.
 */
/* Queues an operation (tsmctl op queue --card csn WHAT, with --idem idem
 * when idem is not NULL); returns its id. */
int64_t	tenv_queue(struct tsmd_env *, const char *csn, const char *idem,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int64_t	tenv_vqueue(struct tsmd_env *, const char *csn, const char *idem,
	    const char *fmt, va_list) __attribute__((format(printf, 4, 0)));
/* The operation's state in the store is state. */
void	tenv_assert_op(struct tsmd_env *, int64_t id, const char *state);
/* The states the op.result audit records give an operation, in order,
 * joined by "," (SQLite stores only). */
void	tenv_op_audit(struct tsmd_env *, int64_t id, char *out, size_t cap);
/* Done exactly once: state done, one "done" audit record, the last. */
void	tenv_assert_done_once(struct tsmd_env *, int64_t id);
/* After abandoned sessions were closed: still done, one "done" record.
 * (Not "nothing after it": an abandoned session's late "uncertain"
 * outcome does not move the operation, but the store still audits it;
 * reported, tsm/store/ops.c end_op.) */
void	tenv_assert_done_audited(struct tsmd_env *, int64_t id);
/* Card registry and store instances agree, and are exactly want. */
void	tenv_assert_agree(struct tsmd_env *, struct tcard *,
	    const char *want);
/* The same, and the simulated card's image is consistent. */
void	tenv_assert_agree_check(struct tsmd_env *, struct tcard *,
	    const char *want);
/* A counter of tsmd's /metrics (a whole line "name value"). */
unsigned long long tenv_metric(struct tsmd_env *, const char *name);

#endif
