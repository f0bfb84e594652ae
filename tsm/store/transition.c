/*
 * Lifecycle transitions and replacement, each one transaction: lock the
 * card row, check the edge, update, add history, append the audit record.
 * A repeat of the transition the card already went through is a no-op
 * (idempotent): nothing is written.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

const char tsm_sql_card_update[] =
    "UPDATE cards SET state = ?, location = ?, holder_id = ?, updated = ?"
    " WHERE id = ?";
static const char sql_link[] =
    "UPDATE cards SET replaced_by = ? WHERE id = ?";
const char tsm_sql_history_add[] =
    "INSERT INTO card_history (card_id, from_state, to_state, location,"
    " actor, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)";

struct tr_args {
	const char			*csn;
	const struct tsm_transition	*t;
	int				*changed;
	char				*why;
	size_t				 whylen;
};

static int
record(struct tsm_store *s, const struct tsm_card *k,
    const struct tsm_transition *t, const char *loc, int64_t holder)
{
	struct tsm_val v[7];
	char detail[600];
	int64_t now = tsm_now_ms();
	int r;

	v[0] = tsm_v_text(tsm_card_state_name(t->to));
	v[1] = tsm_v_text(loc);
	v[2] = holder > 0 ? tsm_v_int(holder) : tsm_v_text(NULL);
	v[3] = tsm_v_int(now);
	v[4] = tsm_v_int(k->id);
	if ((r = s->be->exec(s->db, tsm_sql_card_update, v, 5, NULL, NULL)) != 0)
		return r;
	v[0] = tsm_v_int(k->id);
	v[1] = tsm_v_text(tsm_card_state_name(k->state));
	v[2] = tsm_v_text(tsm_card_state_name(t->to));
	v[3] = tsm_v_text(loc);
	v[4] = tsm_v_text(t->actor != NULL ? t->actor : "system");
	v[5] = tsm_v_text(t->reason);
	v[6] = tsm_v_int(now);
	if ((r = s->be->exec(s->db, tsm_sql_history_add, v, 7, NULL, NULL)) != 0)
		return r;
	snprintf(detail, sizeof(detail), "{\"from\":\"%s\",\"to\":\"%s\","
	    "\"holder\":%lld}", tsm_card_state_name(k->state),
	    tsm_card_state_name(t->to), (long long)holder);
	return tsm_audit_append_tx(s, t->actor, "card.transition", k->csn,
	    detail);
}

static int
transition_fn(struct tsm_store *s, void *arg)
{
	struct tr_args *a = arg;
	const struct tsm_transition *t = a->t;
	struct tsm_card k;
	const char *loc;
	int noop, r;

	*a->changed = 0;
	if ((r = tsm_card_load_tx(s, a->csn, 1, &k)) != 0)
		return r;
	if ((r = tsm_lifecycle_check(&k, t, &noop, a->why, a->whylen)) != 0 ||
	    noop)
		return r;
	loc = t->location != NULL && *t->location != '\0' ? t->location :
	    k.location;
	if ((r = record(s, &k, t, loc,
	    t->holder_id > 0 ? t->holder_id : k.holder_id)) != 0)
		return r;
	*a->changed = 1;
	return 0;
}

int
tsm_store_card_transition(struct tsm_store *s, const char *csn,
    const struct tsm_transition *t, int *changed, char *why, size_t whylen)
{
	struct tr_args a = { csn, t, changed, why, whylen };
	int dummy;

	if (changed == NULL)
		a.changed = &dummy;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (t->reason != NULL && strlen(t->reason) > 512)
		return TSM_STORE_ERR_TOOLARGE;
	return tsm_store_tx(s, transition_fn, &a);
}

struct rep_args {
	const char	*old_csn, *new_csn, *actor;
	char		*why;
	size_t		 whylen;
};

static int
replace_fn(struct tsm_store *s, void *arg)
{
	struct rep_args *a = arg;
	struct tsm_card o, n;
	struct tsm_transition t;
	struct tsm_val v[2];
	int noop, r;

	if ((r = tsm_card_load_tx(s, a->old_csn, 1, &o)) != 0 ||
	    (r = tsm_card_load_tx(s, a->new_csn, 1, &n)) != 0)
		return r;
	if (o.holder_id <= 0) {
		snprintf(a->why, a->whylen, "%s has no cardholder", o.csn);
		return TSM_STORE_ERR_TRANSITION;
	}
	memset(&t, 0, sizeof(t));
	t.actor = a->actor;
	t.reason = "replacement";
	t.to = TSM_CARD_ISSUED;
	t.holder_id = o.holder_id;
	if ((r = tsm_lifecycle_check(&n, &t, &noop, a->why, a->whylen)) != 0)
		return r;
	if (!noop && (r = record(s, &n, &t, n.location, o.holder_id)) != 0)
		return r;
	t.to = TSM_CARD_TERMINATED;
	t.holder_id = 0;
	if ((r = tsm_lifecycle_check(&o, &t, &noop, a->why, a->whylen)) != 0)
		return r;
	if (!noop && (r = record(s, &o, &t, o.location, o.holder_id)) != 0)
		return r;
	v[0] = tsm_v_int(n.id);
	v[1] = tsm_v_int(o.id);
	return s->be->exec(s->db, sql_link, v, 2, NULL, NULL);
}

int
tsm_store_card_replace(struct tsm_store *s, const char *old_csn,
    const char *new_csn, const char *actor, char *why, size_t whylen)
{
	struct rep_args a = { old_csn, new_csn, actor, why, whylen };

	if (old_csn == NULL || new_csn == NULL || strcmp(old_csn, new_csn) == 0)
		return TSM_STORE_ERR_INVAL;
	return tsm_store_tx(s, replace_fn, &a);
}
