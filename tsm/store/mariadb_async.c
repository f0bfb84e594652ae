/*
 * The MariaDB store from an event loop (mariadb_async.h). Each handle
 * owns one connection opened with MYSQL_OPT_NONBLOCK and runs one
 * operation as a state machine of Connector/C calls: a call is started
 * with its *_start function; while it wants I/O we return the events it
 * waits for, and the loop hands them to the matching *_cont. When a call
 * completes, advance() starts the next one: session set-up first, then
 * the operation's statements. Statements are server-side prepared
 * (prepared once per connection, cached by their SQL pointer, as in
 * mariadb.c) and are the very ones the blocking path runs (store_int.h).
 * Fetching a stored result is in memory, so plain mysql_stmt_fetch().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/mariadb_async.h"
#include "store/mariadb_int.h"

#define ASYNC_TX_ATTEMPTS	8	/* as tsm_store_tx() */
#define ASYNC_GET_ATTEMPTS	2	/* a lookup: reconnect once */

enum call { CALL_NONE, CALL_CONNECT, CALL_QUERY, CALL_PREPARE, CALL_EXECUTE,
	CALL_STORE };
enum op { OP_NONE, OP_GET, OP_TRANSITION };
enum tr_phase { TR_BEGIN, TR_LOCK, TR_UPDATE, TR_HISTORY, TR_HEAD, TR_AUDIT,
	TR_MOVE_HEAD, TR_COMMIT, TR_DONE, TR_ROLLED_BACK, TR_RETRY };

struct tsm_store_async {
	struct my_url		 u;
	struct my_conn		 c;		/* c.my NULL: not connected */
	int			 setup;		/* session set-up step */
	int			 ready;		/* session set up */
	struct tsm_audit_hasher	 hasher;

	/* the Connector/C call under way and the statement it serves */
	enum call		 call;
	int			 iret;
	MYSQL			*mret;
	MYSQL_STMT		*st;
	const char		*sql;
	MYSQL_RES		*meta;
	char			 q[160];
	struct tsm_val		 v[9];
	size_t			 nv;
	MYSQL_BIND		 b[9];
	struct my_result	 res;
	tsm_row_fn		 row_fn;
	void			*row_arg;
	int			 rows;		/* rows the last SELECT gave */
	int			 cr;		/* outcome of the last call */

	/* the operation */
	enum op			 op;
	int			 phase;
	int			 attempts;
	int			 in_tx;
	int			 committing;
	int			 result;
	char			 csn[TSM_CSN_MAX + 1];
	struct tsm_card		*out;
	struct tsm_card		 card;
	struct tsm_transition	 t;
	char			 loc[TSM_NAME_MAX + 1];
	char			 actor[TSM_NAME_MAX + 1];
	char			 reason[513];
	const char		*use_loc;
	int64_t			 holder;
	int			*changed;
	int			 changed_dummy;
	char			*why;
	size_t			 whylen;
	int64_t			 now;
	int64_t			 seq;		/* audit head */
	uint8_t			 prev[32];
	uint8_t			 link[32];
	int			 head_found;
	char			 detail[600];
	char			 err[256];
};

static int advance(struct tsm_store_async *);

int
tsm_store_async_new(struct tsm_store_async **out, const char *url)
{
	struct tsm_store_async *a;

	*out = NULL;
	if (url == NULL || strncmp(url, "mariadb://", 10) != 0)
		return TSM_STORE_ERR_URL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return TSM_STORE_ERR_NOMEM;
	if (tsm_my_url_parse(url, &a->u) != 0) {
		free(a);
		return TSM_STORE_ERR_URL;
	}
	tsm_audit_default(&a->hasher);
	*out = a;
	return 0;
}

static void
drop(struct tsm_store_async *a)
{
	if (a->meta != NULL) {
		mysql_free_result(a->meta);
		a->meta = NULL;
	}
	tsm_my_result_free(&a->res);
	tsm_my_disconnect(&a->c);
	a->st = NULL;
	a->call = CALL_NONE;
	a->ready = 0;
	a->setup = 0;
	a->in_tx = 0;
}

void
tsm_store_async_free(struct tsm_store_async *a)
{
	if (a == NULL)
		return;
	drop(a);
	free(a);
}

void
tsm_store_async_set_audit_hasher(struct tsm_store_async *a,
    const struct tsm_audit_hasher *h)
{
	if (h == NULL)
		tsm_audit_default(&a->hasher);
	else
		a->hasher = *h;
}

int
tsm_store_async_fd(const struct tsm_store_async *a)
{
	return a->c.my != NULL ? (int)mysql_get_socket(a->c.my) : -1;
}

