/*
 * Operation plans: the plain GP commands each operation kind sends, how
 * each command's answer is judged, and what a finished operation changes
 * in the store. The engine wraps the commands (engine.c).
 *
 * Payloads are JSON (tsmctl op queue writes them):
 *   install  {"cap_sha256":HEX, "package":AID, "version_id":N,
 *             "applets":[{"module":AID, "instance":AID}...],
 *             "privileges":HEX, "params":HEX}
 *            the CAP file is the version's, kept once in the store
 *            (schema 0005) and checked against cap_sha256; payloads
 *            queued before carry it as "cap":HEX instead
 *            (capcache.c parses either once)
 *   delete   {"aid":AID, "related":true|false}
 *   lock, unlock  {"aid":AID}
 *   rotate   {"label":LABEL, "version":N}   keyd key set of the issuer keys
 *   personalise  {"aid":AID, "clear":HEX, "sensitive":HEX}  DGI streams
 *   suspend, resume, terminate, refresh  {}
 *
 * rotate: PUT KEY (built by tsm-keyd: the keys never exist here) replacing
 * the key set the card answered with by the issuer keys of label/version
 * diversified for the card, then SET STATUS SECURED when the card is
 * INITIALIZED. Its life cycle must be known: the registry is read first
 * when the store does not know it. personalise: INSTALL [for
 * personalization] then STORE DATA, clear DGIs first, then the sensitive
 * ones encrypted by tsm-keyd under the card's DEK. suspend, resume and
 * terminate: SET STATUS of the card (CARD_LOCKED, SECURED, TERMINATED).
 * refresh: the registry read alone, written to the store.
 *
 * An install against a registry the session has read (reconciliation
 * after an uncertain session) skips what the card already holds: the
 * load file when present, each instance when present. So it can be
 * repeated and is never done twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gp/apdu.h"
#include "gp/cap.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/registry.h"
#include "keys.h"
#include "server/server_int.h"

#define APPLETS_MAX	8

/* What a command of an operation is (tag.what). */
enum {
	W_INSTALL_LOAD = 0,
	W_LOAD,
	W_INSTALL_APP,
	W_DELETE,
	W_SET_STATUS,
	W_PUT_KEY,
	W_SET_CARD,
	W_INSTALL_PERSO,
	W_STORE_DATA,
};

/* Card life cycle states (GP 2.3.1 table 11-5). */
#define LC_OP_READY	0x01
#define LC_INITIALIZED	0x07
#define LC_SECURED	0x0F
#define LC_LOCKED	0x7F
#define LC_TERMINATED	0xFF

static const uint8_t isd_aid[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00,
    0x00, 0x00 };

struct aid {
	uint8_t	 b[16];
	size_t	 len;
};

struct install {
	uint8_t		*cap;		/* with_cap: the CAP's hex, NUL ended */
	size_t		 caplen;	/* its length in characters */
	char		 cap_sha[65];	/* else the CAP file's SHA-256, hex */
	uint8_t		 cap_md[32];	/* (the same, as bytes) */
	struct aid	 pkg;
	struct aid	 mod[APPLETS_MAX], inst[APPLETS_MAX];
	size_t		 napplets;
	uint8_t		 priv[3];
	size_t		 priv_len;
	uint8_t		 params[64];
	size_t		 params_len;
	int64_t		 version_id;
};

static int
hex_field(const cJSON *o, const char *name, uint8_t *out, size_t cap,
    size_t *len)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(j) || j->valuestring == NULL)
		return -1;
	return gp_hex_decode(j->valuestring, out, cap, len) == 0 ? 0 : -1;
}

static int
aid_field(const cJSON *o, const char *name, struct aid *a)
{
	if (hex_field(o, name, a->b, sizeof(a->b), &a->len) != 0 ||
	    a->len < GP_AID_MIN)
		return -1;
	return 0;
}

static int
parse_applets(const cJSON *root, struct install *in)
{
	const cJSON *arr, *e;

	arr = cJSON_GetObjectItemCaseSensitive(root, "applets");
	if (!cJSON_IsArray(arr))
		return -1;
	cJSON_ArrayForEach(e, arr) {
		if (in->napplets == APPLETS_MAX ||
		    aid_field(e, "module", &in->mod[in->napplets]) != 0 ||
		    aid_field(e, "instance", &in->inst[in->napplets]) != 0)
			return -1;
		in->napplets++;
	}
	return 0;
}

