/*
 * The operations queue and the writes of a provisioning session (ops.h):
 * every change a session makes to the store is one transaction, with its
 * audit records, so a killed server leaves an operation either as it was
 * (queued or running, reconciled at the next contact) or finished.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/ops.h"
#include "store/store_int.h"

static const char sql_op_insert[] =
    "INSERT INTO operations (kind, card_id, payload, idem_key, state,"
    " attempts, created, updated) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?)";
static const char sql_op_by_idem[] =
    "SELECT id FROM operations WHERE idem_key = ?";
#define OP_COLS "SELECT id, card_id, kind, state, attempts, payload," \
    " result, created FROM operations"
static const char sql_op_get[] = OP_COLS " WHERE id = ?";
static const char sql_op_pending[] = OP_COLS
    " WHERE card_id = ? AND state IN ('queued', 'running', 'uncertain')"
    " ORDER BY id LIMIT ?";
static const char sql_op_card[] = OP_COLS
    " WHERE card_id = ? ORDER BY id";
/* Running for a session: an operation still to settle (queued, or one
 * a session left running or uncertain), never a finished one. */
static const char sql_op_running[] =
    "UPDATE operations SET state = 'running', attempts = attempts + 1,"
    " session_id = ?, updated = ? WHERE id = ? AND card_id = ?"
    " AND state IN ('queued', 'running', 'uncertain')";
/* The claim of a pre-computed script: queued operations only, so that
 * its miss may put back exactly what it took. */
static const char sql_op_claim[] =
    "UPDATE operations SET state = 'running', attempts = attempts + 1,"
    " session_id = ?, updated = ? WHERE id = ? AND card_id = ?"
    " AND state = 'queued'";
/* Only an operation in flight moves: a late writer (an abandoned
 * session) never undoes what a newer session settled. */
static const char sql_op_finish[] =
    "UPDATE operations SET state = ?, result = ?, updated = ?"
    " WHERE id = ? AND card_id = ? AND state IN ('running', 'uncertain')";
/* An operation tsmd refused while planning (malformed payload, a CAP file
 * that does not check): it was never sent, so it is still queued, and
 * only a queued one moves (another session may have taken it since). */
static const char sql_op_refuse[] =
    "UPDATE operations SET state = ?, result = ?, updated = ?"
    " WHERE id = ? AND card_id = ? AND state = 'queued'";
/* The same for a script that never reached the card (a pre-computed
 * one the card did not match): back to the queue, no attempt counted. */
static const char sql_op_unsent[] =
    "UPDATE operations SET state = 'queued', result = ?, updated = ?,"
    " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
    " WHERE id = ? AND card_id = ? AND state = 'running'"
    " AND session_id = ?";
static const char sql_card_kdd[] =
    "SELECT csn FROM cards WHERE kdd = ? ORDER BY id LIMIT 2";
static const char sql_card_contact[] =
    "UPDATE cards SET last_contact = ?, updated = ? WHERE id = ?";
static const char sql_card_gp[] =
    "UPDATE cards SET gp_state = ?, updated = ? WHERE id = ?";
static const char sql_sess_insert[] =
    "INSERT INTO sessions (id, card_id, state, created, updated)"
    " VALUES (?, ?, 'running', ?, ?)";
static const char sql_sess_end[] =
    "UPDATE sessions SET state = ?, updated = ? WHERE id = ?";
static const char sql_chan_del[] =
    "DELETE FROM card_channel WHERE card_id = ?";
static const char sql_chan_add[] =
    "INSERT INTO card_channel (card_id, kvn, scp, scp_i, seq, agent,"
    " updated) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char sql_chan_get[] =
    "SELECT kvn, scp, scp_i, seq, agent FROM card_channel WHERE card_id = ?";
static const char sql_provider_get[] =
    "SELECT id FROM providers WHERE name = ?";
static const char sql_provider_add[] =
    "INSERT INTO providers (name, created) VALUES (?, ?)";
static const char sql_app_get[] =
    "SELECT id FROM applications WHERE provider_id = ? AND name = ?";
static const char sql_app_add[] =
    "INSERT INTO applications (provider_id, name, package_aid)"
    " VALUES (?, ?, ?)";
static const char sql_ver_get[] =
    "SELECT id, cap_sha256 FROM app_versions WHERE app_id = ? AND"
    " version = ?";
static const char sql_ver_add[] =
    "INSERT INTO app_versions (app_id, version, cap_sha256, cap_size,"
    " approval, created, cap) VALUES (?, ?, ?, ?, 'approved', ?, ?)";
