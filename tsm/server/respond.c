/*
 * The session engine, second half: the answers to an authenticated
 * script. Every R-APDU is unwrapped in order (R-MAC checked when the level
 * has it), judged by the plan of its operation, and the registry read is
 * kept. Then, in one store transaction, every operation's outcome, the
 * card's instances, its GP life cycle and the audit records.
 *
 * What is not known is never guessed: an operation the card may or may
 * not have carried out (card removed, link lost, an R-MAC that does not
 * verify, a server that died) is left uncertain, and the next session
 * reads the registry (GET STATUS) before deciding (plan.c reconcile).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp/apdu.h"
#include "gp/registry.h"
#include "gp/script.h"
#include "server/server_int.h"

/* Status of the registry reads in one script. */
struct reads {
	int	elf_more, apps_more;	/* 6310 seen */
	int	elf_done, apps_done;	/* read whole (9000 or 6A88) */
};

static void
keep_entries(struct tsm_session *s, const uint8_t *p, size_t n, int elf)
{
	struct gp_registry_entry e[TSM_REG_MAX];
	size_t cnt = 0, i;

	(void)gp_registry_parse(p, n, e, TSM_REG_MAX, &cnt);
	for (i = 0; i < cnt && s->nreg < TSM_REG_MAX; i++) {
		struct tsm_reg *g;

		if (e[i].aid.len == 0 || e[i].aid.len > sizeof(g->aid))
			continue;
		if (s->nreg == s->reg_cap && tsm_session_reg(s,
		    s->reg_cap + cnt - i > TSM_REG_MAX ? TSM_REG_MAX :
		    s->reg_cap + cnt - i) != 0)
			break;
		g = &s->reg[s->nreg];
		memset(g, 0, sizeof(*g));
		memcpy(g->aid, e[i].aid.p, e[i].aid.len);
		g->aid_len = (uint8_t)e[i].aid.len;
		g->lifecycle = e[i].lifecycle;
		g->is_elf = (uint8_t)elf;
		if (e[i].elf_aid.len > 0 && e[i].elf_aid.len <= sizeof(g->elf)) {
			memcpy(g->elf, e[i].elf_aid.p, e[i].elf_aid.len);
			g->elf_len = (uint8_t)e[i].elf_aid.len;
		}
		s->nreg++;
	}
}

static void
status_result(struct tsm_session *s, const struct tsm_cmd_tag *t,
    const struct gp_rapdu *a, struct reads *rd)
{
	struct gp_registry_entry e[2];
	size_t cnt = 0;
	int ok = a->sw == 0x9000 || gp_registry_more(a->sw);

	if (t->role == TSM_CMD_STATUS_CARD) {
		if (ok && gp_registry_parse(a->data, a->len, e, 2, &cnt) == 0 &&
		    cnt >= 1 && e[0].has_lifecycle) {
			s->card_lc = e[0].lifecycle;
			s->have_card_lc = 1;
		}
		return;
	}
	if (ok)
		keep_entries(s, a->data, a->len, t->role == TSM_CMD_STATUS_ELF);
	if (t->role == TSM_CMD_STATUS_ELF) {
		rd->elf_more = gp_registry_more(a->sw);
		rd->elf_done = a->sw == 0x9000 || a->sw == 0x6A88;
	} else {
		rd->apps_more = gp_registry_more(a->sw);
		rd->apps_done = a->sw == 0x9000 || a->sw == 0x6A88;
	}
}

/* First and last command index of each operation in the script. */
static void
op_span(const struct tsm_session *s, size_t op, size_t *first)
{
	size_t i;

	*first = SIZE_MAX;
	for (i = 0; i < s->ncmds; i++)
		if (s->tags[i].role == TSM_CMD_OP && s->tags[i].op == op) {
			*first = i;
			return;
		}
}

/*
 * Operations still planned after the answers: not started -> back to
 * queued; started (or possibly started: the command at the frontier may
 * have run when the card or the link went away) -> uncertain.
 */
static void
settle(struct tsm_session *s, size_t frontier, int sure)
{
	size_t i, first;

	for (i = 0; i < s->nops; i++) {
		if (s->op_state[i] != TSM_OPST_PLANNED)
			continue;
		op_span(s, i, &first);
		if (first < frontier || (!sure && first == frontier))
			s->op_state[i] = TSM_OPST_UNCERTAIN;
		else
			s->op_state[i] = TSM_OPST_SKIPPED;
	}
}

