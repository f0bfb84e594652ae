/*
 * tsmd under faults (issue 6, Faults): the card's power cut at every
 * command of every script, the agent's link dropped at every exchange,
 * and tsmd killed (SIGKILL) in the middle of sessions. After the next
 * contact the card's registry (read by the test over its own secure
 * channel) equals the store's instances, every operation is done exactly
 * once (state done, one instance, one "done" audit record and nothing
 * after it, an intact audit chain) and nothing is lost.
 *
 * One tsm-keyd and one store for the whole file; tsmd is restarted only
 * by the kill test. The real CAP is ../shared/vectors/cap/
 * kaoh_helloworld.cap (TSM_VECTORS overrides), read in place.
 */
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "client.h"
#include "tsmd_env.h"

#define KAOH_PKG	"D0D1D2D3D4D501"
#define KAOH_APP	"D0D1D2D3D4D50101"
#define INSTALLED	KAOH_APP ":selectable"

#define S_INSTALLED	"Installed 1 application."
#define S_REMOVED	"Removed 1 application."
#define S_UP_TO_DATE	"Your card is up to date."
#define S_WAITING	"Some changes are still waiting: please present your card again."
#define S_TOO_EARLY	"Your card was removed too early. Please present " \
			"it again."
#define S_UNREADABLE	"Your card could not be read. Please present it " \
			"again."

static struct tsmd_env env;
static char kaoh[512];
static unsigned ncards;
static int64_t all_ops[512];
static size_t nall;