/* A version registered before schema 0005 gets its bytes once. */
static const char sql_ver_fill[] =
    "UPDATE app_versions SET cap = ? WHERE id = ? AND cap IS NULL";
static const char sql_ver_cap[] =
    "SELECT cap FROM app_versions WHERE id = ? AND cap_sha256 = ?";
static const char sql_inst_list[] =
    "SELECT i.instance_aid, a.package_aid, i.gp_state, i.version_id"
    " FROM app_instances i JOIN app_versions v ON v.id = i.version_id"
    " JOIN applications a ON a.id = v.app_id WHERE i.card_id = ?"
    " ORDER BY i.instance_aid";
static const char sql_inst_del[] =
    "DELETE FROM app_instances WHERE card_id = ? AND instance_aid = ?";
/* DELETE of a load file with related objects takes its instances. */
static const char sql_inst_del_pkg[] =
    "DELETE FROM app_instances WHERE card_id = ? AND version_id IN"
    " (SELECT v.id FROM app_versions v JOIN applications a"
    " ON a.id = v.app_id WHERE a.package_aid = ?)";
static const char sql_inst_state[] =
    "UPDATE app_instances SET gp_state = ?, updated = ?"
    " WHERE card_id = ? AND instance_aid = ?";
static const char sql_keys_del[] =
    "DELETE FROM card_keys WHERE card_id = ?";
static const char sql_keys_add[] =
    "INSERT INTO card_keys (card_id, key_version, key_id, key_type, kcv)"
    " VALUES (?, ?, ?, ?, ?)";
static const char sql_keys_get[] =
    "SELECT key_version, key_id, kcv FROM card_keys WHERE card_id = ?"
    " ORDER BY key_version DESC, key_id";
static const char sql_inst_add[] =
    "INSERT INTO app_instances (card_id, version_id, instance_aid,"
    " gp_state, updated) VALUES (?, ?, ?, ?, ?)";

void
tsm_op_clear(struct tsm_op *op)
{
	free(op->payload);
	memset(op, 0, sizeof(*op));
}

static int
id_row(void *arg, const struct tsm_val *c, size_t n)
{
	if (n < 1 || c[0].t != TSM_V_INT)
		return TSM_STORE_ERR_DB;
	*(int64_t *)arg = c[0].i;
	return 1;
}

/* 0 and *id, TSM_STORE_ERR_NOTFOUND, or an error. */
static int
get_id(struct tsm_store *s, const char *sql, const struct tsm_val *v,
    size_t n, int64_t *id)
{
	int r;

	*id = 0;
	r = s->be->query(s->db, sql, v, n, id_row, id);
	if (r == 1)
		return 0;
	return r == 0 ? TSM_STORE_ERR_NOTFOUND : r;
}

struct queue_args {
	const char	*csn, *kind, *payload, *idem, *actor;
	int64_t		*id;
	int		*existed;
};

static int
queue_fn(struct tsm_store *s, void *arg)
{
	struct queue_args *a = arg;
	struct tsm_card k;
	struct tsm_val v[6];
	char detail[256];
	int64_t now = tsm_now_ms();
	int r;

	*a->existed = 0;
	v[0] = tsm_v_text(a->idem);
	if ((r = get_id(s, sql_op_by_idem, v, 1, a->id)) == 0) {
		*a->existed = 1;
		return 0;
	}
	if (r != TSM_STORE_ERR_NOTFOUND)
		return r;
	if ((r = tsm_card_load_tx(s, a->csn, 1, &k)) != 0)
		return r;
	v[0] = tsm_v_text(a->kind);
	v[1] = tsm_v_int(k.id);
	v[2] = tsm_v_text(a->payload);
	v[3] = tsm_v_text(a->idem);
	v[4] = tsm_v_int(now);
	v[5] = tsm_v_int(now);
	if ((r = s->be->exec(s->db, sql_op_insert, v, 6, NULL, a->id)) != 0)
		return r;
	snprintf(detail, sizeof(detail), "{\"op\":%lld,\"kind\":\"%s\"}",
	    (long long)*a->id, a->kind);
	return tsm_audit_append_tx(s, a->actor, "op.queue", k.csn, detail);
}