/*
 * The card that ran a pre-computed script is the one it was computed
 * for: a CPLC whose CSN the store gives to another card is not (a card
 * found by its KDD has a CPLC of its own, unknown to the store). The
 * agent's check of the INITIALIZE UPDATE answer already tells cards with
 * different keys apart; this catches what it cannot (two cards sharing
 * a KDD, which pre_eligible refuses).
 */
static int
pre_same_card(struct tsm_worker *w, const struct tsm_session *s,
    const struct gp_span *cplc)
{
	struct gp_rapdu a;
	struct tsm_card k;
	char csn[TSM_CSN_MAX + 1];

	if (gp_rapdu_parse(cplc->p, cplc->len, &a) != 0 || a.sw != 0x9000 ||
	    tsm_engine_csn(a.data, a.len, csn) != 0 ||
	    strcmp(csn, s->csn) == 0 ||
	    tsm_store_card_get(w->store, csn, &k) != 0 || k.id == s->card.id)
		return 1;
	tsm_log(TSM_LOG_ERR, "session.card_mismatch", "sid=%s csn=%s "
	    "ran_on=%s msg=\"another card ran the pre-computed script\"",
	    s->id, s->csn, csn);
	return 0;
}

/* Unwraps and judges answers [0, n); returns the frontier. */
static size_t
judge(struct tsm_session *s, const struct gp_span *rap, size_t n,
    struct reads *rd, int *sure, int *auth_refused)
{
	uint8_t plain[GP_APDU_SHORT_MAX + 3];
	struct gp_rapdu a;
	struct gp_wr w;
	size_t i;

	*auth_refused = 0;
	for (i = 0; i < n; i++) {
		const struct tsm_cmd_tag *t = &s->tags[i];

		if (t->role == TSM_CMD_PLAIN)	/* checked by the agent */
			continue;
		if (t->role == TSM_CMD_AUTH) {
			if (gp_rapdu_parse(rap[i].p, rap[i].len, &a) != 0 ||
			    gp_scp_host_confirm(&s->scp, a.sw) != 0) {
				*auth_refused = 1;
				return i;
			}
			s->auth_ok = 1;
			continue;
		}
		gp_wr_init(&w, plain, sizeof(plain));
		if (gp_scp_unwrap_marked(&s->scp, &s->marks[i], rap[i].p,
		    rap[i].len, &w) != 0 ||
		    gp_rapdu_parse(w.p, w.len, &a) != 0) {
			tsm_log(TSM_LOG_ERR, "session.unwrap_failed", "sid=%s "
			    "csn=%s index=%zu", s->id, s->csn, i);
			*sure = 0;
			return i;
		}
		if (t->role == TSM_CMD_OP)
			tsm_plan_result(s, t, a.data, a.len, a.sw);
		else
			status_result(s, t, &a, rd);
	}
	return n;
}

static void
upper(char *dst, const char *src, size_t cap)
{
	size_t i;

	for (i = 0; i + 1 < cap && src[i] != '\0'; i++)
		dst[i] = (char)toupper((unsigned char)src[i]);
	dst[i] = '\0';
}

static void
sentence(const struct tsm_session *s, int uncertain, char *out, size_t cap)
{
	size_t i, waiting = 0;
	int n = 0;

	out[0] = '\0';
	for (i = 0; i < s->nops; i++)
		if (s->op_state[i] == TSM_OPST_SKIPPED)
			waiting++;
	if (uncertain) {
		snprintf(out, cap, "Your card was removed too early. Please "
		    "present it again.");
		return;
	}
	if (s->installed)
		n += snprintf(out + n, cap - (size_t)n, "Installed %d "
		    "application%s. ", s->installed, s->installed > 1 ? "s" :
		    "");
	if (s->removed && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "Removed %d "
		    "application%s. ", s->removed, s->removed > 1 ? "s" : "");
	if (s->changed && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "Updated %d "
		    "application%s. ", s->changed, s->changed > 1 ? "s" : "");
	if (s->card_msg != NULL && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "%s ", s->card_msg);
	if (s->failed && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "%d change%s could not "
		    "be made. ", s->failed, s->failed > 1 ? "s" : "");
	/* Work went back to the queue (card pulled before it ran, or the
	 * channel refused): not "up to date". */
	if (waiting > 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "Some changes are still "
		    "waiting: please present your card again. ");
	if (n == 0)
		snprintf(out, cap, "Your card is up to date.");
	else if ((size_t)n <= cap && n > 0 && out[n - 1] == ' ')
		out[n - 1] = '\0';
}