/* Parses an install payload; with_cap 0 skips the CAP bytes. */
static int
install_parse(const char *payload, int with_cap, struct install *in)
{
	const cJSON *j;
	cJSON *root;
	size_t n;
	int r = -1;

	memset(in, 0, sizeof(*in));
	if (payload == NULL || (root = cJSON_Parse(payload)) == NULL)
		return -1;
	if (aid_field(root, "package", &in->pkg) != 0 ||
	    parse_applets(root, in) != 0 ||
	    hex_field(root, "privileges", in->priv, 3, &in->priv_len) != 0 ||
	    hex_field(root, "params", in->params, sizeof(in->params),
	    &in->params_len) != 0)
		goto out;
	j = cJSON_GetObjectItemCaseSensitive(root, "version_id");
	if (!cJSON_IsNumber(j) || j->valuedouble < 1)
		goto out;
	in->version_id = (int64_t)j->valuedouble;
	/* The CAP by its SHA-256, or (payloads queued before schema 0005)
	 * in hex, which stays hex: capcache.c decodes it only when it has
	 * not seen that text before. */
	j = cJSON_GetObjectItemCaseSensitive(root, "cap_sha256");
	if (cJSON_IsString(j) && j->valuestring != NULL) {
		if (strlen(j->valuestring) != 64 || gp_hex_decode(
		    j->valuestring, in->cap_md, sizeof(in->cap_md), &n) != 0 ||
		    n != 32)
			goto out;
		memcpy(in->cap_sha, j->valuestring, 65);
	} else if (with_cap) {
		j = cJSON_GetObjectItemCaseSensitive(root, "cap");
		if (!cJSON_IsString(j) || j->valuestring == NULL ||
		    (n = strlen(j->valuestring)) < 2 ||
		    (in->cap = malloc(n + 1)) == NULL)
			goto out;
		memcpy(in->cap, j->valuestring, n + 1);
		in->caplen = n;
	}
	r = 0;
 out:
	cJSON_Delete(root);
	if (r != 0) {
		free(in->cap);
		in->cap = NULL;
	}
	return r;
}

/* The registry entry for an AID, from what the session read. */
static const struct tsm_reg *
reg_find(const struct tsm_session *s, const uint8_t *aid, size_t len,
    int elf)
{
	size_t i;

	for (i = 0; i < s->nreg; i++)
		if (s->reg[i].is_elf == elf && s->reg[i].aid_len == len &&
		    memcmp(s->reg[i].aid, aid, len) == 0)
			return &s->reg[i];
	return NULL;
}

static int
add(struct tsm_script *sc, struct gp_wr *cmd, struct tsm_cmd_tag *tags,
    uint8_t what, size_t op)
{
	int r;

	if (sc->n >= TSM_SCRIPT_MAX(sc) - 4)	/* room for auth and status */
		return GP_ERR_SPACE;
	if ((r = gp_wr_put(&sc->w, cmd->p, cmd->len)) != 0)
		return r;
	tags[sc->n].role = TSM_CMD_OP;
	tags[sc->n].op = (uint8_t)op;
	tags[sc->n].what = what;
	tags[sc->n].last = 0;
	sc->n++;
	sc->off[sc->n] = sc->w.len;
	gp_wr_reset(cmd);
	return 0;
}

static int
plan_load(const struct install *in, const struct tsm_capv *cap,
    const struct tsm_server_cfg *cfg, struct tsm_script *sc,
    struct tsm_cmd_tag *tags, size_t op, struct gp_wr *cmd)
{
	struct gp_install gi = { .elf_aid = in->pkg.b, .elf_len = in->pkg.len,
	    .sd_aid = isd_aid, .sd_len = sizeof(isd_aid),
	    .hash = cap->hash, .hash_len = cap->hash_len };
	struct gp_load ld = { .lfdb = cap->lfdb, .lfdb_len = cap->lfdb_len,
	    .block = cfg->load_block };
	long n, k;
	int r;

	if ((r = gp_cmd_install(GP_INSTALL_LOAD, &gi, cmd)) != 0 ||
	    (r = add(sc, cmd, tags, W_INSTALL_LOAD, op)) != 0)
		return r;
	if ((n = gp_load_count(&ld)) < 0)
		return (int)n;
	for (k = 0; k < n; k++)
		if ((r = gp_cmd_load(&ld, (size_t)k, cmd)) != 0 ||
		    (r = add(sc, cmd, tags, W_LOAD, op)) != 0)
			return r;
	return 0;
}

/*
 * The CAP file of an install by reference: from the table, else from the
 * store (the version's file, which must still hash to the payload's
 * SHA-256). A store that cannot answer now defers the operation (it stays
 * queued); a version without that file, or bytes that do not hash to it,
 * fail it.
 */
static int
install_cap_ref(struct tsm_worker *wk, const struct install *in,
    struct tsm_capv *cap, char *why, size_t wl)
{
	uint8_t *bytes = NULL;
	size_t n;
	int r, hit;

	if ((r = tsm_capv_find(in->cap_md, cap, &hit)) != 0 || hit)
		return r;
	if ((r = tsm_store_app_version_cap(wk->store, in->version_id,
	    in->cap_sha, &bytes, &n)) != 0) {
		tsm_log(TSM_LOG_WARN, "plan.cap", "version=%lld err=\"%s\"",
		    (long long)in->version_id, tsm_store_strerror(r));
		if (r != TSM_STORE_ERR_NOTFOUND)
			return TSM_PLAN_DEFER;
		snprintf(why, wl, "CAP file of application version %lld: %s",
		    (long long)in->version_id, tsm_store_strerror(r));
		return GP_ERR_NOTFOUND;
	}
	r = tsm_capv_put(in->cap_md, bytes, n, cap);
	free(bytes);
	return r;
}