int
tsm_store_op_queue(struct tsm_store *s, const char *csn, const char *kind,
    const char *payload, const char *idem_key, const char *actor,
    int64_t *id, int *existed)
{
	struct queue_args a = { csn, kind, payload, idem_key, actor, id,
	    existed };
	int dummy;

	if (csn == NULL || kind == NULL || idem_key == NULL ||
	    *idem_key == '\0' || strlen(kind) >= 16 || strlen(idem_key) > 128)
		return TSM_STORE_ERR_INVAL;
	if (payload != NULL && strlen(payload) > TSM_OP_PAYLOAD_MAX)
		return TSM_STORE_ERR_TOOLARGE;
	if (existed == NULL)
		a.existed = &dummy;
	if (actor == NULL)
		a.actor = "system";
	return tsm_store_tx(s, queue_fn, &a);
}

struct op_list {
	struct tsm_op	*ops;
	size_t		 cap;
	size_t		 n;
};

static int
op_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct op_list *l = arg;
	struct tsm_op *op;

	if (n < 8)
		return TSM_STORE_ERR_DB;
	if (l->n == l->cap)
		return TSM_STORE_ERR_TOOLARGE;
	op = &l->ops[l->n];
	memset(op, 0, sizeof(*op));
	op->id = c[0].t == TSM_V_INT ? c[0].i : 0;
	op->card_id = c[1].t == TSM_V_INT ? c[1].i : 0;
	tsm_v_copy(&c[2], op->kind, sizeof(op->kind));
	tsm_v_copy(&c[3], op->state, sizeof(op->state));
	op->attempts = c[4].t == TSM_V_INT ? (int)c[4].i : 0;
	if (c[5].t == TSM_V_TEXT || c[5].t == TSM_V_BLOB) {
		if (c[5].n > TSM_OP_PAYLOAD_MAX)
			return TSM_STORE_ERR_TOOLARGE;
		if ((op->payload = malloc(c[5].n + 1)) == NULL)
			return TSM_STORE_ERR_NOMEM;
		memcpy(op->payload, c[5].p, c[5].n);
		op->payload[c[5].n] = '\0';
	}
	tsm_v_copy(&c[6], op->result, sizeof(op->result));
	op->created = c[7].t == TSM_V_INT ? c[7].i : 0;
	l->n++;
	return 0;
}

static void
op_list_free(struct op_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		tsm_op_clear(&l->ops[i]);
	l->n = 0;
}

int
tsm_store_op_get(struct tsm_store *s, int64_t id, struct tsm_op *op)
{
	struct op_list l = { op, 1, 0 };
	struct tsm_val v = tsm_v_int(id);
	int r;

	if ((r = s->be->query(s->db, sql_op_get, &v, 1, op_row, &l)) < 0) {
		op_list_free(&l);
		return r;
	}
	return l.n == 1 ? 0 : TSM_STORE_ERR_NOTFOUND;
}

int
tsm_store_op_pending(struct tsm_store *s, int64_t card_id,
    struct tsm_op *ops, size_t cap, size_t *n)
{
	struct op_list l = { ops, cap, 0 };
	struct tsm_val v[2];
	int r;

	*n = 0;
	v[0] = tsm_v_int(card_id);
	v[1] = tsm_v_int((int64_t)cap + 1);
	if ((r = s->be->query(s->db, sql_op_pending, v, 2, op_row, &l)) < 0) {
		op_list_free(&l);
		return r;
	}
	*n = l.n;
	return 0;
}

struct list_cb {
	tsm_op_fn	 fn;
	void		*arg;
};

static int
op_list_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct list_cb *cb = arg;
	struct tsm_op op;
	struct op_list l = { &op, 1, 0 };
	int r;

	if ((r = op_row(&l, c, n)) != 0)
		return r;
	r = cb->fn(cb->arg, &op);
	tsm_op_clear(&op);
	return r;
}

int
tsm_store_op_list(struct tsm_store *s, int64_t card_id, tsm_op_fn fn,
    void *arg)
{
	struct list_cb cb = { fn, arg };
	struct tsm_val v = tsm_v_int(card_id);
	int r;

	r = s->be->query(s->db, sql_op_card, &v, 1, op_list_row, &cb);
	return r < 0 ? r : 0;
}

static int
csn_row(void *arg, const struct tsm_val *c, size_t n)
{
	char (*csn)[2][TSM_CSN_MAX + 1] = arg;

	if (n < 1)
		return TSM_STORE_ERR_DB;
	if ((*csn)[0][0] == '\0') {
		tsm_v_copy(&c[0], (*csn)[0], TSM_CSN_MAX + 1);
		return 0;
	}
	tsm_v_copy(&c[0], (*csn)[1], TSM_CSN_MAX + 1);
	return 1;
}

/* The CSN of the card with kdd: 0, NOTFOUND, or EXISTS when two share it
 * (the first in csn either way). */
