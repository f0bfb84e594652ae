/*
 * MariaDB only (run when the URL template is mariadb://):
 *  - the event-loop API (mariadb_async.h) driven by a poll() loop on one
 *    thread, several operations in flight at once, every result checked
 *    against the blocking API;
 *  - reconnects: connections killed (KILL CONNECTION from a second
 *    connection) between two operations and in the middle of a
 *    transaction, which is replayed whole or reported without a partial
 *    write.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "suite.h"

#ifdef TSM_HAVE_MARIADB
#include "store/mariadb_async.h"

/* ---- killing connections ------------------------------------------- */

/* A second store on its own pool (the pool is per URL). */
static struct tsm_store *
killer_open(const char *url)
{
	struct tsm_store *k;
	char kurl[600];

	snprintf(kurl, sizeof(kurl), "%s&pool=1", url);
	suite_open(kurl, &k);
	return k;
}

struct ids {
	int64_t	id[64];
	int	n;
};

static int
id_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct ids *x = arg;

	assert_true(n >= 1);
	assert_int_equal(c[0].t, TSM_V_INT);
	if (x->n < 64)
		x->id[x->n++] = c[0].i;
	return 0;
}

static void
kill_one(struct tsm_store *k, int64_t id)
{
	static const char sql_kill[] = "KILL CONNECTION ?";
	static const char sql_alive[] = "SELECT ID FROM "
	    "information_schema.PROCESSLIST WHERE ID = ?";
	struct tsm_val v = tsm_v_int(id);
	struct timespec ts = { 0, 10000000L };
	struct ids x;
	int i;

	assert_int_equal(k->be->exec(k->db, sql_kill, &v, 1, NULL, NULL), 0);
	for (i = 0; i < 500; i++) {	/* gone from the server: up to 5 s */
		memset(&x, 0, sizeof(x));
		assert_int_equal(k->be->query(k->db, sql_alive, &v, 1, id_row,
		    &x), 0);
		if (x.n == 0)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("connection %lld survived KILL", (long long)id);
}

/* Kills every connection to this database but the killer's own. */
static int
kill_others(struct tsm_store *k)
{
	static const char sql_others[] = "SELECT ID FROM "
	    "information_schema.PROCESSLIST WHERE DB = DATABASE() AND "
	    "ID <> CONNECTION_ID()";
	struct ids x;
	int i;

	memset(&x, 0, sizeof(x));
	assert_int_equal(k->be->query(k->db, sql_others, NULL, 0, id_row, &x),
	    0);
	for (i = 0; i < x.n; i++)
		kill_one(k, x.id[i]);
	return x.n;
}

/* ---- a poll() loop over async handles ------------------------------ */

#define JOB_OPS	8

struct job {
	struct tsm_store_async	*a;
	struct tsm_store	*s;	/* blocking reference */
	int			 transition;
	char			 csn[JOB_OPS][40];
	int			 n, i;
	struct tsm_card		 card;
	struct tsm_transition	 t;
	int			 changed;
	char			 why[200];
	int			 w;
	int			 ok, noop, notfound, refused, other;
};

static void
same_card(const struct tsm_card *x, const struct tsm_card *y)
{
	assert_int_equal(x->id, y->id);
	assert_string_equal(x->csn, y->csn);
	assert_string_equal(x->iin, y->iin);
	assert_string_equal(x->cin, y->cin);
	assert_string_equal(x->kdd, y->kdd);
	assert_string_equal(x->product, y->product);
	assert_string_equal(x->batch, y->batch);
	assert_int_equal(x->transport_kv, y->transport_kv);
	assert_int_equal(x->state, y->state);
	assert_string_equal(x->location, y->location);
	assert_int_equal(x->holder_id, y->holder_id);
	assert_string_equal(x->gp_state, y->gp_state);
	assert_int_equal(x->replaced_by, y->replaced_by);
	assert_int_equal(x->last_contact, y->last_contact);
	assert_int_equal(x->free_memory, y->free_memory);
	assert_int_equal(x->errors, y->errors);
	assert_int_equal(x->updated, y->updated);
}

/* The operation that just ended, against the blocking API. */
static void
job_check(struct job *j, int r)
{
	struct tsm_card ref;
	int rr;

	if (r != 0 && r != TSM_STORE_ERR_NOTFOUND &&
	    r != TSM_STORE_ERR_TRANSITION)
		fprintf(stderr, "async %s: %s (%s)\n", j->csn[j->i - 1],
		    tsm_store_strerror(r), tsm_store_async_errmsg(j->a));
	rr = tsm_store_card_get(j->s, j->csn[j->i - 1], &ref);
	if (!j->transition) {
		assert_int_equal(r, rr);
		if (r == 0) {
			same_card(&j->card, &ref);
			j->ok++;
		} else if (r == TSM_STORE_ERR_NOTFOUND)
			j->notfound++;
		else
			j->other++;
		return;
	}
	if (r == 0 && j->changed) {
		assert_int_equal(rr, 0);
		assert_int_equal(ref.state, j->t.to);
		if (j->t.location != NULL)
			assert_string_equal(ref.location, j->t.location);
		j->ok++;
	} else if (r == 0)
		j->noop++;
	else if (r == TSM_STORE_ERR_TRANSITION) {
		assert_true(j->why[0] != '\0');
		j->refused++;
	} else
		j->other++;
}

/* Consumes a result (or 1: none yet), starts the next: wait flags or 0. */
static int
job_step(struct job *j, int r)
{
	for (;;) {
		if (r <= 0)
			job_check(j, r);
		if (j->i == j->n)
			return 0;
		if (j->transition)
			r = tsm_store_async_card_transition_start(j->a,
			    j->csn[j->i++], &j->t, &j->changed, j->why,
			    sizeof(j->why));
		else
			r = tsm_store_async_card_get_start(j->a,
			    j->csn[j->i++], &j->card);
		if (r > 0)
			return r;
	}
}

/* Runs the jobs to the end; returns the most handles waiting at once. */
static int
run_loop(struct job *j, int n)
{
	struct pollfd p[16];
	int idx[16], i, k, np, tmo, rc, ev, w, most = 0;

	assert_true(n <= 16);
	for (i = 0; i < n; i++)
		j[i].w = job_step(&j[i], 1);
	for (;;) {
		np = 0;
		tmo = -1;
		for (i = 0; i < n; i++) {
			if (j[i].w <= 0)
				continue;
			w = j[i].w;
			p[np].fd = tsm_store_async_fd(j[i].a);
			assert_true(p[np].fd >= 0);
			p[np].events = (short)(((w & TSM_STORE_WAIT_READ) ?
			    POLLIN : 0) | ((w & TSM_STORE_WAIT_WRITE) ?
			    POLLOUT : 0) | ((w & TSM_STORE_WAIT_EXCEPT) ?
			    POLLPRI : 0));
			p[np].revents = 0;
			if (w & TSM_STORE_WAIT_TIMEOUT) {
				int t = (int)tsm_store_async_timeout_ms(j[i].a);

				tmo = tmo < 0 || t < tmo ? t : tmo;
			}
			idx[np++] = i;
		}
		if (np == 0)
			break;
		most = np > most ? np : most;
		rc = poll(p, (nfds_t)np, tmo);
		assert_true(rc >= 0);
		for (k = 0; k < np; k++) {
			struct job *x = &j[idx[k]];

			ev = 0;
			if (p[k].revents & POLLIN)
				ev |= TSM_STORE_WAIT_READ;
			if (p[k].revents & POLLOUT)
				ev |= TSM_STORE_WAIT_WRITE;
			if (p[k].revents & POLLPRI)
				ev |= TSM_STORE_WAIT_EXCEPT;
			if (p[k].revents & (POLLHUP | POLLERR))
				ev |= x->w & (TSM_STORE_WAIT_READ |
				    TSM_STORE_WAIT_WRITE);
			if (rc == 0 && (x->w & TSM_STORE_WAIT_TIMEOUT))
				ev |= TSM_STORE_WAIT_TIMEOUT;
			if (ev == 0)
				continue;
			w = tsm_store_async_cont(x->a, ev);
			x->w = w > 0 ? w : job_step(x, w);
		}
	}
	return most;
}

static void
jobs_init(struct job *j, int n, struct tsm_store *s, const char *url)
{
	int i;

	memset(j, 0, (size_t)n * sizeof(*j));
	for (i = 0; i < n; i++) {
		assert_int_equal(tsm_store_async_new(&j[i].a, url), 0);
		assert_int_equal(tsm_store_async_fd(j[i].a), -1);
		j[i].s = s;
	}
}

static void
jobs_free(struct job *j, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		assert_false(tsm_store_async_busy(j[i].a));
		tsm_store_async_free(j[i].a);
	}
}