static const char *
outcome(const struct tsm_session *s, size_t i)
{
	switch (s->op_state[i]) {
	case TSM_OPST_DONE: return "done";
	case TSM_OPST_FAILED: return "failed";
	case TSM_OPST_SKIPPED: return "queued";
	case TSM_OPST_PLANNED:
	case TSM_OPST_UNCERTAIN: return "uncertain";
	default: return NULL;	/* untouched */
	}
}

/*
 * The channel the card authenticated in: its INITIALIZE UPDATE answer's
 * key version, protocol, i and counter (also when the session had
 * nothing to do: engine.c learn_counter). Only SCP03 with a pseudo-random
 * challenge is recorded: it is what the next session can be pre-computed
 * for. After a key rotation the new key set's counter is the card's own
 * business (a new set may start again at 0): the record is dropped
 * (scp 0) and the next session learns it.
 */
static int
channel_of(const struct tsm_session *s, const struct tsm_session_end *e,
    struct tsm_card_channel *ch)
{
	const uint8_t *p = s->iu;
	size_t want = GP_KDD_LEN + 3 + 2 * (size_t)s->scp.s + 3;

	memset(ch, 0, sizeof(*ch));
	/* A predicted answer is the card's only once it took EXTERNAL
	 * AUTHENTICATE; a received one once its cryptogram verified. */
	if (!(s->pre > 0 ? s->auth_ok : s->iu_verified))
		return 0;
	if (e->new_kvn > 0)
		return 1;	/* forget */
	if (s->scp.s != 8 || s->iu_len < GP_KDD_LEN + 3 ||
	    p[GP_KDD_LEN + 1] != 3 ||
	    !(p[GP_KDD_LEN + 2] & GP_SCP03_I_PRAND) || s->iu_len != want)
		return 0;
	ch->kvn = p[GP_KDD_LEN];
	ch->scp = 3;
	ch->i = p[GP_KDD_LEN + 2];
	ch->seq = (uint32_t)p[want - 3] << 16 | (uint32_t)p[want - 2] << 8 |
	    p[want - 1];
	return 1;
}

int
tsm_engine_store_end(struct tsm_worker *w, struct tsm_session *s,
    const char *state, int *uncertain)
{
	struct tsm_op_outcome oc[TSM_OPS_MAX];
	struct tsm_instance_change ic[TSM_OPS_MAX * 8];
	char aids[TSM_OPS_MAX * 8][33], gps[20], kcv[3][7];
	struct tsm_session_end e;
	struct tsm_card_channel ch;
	struct tsm_metrics *m = &w->srv->metrics;
	size_t i, k, nic = 0;
	int rc = 0;

	*uncertain = 0;
	memset(&e, 0, sizeof(e));
	for (i = 0, k = 0; i < s->nops; i++) {
		if ((oc[k].state = outcome(s, i)) == NULL)
			continue;
		oc[k].op_id = s->ops[i].id;
		oc[k].result = s->op_result[i][0] != '\0' ? s->op_result[i] :
		    NULL;
		oc[k].refused = s->op_state[i] == TSM_OPST_FAILED &&
		    s->op_refused[i];
		if (s->op_state[i] == TSM_OPST_DONE)
			nic += tsm_plan_instances(w, s, i, ic + nic,
			    sizeof(ic) / sizeof(ic[0]) - nic, aids + nic);
		if (strcmp(oc[k].state, "uncertain") == 0)
			*uncertain = 1;
		atomic_fetch_add(strcmp(oc[k].state, "done") == 0 ?
		    &m->ops_done : strcmp(oc[k].state, "failed") == 0 ?
		    &m->ops_failed : strcmp(oc[k].state, "queued") == 0 ?
		    &m->ops_requeued : &m->ops_uncertain, 1);
		k++;
	}
	e.sid = s->store_sid;
	e.state = state;
	e.card_id = s->card.id;
	e.csn = s->csn;
	e.agent = s->agent;
	if (s->have_card_lc && gp_lifecycle_name(GP_LC_CARD, s->card_lc)) {
		upper(gps, gp_lifecycle_name(GP_LC_CARD, s->card_lc),
		    sizeof(gps));
		e.card_gp_state = gps;
	}
	tsm_plan_card(s, &e, kcv);
	e.ops = oc;
	e.nops = k;
	e.inst = ic;
	e.ninst = nic;
	/* Not from an abandoned session: a newer one may have written it. */
	if (strcmp(state, "aborted") != 0 && channel_of(s, &e, &ch))
		e.channel = &ch;
	e.unsent = strcmp(state, "missed") == 0;
	if (s->store_session &&
	    (rc = tsm_store_session_end(w->store, &e)) != 0) {
		/* Operations stay running: the next session reconciles. */
		tsm_log(TSM_LOG_ERR, "store.session_end", "sid=%s csn=%s "
		    "err=\"%s\" msg=\"%s\"", s->id, s->csn,
		    tsm_store_strerror(rc), tsm_store_errmsg(w->store));
		*uncertain = 1;
	}
	return rc;
}

