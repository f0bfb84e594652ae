/*
 * The SQLite backend: the embedded default. WAL journal, one connection
 * per handle, prepared statements cached by their (static) SQL text,
 * BEGIN IMMEDIATE so two writers queue on the lock instead of deadlocking
 * on an upgrade.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store/store_int.h"

#define STMT_CACHE	64

struct sq {
	sqlite3		*db;
	char		 path[4096];
	char		 kek[4200];
	struct {
		const char	*sql;
		sqlite3_stmt	*st;
	}		 cache[STMT_CACHE];
	int		 ncache;
	char		 err[256];
};

static int
map_err(struct sq *q, int rc)
{
	snprintf(q->err, sizeof(q->err), "sqlite: %s", sqlite3_errmsg(q->db));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return TSM_STORE_ERR_RETRY;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return TSM_STORE_ERR_EXISTS;
		return TSM_STORE_ERR_DB;
	case SQLITE_CANTOPEN:
		return TSM_STORE_ERR_CONNECT;
	default:
		return TSM_STORE_ERR_DB;
	}
}

/*
 * wal_autocheckpoint 8000 pages (32 MB of WAL) instead of 1000: a
 * checkpoint runs inside the COMMIT that crosses the mark, and under
 * tsmd's load it was 8% of tsmd's CPU, copying the same hot pages
 * (operations, sessions, audit) again and again; a longer interval copies
 * each once per interval (docs/BENCHMARKS.md, "tsmd end to end"). The
 * WAL file is cut back to 64 MB at most after a checkpoint
 * (journal_size_limit), instead of keeping its largest size.
 */
static int
sq_pragmas(struct sq *q)
{
	static const char *const pragmas =
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
	    "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=8000;"
	    "PRAGMA journal_size_limit=67108864;";
	int rc;

	sqlite3_busy_timeout(q->db, 10000);
	if ((rc = sqlite3_exec(q->db, pragmas, NULL, NULL, NULL)) != SQLITE_OK)
		return map_err(q, rc);
	return 0;
}

static int
sq_open(const char *url, const struct tsm_store_opts *o, void **out,
    char *err, size_t errlen)
{
	struct sq *q;
	int r, rc;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return TSM_STORE_ERR_NOMEM;
	url += strlen("sqlite:");
	if (strncmp(url, "//", 2) == 0)
		url += 2;
	if (*url == '\0' || strlen(url) >= sizeof(q->path)) {
		free(q);
		return TSM_STORE_ERR_URL;
	}
	snprintf(q->path, sizeof(q->path), "%s", url);
	snprintf(q->kek, sizeof(q->kek), "%s.kek", url);
	rc = sqlite3_open_v2(q->path, &q->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "sqlite: %s: %s", q->path,
		    q->db != NULL ? sqlite3_errmsg(q->db) : "cannot open");
		sqlite3_close(q->db);
		free(q);
		return TSM_STORE_ERR_CONNECT;
	}
	if ((r = sq_pragmas(q)) != 0) {
		snprintf(err, errlen, "%s", q->err);
		sqlite3_close(q->db);
		free(q);
		return r == TSM_STORE_ERR_RETRY ? TSM_STORE_ERR_BUSY : r;
	}
	*out = q;
	return 0;
}

static void
sq_close(void *p)
{
	struct sq *q = p;
	int i;

	for (i = 0; i < q->ncache; i++)
		sqlite3_finalize(q->cache[i].st);
	sqlite3_close(q->db);
	free(q);
}

static int
sq_prepare(struct sq *q, const char *sql, sqlite3_stmt **st)
{
	int i, rc;

	for (i = 0; i < q->ncache; i++) {
		if (q->cache[i].sql == sql) {
			*st = q->cache[i].st;
			return 0;
		}
	}
	if ((rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL)) != SQLITE_OK)
		return map_err(q, rc);
	if (q->ncache < STMT_CACHE) {
		q->cache[q->ncache].sql = sql;
		q->cache[q->ncache++].st = *st;
	}
	return 0;
}

static void
sq_release(struct sq *q, sqlite3_stmt *st)
{
	int i;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (i = 0; i < q->ncache; i++)
		if (q->cache[i].st == st)
			return;
	sqlite3_finalize(st);	/* cache full: not kept */
}