unsigned
tsm_store_async_timeout_ms(const struct tsm_store_async *a)
{
	return a->c.my != NULL ? mysql_get_timeout_value_ms(a->c.my) : 0;
}

const char *
tsm_store_async_errmsg(const struct tsm_store_async *a)
{
	return a->err;
}

int
tsm_store_async_busy(const struct tsm_store_async *a)
{
	return a->op != OP_NONE;
}

/* ---- Connector/C calls --------------------------------------------- */

static int
my_fail(struct tsm_store_async *a, unsigned int e, const char *msg)
{
	return tsm_my_map_err(a->err, sizeof(a->err), e, msg);
}

/* A call that could not even start: its outcome, no waiting. */
static int
no_call(struct tsm_store_async *a, int r)
{
	a->call = CALL_NONE;
	a->cr = r;
	return 0;
}

static int
start_connect(struct tsm_store_async *a)
{
	unsigned int timeout = 10;
	my_bool off = 0;

	a->c.ncache = 0;
	if ((a->c.my = mysql_init(NULL)) == NULL)
		return no_call(a, TSM_STORE_ERR_NOMEM);
	mysql_options(a->c.my, MYSQL_OPT_NONBLOCK, 0);
	mysql_options(a->c.my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(a->c.my, MYSQL_OPT_RECONNECT, &off);
	mysql_options(a->c.my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	a->call = CALL_CONNECT;
	return mysql_real_connect_start(&a->mret, a->c.my, a->u.host,
	    a->u.user, a->u.pass[0] ? a->u.pass : NULL,
	    a->u.create ? NULL : a->u.db, a->u.port,
	    a->u.socket[0] ? a->u.socket : NULL, CLIENT_FOUND_ROWS);
}

/* Constant statements only (transaction control, session set-up). */
static int
start_query(struct tsm_store_async *a, const char *sql)
{
	a->call = CALL_QUERY;
	return mysql_real_query_start(&a->iret, a->c.my, sql,
	    (unsigned long)strlen(sql));
}

static int
start_execute(struct tsm_store_async *a)
{
	my_bool on = 1;

	tsm_my_bind_params(a->b, a->v, a->nv);
	mysql_stmt_attr_set(a->st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	if (a->nv > 0 && mysql_stmt_bind_param(a->st, a->b) != 0)
		return no_call(a, my_fail(a, mysql_stmt_errno(a->st),
		    mysql_stmt_error(a->st)));
	a->call = CALL_EXECUTE;
	return mysql_stmt_execute_start(&a->iret, a->st);
}

/* A prepared statement with a->v[0..nv): rows go to row_fn. */
static int
start_stmt(struct tsm_store_async *a, const char *sql, tsm_row_fn fn,
    void *arg)
{
	int i;

	a->rows = 0;
	a->row_fn = fn;
	a->row_arg = arg;
	a->sql = sql;
	for (i = 0; i < a->c.ncache; i++) {
		if (a->c.cache[i].sql == sql) {
			a->st = a->c.cache[i].st;
			return start_execute(a);
		}
	}
	if (a->c.ncache >= MY_STMT_CACHE)
		return no_call(a, TSM_STORE_ERR_INVAL);	/* cannot happen */
	if ((a->st = mysql_stmt_init(a->c.my)) == NULL)
		return no_call(a, TSM_STORE_ERR_NOMEM);
	a->call = CALL_PREPARE;
	return mysql_stmt_prepare_start(&a->iret, a->st, sql,
	    (unsigned long)strlen(sql));
}

static int
fetch_rows(struct tsm_store_async *a)
{
	int r, rc = 0;

	if ((r = tsm_my_bind_result(&a->res, a->meta)) == 0 &&
	    mysql_stmt_bind_result(a->st, a->res.b) != 0)
		r = my_fail(a, mysql_stmt_errno(a->st), mysql_stmt_error(a->st));
	while (r == 0 && (rc = mysql_stmt_fetch(a->st)) == 0) {
		tsm_my_row_vals(&a->res, a->meta);
		a->rows++;
		if (a->row_fn != NULL)
			r = a->row_fn(a->row_arg, a->res.v, a->res.n);
	}
	if (r > 0)
		r = 0;		/* the row function had what it wanted */
	else if (r == 0 && rc != MYSQL_NO_DATA)
		r = my_fail(a, mysql_stmt_errno(a->st), mysql_stmt_error(a->st));
	return r;
}

/* The call under way completed: go on with its statement or end it. */
static int
call_done(struct tsm_store_async *a)
{
	enum call c = a->call;

	a->call = CALL_NONE;
	switch (c) {
	case CALL_CONNECT:
		if (a->mret == NULL) {
			snprintf(a->err, sizeof(a->err), "mariadb: %s",
			    mysql_error(a->c.my));
			a->cr = TSM_STORE_ERR_CONNECT;
		}
		return 0;
	case CALL_QUERY:
		if (a->iret != 0)
			a->cr = my_fail(a, mysql_errno(a->c.my),
			    mysql_error(a->c.my));
		return 0;
	case CALL_PREPARE:
		if (a->iret != 0) {
			a->cr = my_fail(a, mysql_stmt_errno(a->st),
			    mysql_stmt_error(a->st));
			mysql_stmt_close(a->st);
			a->st = NULL;
			return 0;
		}
		a->c.cache[a->c.ncache].sql = a->sql;
		a->c.cache[a->c.ncache++].st = a->st;
		return start_execute(a);
	case CALL_EXECUTE:
		if (a->iret != 0) {
			a->cr = my_fail(a, mysql_stmt_errno(a->st),
			    mysql_stmt_error(a->st));
			return 0;
		}
		if ((a->meta = mysql_stmt_result_metadata(a->st)) == NULL)
			return 0;	/* no result set */
		a->call = CALL_STORE;
		return mysql_stmt_store_result_start(&a->iret, a->st);
	case CALL_STORE:
		if (a->iret != 0)
			a->cr = my_fail(a, mysql_stmt_errno(a->st),
			    mysql_stmt_error(a->st));
		else
			a->cr = fetch_rows(a);
		mysql_stmt_free_result(a->st);
		mysql_free_result(a->meta);
		a->meta = NULL;
		tsm_my_result_free(&a->res);
		return 0;
	case CALL_NONE:
		break;
	}
	return 0;
}

/* ---- operations ---------------------------------------------------- */

static int
finish(struct tsm_store_async *a, int r)
{
	a->op = OP_NONE;
	a->result = r;
	if (r != 0 && a->err[0] == '\0')
		snprintf(a->err, sizeof(a->err), "%s", tsm_store_strerror(r));
	return 0;
}

/* Reconnect and run the operation again from its start. */
static int
replay(struct tsm_store_async *a)
{
	drop(a);
	a->phase = 0;
	a->cr = 0;
	return advance(a);
}

static int
get_step(struct tsm_store_async *a, int r)
{
	if (r == TSM_STORE_ERR_CONNECT && ++a->attempts < ASYNC_GET_ATTEMPTS)
		return replay(a);
	if (r != 0)
		return finish(a, r);
	if (a->phase++ == 0) {
		a->v[0] = tsm_v_text(a->csn);
		a->nv = 1;
		return start_stmt(a, tsm_sql_card_get, tsm_card_row, a->out);
	}
	return finish(a, a->rows > 0 ? 0 : TSM_STORE_ERR_NOTFOUND);
}

static int
head_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct tsm_store_async *a = arg;

	if (n < 2 || c[0].t != TSM_V_INT || c[1].n != 32)
		return TSM_STORE_ERR_TAMPER;
	a->seq = c[0].i;
	memcpy(a->prev, c[1].p, 32);
	a->head_found = 1;
	return 0;
}

/* A statement failed inside (or on the way into) a transition. */
static int
tr_fail(struct tsm_store_async *a, int r)
{
	if (a->committing) {	/* committed or not: nobody knows */
		a->committing = 0;
		if (r == TSM_STORE_ERR_CONNECT)
			drop(a);
		a->in_tx = 0;
		return finish(a, r);
	}
	if (r == TSM_STORE_ERR_CONNECT) {	/* the server rolled back */
		if (++a->attempts < ASYNC_TX_ATTEMPTS)
			return replay(a);
		drop(a);
		return finish(a, r);
	}
	if (!a->in_tx)
		return finish(a, r);
	a->in_tx = 0;		/* a failing ROLLBACK ends it here */
	if (r == TSM_STORE_ERR_RETRY && ++a->attempts < ASYNC_TX_ATTEMPTS) {
		a->phase = TR_RETRY;
		return start_query(a, "ROLLBACK");
	}
	a->result = r == TSM_STORE_ERR_RETRY ? TSM_STORE_ERR_BUSY : r;
	a->phase = TR_ROLLED_BACK;
	return start_query(a, "ROLLBACK");
}

/* The lock is held and the card read: check, then update. */
static int
tr_check(struct tsm_store_async *a)
{
	const struct tsm_transition *t = &a->t;
	int noop, r;

	if (a->rows == 0)
		return tr_fail(a, TSM_STORE_ERR_NOTFOUND);
	if ((r = tsm_lifecycle_check(&a->card, t, &noop, a->why,
	    a->whylen)) != 0 || noop) {
		a->in_tx = 0;	/* nothing written: just let go */
		a->result = r;
		a->phase = TR_ROLLED_BACK;
		return start_query(a, "ROLLBACK");
	}
	a->use_loc = t->location != NULL && *t->location != '\0' ?
	    t->location : a->card.location;
	a->holder = t->holder_id > 0 ? t->holder_id : a->card.holder_id;
	a->now = tsm_now_ms();
	a->v[0] = tsm_v_text(tsm_card_state_name(t->to));
	a->v[1] = tsm_v_text(a->use_loc);
	a->v[2] = a->holder > 0 ? tsm_v_int(a->holder) : tsm_v_text(NULL);
	a->v[3] = tsm_v_int(a->now);
	a->v[4] = tsm_v_int(a->card.id);
	a->nv = 5;
	return start_stmt(a, tsm_sql_card_update, NULL, NULL);
}

static int
tr_audit(struct tsm_store_async *a)
{
	const char *actor = a->t.actor != NULL ? a->t.actor : "system";
	int64_t at = tsm_now_ms();
	int r;

	if (!a->head_found)
		return tr_fail(a, TSM_STORE_ERR_SCHEMA);
	snprintf(a->detail, sizeof(a->detail), "{\"from\":\"%s\",\"to\":\"%s\","
	    "\"holder\":%lld}", tsm_card_state_name(a->card.state),
	    tsm_card_state_name(a->t.to), (long long)a->holder);
	if ((r = tsm_audit_link(&a->hasher, a->seq + 1, at, a->prev, actor,
	    "card.transition", a->card.csn, a->detail, a->link)) != 0)
		return tr_fail(a, r);
	a->v[0] = tsm_v_int(a->seq + 1);
	a->v[1] = tsm_v_int(at);
	a->v[2] = tsm_v_text(actor);
	a->v[3] = tsm_v_text("card.transition");
	a->v[4] = tsm_v_text(a->card.csn);
	a->v[5] = tsm_v_text(a->detail);
	a->v[6] = tsm_v_text(a->hasher.alg);
	a->v[7] = tsm_v_blob(a->prev, 32);
	a->v[8] = tsm_v_blob(a->link, 32);
	a->nv = 9;
	return start_stmt(a, tsm_sql_audit_insert, NULL, NULL);
}

static int
tr_step(struct tsm_store_async *a, int r)
{
	if (r != 0)
		return tr_fail(a, r);
	for (;;) {
		switch ((enum tr_phase)a->phase++) {
		case TR_BEGIN:
			a->in_tx = 1;
			return start_query(a, "START TRANSACTION");
		case TR_LOCK:
			a->v[0] = tsm_v_text(a->csn);
			a->nv = 1;
			return start_stmt(a, tsm_sql_card_get_lock,
			    tsm_card_row, &a->card);
		case TR_UPDATE:
			return tr_check(a);
		case TR_HISTORY:
			a->v[0] = tsm_v_int(a->card.id);
			a->v[1] = tsm_v_text(tsm_card_state_name(a->card.state));
			a->v[2] = tsm_v_text(tsm_card_state_name(a->t.to));
			a->v[3] = tsm_v_text(a->use_loc);
			a->v[4] = tsm_v_text(a->t.actor != NULL ? a->t.actor :
			    "system");
			a->v[5] = tsm_v_text(a->t.reason);
			a->v[6] = tsm_v_int(a->now);
			a->nv = 7;
			return start_stmt(a, tsm_sql_history_add, NULL, NULL);
		case TR_HEAD:
			a->head_found = 0;
			a->nv = 0;
			return start_stmt(a, tsm_sql_audit_head_lock, head_row,
			    a);
		case TR_AUDIT:
			return tr_audit(a);
		case TR_MOVE_HEAD:
			a->v[0] = tsm_v_int(a->seq + 1);
			a->v[1] = tsm_v_blob(a->link, 32);
			a->nv = 2;
			return start_stmt(a, tsm_sql_audit_update_head, NULL,
			    NULL);
		case TR_COMMIT:
			a->committing = 1;
			return start_query(a, "COMMIT");
		case TR_DONE:
			a->committing = 0;
			a->in_tx = 0;
			*a->changed = 1;
			return finish(a, 0);
		case TR_ROLLED_BACK:
			return finish(a, a->result);
		case TR_RETRY:
			a->phase = TR_BEGIN;
			continue;
		}
		return finish(a, TSM_STORE_ERR_INVAL);
	}
}

/* Session set-up on a new connection, then the operation's next step. */
static int
advance(struct tsm_store_async *a)
{
	int r = a->cr;

	a->cr = 0;
	while (!a->ready) {
		if (r != 0) {
			drop(a);
			return finish(a, r);
		}
		switch (a->setup++) {
		case 0:
			return start_connect(a);
		case 1:
			if (!a->u.create)
				break;
			snprintf(a->q, sizeof(a->q),
			    "CREATE DATABASE IF NOT EXISTS `%s`", a->u.db);
			return start_query(a, a->q);
		case 2:
			if (!a->u.create)
				break;
			snprintf(a->q, sizeof(a->q), "USE `%s`", a->u.db);
			return start_query(a, a->q);
		case 3:
			return start_query(a, "SET SESSION TRANSACTION "
			    "ISOLATION LEVEL READ COMMITTED");
		default:
			a->ready = 1;
			break;
		}
	}
	return a->op == OP_GET ? get_step(a, r) : tr_step(a, r);
}

/* Runs calls until one has to wait (> 0) or the operation ended. */
static int
drive(struct tsm_store_async *a, int w)
{
	while (w == 0) {
		if (a->call != CALL_NONE)
			w = call_done(a);
		else {
			w = advance(a);
			if (a->op == OP_NONE)
				return a->result;
		}
	}
	return w;
}

int
tsm_store_async_cont(struct tsm_store_async *a, int ev)
{
	int w = 0;

	if (a->op == OP_NONE || a->call == CALL_NONE)
		return TSM_STORE_ERR_INVAL;
	switch (a->call) {
	case CALL_CONNECT:
		w = mysql_real_connect_cont(&a->mret, a->c.my, ev);
		break;
	case CALL_QUERY:
		w = mysql_real_query_cont(&a->iret, a->c.my, ev);
		break;
	case CALL_PREPARE:
		w = mysql_stmt_prepare_cont(&a->iret, a->st, ev);
		break;
	case CALL_EXECUTE:
		w = mysql_stmt_execute_cont(&a->iret, a->st, ev);
		break;
	case CALL_STORE:
		w = mysql_stmt_store_result_cont(&a->iret, a->st, ev);
		break;
	case CALL_NONE:
		break;
	}
	return drive(a, w);
}

static void
op_begin(struct tsm_store_async *a, enum op op, const char *csn)
{
	a->op = op;
	a->phase = 0;
	a->attempts = 0;
	a->in_tx = 0;
	a->committing = 0;
	a->result = 0;
	a->cr = 0;
	a->err[0] = '\0';
	snprintf(a->csn, sizeof(a->csn), "%s", csn);
}

static int
csn_ok(const char *csn)
{
	return csn != NULL && *csn != '\0' && strlen(csn) <= TSM_CSN_MAX;
}

int
tsm_store_async_card_get_start(struct tsm_store_async *a, const char *csn,
    struct tsm_card *out)
{
	if (a->op != OP_NONE || !csn_ok(csn) || out == NULL)
		return TSM_STORE_ERR_INVAL;
	op_begin(a, OP_GET, csn);
	a->out = out;
	return drive(a, 0);
}

static int
copy_opt(char *dst, size_t cap, const char **p)
{
	if (*p == NULL)
		return 0;
	if (strlen(*p) >= cap)
		return TSM_STORE_ERR_TOOLARGE;
	memcpy(dst, *p, strlen(*p) + 1);
	*p = dst;
	return 0;
}

int
tsm_store_async_card_transition_start(struct tsm_store_async *a,
    const char *csn, const struct tsm_transition *t, int *changed,
    char *why, size_t whylen)
{
	struct tsm_transition c;

	if (a->op != OP_NONE || !csn_ok(csn) || t == NULL)
		return TSM_STORE_ERR_INVAL;
	c = *t;
	if (copy_opt(a->loc, sizeof(a->loc), &c.location) != 0 ||
	    copy_opt(a->actor, sizeof(a->actor), &c.actor) != 0 ||
	    copy_opt(a->reason, sizeof(a->reason), &c.reason) != 0)
		return TSM_STORE_ERR_TOOLARGE;
	op_begin(a, OP_TRANSITION, csn);
	a->t = c;
	a->changed = changed != NULL ? changed : &a->changed_dummy;
	*a->changed = 0;
	a->why = why;
	a->whylen = why != NULL ? whylen : 0;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	return drive(a, 0);
}