/* ---- tests ---------------------------------------------------------- */

#define NJOBS	8

static void
test_async_lookups(void **state)
{
	struct tsm_store *s;
	struct job j[NJOBS];
	char url[512];
	int i, k, most, ok = 0, nf = 0, other = 0;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "A1", NJOBS * 4);
	suite_move(s, "A100000003", TSM_CARD_IN_STOCK, "depot", 0);
	jobs_init(j, NJOBS, s, url);
	for (i = 0; i < NJOBS; i++) {
		for (k = 0; k < 4; k++)
			snprintf(j[i].csn[k], sizeof(j[i].csn[k]), "A1%08X",
			    i * 4 + k);
		snprintf(j[i].csn[4], sizeof(j[i].csn[4]), "DEAD%04X", i);
		j[i].n = 5;
	}
	most = run_loop(j, NJOBS);
	for (i = 0; i < NJOBS; i++) {
		ok += j[i].ok;
		nf += j[i].notfound;
		other += j[i].other;
	}
	assert_int_equal(ok, NJOBS * 4);
	assert_int_equal(nf, NJOBS);
	assert_int_equal(other, 0);
	/*
	 * One thread, several in flight at once. Not always all 8: a call
	 * whose server answers arrive before it reads completes without
	 * waiting, which a loaded machine does now and then.
	 */
	assert_true(most >= 2);
	/* a second round on the open connections */
	for (i = 0; i < NJOBS; i++) {
		j[i].i = 0;
		j[i].n = 4;
		j[i].ok = 0;
	}
	run_loop(j, NJOBS);
	for (i = 0, ok = 0; i < NJOBS; i++)
		ok += j[i].ok;
	assert_int_equal(ok, NJOBS * 4);
	jobs_free(j, NJOBS);
	tsm_store_close(s);
}