static int
setup(void **state)
{
	(void)state;
	if (tenv_vector("cap/kaoh_helloworld.cap", kaoh, sizeof(kaoh)) != 0 ||
	    tenv_start(&env) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return tenv_stop(&env);
}

static void
new_card(struct tcard *card)
{
	assert_int_equal(tcard_new(&env, 100 + ncards++, 1, NULL, card), 0);
}

/* Queues an operation (a unique idempotency key: a card may get the
 * same install again in a test). */
static int64_t
queue(const char *csn, const char *fmt, ...)
{
	char idem[32];
	int64_t id;
	va_list ap;

	snprintf(idem, sizeof(idem), "fault-%zu", nall);
	va_start(ap, fmt);
	id = tenv_vqueue(&env, csn, idem, fmt, ap);
	va_end(ap);
	assert_true(nall < sizeof(all_ops) / sizeof(all_ops[0]));
	all_ops[nall++] = id;
	return id;
}

static int64_t
queue_install(const char *csn)
{
	return queue(csn, "install %s", kaoh);
}

static int64_t
queue_delete(const char *csn)
{
	return queue(csn, "delete " KAOH_PKG " --related");
}

static void
assert_audit_chain(void)
{
	struct tsm_store *s;
	struct tsm_audit_report rep;

	memset(&rep, 0, sizeof(rep));
	assert_int_equal(tsm_store_open(&s, env.db, NULL), 0);
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	tsm_store_close(s);
	assert_int_equal(rep.first_bad, 0);
	assert_true(rep.records > 0);
}

/* A whole session with no fault: its exchanges and sentence. */
static void
contact(struct tconn *c, struct tcard *card, int exchanges,
    const char *result)
{
	struct tstep st;

	assert_int_equal(tstep_init(&st, card), 0);
	assert_int_equal(tstep_finish(c, &st), 0);
	assert_int_equal(st.cut, 0);
	if (st.exchanges != exchanges || strcmp(st.result, result) != 0)
		fprintf(stderr, "contact: %d exchanges \"%s\", wanted %d "
		    "\"%s\"\n", st.exchanges, st.result, exchanges, result);
	assert_string_equal(st.result, result);
	assert_int_equal(st.exchanges, exchanges);
	tstep_free(&st);
}

/* A session whose power is cut in script (1-based) at index. */
static void
cut_contact(struct tconn *c, struct tcard *card, int script, int index,
    int mode, const char *result)
{
	struct tstep st;

	assert_int_equal(tstep_init(&st, card), 0);
	st.cut_script = script;
	st.cut_index = index;
	st.cut_mode = mode;
	assert_int_equal(tstep_finish(c, &st), 0);
	assert_int_equal(st.cut, 1);
	assert_int_equal(st.exchanges, script + 1);
	if (result != NULL && strcmp(st.result, result) != 0)
		fprintf(stderr, "cut %d/%d mode %d: \"%s\"\n", script, index,
		    mode, st.result);
	if (result != NULL)
		assert_string_equal(st.result, result);
	tstep_free(&st);
}

/* ---- (1) power cuts ------------------------------------------------- */

/* The unwrapped commands of the job, as the card saw them (INS). */
struct tap {
	uint8_t	ins[128];
	size_t	n;
};

static void
tap_fn(void *arg, const uint8_t *cmd, size_t n)
{
	struct tap *t = arg;

	if (n >= 2 && t->n < sizeof(t->ins))
		t->ins[t->n++] = cmd[1];
}

/* The job script of the install: EXTERNAL AUTHENTICATE, INSTALL [for
 * load], nload LOAD, INSTALL [for install and make selectable], GET
 * STATUS ISD, GET STATUS applications. */
static size_t nload;
#define J_LEN		(nload + 5)
#define J_INST_LOAD	1
#define J_LOAD(i)	(2 + (i))
#define J_INST_APP	(2 + nload)

static void
learn_job(struct tconn *c)
{
	struct tcard card;
	struct tstep st;
	struct tap t;
	size_t i;
	int64_t id;

	new_card(&card);
	id = queue_install(card.csn);
	memset(&t, 0, sizeof(t));
	sim_card_tap(card.sim, tap_fn, &t);
	assert_int_equal(tstep_init(&st, &card), 0);
	assert_int_equal(tstep_finish(c, &st), 0);
	sim_card_tap(card.sim, NULL, NULL);
	assert_int_equal(st.exchanges, 3);
	assert_string_equal(st.result, S_INSTALLED);
	assert_int_equal(st.ncmds[0], 3);
	/* 2449 bytes of CAP: more than one LOAD block of 239. */
	assert_true(t.n >= 6);
	nload = t.n - 4;
	assert_int_equal(st.ncmds[1], J_LEN);
	assert_int_equal(t.ins[0], 0xE6);
	for (i = 0; i < nload; i++)
		assert_int_equal(t.ins[1 + i], 0xE8);
	assert_int_equal(t.ins[1 + nload], 0xE6);
	assert_int_equal(t.ins[2 + nload], 0xF2);
	assert_int_equal(t.ins[3 + nload], 0xF2);
	tenv_assert_done_once(&env, id);
	tenv_assert_agree_check(&env, &card, INSTALLED);
	tstep_free(&st);
	tcard_free(&card);
}

/*
 * The install with the power cut at (script, index, mode) of its first
 * session; then the card comes back and contacts follow until it is up
 * to date. Every outcome is what the card did, as the server learns it.
 */
static void
install_cut(struct tconn *c, int script, int index, int mode)
{
	struct tcard card;
	const char *first, *state;
	int next;
	size_t k = (size_t)index;
	int applied;	/* the cut command's writes are on the card */
	int64_t id;

	new_card(&card);
	id = queue_install(card.csn);
	applied = mode == SIM_TEAR_AFTER;
	if (script == 1) {		/* discovery: nothing happened */
		first = S_UNREADABLE;
		state = "queued";
		next = 3;
	} else if (k == 0) {		/* EXTERNAL AUTHENTICATE */
		first = S_WAITING;	/* nothing ran: back in the queue */
		state = "queued";
		next = 3;
	} else if (k < J_INST_APP || (k == J_INST_APP && !applied)) {
		first = S_TOO_EARLY;	/* started, not finished */
		state = "uncertain";
		next = 4;		/* registry read, then the rest */
	} else if (k == J_INST_APP) {
		first = S_TOO_EARLY;	/* finished, unanswered */
		state = "uncertain";
		next = 3;		/* registry read: found done */
	} else {			/* GET STATUS: all answered */
		first = S_INSTALLED;
		state = "done";
		next = 2;
	}
	cut_contact(c, &card, script, index, mode, first);
	tenv_assert_op(&env, id, state);
	contact(c, &card, next, next == 2 ? S_UP_TO_DATE : S_INSTALLED);
	tenv_assert_done_once(&env, id);
	tenv_assert_agree_check(&env, &card, INSTALLED);
	/* And nothing more to do: not done twice. */
	if (next != 2)
		contact(c, &card, 2, S_UP_TO_DATE);
	tenv_assert_agree_check(&env, &card, INSTALLED);
	tcard_free(&card);
}

/*
 * The card holds the load file but not the instance (the power went
 * after the last LOAD), and the power is cut again in the reconciling
 * session: in its registry read (script 2) or in the rest of the job
 * (script 3: INSTALL [for install], GET STATUS x2).
 */
static void
reconcile_cut(struct tconn *c, int script, int index, int mode)
{
	struct tcard card;
	const char *second;
	int next;
	int64_t id;

	new_card(&card);
	id = queue_install(card.csn);
	cut_contact(c, &card, 2, (int)J_LOAD(nload - 1), SIM_TEAR_AFTER,
	    S_TOO_EARLY);
	tenv_assert_op(&env, id, "uncertain");
	if (script == 2) {		/* registry read cut: still unknown */
		second = S_TOO_EARLY;
		next = 4;
	} else if (index == 0) {	/* INSTALL [for install] cut */
		second = S_TOO_EARLY;
		next = mode == SIM_TEAR_AFTER ? 3 : 4;
	} else {
		second = S_INSTALLED;
		next = 2;
	}
	cut_contact(c, &card, script, index, mode, second);
	contact(c, &card, next, next == 2 ? S_UP_TO_DATE : S_INSTALLED);
	tenv_assert_done_once(&env, id);
	tenv_assert_agree_check(&env, &card, INSTALLED);
	if (next != 2)
		contact(c, &card, 2, S_UP_TO_DATE);
	tcard_free(&card);
}

/* The delete job: EXTERNAL AUTHENTICATE, DELETE, GET STATUS x2. */
static void
delete_cut(struct tconn *c, int index, int mode)
{
	struct tcard card;
	const char *first, *state;
	int next;
	int64_t ins, del;

	new_card(&card);
	ins = queue_install(card.csn);
	contact(c, &card, 3, S_INSTALLED);
	del = queue_delete(card.csn);
	switch (index) {
	case 0:
		first = S_WAITING;
		state = "queued";
		next = 3;
		break;
	case 1:
		first = S_TOO_EARLY;
		state = "uncertain";
		next = mode == SIM_TEAR_AFTER ? 3 : 4;
		break;
	default:
		first = S_REMOVED;
		state = "done";
		next = 2;
		break;
	}
	cut_contact(c, &card, 2, index, mode, first);
	tenv_assert_op(&env, del, state);
	contact(c, &card, next, next == 2 ? S_UP_TO_DATE : S_REMOVED);
	tenv_assert_done_once(&env, ins);
	tenv_assert_done_once(&env, del);
	tenv_assert_agree_check(&env, &card, "");
	if (next != 2)
		contact(c, &card, 2, S_UP_TO_DATE);
	tcard_free(&card);
}

static void
test_power_cuts(void **state)
{
	static const int modes[] = { SIM_TEAR_AFTER, SIM_TEAR_BEFORE };
	struct tconn c;
	size_t m, k, points = 0;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	learn_job(&c);
	for (m = 0; m < 2; m++) {
		for (k = 0; k < 3; k++, points++)	/* discovery */
			install_cut(&c, 1, (int)k, modes[m]);
		for (k = 0; k < J_LEN; k++, points++)	/* the job */
			install_cut(&c, 2, (int)k, modes[m]);
		for (k = 0; k < 3; k++, points++)	/* registry read */
			reconcile_cut(&c, 2, (int)k, modes[m]);
		for (k = 0; k < 3; k++, points++)	/* the rest of the job */
			reconcile_cut(&c, 3, (int)k, modes[m]);
		for (k = 0; k < 4; k++, points++)	/* delete */
			delete_cut(&c, (int)k, modes[m]);
	}
	tconn_close(&c);
	assert_int_equal(points, 2 * (3 + J_LEN + 3 + 3 + 4));
	print_message("power cut at %zu points (the job: %zu commands, %zu "
	    "LOAD blocks)\n", points, J_LEN, nload);
	assert_audit_chain();
}

/* ---- (2) link drops ------------------------------------------------- */

enum { BEFORE_SEND = 1, AFTER_SEND };

/*
 * The link drops at exchange ex (1..3): before the POST leaves, or after
 * the server got it but before its reply arrives. The agent then resumes
 * (the same POST again, X-Admin-Resume) on a new connection, or starts a
 * new session.
 */
static void
link_drop(int ex, int phase, int resume)
{
	struct tconn c;
	struct tcard card;
	struct tstep st;
	int i, next;
	const char *result;
	int64_t id;

	new_card(&card);
	id = queue_install(card.csn);
	tconn_agent(&c, &env, "kiosk-1");
	assert_int_equal(tstep_init(&st, &card), 0);
	for (i = 1; i < ex; i++) {
		assert_int_equal(tstep_send(&c, &st, 0), 0);
		assert_int_equal(tstep_recv(&c, &st), 0);
		assert_int_equal(st.code, 200);
	}
	if (phase == AFTER_SEND) {
		assert_int_equal(tstep_send(&c, &st, 0), 0);
		assert_int_equal(tconn_wait_reply(&c, 10000), 0);
	}
	tconn_drop(&c);
	tconn_agent(&c, &env, "kiosk-1");
	if (resume) {
		/* The same request again: processed, or its reply again. */
		assert_int_equal(tstep_send(&c, &st, 1), 0);
		assert_int_equal(tstep_recv(&c, &st), 0);
		assert_int_equal(tstep_finish(&c, &st), 0);
		assert_int_equal(st.exchanges, 3);
		assert_string_equal(st.result, S_INSTALLED);
		tstep_free(&st);
	} else {
		tstep_free(&st);
		/* What the server knows decides the new session's length. */
		next = 3;
		result = S_INSTALLED;
		if (ex == 2 && phase == AFTER_SEND)
			next = 4;	/* running, not on the card: redone */
		if (ex == 3 && phase == AFTER_SEND) {
			next = 2;	/* the server has it all */
			result = S_UP_TO_DATE;
		}
		contact(&c, &card, next, result);
	}
	tenv_assert_done_once(&env, id);
	tenv_assert_agree_check(&env, &card, INSTALLED);
	contact(&c, &card, 2, S_UP_TO_DATE);
	tconn_close(&c);
	tcard_free(&card);
}

static void
test_link_drops(void **state)
{
	int ex, phase, resume, points = 0;
	size_t first = nall, i;

	(void)state;
	for (ex = 1; ex <= 3; ex++)
		for (phase = BEFORE_SEND; phase <= AFTER_SEND; phase++)
			for (resume = 0; resume <= 1; resume++, points++)
				link_drop(ex, phase, resume);
	assert_int_equal(points, 12);
	/* The sessions the agent walked away from expire (2 s here) and
	 * are closed: they must not move what a later session settled. */
	tenv_msleep(3500);
	for (i = first; i < nall; i++)
		tenv_assert_done_audited(&env, all_ops[i]);
	assert_audit_chain();
}

/* ---- (3) tsmd killed ------------------------------------------------ */

/* The store's write lock, held by the test: tsmd's next write waits. */
static sqlite3 *
store_lock(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(env.db + 7, &db,
	    SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	return db;
}

static void
store_unlock(sqlite3 *db)
{
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
}

/* Runs n exchanges of a session (the scripts on the card). */
static void
steps(struct tconn *c, struct tstep *st, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		assert_int_equal(tstep_send(c, st, 0), 0);
		assert_int_equal(tstep_recv(c, st), 0);
		assert_int_equal(st->code, 200);
	}
}

struct kcase {
	struct tcard	card;
	struct tconn	c;
	struct tstep	st;
	int64_t		id;
};

static void
kcase_start(struct kcase *k)
{
	new_card(&k->card);
	k->id = queue_install(k->card.csn);
	tconn_agent(&k->c, &env, "kiosk-1");
	assert_int_equal(tstep_init(&k->st, &k->card), 0);
}

/* After the restart: the next contact, what it must take, the end. */
static void
kcase_end(struct kcase *k, const char *state, int next, const char *result)
{
	tconn_drop(&k->c);
	tstep_free(&k->st);
	tenv_assert_op(&env, k->id, state);
	tconn_agent(&k->c, &env, "kiosk-1");
	contact(&k->c, &k->card, next, result);
	tenv_assert_done_once(&env, k->id);
	tenv_assert_agree_check(&env, &k->card, INSTALLED);
	contact(&k->c, &k->card, 2, S_UP_TO_DATE);
	tconn_close(&k->c);
	tcard_free(&k->card);
}

static void
test_kill9(void **state)
{
	struct kcase a, b, d, e, f, g;
	struct trsp r;
	sqlite3 *lk;
	char sid[80];

	(void)state;
	/*
	 * Round 1, three sessions in flight at once:
	 *  a  after exchange 1 (the card ran the discovery);
	 *  b  after exchange 2 (the card ran the whole job, unreported);
	 *  d  exchange 3 sent, tsmd holding it (its commit waits for the
	 *     store) when killed.
	 */
	kcase_start(&a);
	steps(&a.c, &a.st, 1);
	kcase_start(&b);
	steps(&b.c, &b.st, 2);
	kcase_start(&d);
	steps(&d.c, &d.st, 2);
	lk = store_lock();
	assert_int_equal(tstep_send(&d.c, &d.st, 0), 0);
	assert_int_not_equal(tconn_wait_reply(&d.c, 300), 0);
	tenv_tsmd_kill9(&env);
	store_unlock(lk);
	/* a's session died with tsmd. */
	snprintf(sid, sizeof(sid), "%s", a.st.sid);
	tconn_drop(&a.c);
	tconn_agent(&a.c, &env, "kiosk-1");
	assert_int_equal(tconn_post(&a.c, sid, a.st.status, 1, a.st.body,
	    a.st.blen, &r), 0);
	assert_int_equal(r.code, 409);
	trsp_clear(&r);
	kcase_end(&a, "queued", 3, S_INSTALLED);
	kcase_end(&b, "running", 3, S_INSTALLED);	/* found done */
	kcase_end(&d, "running", 3, S_INSTALLED);	/* found done */

	/*
	 * Round 2:
	 *  e  exchange 2 answered (operations running) but the reply never
	 *     read: the card did nothing;
	 *  f  exchange 3 answered (committed), reply never read;
	 *  g  exchange 2 sent, tsmd holding it (its first write waits).
	 */
	kcase_start(&e);
	steps(&e.c, &e.st, 1);
	assert_int_equal(tstep_send(&e.c, &e.st, 0), 0);
	assert_int_equal(tconn_wait_reply(&e.c, 10000), 0);
	kcase_start(&f);
	steps(&f.c, &f.st, 2);
	assert_int_equal(tstep_send(&f.c, &f.st, 0), 0);
	assert_int_equal(tconn_wait_reply(&f.c, 10000), 0);
	kcase_start(&g);
	steps(&g.c, &g.st, 1);
	lk = store_lock();
	assert_int_equal(tstep_send(&g.c, &g.st, 0), 0);
	assert_int_not_equal(tconn_wait_reply(&g.c, 300), 0);
	tenv_tsmd_kill9(&env);
	store_unlock(lk);
	kcase_end(&e, "running", 4, S_INSTALLED);	/* redone */
	kcase_end(&f, "done", 2, S_UP_TO_DATE);
	kcase_end(&g, "queued", 3, S_INSTALLED);
	assert_audit_chain();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_cuts),
		cmocka_unit_test(test_link_drops),
		cmocka_unit_test(test_kill9),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