static int
sq_bind(struct sq *q, sqlite3_stmt *st, const struct tsm_val *v, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		switch (v[i].t) {
		case TSM_V_INT:
			rc = sqlite3_bind_int64(st, (int)i + 1, v[i].i);
			break;
		case TSM_V_TEXT:
			rc = sqlite3_bind_text(st, (int)i + 1, v[i].p,
			    (int)v[i].n, SQLITE_STATIC);
			break;
		case TSM_V_BLOB:
			rc = sqlite3_bind_blob(st, (int)i + 1, v[i].p,
			    (int)v[i].n, SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, (int)i + 1);
			break;
		}
		if (rc != SQLITE_OK)
			return map_err(q, rc);
	}
	return 0;
}

static int
sq_exec(void *p, const char *sql, const struct tsm_val *v, size_t n,
    int64_t *changes, int64_t *last_id)
{
	struct sq *q = p;
	sqlite3_stmt *st;
	int r, rc;

	if ((r = sq_prepare(q, sql, &st)) != 0)
		return r;
	if ((r = sq_bind(q, st, v, n)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		r = map_err(q, sqlite3_extended_errcode(q->db));
		goto out;
	}
	if (changes != NULL)
		*changes = sqlite3_changes(q->db);
	if (last_id != NULL)
		*last_id = sqlite3_last_insert_rowid(q->db);
	r = 0;
 out:
	sq_release(q, st);
	return r;
}

static void
sq_column(sqlite3_stmt *st, int i, struct tsm_val *v)
{
	memset(v, 0, sizeof(*v));
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		v->t = TSM_V_INT;
		v->i = sqlite3_column_int64(st, i);
		break;
	case SQLITE_TEXT:
		v->t = TSM_V_TEXT;
		v->p = sqlite3_column_text(st, i);
		v->n = (size_t)sqlite3_column_bytes(st, i);
		break;
	case SQLITE_BLOB:
		v->t = TSM_V_BLOB;
		v->p = sqlite3_column_blob(st, i);
		v->n = (size_t)sqlite3_column_bytes(st, i);
		break;
	default:
		v->t = TSM_V_NULL;
		break;
	}
}

static int
sq_query(void *p, const char *sql, const struct tsm_val *v, size_t n,
    tsm_row_fn fn, void *arg)
{
	struct sq *q = p;
	struct tsm_val cols[32];
	sqlite3_stmt *st;
	int i, nc, r, rc;

	if ((r = sq_prepare(q, sql, &st)) != 0)
		return r;
	if ((r = sq_bind(q, st, v, n)) != 0)
		goto out;
	nc = sqlite3_column_count(st);
	if (nc > 32)
		nc = 32;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < nc; i++)
			sq_column(st, i, &cols[i]);
		if ((r = fn(arg, cols, (size_t)nc)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = map_err(q, sqlite3_extended_errcode(q->db));
		goto out;
	}
	r = 0;
 out:
	sq_release(q, st);
	return r;
}

static int
sq_simple(struct sq *q, const char *sql)
{
	int rc;

	if ((rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return map_err(q, sqlite3_extended_errcode(q->db));
	return 0;
}

static int
sq_begin(void *p)
{
	return sq_simple(p, "BEGIN IMMEDIATE");
}

static int
sq_commit(void *p)
{
	return sq_simple(p, "COMMIT");
}

static int
sq_rollback(void *p)
{
	struct sq *q = p;

	if (sqlite3_get_autocommit(q->db))
		return 0;
	return sq_simple(p, "ROLLBACK");
}

static int
sq_script(void *p, const char *sql)
{
	return sq_simple(p, sql);
}

static int
sq_disk_bytes(void *p, int64_t *bytes)
{
	struct sq *q = p;
	char path[4200];
	struct stat sb;
	const char *sfx[] = { "", "-wal" };
	size_t i;

	*bytes = 0;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s%s", q->path, sfx[i]);
		if (stat(path, &sb) == 0)
			*bytes += (int64_t)sb.st_size;
		else if (i == 0)
			return TSM_STORE_ERR_IO;
	}
	return 0;
}

static const char *
sq_errmsg(void *p)
{
	return ((struct sq *)p)->err;
}

static const char *
sq_kek_path(void *p)
{
	return ((struct sq *)p)->kek;
}

const struct tsm_store_backend tsm_store_sqlite = {
	"sqlite", TSM_DIALECT_SQLITE, tsm_store_sqlite_migrations,
	sq_open, sq_close, sq_exec, sq_query, sq_begin, sq_commit,
	sq_rollback, sq_script, sq_disk_bytes, sq_errmsg, sq_kek_path,
};