static int
kdd_csn(struct tsm_store *s, const char *kdd, char csn[TSM_CSN_MAX + 1])
{
	char found[2][TSM_CSN_MAX + 1];
	struct tsm_val v = tsm_v_text(kdd);
	int r;

	if (kdd == NULL || *kdd == '\0')
		return TSM_STORE_ERR_INVAL;
	memset(found, 0, sizeof(found));
	if ((r = s->be->query(s->db, sql_card_kdd, &v, 1, csn_row,
	    &found)) < 0)
		return r;
	memcpy(csn, found[0], TSM_CSN_MAX + 1);
	if (found[0][0] == '\0')
		return TSM_STORE_ERR_NOTFOUND;
	return found[1][0] != '\0' ? TSM_STORE_ERR_EXISTS : 0;
}

int
tsm_store_card_find_kdd(struct tsm_store *s, const char *kdd,
    struct tsm_card *k)
{
	char csn[TSM_CSN_MAX + 1];
	int r;

	if ((r = kdd_csn(s, kdd, csn)) != 0)
		return r;	/* EXISTS: ambiguous, two cards */
	return tsm_card_load_tx(s, csn, 0, k);
}

int
tsm_store_card_kdd_sole(struct tsm_store *s, const char *kdd,
    const char *csn)
{
	char found[TSM_CSN_MAX + 1];
	int r;

	if (csn == NULL)
		return TSM_STORE_ERR_INVAL;
	if ((r = kdd_csn(s, kdd, found)) != 0)
		return r;
	return strcmp(found, csn) == 0 ? 0 : TSM_STORE_ERR_NOTFOUND;
}

/* Looks a row id up, inserting the row when it is missing. */
static int
ensure(struct tsm_store *s, const char *get, const struct tsm_val *gv,
    size_t gn, const char *add, const struct tsm_val *av, size_t an,
    int64_t *id)
{
	int r;

	if ((r = get_id(s, get, gv, gn, id)) != TSM_STORE_ERR_NOTFOUND)
		return r;
	return s->be->exec(s->db, add, av, an, NULL, id);
}

struct ver_row {
	int64_t	 id;
	char	 sha[65];
};

static int
ver_row_fn(void *arg, const struct tsm_val *c, size_t n)
{
	struct ver_row *v = arg;

	if (n < 2 || c[0].t != TSM_V_INT)
		return TSM_STORE_ERR_DB;
	v->id = c[0].i;
	tsm_v_copy(&c[1], v->sha, sizeof(v->sha));
	return 1;
}

struct app_args {
	const struct tsm_app_ref	*a;
	int64_t				*vid;
};

static int
app_fn(struct tsm_store *s, void *arg)
{
	struct app_args *x = arg;
	const struct tsm_app_ref *a = x->a;
	struct tsm_val v[6];
	struct ver_row vr;
	int64_t pid, aid, now = tsm_now_ms();
	int r;

	v[0] = tsm_v_text(a->provider);
	v[1] = tsm_v_int(now);
	if ((r = ensure(s, sql_provider_get, v, 1, sql_provider_add, v, 2,
	    &pid)) != 0)
		return r;
	v[0] = tsm_v_int(pid);
	v[1] = tsm_v_text(a->name);
	v[2] = tsm_v_text(a->package_aid);
	if ((r = ensure(s, sql_app_get, v, 2, sql_app_add, v, 3, &aid)) != 0)
		return r;
	v[0] = tsm_v_int(aid);
	v[1] = tsm_v_text(a->version);
	memset(&vr, 0, sizeof(vr));
	if ((r = s->be->query(s->db, sql_ver_get, v, 2, ver_row_fn,
	    &vr)) < 0)
		return r;
	if (r == 1) {
		/* A version is immutable: other bytes need another version. */
		if (strcmp(vr.sha, a->cap_sha256) != 0)
			return TSM_STORE_ERR_EXISTS;
		*x->vid = vr.id;
		if (a->cap == NULL)
			return 0;
		v[0] = tsm_v_blob(a->cap, a->cap_len);
		v[1] = tsm_v_int(vr.id);
		return s->be->exec(s->db, sql_ver_fill, v, 2, NULL, NULL);
	}
	v[2] = tsm_v_text(a->cap_sha256);
	v[3] = tsm_v_int(a->cap_size);
	v[4] = tsm_v_int(now);
	v[5] = a->cap != NULL ? tsm_v_blob(a->cap, a->cap_len) :
	    tsm_v_text(NULL);		/* NULL */
	return s->be->exec(s->db, sql_ver_add, v, 6, NULL, x->vid);
}

