/*
 * Cards and products: lookup, listing, history, and lifecycle transitions
 * (checked by lifecycle.c, recorded in card_history and the audit chain
 * in the same transaction).
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

#define CARD_COLS \
    "SELECT c.id, c.csn, c.iin, c.cin, c.kdd, p.name, b.name," \
    " c.transport_kv, c.state, c.location, c.holder_id, c.gp_state," \
    " c.replaced_by, c.last_contact, c.free_memory, c.errors, c.updated" \
    " FROM cards c JOIN products p ON p.id = c.product_id" \
    " LEFT JOIN batches b ON b.id = c.batch_id"

const char tsm_sql_card_get[] = CARD_COLS " WHERE c.csn = ?";
const char tsm_sql_card_get_lock[] = CARD_COLS " WHERE c.csn = ? FOR UPDATE";
static const char sql_list[] = CARD_COLS
    " WHERE c.id > ? AND (? IS NULL OR c.state = ?)"
    " AND (? IS NULL OR b.name = ?) ORDER BY c.id LIMIT ?";
static const char sql_product[] =
    "INSERT INTO products (name, gp_version, jc_version, scp, scp_i,"
    " diversification, key_versions, memory, created)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_history[] =
    "SELECT h.id, h.from_state, h.to_state, h.location, h.actor, h.reason,"
    " h.at FROM card_history h JOIN cards c ON c.id = h.card_id"
    " WHERE c.csn = ? ORDER BY h.id";
static const char sql_count[] = "SELECT COUNT(*) FROM cards";

static int64_t
opt_int(const struct tsm_val *v, int64_t dflt)
{
	return v->t == TSM_V_INT ? v->i : dflt;
}

int
tsm_card_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct tsm_card *k = arg;
	char state[20];

	if (n < 17)
		return TSM_STORE_ERR_DB;
	memset(k, 0, sizeof(*k));
	k->id = opt_int(&c[0], 0);
	tsm_v_copy(&c[1], k->csn, sizeof(k->csn));
	tsm_v_copy(&c[2], k->iin, sizeof(k->iin));
	tsm_v_copy(&c[3], k->cin, sizeof(k->cin));
	tsm_v_copy(&c[4], k->kdd, sizeof(k->kdd));
	tsm_v_copy(&c[5], k->product, sizeof(k->product));
	tsm_v_copy(&c[6], k->batch, sizeof(k->batch));
	k->transport_kv = (int)opt_int(&c[7], -1);
	tsm_v_copy(&c[8], state, sizeof(state));
	if (tsm_card_state_parse(state, &k->state) != 0)
		return TSM_STORE_ERR_DB;
	tsm_v_copy(&c[9], k->location, sizeof(k->location));
	k->holder_id = opt_int(&c[10], 0);
	tsm_v_copy(&c[11], k->gp_state, sizeof(k->gp_state));
	k->replaced_by = opt_int(&c[12], 0);
	k->last_contact = opt_int(&c[13], 0);
	k->free_memory = opt_int(&c[14], -1);
	k->errors = (int)opt_int(&c[15], 0);
	k->updated = opt_int(&c[16], 0);
	return 1;	/* found: stop */
}

int
tsm_card_load_tx(struct tsm_store *s, const char *csn, int for_update,
    struct tsm_card *k)
{
	struct tsm_val v = tsm_v_text(csn);
	const char *sql = for_update && s->be->dialect == TSM_DIALECT_MARIADB ?
	    tsm_sql_card_get_lock : tsm_sql_card_get;
	int r;

	if (csn == NULL || *csn == '\0')
		return TSM_STORE_ERR_INVAL;
	r = s->be->query(s->db, sql, &v, 1, tsm_card_row, k);
	if (r == 1)
		return 0;
	return r == 0 ? TSM_STORE_ERR_NOTFOUND : r;
}

int
tsm_store_card_get(struct tsm_store *s, const char *csn, struct tsm_card *k)
{
	return tsm_card_load_tx(s, csn, 0, k);
}