static void
test_async_transitions(void **state)
{
	struct tsm_store *s;
	struct tsm_audit_report rep;
	struct tsm_card c;
	struct job j[NJOBS];
	char url[512];
	int i, k, ok = 0, other = 0, refused = 0, noop = 0;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "A2", 6 * 4 + 1);
	suite_move(s, "A200000018", TSM_CARD_IN_STOCK, "depot", 0);
	jobs_init(j, NJOBS, s, url);
	/* six handles, four cards each, to in_stock */
	for (i = 0; i < 6; i++) {
		j[i].transition = 1;
		j[i].t.to = TSM_CARD_IN_STOCK;
		j[i].t.location = i % 2 ? "depot-odd" : "depot-even";
		j[i].t.actor = "async";
		j[i].t.reason = "loop";
		for (k = 0; k < 4; k++)
			snprintf(j[i].csn[k], sizeof(j[i].csn[k]), "A2%08X",
			    i * 4 + k);
		j[i].n = 4;
	}
	/* two handles race for one card: one wins, one is refused */
	for (i = 6; i < 8; i++) {
		j[i].transition = 1;
		j[i].t.to = TSM_CARD_ALLOCATED;
		j[i].t.location = i == 6 ? "branch-north" : "branch-south";
		j[i].t.actor = "async";
		snprintf(j[i].csn[0], sizeof(j[i].csn[0]), "A200000018");
		j[i].n = 1;
	}
	assert_true(run_loop(j, NJOBS) >= 2);
	for (i = 0; i < NJOBS; i++) {
		ok += j[i].ok;
		refused += j[i].refused;
		other += j[i].other;
	}
	assert_int_equal(other, 0);
	assert_int_equal(ok, 6 * 4 + 1);
	assert_int_equal(refused, 1);
	assert_int_equal(tsm_store_card_get(s, "A200000018", &c), 0);
	assert_int_equal(c.state, TSM_CARD_ALLOCATED);
	assert_string_equal(c.location, j[6].ok ? "branch-north" :
	    "branch-south");
	assert_int_equal(tsm_store_card_get(s, "A200000005", &c), 0);
	assert_string_equal(c.location, "depot-odd");
	/* history and audit as the blocking path writes them */
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM card_history"),
	    1 + 6 * 4 + 1);
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM card_history "
	    "WHERE actor = 'async' AND reason = 'loop' AND "
	    "to_state = 'in_stock'"), 6 * 4);
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	assert_int_equal(rep.first_bad, 0);
	assert_int_equal(rep.records, 1 + 1 + 6 * 4 + 1);
	/* repeat (idempotent, nothing written) and an illegal edge */
	j[0].i = 0;
	j[0].n = 1;
	j[0].ok = 0;
	j[1].i = 0;
	j[1].n = 1;
	j[1].ok = 0;
	j[1].t.to = TSM_CARD_ACTIVE;
	run_loop(j, 2);
	for (i = 0; i < 2; i++) {
		noop += j[i].noop;
		refused += j[i].refused;
	}
	assert_int_equal(noop, 1);
	assert_int_equal(refused, 2);
	assert_non_null(strstr(j[1].why, "in_stock"));
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM card_history"),
	    1 + 6 * 4 + 1);
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	assert_int_equal(rep.records, 1 + 1 + 6 * 4 + 1);
	jobs_free(j, NJOBS);
	tsm_store_close(s);
}