static int
plan_install(struct tsm_worker *wk, struct tsm_session *s, size_t op,
    const struct tsm_server_cfg *cfg, struct tsm_script *sc,
    struct tsm_cmd_tag *tags, struct gp_wr *cmd, char *why, size_t wl)
{
	struct install in;
	struct tsm_capv cap;
	struct gp_install gi;
	size_t k, first = sc->n;
	int r, hit;

	memset(&cap, 0, sizeof(cap));
	if (install_parse(s->ops[op].payload, 1, &in) != 0) {
		snprintf(why, wl, "malformed install payload");
		return GP_ERR_FORMAT;
	}
	if (in.cap == NULL)
		r = install_cap_ref(wk, &in, &cap, why, wl);
	else
		r = tsm_capv_get((const char *)in.cap, in.caplen, &cap, &hit);
	if (why[0] != '\0' || r == TSM_PLAN_DEFER)
		goto out;
	if (r != 0 || cap.pkg_len != in.pkg.len ||
	    memcmp(cap.pkg, in.pkg.b, in.pkg.len) != 0) {
		snprintf(why, wl, "CAP file refused: %s", r != 0 ?
		    gp_strerror(r) : "package AID differs");
		r = r != 0 ? r : GP_ERR_FORMAT;
		goto out;
	}
	if (!s->reg_complete || reg_find(s, in.pkg.b, in.pkg.len, 1) == NULL)
		if ((r = plan_load(&in, &cap, cfg, sc, tags, op, cmd)) != 0)
			goto out;
	for (k = 0; k < in.napplets; k++) {
		if (s->reg_complete &&
		    reg_find(s, in.inst[k].b, in.inst[k].len, 0) != NULL)
			continue;
		memset(&gi, 0, sizeof(gi));
		gi.elf_aid = in.pkg.b;
		gi.elf_len = in.pkg.len;
		gi.mod_aid = in.mod[k].b;
		gi.mod_len = in.mod[k].len;
		gi.app_aid = in.inst[k].b;
		gi.app_len = in.inst[k].len;
		gi.priv = in.priv;
		gi.priv_len = in.priv_len;
		gi.params = in.params;
		gi.params_len = in.params_len;
		if ((r = gp_cmd_install(GP_INSTALL_AND_SELECT, &gi, cmd)) != 0 ||
		    (r = add(sc, cmd, tags, W_INSTALL_APP, op)) != 0)
			goto out;
	}
	if (sc->n == first)	/* everything already there */
		s->op_state[op] = TSM_OPST_DONE;
	r = 0;
 out:
	if (r != 0 && r != TSM_PLAN_DEFER && why[0] == '\0')
		snprintf(why, wl, "cannot build the install: %s",
		    gp_strerror(r));
	tsm_capv_free(&cap);
	free(in.cap);
	return r;
}

static int
plan_simple(struct tsm_session *s, size_t op, struct tsm_script *sc,
    struct tsm_cmd_tag *tags, struct gp_wr *cmd, char *why, size_t wl)
{
	const char *kind = s->ops[op].kind;
	struct gp_delete d;
	struct aid a;
	cJSON *root, *rel;
	int r, related = 0;

	if ((root = cJSON_Parse(s->ops[op].payload != NULL ?
	    s->ops[op].payload : "")) == NULL)
		goto bad;
	r = aid_field(root, "aid", &a);
	rel = cJSON_GetObjectItemCaseSensitive(root, "related");
	related = cJSON_IsTrue(rel);
	cJSON_Delete(root);
	if (r != 0)
		goto bad;
	if (strcmp(kind, "delete") == 0) {
		memset(&d, 0, sizeof(d));
		d.aid = a.b;
		d.aid_len = a.len;
		d.related = related;
		if ((r = gp_cmd_delete(&d, cmd)) != 0)
			return r;
		return add(sc, cmd, tags, W_DELETE, op);
	}
	if ((r = gp_cmd_set_status(GP_SETSTATUS_APP,
	    strcmp(kind, "lock") == 0 ? 0x80 : 0x00, a.b, a.len, cmd)) != 0)
		return r;
	return add(sc, cmd, tags, W_SET_STATUS, op);
 bad:
	snprintf(why, wl, "malformed %s payload", kind);
	return GP_ERR_FORMAT;
}

