/*
 * Pre-computed sessions (../shared/DESIGN.md, Protocols). An SCP03 card
 * with a pseudo-random challenge (i bit 10) answers INITIALIZE UPDATE
 * with a challenge derived from its K-ENC and its sequence counter, so
 * once the store knows the counter of the card's last authenticated
 * session, tsm-keyd can predict the card's whole answer, cryptogram
 * included. When the agent names its card (X-Admin-Card), the first
 * exchange then carries the whole job:
 *
 *   exchange 1  POST, X-Admin-Card     -> SELECT ISD, GET DATA CPLC,
 *                                         INITIALIZE UPDATE + expected
 *                                         answer, EXTERNAL AUTHENTICATE,
 *                                         the wrapped job, GET STATUS
 *   exchange 2  their responses        -> 204
 *
 * The card cryptogram is still verified before EXTERNAL AUTHENTICATE
 * reaches the card: the agent compares INITIALIZE UPDATE's answer with
 * the prediction, byte for byte, and stops there when it differs (libgp
 * script tag DF20). Then the answers so far are those of a discovery
 * script: the operations marked running in exchange 1 go back to the
 * queue (nothing of theirs reached the card) and the session goes on as
 * the normal flow's exchange 2 (3 exchanges in all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "gp/carddata.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/script.h"
#include "keys.h"
#include "server/server_int.h"

#define PRE_CMDS	3	/* SELECT, GET DATA, INITIALIZE UPDATE */
#define IU_INDEX	2
#define BODY_MAX	(1024 * 1024)

/* Back to a session that knows nothing of its card. */
static void
pre_reset(struct tsm_session *s)
{
	size_t i;

	for (i = 0; i < s->nops; i++) {
		tsm_op_clear(&s->ops[i]);
		s->op_state[i] = TSM_OPST_PENDING;
		s->op_refused[i] = 0;
		s->op_result[i][0] = '\0';
	}
	s->nops = 0;
	memset(&s->card, 0, sizeof(s->card));
	s->have_card = s->store_session = s->need_read = 0;
	s->auth_ok = s->scp_open = s->iu_verified = 0;
	s->installed = s->removed = s->changed = s->failed = 0;
	s->have_card_lc = 0;
	s->card_msg = NULL;
	s->putkey_planned = 0;
	s->pre = 0;
	s->ncmds = 0;
	s->csn[0] = s->kdd[0] = '\0';
	gp_wipe(s->iu, sizeof(s->iu));
	s->iu_len = 0;
	gp_scp_free(&s->scp);
	(void)tsm_session_tags(s, 0);
	(void)tsm_session_marks(s, 0);
}

/* Operations of a script that did not reach the card: queued again. */
static void
pre_requeue(struct tsm_session *s)
{
	size_t i;

	for (i = 0; i < s->nops; i++)
		if (s->op_state[i] == TSM_OPST_PLANNED)
			s->op_state[i] = TSM_OPST_SKIPPED;
}

/* Whether the named card can be pre-computed for: loads it, its channel
 * and its operations (none uncertain, no registry read first). */
static int
pre_eligible(struct tsm_worker *w, struct tsm_session *s, const char *csn,
    struct tsm_card_channel *ch)
{
	int uncertain;

	if (!w->srv->cfg.precompute ||
	    tsm_store_card_get(w->store, csn, &s->card) != 0 ||
	    s->card.state == TSM_CARD_TERMINATED ||
	    strlen(s->card.kdd) != 2 * GP_KDD_LEN ||
	    tsm_store_card_channel(w->store, s->card.id, ch) != 0 ||
	    ch->scp != 3 || !(ch->i & GP_SCP03_I_PRAND) ||
	    ch->seq >= 0xFFFFFF)
		return 0;
	/*
	 * Only the agent that last served the card: any enrolled agent may
	 * name any CSN, and a pre-computed script marks the card's
	 * operations running (an agent that never answers leaves them to
	 * be reconciled) and costs a keyd prediction.
	 */
	if (strcmp(ch->agent, s->agent) != 0) {
		tsm_log(TSM_LOG_INFO, "session.hint_other_agent", "sid=%s "
		    "agent=%s csn=%s", s->id, s->agent, s->card.csn);
		return 0;
	}
	/*
	 * Its KDD its own: two cards sharing a KDD share their keys, and
	 * at the same counter their answers match byte for byte, so the
	 * agent's check could not tell them apart.
	 */
	if (tsm_store_card_kdd_sole(w->store, s->card.kdd, s->card.csn) != 0)
		return 0;
	if (tsm_engine_load_ops(w, s, &uncertain) != 0 || uncertain ||
	    s->need_read || s->nops == 0)
		return 0;
	return 1;
}