static void
test_async_reconnect(void **state)
{
	struct tsm_store *s, *k;
	struct job j[2];
	char url[512];
	int fd0;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "A3", 4);
	k = killer_open(url);
	jobs_init(j, 2, s, url);
	snprintf(j[0].csn[0], sizeof(j[0].csn[0]), "A300000000");
	j[0].n = 1;
	j[1].transition = 1;
	j[1].t.to = TSM_CARD_IN_STOCK;
	j[1].t.location = "depot";
	snprintf(j[1].csn[0], sizeof(j[1].csn[0]), "A300000001");
	j[1].n = 1;
	run_loop(j, 2);
	assert_int_equal(j[0].ok + j[1].ok, 2);
	fd0 = tsm_store_async_fd(j[0].a);
	assert_true(fd0 >= 0);
	/* both async connections (and the pool's) die between operations */
	assert_true(kill_others(k) >= 2);
	j[0].i = 0;
	snprintf(j[0].csn[0], sizeof(j[0].csn[0]), "A300000002");
	j[1].i = 0;
	snprintf(j[1].csn[0], sizeof(j[1].csn[0]), "A300000003");
	run_loop(j, 2);
	assert_int_equal(j[0].ok + j[1].ok, 4);
	assert_int_equal(j[0].other + j[1].other, 0);
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM card_history"),
	    2);
	jobs_free(j, 2);
	tsm_store_close(k);
	tsm_store_close(s);
}

/* A lookup on a second handle (same pool) while s holds a transaction:
 * the pool then has two open connections. */
static int
second_conn_fn(struct tsm_store *s, void *arg)
{
	struct tsm_card c;

	(void)s;
	return tsm_store_card_get(arg, "B100000000", &c);
}