/* The card's life cycle: read in this session, else the store's. */
static int
card_lc(const struct tsm_session *s, uint8_t *lc)
{
	static const struct { const char *n; uint8_t v; } names[] = {
		{ "OP_READY", LC_OP_READY }, { "INITIALIZED", LC_INITIALIZED },
		{ "SECURED", LC_SECURED }, { "CARD_LOCKED", LC_LOCKED },
		{ "TERMINATED", LC_TERMINATED },
	};
	size_t k;

	/* A read that gave no card state (some cards answer 00): the
	 * store's knowledge stands. */
	for (k = 0; s->have_card_lc && k < sizeof(names) / sizeof(names[0]);
	    k++)
		if (s->card_lc == names[k].v) {
			*lc = s->card_lc;
			return 0;
		}
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strcmp(s->card.gp_state, names[k].n) == 0) {
			*lc = names[k].v;
			return 0;
		}
	return -1;
}

static int
rotate_parse(const char *payload, char *label, size_t cap, int *version)
{
	const cJSON *j;
	cJSON *root;
	int r = -1;

	if (payload == NULL || (root = cJSON_Parse(payload)) == NULL)
		return -1;
	j = cJSON_GetObjectItemCaseSensitive(root, "label");
	if (cJSON_IsString(j) && j->valuestring != NULL &&
	    strlen(j->valuestring) > 0 && strlen(j->valuestring) < cap) {
		snprintf(label, cap, "%s", j->valuestring);
		j = cJSON_GetObjectItemCaseSensitive(root, "version");
		if (cJSON_IsNumber(j) && j->valuedouble >= 1 &&
		    j->valuedouble <= 0x7F) {
			*version = (int)j->valuedouble;
			r = 0;
		}
	}
	cJSON_Delete(root);
	return r;
}

/*
 * PUT KEY replacing the key set the channel was opened with (P1 = its
 * version) by the issuer keys label/version for this card's KDD, then
 * SET STATUS SECURED on an INITIALIZED card. A card already answering
 * with the new version has been rotated (an uncertain session did it):
 * only what is left is planned.
 */
static int
plan_rotate(struct tsm_worker *wk, struct tsm_session *s, size_t op,
    struct tsm_script *sc, struct tsm_cmd_tag *tags, struct gp_wr *cmd,
    char *why, size_t wl)
{
	struct keys_putkey_req q;
	char label[33];
	uint8_t lc;
	int version, r;

	if (rotate_parse(s->ops[op].payload, label, sizeof(label),
	    &version) != 0) {
		snprintf(why, wl, "malformed rotate payload");
		return GP_ERR_FORMAT;
	}
	if (card_lc(s, &lc) != 0) {
		if (!s->reg_complete)
			return TSM_PLAN_DEFER;	/* read first (needs_read) */
		lc = 0;		/* read, still unknown: keys only */
	}
	s->rot_kvn[op] = (uint8_t)version;
	if (s->open_kvn == version) {
		/* Already the issuer keys: their KCVs for the store. */
		if ((r = keys_card_kcv(wk->keys, label, (uint8_t)version,
		    s->scp.kdd, s->rot_kcv[op])) != 0) {
			snprintf(why, wl, "tsm-keyd: %s", keys_strerror(r));
			return r == KEYS_ERR_NOKEY ? GP_ERR_FORMAT : GP_ERR_SPACE;
		}
	} else {
		memset(&q, 0, sizeof(q));
		q.label = s->open_label;
		q.version = s->open_kvn;
		q.proto = s->scp.proto;
		memcpy(q.kdd, s->scp.kdd, GP_KDD_LEN);
		memcpy(q.seq, s->scp.seq, 2);
		q.new_label = label;
		q.new_version = (uint8_t)version;
		q.old_kvn = s->open_kvn;
		q.new_kvn = (uint8_t)version;
		q.key_id = 1;
		if ((r = keys_put_key(wk->keys, &q, cmd, s->rot_kcv[op])) !=
		    0) {
			snprintf(why, wl, "tsm-keyd refused the PUT KEY: %s",
			    keys_strerror(r));
			gp_wr_reset(cmd);
			/* keyd down: try again next time; else it fails. */
			return r == KEYS_ERR_IO || r == KEYS_ERR_TIMEOUT ?
			    GP_ERR_SPACE : GP_ERR_FORMAT;
		}
		if ((r = add(sc, cmd, tags, W_PUT_KEY, op)) != 0)
			return r;
		s->putkey_planned = 1;
	}
	if (lc == LC_INITIALIZED) {
		if ((r = gp_cmd_set_status(GP_SETSTATUS_ISD, LC_SECURED, NULL,
		    0, cmd)) != 0 ||
		    (r = add(sc, cmd, tags, W_SET_CARD, op)) != 0)
			return r;
	}
	return 0;
}

/* A DGI stream: tag (2) || length (1, or FF + 2) || value, whole. */
static int
dgi_stream_ok(const uint8_t *p, size_t n)
{
	size_t off = 0, l;

	while (off < n) {
		if (n - off < 3)
			return 0;
		l = p[off + 2];
		off += 3;
		if (l == 0xFF) {
			if (n - off < 2)
				return 0;
			l = (size_t)p[off] << 8 | p[off + 1];
			off += 2;
		}
		if (n - off < l)
			return 0;
		off += l;
	}
	return 1;
}

