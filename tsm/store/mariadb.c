/*
 * The MariaDB backend (Connector/C): every statement that carries a value
 * is a server-side prepared statement, cached per pooled connection.
 * Deadlocks, lock wait timeouts and Galera certification failures come
 * back as TSM_STORE_ERR_RETRY so tsm_store_tx() replays the transaction;
 * a lost connection outside a transaction is reopened and the statement
 * retried once. Migration DDL (constant text compiled into the binary)
 * runs as plain queries: DDL cannot carry parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "store/mariadb_int.h"

struct my {
	struct my_pool	*pool;
	struct my_conn	*tx;		/* pinned during a transaction */
	char		 err[256];
};

static int
my_open(const char *url, const struct tsm_store_opts *o, void **out,
    char *err, size_t errlen)
{
	struct my_url u;
	struct my_conn *c;
	struct my *m;
	int r;

	if (tsm_my_url_parse(url, &u) != 0)
		return TSM_STORE_ERR_URL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return TSM_STORE_ERR_NOMEM;
	if ((r = tsm_my_pool_get(url, &u, o->pool_size, &m->pool)) != 0) {
		free(m);
		return r;
	}
	/* connect now so a wrong URL fails at open, not at first use */
	if ((r = tsm_my_acquire(m->pool, &c, err, errlen)) != 0) {
		tsm_my_pool_put(m->pool);
		free(m);
		return r;
	}
	tsm_my_release(m->pool, c, 0);
	*out = m;
	return 0;
}

static void
my_close(void *p)
{
	struct my *m = p;

	if (m->tx != NULL)
		tsm_my_release(m->pool, m->tx, 1);
	tsm_my_pool_put(m->pool);
	free(m);
}

int
tsm_my_gone(unsigned int e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_CONN_HOST_ERROR || e == CR_CONNECTION_ERROR ||
	    e == ER_CONNECTION_KILLED;
}

int
tsm_my_map_err(char *err, size_t errlen, unsigned int e, const char *msg)
{
	snprintf(err, errlen, "mariadb: %u %s", e, msg);
	switch (e) {
	case ER_DUP_ENTRY:
		return TSM_STORE_ERR_EXISTS;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return TSM_STORE_ERR_RETRY;
	default:
		return tsm_my_gone(e) ? TSM_STORE_ERR_CONNECT : TSM_STORE_ERR_DB;
	}
}

static int
map_err(struct my *m, unsigned int e, const char *msg)
{
	return tsm_my_map_err(m->err, sizeof(m->err), e, msg);
}

static int
prepare(struct my *m, struct my_conn *c, const char *sql, MYSQL_STMT **st)
{
	int i;

	for (i = 0; i < c->ncache; i++) {
		if (c->cache[i].sql == sql) {
			*st = c->cache[i].st;
			return 0;
		}
	}
	if ((*st = mysql_stmt_init(c->my)) == NULL)
		return TSM_STORE_ERR_NOMEM;
	if (mysql_stmt_prepare(*st, sql, strlen(sql)) != 0) {
		i = map_err(m, mysql_stmt_errno(*st), mysql_stmt_error(*st));
		mysql_stmt_close(*st);
		return i;
	}
	if (c->ncache < MY_STMT_CACHE) {
		c->cache[c->ncache].sql = sql;
		c->cache[c->ncache++].st = *st;
	}
	return 0;
}

static void
unprepare(struct my_conn *c, MYSQL_STMT *st)
{
	int i;

	for (i = 0; i < c->ncache; i++)
		if (c->cache[i].st == st)
			return;
	mysql_stmt_close(st);
}

void
tsm_my_bind_params(MYSQL_BIND *b, const struct tsm_val *v, size_t n)
{
	static const enum enum_field_types types[] = {
		[TSM_V_NULL] = MYSQL_TYPE_NULL, [TSM_V_INT] = MYSQL_TYPE_LONGLONG,
		[TSM_V_TEXT] = MYSQL_TYPE_STRING, [TSM_V_BLOB] = MYSQL_TYPE_BLOB,
	};
	size_t i;

	memset(b, 0, n * sizeof(*b));
	for (i = 0; i < n; i++) {
		b[i].buffer_type = types[v[i].t];
		if (v[i].t == TSM_V_INT)
			b[i].buffer = (void *)(uintptr_t)&v[i].i;
		else if (v[i].t != TSM_V_NULL) {
			b[i].buffer = (void *)(uintptr_t)v[i].p;
			b[i].buffer_length = (unsigned long)v[i].n;
		}
	}
}

static int
is_int(enum enum_field_types t)
{
	return t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT ||
	    t == MYSQL_TYPE_LONG || t == MYSQL_TYPE_LONGLONG ||
	    t == MYSQL_TYPE_INT24 || t == MYSQL_TYPE_YEAR;
}