void
tsm_engine_finish(struct tsm_worker *w, struct tsm_session *s,
    const char *state, struct tsm_reply *r)
{
	int uncertain;

	(void)tsm_engine_store_end(w, s, state, &uncertain);
	gp_scp_free(&s->scp);	/* session keys gone now */
	s->scp_open = 0;
	s->state = TSM_SESS_DONE;
	tsm_reply_clear(r);
	r->code = 204;
	sentence(s, uncertain, r->result, sizeof(r->result));
	tsm_log(TSM_LOG_INFO, "session.end", "sid=%s agent=%s csn=%s "
	    "state=%s ops=%zu installed=%d removed=%d changed=%d failed=%d "
	    "uncertain=%d exchanges=%d pre=%d", s->id, s->agent, s->csn,
	    state, s->nops, s->installed, s->removed, s->changed, s->failed,
	    uncertain, s->exchanges, s->pre > 0);
}

/* After a complete registry read: settle, then the job (or the end). */
static void
after_reconcile(struct tsm_worker *w, struct tsm_session *s,
    struct tsm_reply *r)
{
	struct tsm_script out;
	int64_t ids[TSM_OPS_MAX];
	size_t nids = 0, i;
	int e, pending = 0;

	s->reg_complete = 1;
	tsm_plan_reconcile(s);
	for (i = 0; i < s->nops; i++) {
		pending |= s->op_state[i] == TSM_OPST_PENDING;
		/* Settled by the read alone (refresh): running first, so
		 * that the outcome can be written. */
		if (s->op_state[i] == TSM_OPST_DONE &&
		    strcmp(s->ops[i].state, "queued") == 0)
			ids[nids++] = s->ops[i].id;
	}
	if (!pending) {
		if (nids > 0 && (e = tsm_store_ops_running(w->store,
		    s->store_sid, s->card.id, ids, nids)) != 0)
			tsm_log(TSM_LOG_ERR, "store.error", "sid=%s err=\"%s\"",
			    s->id, tsm_store_strerror(e));
		tsm_engine_finish(w, s, "done", r);
		return;
	}
	nids = 0;
	memset(&out, 0, sizeof(out));
	out.max = s->cmds_max;
	gp_wr_init_dyn(&out.w, 1024 * 1024 - 1024);
	e = tsm_engine_build_job(w, s, &out, ids, &nids);
	if (e == 0 && nids > 0)
		e = tsm_store_ops_running(w->store, s->store_sid, s->card.id,
		    ids, nids);
	if (e == 0) {
		struct tsm_reply tmp = { 0 };
		struct gp_span sp[TSM_CMDS_MAX];
		struct gp_wr body;

		for (i = 0; i < out.n; i++) {
			sp[i].p = out.w.p + out.off[i];
			sp[i].len = out.off[i + 1] - out.off[i];
		}
		gp_wr_init_dyn(&body, 1024 * 1024);
		if ((e = gp_script_encode(sp, out.n, &body)) == 0) {
			tmp.code = 200;
			tmp.body = gp_wr_steal(&body, &tmp.len);
			tsm_reply_clear(r);
			*r = tmp;
		}
		gp_wr_free(&body);
	}
	s->ncmds = out.n;
	s->state = TSM_SESS_JOB;
	gp_wr_free(&out.w);
	if (e != 0) {
		for (i = 0; i < s->nops; i++)
			if (s->op_state[i] == TSM_OPST_PLANNED)
				s->op_state[i] = TSM_OPST_SKIPPED;
		tsm_engine_finish(w, s, "failed", r);
	}
}