static int
hex_blob(const cJSON *o, const char *name, uint8_t **out, size_t *len)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t n;

	*out = NULL;
	*len = 0;
	if (j == NULL)
		return 0;
	if (!cJSON_IsString(j) || j->valuestring == NULL)
		return -1;
	if ((n = strlen(j->valuestring) / 2) == 0)
		return 0;
	if ((*out = malloc(n)) == NULL ||
	    gp_hex_decode(j->valuestring, *out, n, len) != 0 ||
	    !dgi_stream_ok(*out, *len))
		return -1;
	return 0;
}

static int
add_store(struct tsm_script *sc, struct tsm_cmd_tag *tags, size_t op,
    struct gp_wr *cmd, uint8_t p1, const uint8_t *p, size_t n, size_t chunk,
    unsigned *block, int final)
{
	struct gp_store_iter it;
	int r;

	if ((r = gp_store_iter_init(&it, p1, p, n, chunk, *block, final)) !=
	    0)
		return r;
	while ((r = gp_store_iter_next(&it, cmd)) == 0) {
		if ((r = add(sc, cmd, tags, W_STORE_DATA, op)) != 0)
			return r;
		(*block)++;
	}
	return r == GP_ERR_NOTFOUND ? 0 : r;
}

/*
 * INSTALL [for personalization] then STORE DATA: the clear DGIs, then the
 * sensitive ones as tsm-keyd encrypted them under the card's DEK (P1
 * b7b6 = 11), the last command with P1 b8. Not in a script whose PUT KEY
 * changes that DEK: the next session does it.
 */
static int
plan_perso(struct tsm_worker *wk, struct tsm_session *s, size_t op,
    struct tsm_script *sc, struct tsm_cmd_tag *tags, struct gp_wr *cmd,
    char *why, size_t wl)
{
	struct keys_dgi_req q;
	struct gp_install gi;
	struct gp_wr enc;
	uint8_t *clear = NULL, *sens = NULL;
	size_t nclear = 0, nsens = 0, chunk = wk->srv->cfg.load_block;
	unsigned block = 0;
	struct aid a;
	cJSON *root;
	int r = GP_ERR_FORMAT;

	if (s->putkey_planned)
		return TSM_PLAN_DEFER;
	gp_wr_init_dyn(&enc, 64 * 1024);
	if ((root = cJSON_Parse(s->ops[op].payload != NULL ?
	    s->ops[op].payload : "")) == NULL)
		goto bad;
	if (aid_field(root, "aid", &a) != 0 ||
	    hex_blob(root, "clear", &clear, &nclear) != 0 ||
	    hex_blob(root, "sensitive", &sens, &nsens) != 0 ||
	    nclear + nsens == 0) {
		cJSON_Delete(root);
		goto bad;
	}
	cJSON_Delete(root);
	if (nsens > 0) {
		memset(&q, 0, sizeof(q));
		q.label = s->open_label;
		q.version = s->open_kvn;
		q.proto = s->scp.proto;
		memcpy(q.kdd, s->scp.kdd, GP_KDD_LEN);
		memcpy(q.seq, s->scp.seq, 2);
		if ((r = keys_encrypt_dgis(wk->keys, &q, sens, nsens,
		    &enc)) != 0) {
			snprintf(why, wl, "tsm-keyd refused the DGIs: %s",
			    keys_strerror(r));
			r = r == KEYS_ERR_IO || r == KEYS_ERR_TIMEOUT ?
			    GP_ERR_SPACE : GP_ERR_FORMAT;
			goto out;
		}
	}
	memset(&gi, 0, sizeof(gi));
	gi.app_aid = a.b;
	gi.app_len = a.len;
	if ((r = gp_cmd_install(GP_INSTALL_PERSO, &gi, cmd)) != 0 ||
	    (r = add(sc, cmd, tags, W_INSTALL_PERSO, op)) != 0)
		goto out;
	if (nclear > 0 && (r = add_store(sc, tags, op, cmd, GP_STORE_DGI,
	    clear, nclear, chunk, &block, nsens == 0)) != 0)
		goto out;
	if (nsens > 0 && (r = add_store(sc, tags, op, cmd, GP_STORE_DGI |
	    GP_STORE_ENC, enc.p, enc.len, chunk, &block, 1)) != 0)
		goto out;
	r = 0;
	goto out;
 bad:
	snprintf(why, wl, "malformed personalise payload");
	r = GP_ERR_FORMAT;
 out:
	if (sens != NULL)
		gp_wipe(sens, nsens);
	if (clear != NULL)
		gp_wipe(clear, nclear);
	free(sens);
	free(clear);
	if (enc.p != NULL)
		gp_wipe(enc.p, enc.len);
	gp_wr_free(&enc);
	return r;
}