/* keyd's prediction of the card's INITIALIZE UPDATE answer into s->iu. */
static int
pre_predict(struct tsm_worker *w, struct tsm_session *s,
    const struct tsm_card_channel *ch, struct keys_session *ks)
{
	struct keys_predict_req q;
	uint8_t kdd[GP_KDD_LEN];
	size_t n;
	int r;

	if (gp_hex_decode(s->card.kdd, kdd, sizeof(kdd), &n) != 0 ||
	    n != sizeof(kdd))
		return TSM_ERR_STORE;
	if (RAND_bytes(s->hc, sizeof(s->hc)) != 1)
		return TSM_ERR_NOMEM;
	tsm_engine_channel_label(s, &w->srv->cfg, (uint8_t)ch->kvn);
	memset(&q, 0, sizeof(q));
	q.label = s->open_label;
	q.version = s->open_kvn;
	q.i = (uint8_t)ch->i;
	q.s = 8;
	q.kdd = kdd;
	q.seq = ch->seq + 1;
	q.host_challenge = s->hc;
	q.sd_aid = tsm_isd_aid;
	q.aidlen = sizeof(tsm_isd_aid);
	if ((r = keys_predict_channel(w->keys, &q, s->iu, sizeof(s->iu),
	    &s->iu_len, ks)) != 0) {
		tsm_log(TSM_LOG_WARN, "keyd.predict", "sid=%s csn=%s label=%s "
		    "kvn=%u err=\"%s\"", s->id, s->card.csn, s->open_label,
		    s->open_kvn, keys_strerror(r));
		return TSM_ERR_KEYS;
	}
	return 0;
}

static int
pre_add(struct tsm_script *sc, size_t start)
{
	if (sc->n >= TSM_SCRIPT_MAX(sc))
		return TSM_ERR_PROTO;
	sc->off[sc->n] = start;
	sc->off[++sc->n] = sc->w.len;
	return 0;
}

/* SELECT ISD, GET DATA CPLC, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE. */
static int
pre_head(struct tsm_session *s, const struct keys_session *ks, uint8_t i,
    struct tsm_script *out)
{
	size_t at;
	int r;

	if (tsm_session_tags(s, TSM_CMDS_MAX) != 0)
		return TSM_ERR_NOMEM;
	at = out->w.len;
	if (gp_cmd_select(tsm_isd_aid, sizeof(tsm_isd_aid), GP_SELECT_FIRST,
	    &out->w) != 0 || pre_add(out, at) != 0)
		return TSM_ERR_PROTO;
	at = out->w.len;
	if (gp_cmd_get_data(GP_DATA_CPLC, &out->w) != 0 ||
	    pre_add(out, at) != 0)
		return TSM_ERR_PROTO;
	at = out->w.len;
	if (gp_scp_host_init(&s->scp, 3, i, 8, 0x00, s->hc, &out->w) != 0 ||
	    pre_add(out, at) != 0)
		return TSM_ERR_PROTO;
	at = out->w.len;
	if ((r = tsm_engine_channel_auth(s, ks, 3, i, &out->w)) != 0)
		return r;
	if (pre_add(out, at) != 0)
		return TSM_ERR_PROTO;
	s->tags[0].role = s->tags[1].role = s->tags[IU_INDEX].role =
	    TSM_CMD_PLAIN;
	s->tags[PRE_CMDS].role = TSM_CMD_AUTH;
	return 0;
}

/* The script with INITIALIZE UPDATE's expected answer (data ‖ 9000). */
static int
pre_encode(const struct tsm_session *s, const struct tsm_script *out,
    struct tsm_reply *r)
{
	struct gp_span *sp = NULL, *ex = NULL;
	uint8_t want[sizeof(s->iu) + 2];
	struct gp_wr w;
	size_t i, len;
	int e = TSM_ERR_NOMEM;

	if ((sp = calloc(out->n, sizeof(*sp))) == NULL ||
	    (ex = calloc(out->n, sizeof(*ex))) == NULL)
		goto out;
	for (i = 0; i < out->n; i++) {
		sp[i].p = out->w.p + out->off[i];
		sp[i].len = out->off[i + 1] - out->off[i];
	}
	memcpy(want, s->iu, s->iu_len);
	want[s->iu_len] = 0x90;
	want[s->iu_len + 1] = 0x00;
	ex[IU_INDEX].p = want;
	ex[IU_INDEX].len = s->iu_len + 2;
	gp_wr_init_dyn(&w, BODY_MAX);
	if (gp_script_encode_x(sp, ex, out->n, &w) != 0) {
		gp_wr_free(&w);
		e = TSM_ERR_PROTO;
		goto out;
	}
	tsm_reply_clear(r);
	r->code = 200;
	r->body = gp_wr_steal(&w, &len);
	r->len = len;
	e = 0;
 out:
	free(sp);
	free(ex);
	return e;
}

/*
 * Builds, marks the operations running (with the session row) and
 * encodes. Returns 0; or an error before anything was written (the
 * caller sends discovery); or TSM_ERR_STORE after (the session is
 * finished into r).
 */