int
tsm_my_bind_result(struct my_result *r, MYSQL_RES *meta)
{
	MYSQL_FIELD *f = mysql_fetch_fields(meta);
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->n = mysql_num_fields(meta);
	if (r->n > MY_RESULT_MAX)
		return TSM_STORE_ERR_DB;
	for (i = 0; i < r->n; i++) {
		r->b[i].length = &r->len[i];
		r->b[i].is_null = &r->null[i];
		if (is_int(f[i].type)) {
			r->b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			r->b[i].buffer = &r->ints[i];
			continue;
		}
		r->b[i].buffer_type = MYSQL_TYPE_BLOB;
		if ((r->buf[i] = malloc(f[i].max_length + 1)) == NULL)
			return TSM_STORE_ERR_NOMEM;
		r->b[i].buffer = r->buf[i];
		r->b[i].buffer_length = f[i].max_length + 1;
	}
	return 0;
}

void
tsm_my_row_vals(struct my_result *r, MYSQL_RES *meta)
{
	MYSQL_FIELD *f = mysql_fetch_fields(meta);
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		memset(&r->v[i], 0, sizeof(r->v[i]));
		if (r->null[i])
			r->v[i].t = TSM_V_NULL;
		else if (is_int(f[i].type)) {
			r->v[i].t = TSM_V_INT;
			r->v[i].i = r->ints[i];
		} else {
			r->v[i].t = (f[i].flags & BINARY_FLAG) ? TSM_V_BLOB :
			    TSM_V_TEXT;
			r->v[i].p = r->buf[i];
			r->v[i].n = r->len[i];
		}
	}
}

void
tsm_my_result_free(struct my_result *r)
{
	unsigned int i;

	for (i = 0; i < MY_RESULT_MAX; i++) {
		free(r->buf[i]);
		r->buf[i] = NULL;
	}
}

static int
fetch_all(struct my *m, MYSQL_STMT *st, tsm_row_fn fn, void *arg)
{
	MYSQL_RES *meta;
	struct my_result *r;
	int rc = 0, ret = 0;

	if ((meta = mysql_stmt_result_metadata(st)) == NULL)
		return 0;
	if ((r = malloc(sizeof(*r))) == NULL) {
		mysql_free_result(meta);
		return TSM_STORE_ERR_NOMEM;
	}
	if (mysql_stmt_store_result(st) != 0)
		ret = map_err(m, mysql_stmt_errno(st), mysql_stmt_error(st));
	else if ((ret = tsm_my_bind_result(r, meta)) == 0 &&
	    mysql_stmt_bind_result(st, r->b) != 0)
		ret = map_err(m, mysql_stmt_errno(st), mysql_stmt_error(st));
	while (ret == 0 && (rc = mysql_stmt_fetch(st)) == 0) {
		tsm_my_row_vals(r, meta);
		if (fn != NULL)
			ret = fn(arg, r->v, r->n);
	}
	if (ret == 0 && rc != MYSQL_NO_DATA)
		ret = map_err(m, mysql_stmt_errno(st), mysql_stmt_error(st));
	mysql_stmt_free_result(st);
	tsm_my_result_free(r);
	free(r);
	mysql_free_result(meta);
	return ret;
}

struct call {
	const char		*sql;
	const struct tsm_val	*v;
	size_t			 n;
	tsm_row_fn		 fn;
	void			*arg;
	int64_t			*changes;
	int64_t			*last_id;
};

static int
run_on(struct my *m, struct my_conn *c, const struct call *k)
{
	MYSQL_BIND small[32], *b = small;
	MYSQL_STMT *st;
	my_bool on = 1;
	int r;

	if (k->n > MY_PARAM_MAX)
		return TSM_STORE_ERR_INVAL;
	if ((r = prepare(m, c, k->sql, &st)) != 0)
		return r;
	/* multi-row INSERTs (bulk import) carry more than a few values */
	if (k->n > 32 && (b = malloc(k->n * sizeof(*b))) == NULL) {
		unprepare(c, st);
		return TSM_STORE_ERR_NOMEM;
	}
	tsm_my_bind_params(b, k->v, k->n);
	mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	if ((k->n > 0 && mysql_stmt_bind_param(st, b) != 0) ||
	    mysql_stmt_execute(st) != 0) {
		r = map_err(m, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	if (k->changes != NULL)
		*k->changes = (int64_t)mysql_stmt_affected_rows(st);
	if (k->last_id != NULL)
		*k->last_id = (int64_t)mysql_stmt_insert_id(st);
	r = fetch_all(m, st, k->fn, k->arg);
 out:
	if (b != small)
		free(b);
	unprepare(c, st);
	return r;
}

/* Outside a transaction: borrow a connection; reconnect once if lost. */
static int
run(struct my *m, const struct call *k)
{
	struct my_conn *c;
	int attempt, r = 0;

	if (m->tx != NULL) {
		r = run_on(m, m->tx, k);
		return r == TSM_STORE_ERR_CONNECT ? TSM_STORE_ERR_RETRY : r;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = tsm_my_acquire(m->pool, &c, m->err,
		    sizeof(m->err))) != 0)
			return r;
		r = run_on(m, c, k);
		tsm_my_release(m->pool, c, r == TSM_STORE_ERR_CONNECT);
		if (r != TSM_STORE_ERR_CONNECT)
			break;
	}
	return r;
}