static uint8_t
card_target(const char *kind)
{
	if (strcmp(kind, "suspend") == 0)
		return LC_LOCKED;
	if (strcmp(kind, "resume") == 0)
		return LC_SECURED;
	return LC_TERMINATED;
}

/* SET STATUS of the card; nothing when it is there already. */
static int
plan_card(struct tsm_session *s, size_t op, struct tsm_script *sc,
    struct tsm_cmd_tag *tags, struct gp_wr *cmd, char *why, size_t wl)
{
	uint8_t to = card_target(s->ops[op].kind), lc;
	int r;

	if (card_lc(s, &lc) == 0 && lc == to) {
		s->op_state[op] = TSM_OPST_DONE;
		return 0;
	}
	if ((r = gp_cmd_set_status(GP_SETSTATUS_ISD, to, NULL, 0, cmd)) != 0) {
		snprintf(why, wl, "cannot build SET STATUS: %s",
		    gp_strerror(r));
		return r;
	}
	return add(sc, cmd, tags, W_SET_CARD, op);
}

int
tsm_plan_is_last(const struct tsm_session *s, size_t op)
{
	return strcmp(s->ops[op].kind, "terminate") == 0;
}

int
tsm_plan_needs_read(const struct tsm_session *s, size_t op)
{
	uint8_t lc;

	if (strcmp(s->ops[op].kind, "refresh") == 0)
		return 1;
	return strcmp(s->ops[op].kind, "rotate") == 0 && card_lc(s, &lc) != 0;
}

int
tsm_plan_op(struct tsm_worker *wk, struct tsm_session *s, size_t op,
    struct tsm_script *sc, char *why, size_t wl)
{
	const struct tsm_server_cfg *cfg = &wk->srv->cfg;
	struct tsm_cmd_tag *tags = s->tags;
	uint8_t buf[GP_APDU_SHORT_MAX + 8];
	struct gp_wr cmd;
	const char *kind = s->ops[op].kind;
	size_t first = sc->n;
	int r;

	why[0] = '\0';
	gp_wr_init(&cmd, buf, sizeof(buf));
	if (strcmp(kind, "install") == 0)
		r = plan_install(wk, s, op, cfg, sc, tags, &cmd, why, wl);
	else if (strcmp(kind, "delete") == 0 || strcmp(kind, "lock") == 0 ||
	    strcmp(kind, "unlock") == 0)
		r = plan_simple(s, op, sc, tags, &cmd, why, wl);
	else if (strcmp(kind, "rotate") == 0)
		r = plan_rotate(wk, s, op, sc, tags, &cmd, why, wl);
	else if (strcmp(kind, "personalise") == 0)
		r = plan_perso(wk, s, op, sc, tags, &cmd, why, wl);
	else if (strcmp(kind, "suspend") == 0 ||
	    strcmp(kind, "resume") == 0 || strcmp(kind, "terminate") == 0)
		r = plan_card(s, op, sc, tags, &cmd, why, wl);
	else if (strcmp(kind, "refresh") == 0) {
		/* The registry read is the whole operation. */
		r = s->reg_complete ? 0 : TSM_PLAN_DEFER;
		if (r == 0)
			s->op_state[op] = TSM_OPST_DONE;
	} else {
		snprintf(why, wl, "unknown operation %s", kind);
		r = GP_ERR_UNSUPPORTED;
	}
	gp_wipe(buf, sizeof(buf));
	if (r != 0) {	/* drop what this operation had appended */
		sc->n = first;
		sc->w.len = sc->off[first];
		return r;
	}
	if (sc->n == first && s->op_state[op] == TSM_OPST_PENDING)
		s->op_state[op] = TSM_OPST_DONE;
	if (s->op_state[op] == TSM_OPST_DONE) {
		snprintf(s->op_result[op], sizeof(s->op_result[op]),
		    strcmp(kind, "refresh") == 0 ? "ok" :
		    "ok (nothing to do on the card)");
		if (strcmp(kind, "install") != 0)
			tsm_plan_count(s, op);
	}
	if (sc->n > first)
		tags[sc->n - 1].last = 1;
	return 0;
}

static const char *
what_name(uint8_t what)
{
	switch (what) {
	case W_INSTALL_LOAD: return "INSTALL [for load]";
	case W_LOAD: return "LOAD";
	case W_INSTALL_APP: return "INSTALL [for install]";
	case W_DELETE: return "DELETE";
	case W_PUT_KEY: return "PUT KEY";
	case W_INSTALL_PERSO: return "INSTALL [for personalization]";
	case W_STORE_DATA: return "STORE DATA";
	default: return "SET STATUS";
	}
}