int
tsm_store_app_version_ensure(struct tsm_store *s,
    const struct tsm_app_ref *a, int64_t *version_id)
{
	struct app_args x = { a, version_id };

	if (a->provider == NULL || a->name == NULL || a->package_aid == NULL ||
	    a->version == NULL || a->cap_sha256 == NULL)
		return TSM_STORE_ERR_INVAL;
	return tsm_store_tx(s, app_fn, &x);
}

struct cap_row {
	uint8_t	*p;
	size_t	 n;
};

static int
cap_row_fn(void *arg, const struct tsm_val *c, size_t n)
{
	struct cap_row *x = arg;

	if (n < 1 || c[0].t != TSM_V_BLOB || c[0].n == 0)
		return 0;		/* NULL: registered without its bytes */
	if (c[0].n > TSM_CAP_FILE_MAX)
		return TSM_STORE_ERR_DB;
	if ((x->p = malloc(c[0].n)) == NULL)
		return TSM_STORE_ERR_NOMEM;
	memcpy(x->p, c[0].p, c[0].n);
	x->n = c[0].n;
	return 1;
}

int
tsm_store_app_version_cap(struct tsm_store *s, int64_t version_id,
    const char *cap_sha256, uint8_t **cap, size_t *len)
{
	struct cap_row x = { NULL, 0 };
	struct tsm_val v[2];
	int r;

	*cap = NULL;
	*len = 0;
	if (version_id < 1 || cap_sha256 == NULL)
		return TSM_STORE_ERR_INVAL;
	v[0] = tsm_v_int(version_id);
	v[1] = tsm_v_text(cap_sha256);
	if ((r = s->be->query(s->db, sql_ver_cap, v, 2, cap_row_fn, &x)) < 0) {
		free(x.p);
		return r;
	}
	if (x.p == NULL)
		return TSM_STORE_ERR_NOTFOUND;
	*cap = x.p;
	*len = x.n;
	return 0;
}

struct inst_args {
	tsm_instance_fn	 fn;
	void		*arg;
};

static int
inst_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct inst_args *a = arg;
	struct tsm_instance in;

	if (n < 4)
		return TSM_STORE_ERR_DB;
	memset(&in, 0, sizeof(in));
	tsm_v_copy(&c[0], in.aid, sizeof(in.aid));
	tsm_v_copy(&c[1], in.package_aid, sizeof(in.package_aid));
	tsm_v_copy(&c[2], in.gp_state, sizeof(in.gp_state));
	in.version_id = c[3].t == TSM_V_INT ? c[3].i : 0;
	return a->fn(a->arg, &in);
}

int
tsm_store_instance_list(struct tsm_store *s, int64_t card_id,
    tsm_instance_fn fn, void *arg)
{
	struct inst_args a = { fn, arg };
	struct tsm_val v = tsm_v_int(card_id);
	int r;

	r = s->be->query(s->db, sql_inst_list, &v, 1, inst_row, &a);
	return r < 0 ? r : 0;
}

struct begin_args {
	const char	*sid, *agent;
	int64_t		 card_id;
	const int64_t	*ids;
	size_t		 n;
	int		 claim;		/* queued operations only */
	int		 row;		/* write the session row */
};

static int
running(struct tsm_store *s, const struct begin_args *a, int64_t now)
{
	struct tsm_val v[4];
	int64_t changed;
	size_t i;
	int r;

	for (i = 0; i < a->n; i++) {
		v[0] = tsm_v_text(a->sid);
		v[1] = tsm_v_int(now);
		v[2] = tsm_v_int(a->ids[i]);
		v[3] = tsm_v_int(a->card_id);
		if ((r = s->be->exec(s->db, a->claim ? sql_op_claim :
		    sql_op_running, v, 4, &changed, NULL)) != 0)
			return r;
		if (changed != 1)	/* gone, finished, or another's */
			return TSM_STORE_ERR_NOTFOUND;
	}
	return 0;
}

static int
begin_fn(struct tsm_store *s, void *arg)
{
	struct begin_args *a = arg;
	struct tsm_val v[4];
	int64_t now = tsm_now_ms();
	int r;

	if (!a->row)
		return running(s, a, now);
	v[0] = tsm_v_text(a->sid);
	v[1] = tsm_v_int(a->card_id);
	v[2] = tsm_v_int(now);
	v[3] = tsm_v_int(now);
	if ((r = s->be->exec(s->db, sql_sess_insert, v, 4, NULL, NULL)) != 0)
		return r;
	v[0] = tsm_v_int(now);
	v[1] = tsm_v_int(now);
	v[2] = tsm_v_int(a->card_id);
	if ((r = s->be->exec(s->db, sql_card_contact, v, 3, NULL, NULL)) != 0)
		return r;
	return running(s, a, now);
}