/* Another page of a registry read (6310). */
static void
next_page(struct tsm_session *s, uint8_t more, struct tsm_reply *r)
{
	struct tsm_script out;
	struct gp_span sp[4];
	struct gp_wr body;
	size_t i;

	memset(&out, 0, sizeof(out));
	out.max = s->cmds_max;
	gp_wr_init_dyn(&out.w, 4096);
	if (tsm_engine_build_reconcile(s, &out, more) == 0) {
		for (i = 0; i < out.n && i < 4; i++) {
			sp[i].p = out.w.p + out.off[i];
			sp[i].len = out.off[i + 1] - out.off[i];
		}
		gp_wr_init_dyn(&body, 8192);
		if (gp_script_encode(sp, out.n, &body) == 0) {
			tsm_reply_clear(r);
			r->code = 200;
			r->body = gp_wr_steal(&body, &r->len);
		}
		gp_wr_free(&body);
	}
	s->ncmds = out.n;
	gp_wr_free(&out.w);
}

void
tsm_engine_responses(struct tsm_worker *w, struct tsm_session *s,
    const uint8_t *body, size_t len, const char *status,
    struct tsm_reply *r)
{
	struct gp_span *rap;
	struct gp_script_rsp rsp = { NULL, 0, 0, 0, -1 };
	struct reads rd = { 0, 0, 0, 0 };
	size_t frontier;
	int sure = strcmp(status, "ok") == 0, refused;

	if ((rap = calloc(s->ncmds + 1, sizeof(*rap))) == NULL) {
		tsm_reply_text(r, 503, "out of memory");
		return;
	}
	rsp.rapdus = rap;
	rsp.cap = s->ncmds;
	if (gp_script_rsp_decode(body, len, &rsp) != 0 ||
	    rsp.executed != rsp.n || rsp.n > s->ncmds) {
		free(rap);
		tsm_reply_text(r, 400, "malformed response script");
		return;
	}
	/* A pre-computed script the agent stopped at or before INITIALIZE
	 * UPDATE: the card was not the one predicted. */
	if (s->pre > 0 && rsp.n <= s->pre) {
		tsm_engine_pre_fallback(w, s, rap, rsp.n, status, r);
		free(rap);
		return;
	}
	if (s->pre > 0 && !pre_same_card(w, s, &rap[1])) {
		free(rap);
		settle(s, SIZE_MAX, 0);		/* the next session reads */
		tsm_engine_finish(w, s, "failed", r);
		return;
	}
	if (s->state == TSM_SESS_JOB)
		s->nreg = 0;	/* the job's GET STATUS is the new truth */
	frontier = judge(s, rap, rsp.n, &rd, &sure, &refused);
	free(rap);
	if (refused) {
		tsm_log(TSM_LOG_ERR, "session.auth_refused", "sid=%s csn=%s "
		    "msg=\"card refused EXTERNAL AUTHENTICATE\"", s->id,
		    s->csn);
		settle(s, 0, 1);	/* nothing ran */
		tsm_engine_finish(w, s, "failed", r);
		return;
	}
	settle(s, frontier, sure && frontier == rsp.n);
	if (s->state == TSM_SESS_JOB)
		s->apps_complete = rd.apps_done;
	if (s->state == TSM_SESS_RECONCILE && frontier == s->ncmds && sure) {
		s->rd_elf_done |= rd.elf_done;
		s->rd_apps_done |= rd.apps_done;
		s->apps_complete = s->rd_apps_done;
		if ((rd.elf_more || rd.apps_more) && s->exchanges < 16) {
			next_page(s, rd.elf_more ? 1 : 2, r);
			if (r->code == 200)
				return;
		} else if (s->rd_elf_done && s->rd_apps_done) {
			after_reconcile(w, s, r);
			return;
		}
	}
	tsm_engine_finish(w, s, "done", r);
}

void
tsm_engine_abandon(struct tsm_worker *w, struct tsm_session *s)
{
	struct tsm_reply r = { 0 };

	if (!s->store_session || s->state == TSM_SESS_DONE)
		return;
	settle(s, SIZE_MAX, 0);
	tsm_engine_finish(w, s, "aborted", &r);
	tsm_reply_clear(&r);
}
