/*
 * The session engine, first half: the discovery script, identifying the
 * card, opening the secure channel with session keys from tsm-keyd, and
 * building the authenticated script (respond.c handles its answers).
 *
 *   exchange 1  empty POST        -> SELECT ISD, GET DATA CPLC, INIT UPDATE
 *   exchange 2  their responses   -> EXTERNAL AUTHENTICATE + every wrapped
 *                                    command of the job + GET STATUS
 *   exchange 3  their responses   -> 204
 *
 * When the store holds operations whose outcome is unknown (a session
 * that died mid-script), exchange 2 reads the registry first and the job
 * follows in exchange 3, in the same secure channel (respond.c).
 *
 * The card cryptogram is verified twice before EXTERNAL AUTHENTICATE is
 * built: by tsm-keyd (which refuses to answer otherwise) and by libgp
 * with the session keys (gp_scp_host_auth_session). Session keys are
 * copied into the session's gp_scp and wiped everywhere else at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "gp/apdu.h"
#include "gp/carddata.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/script.h"
#include "keys.h"
#include "server/server_int.h"

#define SCRIPT_BODY_MAX	(1024 * 1024)

const uint8_t tsm_isd_aid[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00,
    0x00, 0x00 };
#define isd_aid	tsm_isd_aid

/* Encodes concatenated C-APDUs (offsets in off[0..n]) as a script. */
static int
encode(const uint8_t *p, const size_t *off, size_t n, struct tsm_reply *r)
{
	struct gp_span *sp;
	struct gp_wr w;
	size_t i, len;
	int e;

	if ((sp = calloc(n ? n : 1, sizeof(*sp))) == NULL)
		return TSM_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		sp[i].p = p + off[i];
		sp[i].len = off[i + 1] - off[i];
	}
	gp_wr_init_dyn(&w, SCRIPT_BODY_MAX);
	e = gp_script_encode(sp, n, &w);
	free(sp);
	if (e != 0) {
		gp_wr_free(&w);
		return TSM_ERR_PROTO;
	}
	tsm_reply_clear(r);
	r->code = 200;
	r->body = gp_wr_steal(&w, &len);
	r->len = len;
	return 0;
}

int
tsm_engine_discovery(struct tsm_session *s, struct tsm_reply *r)
{
	uint8_t buf[64];
	size_t off[4];
	struct gp_wr w;
	int e;

	gp_wr_init(&w, buf, sizeof(buf));
	if (RAND_bytes(s->hc, sizeof(s->hc)) != 1)
		return TSM_ERR_NOMEM;
	off[0] = 0;
	if ((e = gp_cmd_select(isd_aid, sizeof(isd_aid), GP_SELECT_FIRST,
	    &w)) != 0)
		return TSM_ERR_PROTO;
	off[1] = w.len;
	if ((e = gp_cmd_get_data(GP_DATA_CPLC, &w)) != 0)
		return TSM_ERR_PROTO;
	off[2] = w.len;
	/* SCP03 S8 for now: the response says which protocol the card
	 * speaks, and the session is set up again for it. */
	if ((e = gp_scp_host_init(&s->scp, 3, 0x00, 8, 0x00, s->hc, &w)) != 0)
		return TSM_ERR_PROTO;
	off[3] = w.len;
	s->ncmds = 3;
	s->state = TSM_SESS_DISCOVERY;
	return encode(buf, off, 3, r);
}

/* CSN: IC fabricator, IC type, IC serial number, IC batch (CPLC). */
static void
csn_from_cplc(const struct gp_cplc *c, char *csn)
{
	uint8_t b[10];

	memcpy(b, c->ic_fabricator, 2);
	memcpy(b + 2, c->ic_type, 2);
	memcpy(b + 4, c->ic_serial, 4);
	memcpy(b + 8, c->ic_batch_id, 2);
	gp_hex_encode(b, sizeof(b), csn);
}

int
tsm_engine_csn(const uint8_t *p, size_t n, char *csn)
{
	struct gp_cplc c;

	if (gp_cplc_parse(p, n, &c) != 0)
		return -1;
	csn_from_cplc(&c, csn);
	return 0;
}