static int
my_exec(void *p, const char *sql, const struct tsm_val *v, size_t n,
    int64_t *changes, int64_t *last_id)
{
	struct call k = { sql, v, n, NULL, NULL, changes, last_id };

	return run(p, &k);
}

static int
my_query(void *p, const char *sql, const struct tsm_val *v, size_t n,
    tsm_row_fn fn, void *arg)
{
	struct call k = { sql, v, n, fn, arg, NULL, NULL };

	return run(p, &k);
}

static int
plain(struct my *m, MYSQL *my, const char *sql, size_t len)
{
	if (mysql_real_query(my, sql, (unsigned long)len) != 0)
		return map_err(m, mysql_errno(my), mysql_error(my));
	return 0;
}

static int
my_begin(void *p)
{
	struct my *m = p;
	int attempt, r = 0;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = tsm_my_acquire(m->pool, &m->tx, m->err,
		    sizeof(m->err))) != 0)
			return r;
		if ((r = plain(m, m->tx->my, "START TRANSACTION", 17)) == 0)
			return 0;
		tsm_my_release(m->pool, m->tx, r == TSM_STORE_ERR_CONNECT);
		m->tx = NULL;
		if (r != TSM_STORE_ERR_CONNECT)
			break;
	}
	return r;
}

static int
my_end(struct my *m, const char *sql)
{
	int r;

	if (m->tx == NULL)
		return 0;
	r = plain(m, m->tx->my, sql, strlen(sql));
	tsm_my_release(m->pool, m->tx, r == TSM_STORE_ERR_CONNECT);
	m->tx = NULL;
	/* a commit whose connection died may or may not have happened */
	return r == TSM_STORE_ERR_CONNECT ? TSM_STORE_ERR_CONNECT : r;
}

static int
my_commit(void *p)
{
	return my_end(p, "COMMIT");
}

static int
my_rollback(void *p)
{
	return my_end(p, "ROLLBACK");
}

/* Migration text: statements end with ';' at the end of a line. */
static int
my_script(void *p, const char *sql)
{
	struct my *m = p;
	struct my_conn *c;
	const char *s = sql, *e;
	int r = 0;

	if ((c = m->tx) == NULL && (r = tsm_my_acquire(m->pool, &c, m->err,
	    sizeof(m->err))) != 0)
		return r;
	while (r == 0 && *s != '\0') {
		if ((e = strstr(s, ";\n")) == NULL)
			e = s + strlen(s);
		while (*s == '\n' || *s == ' ' || *s == '\t')
			s++;
		if (e > s)
			r = plain(m, c->my, s, (size_t)(e - s));
		s = *e != '\0' ? e + 2 : e;
	}
	if (c != m->tx)
		tsm_my_release(m->pool, c, r == TSM_STORE_ERR_CONNECT);
	return r;
}

static int
bytes_row(void *arg, const struct tsm_val *c, size_t n)
{
	char buf[32];

	if (n > 0 && c[0].t == TSM_V_INT)
		*(int64_t *)arg = c[0].i;
	else if (n > 0) {
		tsm_v_copy(&c[0], buf, sizeof(buf));
		*(int64_t *)arg = strtoll(buf, NULL, 10);
	}
	return 0;
}

static int
my_disk_bytes(void *p, int64_t *bytes)
{
	static const char sql[] = "SELECT CAST(COALESCE(SUM(data_length + "
	    "index_length), 0) AS SIGNED) FROM information_schema.tables "
	    "WHERE table_schema = DATABASE()";

	*bytes = 0;
	return my_query(p, sql, NULL, 0, bytes_row, bytes);
}

static const char *
my_errmsg(void *p)
{
	return ((struct my *)p)->err;
}

static const char *
my_kek_path(void *p)
{
	(void)p;
	return NULL;	/* a server store has no natural place: --key-file */
}

const struct tsm_store_backend tsm_store_mariadb = {
	"mariadb", TSM_DIALECT_MARIADB, tsm_store_mariadb_migrations,
	my_open, my_close, my_exec, my_query, my_begin, my_commit,
	my_rollback, my_script, my_disk_bytes, my_errmsg, my_kek_path,
};