static int
begin(struct tsm_store *s, const char *sid, int64_t card_id,
    const char *agent, const int64_t *op_ids, size_t n, int claim, int row)
{
	struct begin_args a = { sid, agent, card_id, op_ids, n, claim, row };

	if (sid == NULL || *sid == '\0' || (n > 0 && op_ids == NULL))
		return TSM_STORE_ERR_INVAL;
	return tsm_store_tx(s, begin_fn, &a);
}

int
tsm_store_session_begin(struct tsm_store *s, const char *sid,
    int64_t card_id, const char *agent, const int64_t *op_ids, size_t n)
{
	return begin(s, sid, card_id, agent, op_ids, n, 0, 1);
}

int
tsm_store_session_claim(struct tsm_store *s, const char *sid,
    int64_t card_id, const char *agent, const int64_t *op_ids, size_t n)
{
	return begin(s, sid, card_id, agent, op_ids, n, 1, 1);
}

int
tsm_store_ops_running(struct tsm_store *s, const char *sid, int64_t card_id,
    const int64_t *op_ids, size_t n)
{
	return begin(s, sid, card_id, NULL, op_ids, n, 0, 0);
}

/* Back to the queue, if this session's claim still holds it. */
static int
unsent(struct tsm_store *s, const struct tsm_session_end *e,
    const struct tsm_op_outcome *o, int64_t now, int64_t *changed)
{
	struct tsm_val v[5];

	v[0] = tsm_v_text(o->result);
	v[1] = tsm_v_int(now);
	v[2] = tsm_v_int(o->op_id);
	v[3] = tsm_v_int(e->card_id);
	v[4] = tsm_v_text(e->sid);
	return s->be->exec(s->db, sql_op_unsent, v, 5, changed, NULL);
}

static int
end_op(struct tsm_store *s, const struct tsm_session_end *e,
    const struct tsm_op_outcome *o, int64_t now)
{
	struct tsm_val v[5];
	char detail[512];
	int64_t changed = 0;
	int r;

	v[0] = tsm_v_text(o->state);
	v[1] = tsm_v_text(o->result);
	v[2] = tsm_v_int(now);
	v[3] = tsm_v_int(o->op_id);
	v[4] = tsm_v_int(e->card_id);
	if (e->unsent && strcmp(o->state, "queued") == 0)
		r = unsent(s, e, o, now, &changed);	/* what it claimed */
	else if (o->refused && strcmp(o->state, "failed") == 0)
		r = s->be->exec(s->db, sql_op_refuse, v, 5, &changed, NULL);
	else
		r = s->be->exec(s->db, sql_op_finish, v, 5, &changed, NULL);
	if (r != 0)
		return r;
	/* An abandoned session whose operation another session already
	 * finished changes nothing: it must not audit an outcome either. */
	if (changed == 0)
		return 0;
	snprintf(detail, sizeof(detail), "{\"op\":%lld,\"state\":\"%s\","
	    "\"session\":\"%s\",\"agent\":\"%s\"}", (long long)o->op_id,
	    o->state, e->sid, e->agent != NULL ? e->agent : "");
	return tsm_audit_append_tx(s, "tsmd", "op.result", e->csn, detail);
}

static int
end_instance(struct tsm_store *s, const struct tsm_session_end *e,
    const struct tsm_instance_change *c, int64_t now)
{
	struct tsm_val v[5];
	int r;

	v[0] = tsm_v_int(e->card_id);
	v[1] = tsm_v_text(c->aid);
	if (c->gp_state == NULL) {
		if ((r = s->be->exec(s->db, sql_inst_del, v, 2, NULL,
		    NULL)) != 0)
			return r;
		return s->be->exec(s->db, sql_inst_del_pkg, v, 2, NULL, NULL);
	}
	if (c->version_id == 0) {	/* a state change only */
		v[0] = tsm_v_text(c->gp_state);
		v[1] = tsm_v_int(now);
		v[2] = tsm_v_int(e->card_id);
		v[3] = tsm_v_text(c->aid);
		return s->be->exec(s->db, sql_inst_state, v, 4, NULL, NULL);
	}
	/* Delete then insert: MariaDB's affected rows count only rows whose
	 * values changed, so an UPDATE cannot tell "absent" from "same". */
	if ((r = s->be->exec(s->db, sql_inst_del, v, 2, NULL, NULL)) != 0)
		return r;
	v[0] = tsm_v_int(e->card_id);
	v[1] = tsm_v_int(c->version_id);
	v[2] = tsm_v_text(c->aid);
	v[3] = tsm_v_text(c->gp_state);
	v[4] = tsm_v_int(now);
	return s->be->exec(s->db, sql_inst_add, v, 5, NULL, NULL);
}