int
tsm_store_product_add(struct tsm_store *s, const struct tsm_product *p,
    int64_t *id)
{
	struct tsm_val v[9];

	if (p->name == NULL || *p->name == '\0' ||
	    strlen(p->name) > TSM_NAME_MAX)
		return TSM_STORE_ERR_INVAL;
	v[0] = tsm_v_text(p->name);
	v[1] = tsm_v_text(p->gp_version);
	v[2] = tsm_v_text(p->jc_version);
	v[3] = p->scp > 0 ? tsm_v_int(p->scp) : tsm_v_text(NULL);
	v[4] = p->scp > 0 ? tsm_v_int(p->scp_i) : tsm_v_text(NULL);
	v[5] = tsm_v_text(p->diversification);
	v[6] = tsm_v_text(p->key_versions);
	v[7] = p->memory > 0 ? tsm_v_int(p->memory) : tsm_v_text(NULL);
	v[8] = tsm_v_int(tsm_now_ms());
	return s->be->exec(s->db, sql_product, v, 9, NULL, id);
}

struct list_args {
	tsm_card_fn	 fn;
	void		*arg;
};

static int
list_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct list_args *a = arg;
	struct tsm_card k;
	int r;

	if ((r = tsm_card_row(&k, c, n)) != 1)
		return r;
	return a->fn(a->arg, &k);
}

int
tsm_store_card_list(struct tsm_store *s, const struct tsm_card_filter *f,
    tsm_card_fn fn, void *arg)
{
	struct list_args a = { fn, arg };
	struct tsm_val v[6];
	const char *state;

	state = f->state >= 0 ?
	    tsm_card_state_name((enum tsm_card_state)f->state) : NULL;
	v[0] = tsm_v_int(f->after_id);
	v[1] = tsm_v_text(state);
	v[2] = tsm_v_text(state);
	v[3] = tsm_v_text(f->batch);
	v[4] = tsm_v_text(f->batch);
	v[5] = tsm_v_int(f->limit > 0 ? f->limit : 100);
	return s->be->query(s->db, sql_list, v, 6, list_row, &a);
}

static int
count_row(void *arg, const struct tsm_val *c, size_t n)
{
	*(int64_t *)arg = n > 0 && c[0].t == TSM_V_INT ? c[0].i : 0;
	return 0;
}

int
tsm_store_card_count(struct tsm_store *s, int64_t *count)
{
	*count = 0;
	return s->be->query(s->db, sql_count, NULL, 0, count_row, count);
}

struct history_args {
	tsm_event_fn	 fn;
	void		*arg;
};

static int
history_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct history_args *a = arg;
	struct tsm_card_event e;
	char from[20], to[20], loc[TSM_NAME_MAX + 1], actor[TSM_NAME_MAX + 1];
	char reason[513];

	if (n < 7)
		return TSM_STORE_ERR_DB;
	tsm_v_copy(&c[1], from, sizeof(from));
	tsm_v_copy(&c[2], to, sizeof(to));
	tsm_v_copy(&c[3], loc, sizeof(loc));
	tsm_v_copy(&c[4], actor, sizeof(actor));
	tsm_v_copy(&c[5], reason, sizeof(reason));
	memset(&e, 0, sizeof(e));
	e.id = opt_int(&c[0], 0);
	if (tsm_card_state_parse(from, &e.from) != 0 ||
	    tsm_card_state_parse(to, &e.to) != 0)
		return TSM_STORE_ERR_DB;
	e.location = loc;
	e.actor = actor;
	e.reason = reason;
	e.at = opt_int(&c[6], 0);
	return a->fn(a->arg, &e);
}

int
tsm_store_card_history(struct tsm_store *s, const char *csn,
    tsm_event_fn fn, void *arg)
{
	struct history_args a = { fn, arg };
	struct tsm_card k;
	struct tsm_val v = tsm_v_text(csn);
	int r;

	if ((r = tsm_card_load_tx(s, csn, 0, &k)) != 0)
		return r;
	return s->be->query(s->db, sql_history, &v, 1, history_row, &a);
}