void
tsm_plan_result(struct tsm_session *s, const struct tsm_cmd_tag *t,
    const uint8_t *data, size_t len, uint16_t sw)
{
	if (s->op_state[t->op] != TSM_OPST_PLANNED)
		return;
	/* PUT KEY answers the new version and the KCVs of what it stored. */
	if (t->what == W_PUT_KEY && sw == 0x9000 && (len != 10 ||
	    data[0] != s->rot_kvn[t->op] ||
	    gp_ct_memcmp(data + 1, s->rot_kcv[t->op], 9) != 0)) {
		s->op_state[t->op] = TSM_OPST_FAILED;
		snprintf(s->op_result[t->op], sizeof(s->op_result[t->op]),
		    "PUT KEY: the card's key check values differ");
		s->failed++;
		return;
	}
	/* DELETE of what is not there: already deleted (idempotent). */
	if (t->what == W_DELETE && sw == 0x6A88)
		sw = 0x9000;
	if (sw != 0x9000 && !gp_sw_warning(sw)) {
		s->op_state[t->op] = TSM_OPST_FAILED;
		snprintf(s->op_result[t->op], sizeof(s->op_result[t->op]),
		    "%s answered %04X", what_name(t->what), sw);
		s->failed++;
		return;
	}
	if (!t->last)
		return;
	s->op_state[t->op] = TSM_OPST_DONE;
	snprintf(s->op_result[t->op], sizeof(s->op_result[t->op]), "ok");
	tsm_plan_count(s, t->op);
}

/* What the cardholder is told about a finished operation. */
void
tsm_plan_count(struct tsm_session *s, size_t op)
{
	const char *kind = s->ops[op].kind;

	if (strcmp(kind, "install") == 0)
		s->installed++;
	else if (strcmp(kind, "delete") == 0)
		s->removed++;
	else if (strcmp(kind, "lock") == 0 || strcmp(kind, "unlock") == 0 ||
	    strcmp(kind, "personalise") == 0)
		s->changed++;
	else if (strcmp(kind, "suspend") == 0)
		s->card_msg = "Your card is suspended.";
	else if (strcmp(kind, "resume") == 0)
		s->card_msg = "Your card is active again.";
	else if (strcmp(kind, "terminate") == 0)
		s->card_msg = "Your card has been terminated.";
	else if (strcmp(kind, "rotate") == 0)
		s->card_msg = "Your card's security was updated.";
}

/*
 * Uncertain operations against the registry read: an install whose
 * instances are all there is done; anything else goes back to pending
 * and is planned against the registry (what is there is skipped). A
 * delete whose object is gone is done. A lock or unlock is simply
 * planned again (repeating it is harmless).
 */
void
tsm_plan_reconcile(struct tsm_session *s)
{
	struct install in;
	struct aid a;
	cJSON *root;
	size_t i, k, have;

	for (i = 0; i < s->nops; i++) {
		if (strcmp(s->ops[i].kind, "refresh") == 0 &&
		    s->op_state[i] != TSM_OPST_DONE) {
			/* The read just done is the whole operation. */
			s->op_state[i] = TSM_OPST_DONE;
			snprintf(s->op_result[i], sizeof(s->op_result[i]),
			    "ok");
			continue;
		}
		if (s->op_state[i] != TSM_OPST_UNCERTAIN)
			continue;
		s->op_state[i] = TSM_OPST_PENDING;
		if (strcmp(s->ops[i].kind, "install") == 0 &&
		    install_parse(s->ops[i].payload, 0, &in) == 0) {
			for (k = have = 0; k < in.napplets; k++)
				if (reg_find(s, in.inst[k].b, in.inst[k].len,
				    0) != NULL)
					have++;
			if (have == in.napplets && reg_find(s, in.pkg.b,
			    in.pkg.len, 1) != NULL) {
				s->op_state[i] = TSM_OPST_DONE;
				s->installed++;
			}
		} else if (strcmp(s->ops[i].kind, "delete") == 0 &&
		    (root = cJSON_Parse(s->ops[i].payload)) != NULL) {
			if (aid_field(root, "aid", &a) == 0 &&
			    reg_find(s, a.b, a.len, 0) == NULL &&
			    reg_find(s, a.b, a.len, 1) == NULL) {
				s->op_state[i] = TSM_OPST_DONE;
				s->removed++;
			}
			cJSON_Delete(root);
		}
		if (s->op_state[i] == TSM_OPST_DONE)
			snprintf(s->op_result[i], sizeof(s->op_result[i]),
			    "ok (found done on the card)");
	}
}

static const char *
app_state(const struct tsm_session *s, const struct aid *a,
    const char *dflt)
{
	const struct tsm_reg *e = reg_find(s, a->b, a->len, 0);
	const char *n;

	if (e == NULL || (n = gp_lifecycle_name(GP_LC_APP, e->lifecycle)) ==
	    NULL)
		return dflt;
	return n;
}

struct refresh_acc {
	struct tsm_session		*s;
	struct tsm_instance_change	*c;
	size_t				 cap, n;
	char				(*aids)[33];
	int				 known;	/* store instances on the card */
};