int
tsm_engine_discovered(struct tsm_session *s, const uint8_t *body,
    size_t len, const char *status, struct tsm_reply *r)
{
	struct gp_span rap[4];
	struct gp_script_rsp rsp = { rap, 4, 0, 0, -1 };
	struct gp_rapdu a[3];
	struct gp_cplc cplc;
	size_t i;

	if (gp_script_rsp_decode(body, len, &rsp) != 0 ||
	    rsp.executed != rsp.n || rsp.n > 3) {
		tsm_reply_text(r, 400, "malformed response script");
		return TSM_ERR_PROTO;
	}
	for (i = 0; i < rsp.n; i++)
		if (gp_rapdu_parse(rap[i].p, rap[i].len, &a[i]) != 0) {
			tsm_reply_text(r, 400, "malformed R-APDU");
			return TSM_ERR_PROTO;
		}
	s->csn[0] = '\0';
	s->kdd[0] = '\0';
	s->iu_len = 0;
	if (strcmp(status, "ok") == 0 && rsp.n == 3 && a[0].sw == 0x9000 &&
	    a[1].sw == 0x9000 && a[2].sw != 0x9000 &&
	    gp_cplc_parse(a[1].data, a[1].len, &cplc) == 0) {
		/* No secure channel (a terminated card, say): identified
		 * by its CSN only, to tell the cardholder why. */
		csn_from_cplc(&cplc, s->csn);
		return 0;
	}
	if (strcmp(status, "ok") != 0 || rsp.n != 3 || a[0].sw != 0x9000 ||
	    a[2].sw != 0x9000 || a[2].len > sizeof(s->iu) ||
	    a[2].len < GP_KDD_LEN + 3) {
		tsm_log(TSM_LOG_WARN, "session.discovery_failed", "sid=%s "
		    "status=%s executed=%u", s->id, status, rsp.executed);
		tsm_reply_end(r, "Your card could not be read. Please present it "
		    "again.");
		return TSM_ERR_CARD;
	}
	memcpy(s->iu, a[2].data, a[2].len);
	s->iu_len = a[2].len;
	gp_hex_encode(s->iu, GP_KDD_LEN, s->kdd);
	s->csn[0] = '\0';
	if (a[1].sw == 0x9000 && gp_cplc_parse(a[1].data, a[1].len,
	    &cplc) == 0)
		csn_from_cplc(&cplc, s->csn);
	return 0;
}

static int
find_card(struct tsm_worker *w, struct tsm_session *s)
{
	int r = TSM_STORE_ERR_NOTFOUND;

	if (s->csn[0] != '\0')
		r = tsm_store_card_get(w->store, s->csn, &s->card);
	if (r == TSM_STORE_ERR_NOTFOUND && s->kdd[0] != '\0')
		r = tsm_store_card_find_kdd(w->store, s->kdd, &s->card);
	if (r == 0) {
		s->have_card = 1;
		snprintf(s->csn, sizeof(s->csn), "%s", s->card.csn);
	}
	return r;
}

/* The card's protocol and i from the INITIALIZE UPDATE response. */
static int
card_scp(const struct tsm_session *s, const struct tsm_server_cfg *cfg,
    int *proto, uint8_t *i)
{
	*proto = s->iu[GP_KDD_LEN + 1];
	if (*proto == 3 && s->iu_len >= GP_KDD_LEN + 3) {
		*i = s->iu[GP_KDD_LEN + 2];
		return 0;
	}
	if (*proto == 2) {
		*i = (uint8_t)cfg->scp02_i;
		return 0;
	}
	return -1;
}

static uint8_t
level_for(int proto, uint8_t i)
{
	if (proto == 3 && (i & GP_SCP03_I_RENC))
		return GP_SL_CMAC | GP_SL_CDEC | GP_SL_RMAC | GP_SL_RENC;
	if (proto == 3 && (i & GP_SCP03_I_RMAC))
		return GP_SL_CMAC | GP_SL_CDEC | GP_SL_RMAC;
	return GP_SL_CMAC | GP_SL_CDEC;
}

/*
 * The key set the card answered with: its transport keys (the store's
 * transport key version, before a rotation) or the issuer's key set of
 * that version.
 */
void
tsm_engine_channel_label(struct tsm_session *s,
    const struct tsm_server_cfg *cfg, uint8_t kvn)
{
	s->open_kvn = kvn;
	snprintf(s->open_label, sizeof(s->open_label), "%s",
	    cfg->transport_label[0] != '\0' && s->card.transport_kv >= 0 &&
	    s->card.transport_kv == kvn ? cfg->transport_label :
	    cfg->key_label);
}