/* The card's new ISD key set: versions and KCVs, never a key value. */
static int
end_keys(struct tsm_store *s, const struct tsm_session_end *e)
{
	struct tsm_val v[5];
	char detail[256];
	int r, k;

	v[0] = tsm_v_int(e->card_id);
	if ((r = s->be->exec(s->db, sql_keys_del, v, 1, NULL, NULL)) != 0)
		return r;
	for (k = 0; k < 3; k++) {
		v[0] = tsm_v_int(e->card_id);
		v[1] = tsm_v_int(e->new_kvn);
		v[2] = tsm_v_int(k + 1);
		v[3] = tsm_v_text(e->key_type != NULL ? e->key_type : "AES");
		v[4] = tsm_v_text(e->kcv[k]);
		if ((r = s->be->exec(s->db, sql_keys_add, v, 5, NULL,
		    NULL)) != 0)
			return r;
	}
	snprintf(detail, sizeof(detail), "{\"kvn\":%d,\"kcv\":[\"%.6s\","
	    "\"%.6s\",\"%.6s\"],\"session\":\"%s\"}", e->new_kvn,
	    e->kcv[0] ? e->kcv[0] : "", e->kcv[1] ? e->kcv[1] : "",
	    e->kcv[2] ? e->kcv[2] : "", e->sid);
	return tsm_audit_append_tx(s, "tsmd", "card.keys", e->csn, detail);
}

/* Inventory state -> terminated, as tsm_store_card_transition does. */
static int
end_terminated(struct tsm_store *s, const struct tsm_session_end *e,
    int64_t now)
{
	struct tsm_transition t;
	struct tsm_card k;
	struct tsm_val v[7];
	char why[128], detail[200];
	int noop, r;

	if ((r = tsm_card_load_tx(s, e->csn, 1, &k)) != 0)
		return r;
	memset(&t, 0, sizeof(t));
	t.to = TSM_CARD_TERMINATED;
	t.actor = "tsmd";
	t.reason = "terminated on the card";
	if ((r = tsm_lifecycle_check(&k, &t, &noop, why, sizeof(why))) != 0 ||
	    noop)
		return r;
	v[0] = tsm_v_text(tsm_card_state_name(TSM_CARD_TERMINATED));
	v[1] = tsm_v_text(k.location);
	v[2] = k.holder_id > 0 ? tsm_v_int(k.holder_id) : tsm_v_text(NULL);
	v[3] = tsm_v_int(now);
	v[4] = tsm_v_int(k.id);
	if ((r = s->be->exec(s->db, tsm_sql_card_update, v, 5, NULL,
	    NULL)) != 0)
		return r;
	v[0] = tsm_v_int(k.id);
	v[1] = tsm_v_text(tsm_card_state_name(k.state));
	v[2] = tsm_v_text(tsm_card_state_name(TSM_CARD_TERMINATED));
	v[3] = tsm_v_text(k.location);
	v[4] = tsm_v_text(t.actor);
	v[5] = tsm_v_text(t.reason);
	v[6] = tsm_v_int(now);
	if ((r = s->be->exec(s->db, tsm_sql_history_add, v, 7, NULL,
	    NULL)) != 0)
		return r;
	snprintf(detail, sizeof(detail), "{\"from\":\"%s\",\"to\":"
	    "\"terminated\",\"session\":\"%s\"}",
	    tsm_card_state_name(k.state), e->sid);
	return tsm_audit_append_tx(s, "tsmd", "card.transition", k.csn,
	    detail);
}

/* Delete then insert, for the same reason as end_instance. */
static int
end_channel(struct tsm_store *s, const struct tsm_session_end *e,
    int64_t now)
{
	const struct tsm_card_channel *c = e->channel;
	struct tsm_val v[7];
	int r;

	v[0] = tsm_v_int(e->card_id);
	if ((r = s->be->exec(s->db, sql_chan_del, v, 1, NULL, NULL)) != 0 ||
	    c->scp == 0)
		return r;
	v[1] = tsm_v_int(c->kvn);
	v[2] = tsm_v_int(c->scp);
	v[3] = tsm_v_int(c->i);
	v[4] = tsm_v_int((int64_t)c->seq);
	v[5] = tsm_v_text(e->agent);
	v[6] = tsm_v_int(now);
	return s->be->exec(s->db, sql_chan_add, v, 7, NULL, NULL);
}

