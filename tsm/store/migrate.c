/*
 * The migration runner: schema/<dialect>/NNNN_name.sql, compiled into the
 * binary, applied in order and recorded in schema_version. A migration
 * that says "-- tsm: destructive" runs only with explicit consent; a
 * database newer than the binary is refused, never "fixed".
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

static const char sql_version_table[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " name VARCHAR(190) NOT NULL, applied BIGINT NOT NULL)";
static const char sql_max_version[] =
    "SELECT COALESCE(MAX(version), 0) FROM schema_version";
static const char sql_record[] =
    "INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)";

static int
int_row(void *arg, const struct tsm_val *c, size_t n)
{
	if (n > 0 && c[0].t == TSM_V_INT)
		*(int64_t *)arg = c[0].i;
	return 0;
}

static int
latest(const struct tsm_store_migration *m)
{
	int v = 0;

	for (; m->sql != NULL; m++)
		v = m->version;
	return v;
}

static int
current_version(struct tsm_store *s, int *version)
{
	int64_t v = 0;
	int r;

	if ((r = s->be->exec(s->db, sql_version_table, NULL, 0, NULL,
	    NULL)) != 0)
		return r;
	if ((r = s->be->query(s->db, sql_max_version, NULL, 0, int_row,
	    &v)) != 0)
		return r;
	*version = (int)v;
	return 0;
}

int
tsm_store_status(struct tsm_store *s, struct tsm_store_status *st)
{
	const struct tsm_store_migration *m;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = current_version(s, &st->version)) != 0)
		return r;
	st->latest = latest(s->be->migrations);
	for (m = s->be->migrations; m->sql != NULL; m++)
		if (m->version > st->version)
			st->pending++;
	return 0;
}

static int
apply_one(struct tsm_store *s, void *arg)
{
	const struct tsm_store_migration *m = arg;
	struct tsm_val v[3];
	int r;

	if ((r = s->be->script(s->db, m->sql)) != 0)
		return r;
	v[0] = tsm_v_int(m->version);
	v[1] = tsm_v_text(m->name);
	v[2] = tsm_v_int(tsm_now_ms());
	return s->be->exec(s->db, sql_record, v, 3, NULL, NULL);
}

int
tsm_store_migrate(struct tsm_store *s, int allow_destructive, int *applied)
{
	const struct tsm_store_migration *m;
	struct tsm_store_status st;
	int r;

	*applied = 0;
	if ((r = tsm_store_status(s, &st)) != 0)
		return r;
	if (st.version > st.latest) {
		snprintf(s->err, sizeof(s->err), "database schema %d is newer "
		    "than this binary's %d", st.version, st.latest);
		return TSM_STORE_ERR_SCHEMA;
	}
	for (m = s->be->migrations; m->sql != NULL; m++) {
		if (m->version <= st.version)
			continue;
		if (strstr(m->sql, "-- tsm: destructive") != NULL &&
		    !allow_destructive) {
			snprintf(s->err, sizeof(s->err), "migration %04d_%s is "
			    "destructive", m->version, m->name);
			return TSM_STORE_ERR_DESTRUCTIVE;
		}
		if ((r = tsm_store_tx(s, apply_one, (void *)(uintptr_t)m)) != 0)
			return r;
		(*applied)++;
	}
	return 0;
}

int
tsm_store_check_schema(struct tsm_store *s)
{
	struct tsm_store_status st;
	int r;

	if ((r = tsm_store_status(s, &st)) != 0)
		return r;
	if (st.version != st.latest) {
		snprintf(s->err, sizeof(s->err), "database schema %d, binary "
		    "expects %d: run tsmctl db migrate", st.version, st.latest);
		return TSM_STORE_ERR_SCHEMA;
	}
	return 0;
}