/*
 * keyd's session keys into s->scp, the card cryptogram of s->iu checked
 * again by libgp, keyd's host cryptogram compared with libgp's, and
 * EXTERNAL AUTHENTICATE into ea. Only then may ea reach the card. The
 * caller wipes ks.
 */
int
tsm_engine_channel_auth(struct tsm_session *s, const struct keys_session *ks,
    int proto, uint8_t i, struct gp_wr *ea)
{
	struct gp_scp_keys k;
	int r = TSM_ERR_AUTH;

	memset(&k, 0, sizeof(k));
	memcpy(k.enc, ks->enc, ks->len);
	memcpy(k.mac, ks->mac, ks->len);
	memcpy(k.rmac, ks->rmac, ks->len);
	k.len = ks->len;
	if (gp_scp_host_auth_session(&s->scp, &k, s->iu, s->iu_len) != 0 ||
	    ks->s != s->scp.s ||
	    gp_ct_memcmp(ks->host_cryptogram, s->scp.host_cryptogram,
	    s->scp.s) != 0)
		goto out;
	s->level = level_for(proto, i);
	if (gp_scp_host_ext_auth(&s->scp, s->level, ea) != 0) {
		r = TSM_ERR_CARD;
		goto out;
	}
	s->scp_open = 1;
	r = 0;
 out:
	gp_wipe(&k, sizeof(k));
	return r;
}

/* Session keys from keyd for the card's answer in s->iu, then the above. */
static int
open_channel(struct tsm_worker *w, struct tsm_session *s, struct gp_wr *ea)
{
	const struct tsm_server_cfg *cfg = &w->srv->cfg;
	struct keys_session ks;
	uint8_t scratch[32];
	struct gp_wr tmp;
	uint8_t i;
	int proto, r;

	memset(&ks, 0, sizeof(ks));
	if (card_scp(s, cfg, &proto, &i) != 0)
		return TSM_ERR_CARD;
	gp_wr_init(&tmp, scratch, sizeof(scratch));
	if (gp_scp_host_init(&s->scp, proto, i, 8, 0x00, s->hc, &tmp) != 0)
		return TSM_ERR_CARD;
	tsm_engine_channel_label(s, cfg, s->iu[GP_KDD_LEN]);
	/*
	 * A pseudo-random card challenge (SCP03 i bit 10) is checked by keyd
	 * against KDF(K-ENC, seq || ISD AID) before anything else: a card
	 * replaying an old challenge is refused.
	 */
	if ((r = keys_open_channel_aid(w->keys, s->open_label, s->open_kvn,
	    proto, i, 8, s->hc, s->iu, s->iu_len, isd_aid,
	    proto == 3 && (i & GP_SCP03_I_PRAND) ? sizeof(isd_aid) : 0,
	    &ks)) != 0) {
		tsm_log(TSM_LOG_WARN, "keyd.open_channel", "sid=%s csn=%s "
		    "label=%s kvn=%u err=\"%s\"", s->id, s->csn,
		    s->open_label, s->open_kvn, keys_strerror(r));
		r = r == KEYS_ERR_CARD_CRYPTOGRAM ||
		    r == KEYS_ERR_CARD_CHALLENGE ? TSM_ERR_AUTH : TSM_ERR_KEYS;
		goto out;
	}
	if ((r = tsm_engine_channel_auth(s, &ks, proto, i, ea)) == 0)
		s->iu_verified = 1;
 out:
	keys_session_wipe(&ks);
	return r;
}

/*
 * A card with nothing to do still moved its counter with this
 * INITIALIZE UPDATE: for an SCP03 card with a pseudo-random challenge
 * the answer is verified (keyd and libgp, as for a channel; EXTERNAL
 * AUTHENTICATE is built and dropped) so that the session end records
 * the counter and the next session can be pre-computed.
 */
static void
learn_counter(struct tsm_worker *w, struct tsm_session *s)
{
	uint8_t ea[64];
	struct gp_wr eaw;
	uint8_t i;
	int proto;

	if (!w->srv->cfg.precompute ||
	    card_scp(s, &w->srv->cfg, &proto, &i) != 0 || proto != 3 ||
	    !(i & GP_SCP03_I_PRAND))
		return;
	gp_wr_init(&eaw, ea, sizeof(ea));
	if (open_channel(w, s, &eaw) != 0)
		s->iu_verified = 0;
	gp_wipe(ea, sizeof(ea));
}

