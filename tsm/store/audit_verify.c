/*
 * tsmctl audit verify: walks the chain in sequence order, recomputes every
 * link and names the first record that does not fit (edited, deleted,
 * inserted or reordered), then checks the head against the last record
 * so a truncated tail is caught too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp/buf.h"
#include "store/store_int.h"

static const char sql_walk[] =
    "SELECT seq, at, actor, action, object, detail, alg, prev_hash, hash"
    " FROM audit_log ORDER BY seq";
static const char sql_head[] =
    "SELECT seq, hash FROM audit_head WHERE id = 1";

struct walk {
	struct tsm_store	*s;
	struct tsm_audit_report	*rep;
	int64_t			 seq;
	uint8_t			 link[32];
};

static int
broken(struct walk *w, int64_t seq, const char *why)
{
	w->rep->first_bad = seq;
	snprintf(w->rep->why, sizeof(w->rep->why), "%s", why);
	return TSM_STORE_ERR_TAMPER;
}

static int
recompute(struct walk *w, const struct tsm_val *c, uint8_t out[32])
{
	char f[4][TSM_NAME_MAX + 1], *detail;
	uint8_t *rec = NULL;
	size_t len;
	int i, r;

	for (i = 0; i < 3; i++)
		tsm_v_copy(&c[2 + i], f[i], sizeof(f[i]));
	if ((detail = calloc(1, c[5].n + 1)) == NULL)
		return TSM_STORE_ERR_NOMEM;
	tsm_v_copy(&c[5], detail, c[5].n + 1);
	r = tsm_audit_record(c[0].i, c[1].i, f[0], f[1], f[2], detail, &rec,
	    &len);
	free(detail);
	if (r != 0)
		return r;
	r = w->s->hasher.link(w->s->hasher.ctx, w->link, rec, len, out);
	free(rec);
	return r;
}

static int
walk_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct walk *w = arg;
	char alg[33];
	uint8_t link[32];
	int r;

	if (n < 9 || c[0].t != TSM_V_INT || c[1].t != TSM_V_INT)
		return broken(w, w->seq + 1, "record has the wrong shape");
	if (c[0].i != w->seq + 1)
		return broken(w, w->seq + 1, "record missing (sequence gap)");
	tsm_v_copy(&c[6], alg, sizeof(alg));
	if (strcmp(alg, w->s->hasher.alg) != 0)
		return broken(w, c[0].i, "link algorithm is not the one this "
		    "store verifies with");
	if (c[7].n != 32 || gp_ct_memcmp(c[7].p, w->link, 32) != 0)
		return broken(w, c[0].i, "prev_hash does not match the "
		    "previous record's link");
	if ((r = recompute(w, c, link)) != 0)
		return r;
	if (c[8].n != 32 || gp_ct_memcmp(c[8].p, link, 32) != 0)
		return broken(w, c[0].i, "record content does not match its "
		    "link (edited)");
	memcpy(w->link, link, 32);
	w->seq = c[0].i;
	w->rep->records++;
	return 0;
}

static int
head_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct walk *w = arg;

	if (n < 2 || c[0].t != TSM_V_INT)
		return broken(w, w->seq + 1, "audit head unreadable");
	if (c[0].i != w->seq)
		return broken(w, w->seq + 1, "records after the last one were "
		    "removed (head is further on)");
	if (c[1].n != 32 || gp_ct_memcmp(c[1].p, w->link, 32) != 0)
		return broken(w, w->seq, "head link does not match the last "
		    "record");
	return 0;
}

int
tsm_store_audit_verify(struct tsm_store *s, struct tsm_audit_report *rep)
{
	struct walk w;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(&w, 0, sizeof(w));
	w.s = s;
	w.rep = rep;
	if ((r = s->be->query(s->db, sql_walk, NULL, 0, walk_row, &w)) != 0)
		return r;
	return s->be->query(s->db, sql_head, NULL, 0, head_row, &w);
}