/* A store instance against the registry: its state, or gone. */
static int
refresh_one(void *arg, const struct tsm_instance *in)
{
	struct refresh_acc *r = arg;
	const struct tsm_reg *e;
	struct aid a;
	const char *n;

	if (r->n == r->cap || gp_hex_decode(in->aid, a.b, sizeof(a.b),
	    &a.len) != 0)
		return 0;
	if ((e = reg_find(r->s, a.b, a.len, 0)) != NULL) {
		r->known++;
		if ((n = gp_lifecycle_name(GP_LC_APP, e->lifecycle)) == NULL ||
		    strcmp(n, in->gp_state) == 0)
			return 0;
		snprintf(r->aids[r->n], 33, "%s", in->aid);
		r->c[r->n].aid = r->aids[r->n];
		r->c[r->n].version_id = 0;
		r->c[r->n].gp_state = n;
		r->n++;
	} else if (r->s->apps_complete) {
		snprintf(r->aids[r->n], 33, "%s", in->aid);
		r->c[r->n].aid = r->aids[r->n];
		r->c[r->n].version_id = 0;
		r->c[r->n].gp_state = NULL;	/* not on the card */
		r->n++;
	}
	return 0;
}

/* refresh: the store's instances made to match the registry read. */
static size_t
refresh_instances(struct tsm_worker *wk, struct tsm_session *s, size_t op,
    struct tsm_instance_change *c, size_t cap, char (*aids)[33])
{
	struct refresh_acc r = { s, c, cap, 0, aids, 0 };
	size_t k, apps = 0;

	if (tsm_store_instance_list(wk->store, s->card.id, refresh_one,
	    &r) != 0)
		return 0;
	for (k = 0; k < s->nreg; k++)
		apps += !s->reg[k].is_elf;
	snprintf(s->op_result[op], sizeof(s->op_result[op]), "ok: %zu "
	    "application(s) on the card, %zu updated in the store, %zu "
	    "unknown to the store%s", apps, r.n, apps - (size_t)r.known,
	    s->apps_complete ? "" : " (registry read incomplete)");
	return r.n;
}

size_t
tsm_plan_instances(struct tsm_worker *wk, struct tsm_session *s, size_t op,
    struct tsm_instance_change *c, size_t cap, char (*aids)[33])
{
	const char *kind = s->ops[op].kind;
	struct install in;
	struct aid a;
	cJSON *root;
	size_t k, n = 0;

	if (strcmp(kind, "refresh") == 0)
		return refresh_instances(wk, s, op, c, cap, aids);
	if (strcmp(kind, "rotate") == 0 || strcmp(kind, "suspend") == 0 ||
	    strcmp(kind, "resume") == 0 || strcmp(kind, "terminate") == 0)
		return 0;

	if (strcmp(kind, "install") == 0) {
		if (install_parse(s->ops[op].payload, 0, &in) != 0)
			return 0;
		for (k = 0; k < in.napplets && n < cap; k++, n++) {
			gp_hex_encode(in.inst[k].b, in.inst[k].len, aids[n]);
			c[n].aid = aids[n];
			c[n].version_id = in.version_id;
			c[n].gp_state = app_state(s, &in.inst[k], "selectable");
		}
		return n;
	}
	if (cap == 0 || (root = cJSON_Parse(s->ops[op].payload)) == NULL)
		return 0;
	if (aid_field(root, "aid", &a) == 0) {
		gp_hex_encode(a.b, a.len, aids[0]);
		c[0].aid = aids[0];
		c[0].version_id = 0;
		if (strcmp(kind, "delete") == 0)
			c[0].gp_state = NULL;
		else if (strcmp(kind, "personalise") == 0)
			c[0].gp_state = app_state(s, &a, NULL);
		else
			c[0].gp_state = strcmp(kind, "lock") == 0 ? "locked" :
			    app_state(s, &a, "selectable");
		n = c[0].gp_state != NULL || strcmp(kind, "delete") == 0;
	}
	cJSON_Delete(root);
	return n;
}

void
tsm_plan_card(struct tsm_session *s, struct tsm_session_end *e,
    char kcv[3][7])
{
	size_t i;
	int k;

	for (i = 0; i < s->nops; i++) {
		if (s->op_state[i] != TSM_OPST_DONE)
			continue;
		if (strcmp(s->ops[i].kind, "rotate") == 0) {
			e->new_kvn = s->rot_kvn[i];
			e->key_type = s->scp.proto == 2 ? "DES3" : "AES";
			for (k = 0; k < 3; k++) {
				gp_hex_encode(s->rot_kcv[i] + 3 * k, 3, kcv[k]);
				e->kcv[k] = kcv[k];
			}
		} else if (strcmp(s->ops[i].kind, "terminate") == 0) {
			e->terminated = 1;
			e->card_gp_state = "TERMINATED";
		}
	}
}