static int
script_add_plain(struct tsm_script *sc, const uint8_t *p, size_t n)
{
	int r;

	if (sc->n >= TSM_SCRIPT_MAX(sc))
		return GP_ERR_SPACE;
	if ((r = gp_wr_put(&sc->w, p, n)) != 0)
		return r;
	sc->off[++sc->n] = sc->w.len;
	return 0;
}

/* Wraps plain commands [from, plain->n) onto out (SCP state moves). */
static int
wrap_all(struct tsm_session *s, const struct tsm_script *plain,
    size_t from, struct tsm_script *out)
{
	uint8_t wire[GP_APDU_SHORT_MAX + 32];
	struct gp_wr w;
	size_t i;
	int r;

	/* Marks are the bulk of a session (~300 bytes a command): exactly
	 * the script's size; the tags shrink to it after. */
	if ((r = tsm_session_marks(s, plain->n)) != 0)
		return r;
	for (i = from; i < plain->n; i++) {
		gp_wr_init(&w, wire, sizeof(wire));
		if ((r = gp_scp_wrap(&s->scp, plain->w.p + plain->off[i],
		    plain->off[i + 1] - plain->off[i], &w)) != 0)
			return r;
		if ((r = gp_scp_mark_get(&s->scp, &s->marks[out->n])) != 0)
			return r;
		if ((r = script_add_plain(out, w.p, w.len)) != 0)
			return r;
	}
	return tsm_session_tags(s, out->n);
}

static int
add_status(struct tsm_session *s, struct tsm_script *sc, uint8_t scope,
    uint8_t p2, uint8_t role)
{
	uint8_t buf[16];
	struct gp_wr w;
	int r;

	gp_wr_init(&w, buf, sizeof(buf));
	if ((r = gp_cmd_get_status(scope, p2, NULL, 0, &w)) != 0 ||
	    (r = script_add_plain(sc, w.p, w.len)) != 0)
		return r;
	s->tags[sc->n - 1].role = role;
	return 0;
}

/*
 * Plans every pending operation into plain commands (tags[first..]), then
 * the registry read, and wraps them all onto out. Operations that do not
 * fit wait for the next session; one whose payload is refused fails now.
 */
int
tsm_engine_build_job(struct tsm_worker *w, struct tsm_session *s,
    struct tsm_script *out, int64_t *ids, size_t *nids)
{
	struct tsm_script plain;
	size_t i, k, first = out->n;
	char why[128];
	int r;

	*nids = 0;
	if (tsm_session_tags(s, TSM_CMDS_MAX) != 0)	/* while planning */
		return TSM_ERR_NOMEM;
	memset(&plain, 0, sizeof(plain));
	plain.max = s->cmds_max;
	gp_wr_init_dyn(&plain.w, 800 * 1024);	/* wrapped: +8% at most */
	/* Plain commands are numbered as they will be in out. */
	plain.n = first;
	plain.off[first] = 0;
	s->putkey_planned = 0;
	/* Two passes: a terminate comes after everything else. */
	for (k = 0; k < 2 * s->nops; k++) {
		i = k % s->nops;
		if (s->op_state[i] != TSM_OPST_PENDING ||
		    tsm_plan_is_last(s, i) != (k >= s->nops))
			continue;
		if ((r = tsm_plan_op(w, s, i, &plain, why,
		    sizeof(why))) == GP_ERR_SPACE) {
			/* The next session does it; an operation that does
			 * not fit an empty script waits for an agent that
			 * runs longer ones (X-TSM-Script-Max). */
			tsm_log(TSM_LOG_WARN, "plan.script_full", "sid=%s "
			    "op=%lld cmds_max=%zu", s->id,
			    (long long)s->ops[i].id, TSM_SCRIPT_MAX(&plain));
			break;
		}
		if (r == TSM_PLAN_DEFER)
			continue;	/* stays queued */
		if (r != 0) {
			s->op_state[i] = TSM_OPST_FAILED;
			s->op_refused[i] = 1;
			snprintf(s->op_result[i], sizeof(s->op_result[i]),
			    "%s", why);
			s->failed++;
			continue;
		}
		if (s->op_state[i] == TSM_OPST_PENDING) {
			s->op_state[i] = TSM_OPST_PLANNED;
			ids[(*nids)++] = s->ops[i].id;
		} else if (s->op_state[i] == TSM_OPST_DONE &&
		    strcmp(s->ops[i].state, "queued") == 0)
			ids[(*nids)++] = s->ops[i].id;	/* found done */
	}
	if ((r = add_status(s, &plain, GP_STATUS_ISD, GP_STATUS_TAGGED,
	    TSM_CMD_STATUS_CARD)) != 0 ||
	    (r = add_status(s, &plain, GP_STATUS_APPS, GP_STATUS_TAGGED,
	    TSM_CMD_STATUS_APPS)) != 0)
		goto out;
	r = wrap_all(s, &plain, first, out);
 out:
	gp_wr_free(&plain.w);
	return r == 0 ? 0 : TSM_ERR_PROTO;
}

