/*
 * Operation plans: the plain GP commands each operation kind sends, how
 * each command's answer is judged, and what a finished operation changes
 * in the store. The engine wraps the commands (engine.c).
 *
 * Payloads are JSON (tsmctl op queue writes them):
 *   install  {"cap":HEX, "package":AID, "version_id":N,
 *             "applets":[{"module":AID, "instance":AID}...],
 *             "privileges":HEX, "params":HEX}
 *   delete   {"aid":AID, "related":true|false}
 *   lock, unlock  {"aid":AID}
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
#include "server/server_int.h"

#define APPLETS_MAX	8

/* What a command of an operation is (tag.what). */
enum {
	W_INSTALL_LOAD = 0,
	W_LOAD,
	W_INSTALL_APP,
	W_DELETE,
	W_SET_STATUS,
};

static const uint8_t isd_aid[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00,
    0x00, 0x00 };

struct aid {
	uint8_t	 b[16];
	size_t	 len;
};

struct install {
	uint8_t		*cap;
	size_t		 caplen;
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
	if (with_cap) {
		j = cJSON_GetObjectItemCaseSensitive(root, "cap");
		if (!cJSON_IsString(j) || j->valuestring == NULL ||
		    (n = strlen(j->valuestring) / 2) == 0 ||
		    (in->cap = malloc(n)) == NULL ||
		    gp_hex_decode(j->valuestring, in->cap, n, &in->caplen) != 0)
			goto out;
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

	if (sc->n >= TSM_CMDS_MAX - 4)	/* room for auth and status */
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
plan_load(const struct install *in, const struct gp_cap *cap,
    const struct tsm_server_cfg *cfg, struct tsm_script *sc,
    struct tsm_cmd_tag *tags, size_t op, struct gp_wr *cmd)
{
	struct gp_install gi = { .elf_aid = in->pkg.b, .elf_len = in->pkg.len,
	    .sd_aid = isd_aid, .sd_len = sizeof(isd_aid) };
	struct gp_load ld = { .lfdb = cap->lfdb, .lfdb_len = cap->lfdb_len,
	    .block = cfg->load_block };
	uint8_t hash[32];
	size_t hl;
	long n, k;
	int r;

	if ((r = gp_cap_lfdb_hash(cap, GP_CAP_SHA256, hash, sizeof(hash),
	    &hl)) != 0)
		return r;
	gi.hash = hash;
	gi.hash_len = hl;
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

static int
plan_install(struct tsm_session *s, size_t op,
    const struct tsm_server_cfg *cfg, struct tsm_script *sc,
    struct tsm_cmd_tag *tags, struct gp_wr *cmd, char *why, size_t wl)
{
	struct install in;
	struct gp_cap *cap = NULL;
	struct gp_install gi;
	size_t k, first = sc->n;
	int r;

	if (install_parse(s->ops[op].payload, 1, &in) != 0) {
		snprintf(why, wl, "malformed install payload");
		return GP_ERR_FORMAT;
	}
	if ((r = gp_cap_open_mem(in.cap, in.caplen, &cap)) != 0 ||
	    cap->pkg.len != in.pkg.len ||
	    memcmp(cap->pkg.b, in.pkg.b, in.pkg.len) != 0) {
		snprintf(why, wl, "CAP file refused: %s", r != 0 ?
		    gp_strerror(r) : "package AID differs");
		r = r != 0 ? r : GP_ERR_FORMAT;
		goto out;
	}
	if (!s->reg_complete || reg_find(s, in.pkg.b, in.pkg.len, 1) == NULL)
		if ((r = plan_load(&in, cap, cfg, sc, tags, op, cmd)) != 0)
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
	if (r != 0 && why[0] == '\0')
		snprintf(why, wl, "cannot build the install: %s",
		    gp_strerror(r));
	gp_cap_free(cap);
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

int
tsm_plan_op(struct tsm_session *s, size_t op,
    const struct tsm_server_cfg *cfg, struct tsm_script *sc, char *why,
    size_t wl)
{
	struct tsm_cmd_tag *tags = s->tags;
	uint8_t buf[GP_APDU_SHORT_MAX + 8];
	struct gp_wr cmd;
	const char *kind = s->ops[op].kind;
	size_t first = sc->n;
	int r;

	why[0] = '\0';
	gp_wr_init(&cmd, buf, sizeof(buf));
	if (strcmp(kind, "install") == 0)
		r = plan_install(s, op, cfg, sc, tags, &cmd, why, wl);
	else if (strcmp(kind, "delete") == 0 || strcmp(kind, "lock") == 0 ||
	    strcmp(kind, "unlock") == 0)
		r = plan_simple(s, op, sc, tags, &cmd, why, wl);
	else {
		snprintf(why, wl, "unknown operation %s", kind);
		r = GP_ERR_UNSUPPORTED;
	}
	if (r != 0) {	/* drop what this operation had appended */
		sc->n = first;
		sc->w.len = sc->off[first];
		return r;
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
	default: return "SET STATUS";
	}
}

void
tsm_plan_result(struct tsm_session *s, const struct tsm_cmd_tag *t,
    const uint8_t *data, size_t len, uint16_t sw)
{
	const char *kind = s->ops[t->op].kind;

	(void)data;
	(void)len;
	if (s->op_state[t->op] != TSM_OPST_PLANNED)
		return;
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
	if (strcmp(kind, "install") == 0)
		s->installed++;
	else if (strcmp(kind, "delete") == 0)
		s->removed++;
	else
		s->changed++;
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

size_t
tsm_plan_instances(struct tsm_session *s, size_t op,
    struct tsm_instance_change *c, size_t cap, char (*aids)[33])
{
	const char *kind = s->ops[op].kind;
	struct install in;
	struct aid a;
	cJSON *root;
	size_t k, n = 0;

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
		else
			c[0].gp_state = strcmp(kind, "lock") == 0 ? "locked" :
			    app_state(s, &a, "selectable");
		n = 1;
	}
	cJSON_Delete(root);
	return n;
}