static int
end_fn(struct tsm_store *s, void *arg)
{
	const struct tsm_session_end *e = arg;
	struct tsm_val v[3];
	int64_t now = tsm_now_ms();
	size_t i;
	int r;

	for (i = 0; i < e->nops; i++)
		if ((r = end_op(s, e, &e->ops[i], now)) != 0)
			return r;
	for (i = 0; i < e->ninst; i++)
		if ((r = end_instance(s, e, &e->inst[i], now)) != 0)
			return r;
	if (e->new_kvn > 0 && (r = end_keys(s, e)) != 0)
		return r;
	if (e->terminated && (r = end_terminated(s, e, now)) != 0)
		return r;
	if (e->channel != NULL && (r = end_channel(s, e, now)) != 0)
		return r;
	if (e->card_gp_state != NULL) {
		v[0] = tsm_v_text(e->card_gp_state);
		v[1] = tsm_v_int(now);
		v[2] = tsm_v_int(e->card_id);
		if ((r = s->be->exec(s->db, sql_card_gp, v, 3, NULL,
		    NULL)) != 0)
			return r;
	}
	v[0] = tsm_v_text(e->state);
	v[1] = tsm_v_int(now);
	v[2] = tsm_v_text(e->sid);
	return s->be->exec(s->db, sql_sess_end, v, 3, NULL, NULL);
}

int
tsm_store_session_end(struct tsm_store *s, const struct tsm_session_end *e)
{
	if (e->sid == NULL || e->csn == NULL || e->state == NULL ||
	    (e->nops > 0 && e->ops == NULL) ||
	    (e->ninst > 0 && e->inst == NULL))
		return TSM_STORE_ERR_INVAL;
	return tsm_store_tx(s, end_fn, (void *)(uintptr_t)e);
}

static int
chan_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct tsm_card_channel *ch = arg;
	size_t i;

	if (n < 5)
		return TSM_STORE_ERR_DB;
	for (i = 0; i < 4; i++)
		if (c[i].t != TSM_V_INT)
			return TSM_STORE_ERR_DB;
	tsm_v_copy(&c[4], ch->agent, sizeof(ch->agent));
	if (c[0].i < 0 || c[0].i > 0xFF || c[1].i < 1 || c[1].i > 3 ||
	    c[2].i < 0 || c[2].i > 0xFF || c[3].i < 0 || c[3].i > 0xFFFFFF)
		return TSM_STORE_ERR_DB;
	ch->kvn = (int)c[0].i;
	ch->scp = (int)c[1].i;
	ch->i = (int)c[2].i;
	ch->seq = (uint32_t)c[3].i;
	return 1;		/* one row */
}

int
tsm_store_card_channel(struct tsm_store *s, int64_t card_id,
    struct tsm_card_channel *ch)
{
	struct tsm_val v = tsm_v_int(card_id);
	int r;

	memset(ch, 0, sizeof(*ch));
	if ((r = s->be->query(s->db, sql_chan_get, &v, 1, chan_row, ch)) < 0)
		return r;
	return ch->scp == 0 ? TSM_STORE_ERR_NOTFOUND : 0;
}

struct kvn_acc {
	int	 kvn;
	int	 n;
	char	 (*kcv)[7];
};

static int
kvn_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct kvn_acc *a = arg;
	int64_t id;

	if (n < 3 || c[0].t != TSM_V_INT || c[1].t != TSM_V_INT)
		return TSM_STORE_ERR_DB;
	if (a->n == 0)
		a->kvn = (int)c[0].i;
	else if (c[0].i != a->kvn)
		return 1;	/* an older set: not the current one */
	id = c[1].i;
	if (a->kcv != NULL && id >= 1 && id <= 3)
		tsm_v_copy(&c[2], a->kcv[id - 1], 7);
	a->n++;
	return 0;
}

int
tsm_store_card_kvn(struct tsm_store *s, int64_t card_id, int *kvn,
    char kcv[3][7])
{
	struct kvn_acc a = { 0, 0, kcv };
	struct tsm_val v = tsm_v_int(card_id);
	int r;

	if (kcv != NULL)
		memset(kcv, 0, 3 * 7);
	if ((r = s->be->query(s->db, sql_keys_get, &v, 1, kvn_row, &a)) < 0)
		return r;
	if (a.n == 0)
		return TSM_STORE_ERR_NOTFOUND;
	*kvn = a.kvn;
	return 0;
}