int
tsm_engine_build_reconcile(struct tsm_session *s, struct tsm_script *out,
    uint8_t more)
{
	struct tsm_script plain;
	size_t first = out->n;
	int r;

	if (tsm_session_tags(s, TSM_CMDS_MAX) != 0)	/* while planning */
		return TSM_ERR_NOMEM;
	memset(&plain, 0, sizeof(plain));
	plain.max = s->cmds_max;
	gp_wr_init_dyn(&plain.w, 4096);
	plain.n = first;
	/* more: 0 from the start, 1 load files go on, 2 applications go on */
	r = 0;
	if (more == 0)		/* the card's life cycle first */
		r = add_status(s, &plain, GP_STATUS_ISD, GP_STATUS_TAGGED,
		    TSM_CMD_STATUS_CARD);
	if (r == 0 && more != 2)
		r = add_status(s, &plain, GP_STATUS_ELF, GP_STATUS_TAGGED |
		    (more == 1 ? GP_STATUS_NEXT : 0), TSM_CMD_STATUS_ELF);
	if (r == 0 && (more != 1 || !s->rd_apps_done))
		r = add_status(s, &plain, GP_STATUS_APPS, GP_STATUS_TAGGED |
		    (more == 2 ? GP_STATUS_NEXT : 0), TSM_CMD_STATUS_APPS);
	if (r == 0)
		r = wrap_all(s, &plain, first, out);
	gp_wr_free(&plain.w);
	return r == 0 ? 0 : TSM_ERR_PROTO;
}

int
tsm_engine_load_ops(struct tsm_worker *w, struct tsm_session *s,
    int *uncertain)
{
	size_t i;
	int r;

	*uncertain = 0;
	if ((r = tsm_store_op_pending(w->store, s->card.id, s->ops,
	    TSM_OPS_MAX, &s->nops)) == TSM_STORE_ERR_TOOLARGE)
		r = tsm_store_op_pending(w->store, s->card.id, s->ops,
		    TSM_OPS_MAX - 1, &s->nops);	/* the rest next time */
	if (r != 0)
		return r;
	for (i = 0; i < s->nops; i++) {
		s->op_state[i] = TSM_OPST_PENDING;
		s->op_refused[i] = 0;
		if (strcmp(s->ops[i].state, "queued") != 0) {
			s->op_state[i] = TSM_OPST_UNCERTAIN;
			*uncertain = 1;
		}
		if (tsm_plan_needs_read(s, i))
			s->need_read = 1;
	}
	return 0;
}

static const char *
channel_sentence(int r)
{
	if (r == TSM_ERR_AUTH)
		return "Your card could not be authenticated. Please contact "
		    "your card issuer.";
	return "The service is busy. Please present your card again later.";
}

/* The session's row in the store, with ops[0..n) marked running. */
static int
begin(struct tsm_worker *w, struct tsm_session *s, const int64_t *ids,
    size_t n)
{
	int e;

	if ((e = tsm_store_session_begin(w->store, s->store_sid, s->card.id,
	    s->agent, ids, n)) != 0) {
		tsm_log(TSM_LOG_ERR, "store.error", "sid=%s csn=%s err=\"%s\" "
		    "msg=\"%s\"", s->id, s->csn, tsm_store_strerror(e),
		    tsm_store_errmsg(w->store));
		return e;
	}
	s->store_session = 1;
	return 0;
}