/* Blocking API: the pooled connections die between two operations. */
static void
test_reconnect_between(void **state)
{
	struct tsm_store *s, *s2, *k;
	struct tsm_card c;
	struct tsm_audit_report rep;
	char url[512];
	int64_t id0, id1;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "B1", 3);
	k = killer_open(url);
	suite_open(url, &s2);
	assert_int_equal(tsm_store_tx(s, second_conn_fn, s2), 0);
	assert_int_equal(tsm_store_card_get(s, "B100000000", &c), 0);
	id0 = suite_count(s, "SELECT CONNECTION_ID()");
	/* both idle pooled connections die: the retry must not take the
	 * second dead one */
	assert_int_equal(kill_others(k), 2);
	assert_int_equal(tsm_store_card_get(s, "B100000001", &c), 0);
	assert_string_equal(c.csn, "B100000001");
	id1 = suite_count(s, "SELECT CONNECTION_ID()");
	assert_true(id1 != id0);
	/* and a transaction on the next operation */
	assert_true(kill_others(k) >= 1);
	suite_move(s, "B100000002", TSM_CARD_IN_STOCK, "depot", 0);
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	assert_int_equal(rep.records, 2);
	tsm_store_close(k);
	tsm_store_close(s2);
	tsm_store_close(s);
}

struct mid {
	struct tsm_store	*killer;
	int64_t			 product;
	int			 attempts;
	int			 kill_until;	/* kill on attempts <= this */
};

static int
conn_row(void *arg, const struct tsm_val *c, size_t n)
{
	assert_true(n >= 1);
	*(int64_t *)arg = c[0].i;
	return 0;
}

/* Two inserts with our own connection killed between them. */
static int
mid_fn(struct tsm_store *s, void *arg)
{
	static const char sql_add[] = "INSERT INTO batches (name, product_id,"
	    " created) VALUES (?, ?, ?)";
	static const char sql_me[] = "SELECT CONNECTION_ID()";
	struct mid *m = arg;
	struct tsm_val v[3];
	int64_t me = 0;
	int r;

	m->attempts++;
	v[0] = tsm_v_text("MID-1");
	v[1] = tsm_v_int(m->product);
	v[2] = tsm_v_int(1);
	if ((r = s->be->exec(s->db, sql_add, v, 3, NULL, NULL)) != 0)
		return r;
	if (m->attempts <= m->kill_until) {
		assert_int_equal(s->be->query(s->db, sql_me, NULL, 0, conn_row,
		    &me), 0);
		kill_one(m->killer, me);
	}
	v[0] = tsm_v_text("MID-2");
	return s->be->exec(s->db, sql_add, v, 3, NULL, NULL);
}

static void
test_reconnect_mid_tx(void **state)
{
	struct tsm_store *s;
	struct mid m;
	char url[512];
	int r;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "B2", 1);
	memset(&m, 0, sizeof(m));
	m.killer = killer_open(url);
	m.product = suite_count(s, "SELECT id FROM products WHERE "
	    "name = 'P1'");
	/* killed once: replayed whole on a new connection */
	m.kill_until = 1;
	assert_int_equal(tsm_store_tx(s, mid_fn, &m), 0);
	assert_int_equal(m.attempts, 2);
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM batches WHERE "
	    "name LIKE 'MID-%'"), 2);
	/* killed every time: reported, and nothing of it written */
	suite_raw(s, "DELETE FROM batches WHERE name LIKE 'MID-%'");
	m.attempts = 0;
	m.kill_until = 100;
	r = tsm_store_tx(s, mid_fn, &m);
	assert_int_equal(r, TSM_STORE_ERR_BUSY);
	assert_int_equal(m.attempts, 8);
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM batches WHERE "
	    "name LIKE 'MID-%'"), 0);
	/* and the store works afterwards */
	suite_move(s, "B200000000", TSM_CARD_IN_STOCK, "depot", 0);
	tsm_store_close(m.killer);
	tsm_store_close(s);
}

const struct CMUnitTest suite_mariadb[] = {
	cmocka_unit_test(test_async_lookups),
	cmocka_unit_test(test_async_transitions),
	cmocka_unit_test(test_async_reconnect),
	cmocka_unit_test(test_reconnect_between),
	cmocka_unit_test(test_reconnect_mid_tx),
};
const size_t suite_mariadb_n = sizeof(suite_mariadb) /
    sizeof(suite_mariadb[0]);
#else
const struct CMUnitTest suite_mariadb[1];
const size_t suite_mariadb_n = 0;
#endif