static int
pre_build(struct tsm_worker *w, struct tsm_session *s,
    const struct keys_session *ks, uint8_t i, struct tsm_reply *r)
{
	struct tsm_script out;
	int64_t ids[TSM_OPS_MAX];
	size_t nids = 0;
	int e;

	memset(&out, 0, sizeof(out));
	out.max = s->cmds_max;
	gp_wr_init_dyn(&out.w, BODY_MAX - 1024);
	if ((e = pre_head(s, ks, i, &out)) != 0 ||
	    (e = tsm_engine_build_job(w, s, &out, ids, &nids)) != 0 ||
	    nids == 0) {
		gp_wr_free(&out.w);
		return e != 0 ? e : TSM_ERR_PROTO;
	}
	s->ncmds = out.n;
	s->pre = PRE_CMDS;
	s->state = TSM_SESS_JOB;
	snprintf(s->store_sid, sizeof(s->store_sid), "%s", s->id);
	/* Operations are running in the store before the card sees them. */
	if ((e = tsm_store_session_claim(w->store, s->store_sid, s->card.id,
	    s->agent, ids, nids)) != 0) {
		tsm_log(TSM_LOG_ERR, "store.error", "sid=%s csn=%s err=\"%s\"",
		    s->id, s->csn, tsm_store_strerror(e));
		gp_wr_free(&out.w);
		return TSM_ERR_PROTO;	/* nothing written */
	}
	s->store_session = 1;
	e = pre_encode(s, &out, r);
	gp_wr_free(&out.w);
	if (e != 0) {
		/* Never sent: back to the queue, no attempt counted. */
		pre_requeue(s);
		tsm_engine_finish(w, s, "missed", r);
		tsm_reply_end(r, "The service is busy. Please present your "
		    "card again later.");
		return TSM_ERR_STORE;
	}
	return 0;
}

void
tsm_engine_precompute(struct tsm_worker *w, struct tsm_session *s,
    const char *csn, struct tsm_reply *r)
{
	struct tsm_card_channel ch;
	struct keys_session ks;
	int e;

	memset(&ks, 0, sizeof(ks));
	if (!pre_eligible(w, s, csn, &ch) ||
	    pre_predict(w, s, &ch, &ks) != 0)
		goto discovery;
	s->have_card = 1;
	snprintf(s->csn, sizeof(s->csn), "%s", s->card.csn);
	snprintf(s->kdd, sizeof(s->kdd), "%.*s", 2 * GP_KDD_LEN,
	    s->card.kdd);
	e = pre_build(w, s, &ks, (uint8_t)ch.i, r);
	keys_session_wipe(&ks);
	if (e == TSM_ERR_STORE)
		return;		/* finished */
	if (e != 0)
		goto discovery;
	atomic_fetch_add(&w->srv->metrics.precomputed, 1);
	tsm_log(TSM_LOG_INFO, "session.precomputed", "sid=%s agent=%s "
	    "csn=%s pending=%zu seq=%u commands=%zu", s->id, s->agent,
	    s->csn, s->nops, ch.seq + 1, s->ncmds);
	return;
 discovery:
	keys_session_wipe(&ks);
	pre_reset(s);
	if (tsm_engine_discovery(s, r) != 0)
		tsm_reply_text(r, 503, "no memory");
}

void
tsm_engine_pre_fallback(struct tsm_worker *w, struct tsm_session *s,
    struct gp_span *rap, size_t n, const char *status,
    struct tsm_reply *r)
{
	struct gp_script_rsp rsp = { rap, n, n, 0, -1 };
	struct gp_wr body;
	int uncertain;

	if (strcmp(status, "unexpected-response") == 0)
		atomic_fetch_add(&w->srv->metrics.precompute_misses, 1);
	tsm_log(TSM_LOG_INFO, "session.precompute_missed", "sid=%s csn=%s "
	    "executed=%zu status=%s", s->id, s->csn, n, status);
	/* Nothing after INITIALIZE UPDATE ran: back to the queue. */
	pre_requeue(s);
	(void)tsm_engine_store_end(w, s, "missed", &uncertain);
	pre_reset(s);
	/* The rest of the session is a second row in the store. */
	snprintf(s->store_sid, sizeof(s->store_sid), "%s-2", s->id);
	s->state = TSM_SESS_DISCOVERY;
	rsp.executed = (unsigned)n;
	gp_wr_init_dyn(&body, 64 * 1024);
	if (gp_script_rsp_encode(&rsp, &body) != 0) {
		gp_wr_free(&body);
		tsm_reply_end(r, "Your card could not be read. Please present "
		    "it again.");
		return;
	}
	/* The agent stopped on the prediction, not on a status word. */
	if (tsm_engine_discovered(s, body.p, body.len, strcmp(status,
	    "unexpected-response") == 0 ? "ok" : status, r) != 0) {
		gp_wr_free(&body);
		return;
	}
	gp_wr_free(&body);
	tsm_engine_identify(w, s, r);
}