void
tsm_engine_identify(struct tsm_worker *w, struct tsm_session *s,
    struct tsm_reply *r)
{
	struct tsm_script out;
	int64_t ids[TSM_OPS_MAX];
	uint8_t ea[64];
	struct gp_wr eaw;
	size_t nids = 0;
	int uncertain, e;

	memset(&out, 0, sizeof(out));
	out.max = s->cmds_max;
	if (s->store_sid[0] == '\0')
		snprintf(s->store_sid, sizeof(s->store_sid), "%s", s->id);
	if ((e = find_card(w, s)) != 0) {
		tsm_log(TSM_LOG_INFO, "session.unknown_card", "sid=%s agent=%s"
		    " csn=%s kdd=%s err=\"%s\"", s->id, s->agent, s->csn,
		    s->kdd, tsm_store_strerror(e));
		s->csn[0] = '\0';
		tsm_reply_end(r, e == TSM_STORE_ERR_NOTFOUND ? "This card is not "
		    "managed by this service." : "The service is busy. Please "
		    "present your card again later.");
		return;
	}
	if (s->card.state == TSM_CARD_TERMINATED) {
		tsm_reply_end(r, "This card has been terminated.");
		return;
	}
	if (s->iu_len == 0) {	/* INITIALIZE UPDATE refused */
		tsm_log(TSM_LOG_WARN, "session.discovery_failed", "sid=%s "
		    "csn=%s msg=\"no secure channel\"", s->id, s->csn);
		tsm_reply_end(r, "Your card could not be read. Please present it "
		    "again.");
		return;
	}
	if ((e = tsm_engine_load_ops(w, s, &uncertain)) != 0) {
		tsm_log(TSM_LOG_ERR, "store.error", "sid=%s csn=%s err=\"%s\" "
		    "msg=\"%s\"", s->id, s->csn, tsm_store_strerror(e),
		    tsm_store_errmsg(w->store));
		tsm_reply_end(r, channel_sentence(TSM_ERR_STORE));
		return;
	}
	tsm_log(TSM_LOG_INFO, "session.card", "sid=%s agent=%s csn=%s "
	    "pending=%zu uncertain=%d read=%d", s->id, s->agent, s->csn,
	    s->nops, uncertain, s->need_read);
	if (s->nops == 0) {
		if (begin(w, s, NULL, 0) != 0) {
			tsm_reply_end(r, channel_sentence(TSM_ERR_STORE));
			return;
		}
		learn_counter(w, s);
		tsm_engine_finish(w, s, "done", r);
		return;
	}
	gp_wr_init(&eaw, ea, sizeof(ea));
	if ((e = open_channel(w, s, &eaw)) != 0) {
		tsm_log(TSM_LOG_WARN, "session.channel", "sid=%s csn=%s "
		    "err=\"%s\"", s->id, s->csn, tsm_strerror(e));
		(void)begin(w, s, NULL, 0);	/* the failed session's row */
		tsm_engine_finish(w, s, "failed", r);
		tsm_reply_end(r, channel_sentence(e));
		return;
	}
	gp_wr_init_dyn(&out.w, SCRIPT_BODY_MAX - 1024);
	(void)script_add_plain(&out, eaw.p, eaw.len);
	/* Command 0 is EXTERNAL AUTHENTICATE; the rest follow it. */
	if ((e = tsm_session_tags(s, TSM_CMDS_MAX)) == 0) {
		s->tags[0].role = TSM_CMD_AUTH;
		if (uncertain || s->need_read) {
			e = tsm_engine_build_reconcile(s, &out, 0);
			s->state = TSM_SESS_RECONCILE;
		} else {
			e = tsm_engine_build_job(w, s, &out, ids, &nids);
			s->state = TSM_SESS_JOB;
		}
	}
	/* The session row, and its operations running, in one transaction
	 * before the card sees them. */
	if (e == 0)
		e = begin(w, s, ids, nids);
	if (e == 0)
		e = encode(out.w.p, out.off, out.n, r);
	s->ncmds = out.n;
	gp_wr_free(&out.w);
	if (e != 0) {
		if (!s->store_session)
			(void)begin(w, s, NULL, 0);
		tsm_engine_finish(w, s, "failed", r);
		tsm_reply_end(r, channel_sentence(TSM_ERR_STORE));
	}
}
