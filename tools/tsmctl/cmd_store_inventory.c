/*
 * tsmctl inventory import|list|show|transition|replace|product: the card
 * inventory from the command line, for people and (--json) for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "store/store.h"
#include "cmd_store.h"
#include "tsmctl.h"

static cJSON *
card_json(const struct tsm_card *c)
{
	cJSON *j = cJSON_CreateObject();
	char when[32];

	cJSON_AddStringToObject(j, "csn", c->csn);
	cJSON_AddStringToObject(j, "iin", c->iin);
	cJSON_AddStringToObject(j, "cin", c->cin);
	cJSON_AddStringToObject(j, "kdd", c->kdd);
	cJSON_AddStringToObject(j, "product", c->product);
	cJSON_AddStringToObject(j, "batch", c->batch);
	if (c->transport_kv >= 0)
		cJSON_AddNumberToObject(j, "transport_key_version",
		    c->transport_kv);
	cJSON_AddStringToObject(j, "state", tsm_card_state_name(c->state));
	cJSON_AddStringToObject(j, "location", c->location);
	if (c->holder_id > 0)
		cJSON_AddNumberToObject(j, "holder", (double)c->holder_id);
	cJSON_AddStringToObject(j, "gp_state", c->gp_state);
	if (c->replaced_by > 0)
		cJSON_AddNumberToObject(j, "replaced_by",
		    (double)c->replaced_by);
	tsmctl_st_time(c->updated, when, sizeof(when));
	cJSON_AddStringToObject(j, "updated", when);
	cJSON_AddNumberToObject(j, "id", (double)c->id);
	return j;
}

static void
card_print(const struct tsm_card *c)
{
	char when[32];

	tsmctl_st_time(c->updated, when, sizeof(when));
	printf("csn        %s\niin        %s\ncin        %s\nkdd        %s\n"
	    "product    %s\nbatch      %s\n", c->csn, c->iin, c->cin, c->kdd,
	    c->product, c->batch);
	if (c->transport_kv >= 0)
		printf("transport  key version %d\n", c->transport_kv);
	printf("state      %s\nlocation   %s\n", tsm_card_state_name(c->state),
	    *c->location ? c->location : "-");
	if (c->holder_id > 0)
		printf("holder     %lld\n", (long long)c->holder_id);
	if (c->replaced_by > 0)
		printf("replaced   by card id %lld\n", (long long)c->replaced_by);
	printf("gp state   %s\nupdated    %s\n",
	    *c->gp_state ? c->gp_state : "-", when);
}

static int
inv_show(struct tsm_store *s, const struct tsmctl_st *o)
{
	struct tsm_card c;
	int r;

	if (o->npos != 2)
		return 2;
	if ((r = tsm_store_card_get(s, o->pos[1], &c)) != 0)
		return tsmctl_st_fail(s, o->pos[1], r);
	if (o->json)
		tsmctl_st_json(card_json(&c));
	else
		card_print(&c);
	return 0;
}

struct list_ctx {
	const struct tsmctl_st	*o;
	cJSON			*arr;
	int64_t			 n;
};

static int
list_card(void *arg, const struct tsm_card *c)
{
	struct list_ctx *l = arg;

	l->n++;
	if (l->o->json)
		cJSON_AddItemToArray(l->arr, card_json(c));
	else
		printf("%-8lld %-24s %-12s %-20s %s\n", (long long)c->id,
		    c->csn, tsm_card_state_name(c->state), c->batch,
		    *c->location ? c->location : "-");
	return 0;
}

static int
inv_list(struct tsm_store *s, const struct tsmctl_st *o, const char *state,
    const char *batch, const char *after, const char *limit)
{
	struct tsm_card_filter f;
	struct list_ctx l = { o, NULL, 0 };
	enum tsm_card_state st;
	int r;

	memset(&f, 0, sizeof(f));
	f.state = -1;
	if (state != NULL) {
		if (tsm_card_state_parse(state, &st) != 0)
			return tsmctl_st_fail(s, state, TSM_STORE_ERR_INVAL);
		f.state = (int)st;
	}
	f.batch = batch;
	f.after_id = after != NULL ? strtoll(after, NULL, 10) : 0;
	f.limit = limit != NULL ? atoi(limit) : 100;
	l.arr = o->json ? cJSON_CreateArray() : NULL;
	if ((r = tsm_store_card_list(s, &f, list_card, &l)) != 0) {
		cJSON_Delete(l.arr);
		return tsmctl_st_fail(s, "list", r);
	}
	if (o->json)
		tsmctl_st_json(l.arr);
	return 0;
}

struct imp_ctx {
	const struct tsmctl_st	*o;
	cJSON			*bad;
	int			 bar;	/* stderr is a terminal */
};

static void
imp_bad(void *arg, uint64_t line, const char *why)
{
	struct imp_ctx *c = arg;
	cJSON *j;

	if (c->bar)
		fprintf(stderr, "\r\033[K");
	if (!c->o->json) {
		fprintf(stderr, "%s:%llu: %s\n", c->o->pos[1],
		    (unsigned long long)line, why);
		return;
	}
	j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "line", (double)line);
	cJSON_AddStringToObject(j, "reason", why);
	cJSON_AddItemToArray(c->bad, j);
}

static void
imp_progress(void *arg, uint64_t done, uint64_t total, uint64_t rows)
{
	struct imp_ctx *c = arg;
	char bar[41];
	int pct, i;

	if (!c->bar)
		return;
	pct = total > 0 ? (int)(done * 100 / total) : 0;
	for (i = 0; i < 40; i++)
		bar[i] = i < pct * 40 / 100 ? '#' : ' ';
	bar[40] = '\0';
	fprintf(stderr, "\r[%s] %3d%% %llu cards", bar, pct,
	    (unsigned long long)rows);
	if (done >= total && total > 0)
		fprintf(stderr, "\n");
}

static int
imp_report(struct tsm_store *s, struct imp_ctx *c,
    const struct tsm_import_result *res, int r)
{
	cJSON *j;

	if (c->o->json) {
		j = cJSON_CreateObject();
		cJSON_AddBoolToObject(j, "ok", r == 0);
		cJSON_AddNumberToObject(j, "rows", (double)res->rows);
		cJSON_AddNumberToObject(j, "imported", (double)res->imported);
		cJSON_AddNumberToObject(j, "bad", (double)res->bad);
		cJSON_AddNumberToObject(j, "transactions",
		    (double)res->transactions);
		if (r != 0)
			cJSON_AddStringToObject(j, "error",
			    tsm_store_strerror(r));
		cJSON_AddItemToObject(j, "bad_rows", c->bad);
		c->bad = NULL;
		tsmctl_st_json(j);
	} else {
		printf("%llu row(s) read, %llu imported in %llu transaction(s), "
		    "%llu bad\n", (unsigned long long)res->rows,
		    (unsigned long long)res->imported,
		    (unsigned long long)res->transactions,
		    (unsigned long long)res->bad);
		if (r == TSM_STORE_ERR_ROWS && res->imported == 0)
			printf("nothing imported: fix the rows above, or "
			    "--skip-bad to import the others\n");
		else if (r != 0 && r != TSM_STORE_ERR_ROWS)
			tsmctl_st_fail(s, "import", r);
	}
	return r == 0 ? 0 : 1;
}

static int
inv_import(struct tsm_store *s, const struct tsmctl_st *o,
    const char *format, const char *every, int skip_bad)
{
	struct tsm_import_opts io;
	struct tsm_import_result res;
	struct imp_ctx c = { o, NULL, 0 };
	int r;

	if (o->npos != 2)
		return 2;
	memset(&io, 0, sizeof(io));
	if (format != NULL)
		io.format = strcmp(format, "json") == 0 ? TSM_IMPORT_JSON :
		    TSM_IMPORT_CSV;
	io.commit_every = every != NULL ? strtoull(every, NULL, 10) : 0;
	io.skip_bad = skip_bad;
	io.actor = getenv("USER") != NULL ? getenv("USER") : "tsmctl";
	io.bad_row = imp_bad;
	io.progress = imp_progress;
	io.arg = &c;
	c.bar = !o->json && isatty(STDERR_FILENO);
	c.bad = o->json ? cJSON_CreateArray() : NULL;
	r = tsm_store_import_file(s, o->pos[1], &io, &res);
	r = imp_report(s, &c, &res, r);
	cJSON_Delete(c.bad);
	return r;
}

struct tr_opts {
	const char	*location, *holder, *holder_name, *holder_email;
	const char	*reason, *actor;
};

static int
tr_holder(struct tsm_store *s, const struct tr_opts *t, int64_t *id)
{
	struct tsm_holder h;
	int r;

	*id = t->holder != NULL ? strtoll(t->holder, NULL, 10) : 0;
	if (t->holder_name == NULL)
		return 0;
	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "%s", t->holder_name);
	if (t->holder_email != NULL)
		snprintf(h.email, sizeof(h.email), "%s", t->holder_email);
	r = tsm_store_holder_add(s, &h, id);
	memset(&h, 0, sizeof(h));
	return r;
}

static int
inv_transition(struct tsm_store *s, const struct tsmctl_st *o,
    const struct tr_opts *t)
{
	struct tsm_transition tr;
	char why[256];
	cJSON *j;
	int changed = 0, r;

	if (o->npos != 3)
		return 2;
	memset(&tr, 0, sizeof(tr));
	if (tsm_card_state_parse(o->pos[2], &tr.to) != 0) {
		fprintf(stderr, "tsmctl: unknown state %s\n", o->pos[2]);
		return 2;
	}
	if ((r = tr_holder(s, t, &tr.holder_id)) != 0)
		return tsmctl_st_fail(s, "cardholder", r);
	tr.location = t->location;
	tr.reason = t->reason;
	tr.actor = t->actor != NULL ? t->actor : getenv("USER");
	r = tsm_store_card_transition(s, o->pos[1], &tr, &changed, why,
	    sizeof(why));
	if (o->json) {
		j = cJSON_CreateObject();
		cJSON_AddBoolToObject(j, "ok", r == 0);
		cJSON_AddStringToObject(j, "csn", o->pos[1]);
		cJSON_AddStringToObject(j, "to", o->pos[2]);
		cJSON_AddBoolToObject(j, "changed", changed);
		if (r != 0)
			cJSON_AddStringToObject(j, "reason", *why ? why :
			    tsm_store_strerror(r));
		tsmctl_st_json(j);
	} else if (r == TSM_STORE_ERR_TRANSITION)
		fprintf(stderr, "tsmctl: refused: %s\n", why);
	else if (r != 0)
		return tsmctl_st_fail(s, o->pos[1], r);
	else
		printf("%s: %s%s\n", o->pos[1], o->pos[2],
		    changed ? "" : " (already; nothing changed)");
	return r == 0 ? 0 : 1;
}

static int
inv_replace(struct tsm_store *s, const struct tsmctl_st *o)
{
	char why[256] = "";
	cJSON *j;
	int r;

	if (o->npos != 3)
		return 2;
	r = tsm_store_card_replace(s, o->pos[1], o->pos[2], getenv("USER"),
	    why, sizeof(why));
	if (r == TSM_STORE_ERR_TRANSITION)
		fprintf(stderr, "tsmctl: refused: %s\n", why);
	else if (r != 0)
		return tsmctl_st_fail(s, "replace", r);
	else if (o->json) {
		j = cJSON_CreateObject();
		cJSON_AddBoolToObject(j, "ok", 1);
		cJSON_AddStringToObject(j, "old", o->pos[1]);
		cJSON_AddStringToObject(j, "new", o->pos[2]);
		tsmctl_st_json(j);
	}
	else
		printf("%s replaced by %s\n", o->pos[1], o->pos[2]);
	return r == 0 ? 0 : 1;
}

static int
inv_product(struct tsm_store *s, const struct tsmctl_st *o,
    const struct tsm_product *pin)
{
	struct tsm_product p = *pin;
	cJSON *j;
	int64_t id = 0;
	int r;

	if (o->npos != 2)
		return 2;
	p.name = o->pos[1];
	if ((r = tsm_store_product_add(s, &p, &id)) != 0)
		return tsmctl_st_fail(s, p.name, r);
	if (o->json) {
		j = cJSON_CreateObject();
		cJSON_AddBoolToObject(j, "ok", 1);
		cJSON_AddStringToObject(j, "product", p.name);
		cJSON_AddNumberToObject(j, "id", (double)id);
		tsmctl_st_json(j);
	} else
		printf("product %s added (id %lld)\n", p.name, (long long)id);
	return 0;
}

static const char usage_inv[] =
    "usage: tsmctl inventory COMMAND --db URL [--json]\n"
    "  import FILE [--format csv|json] [--commit-every N] [--skip-bad]\n"
    "  list [--state S] [--batch B] [--after ID] [--limit N]\n"
    "  show CSN\n"
    "  transition CSN STATE [--location L] [--holder ID | --holder-name N\n"
    "      [--holder-email E]] [--reason R] [--actor A]\n"
    "  replace OLD_CSN NEW_CSN\n"
    "  product NAME [--gp V] [--jc V] [--scp N] [--i N] [--div D]\n"
    "      [--key-versions L] [--memory N]\n";

struct inv_args {
	struct tr_opts	 t;
	const char	*format, *every, *state, *batch, *after, *limit;
	const char	*gp, *jc, *scp, *i, *div, *kv, *mem;
	int		 skip_bad;
};

static int
inv_run(struct tsm_store *s, const struct tsmctl_st *o,
    const struct inv_args *a)
{
	const char *cmd = o->pos[0];
	struct tsm_product p;

	if (strcmp(cmd, "import") == 0)
		return inv_import(s, o, a->format, a->every, a->skip_bad);
	if (strcmp(cmd, "list") == 0)
		return inv_list(s, o, a->state, a->batch, a->after, a->limit);
	if (strcmp(cmd, "show") == 0)
		return inv_show(s, o);
	if (strcmp(cmd, "transition") == 0)
		return inv_transition(s, o, &a->t);
	if (strcmp(cmd, "replace") == 0)
		return inv_replace(s, o);
	memset(&p, 0, sizeof(p));
	p.gp_version = a->gp;
	p.jc_version = a->jc;
	p.scp = a->scp != NULL ? atoi(a->scp) : 0;
	p.scp_i = a->i != NULL ? (int)strtol(a->i, NULL, 16) : 0;
	p.diversification = a->div;
	p.key_versions = a->kv;
	p.memory = a->mem != NULL ? strtoll(a->mem, NULL, 10) : 0;
	return inv_product(s, o, &p);
}

int
tsmctl_inventory(int argc, char **argv)
{
	struct tsmctl_st o;
	struct inv_args a;
	struct tsm_store *s = NULL;
	const char *cmds[] = { "import", "list", "show", "transition",
	    "replace", "product" };
	size_t k;
	int r;
	const struct tsmctl_st_flag flags[] = {
		{ "--format", &a.format, NULL },
		{ "--commit-every", &a.every, NULL },
		{ "--skip-bad", NULL, &a.skip_bad },
		{ "--state", &a.state, NULL }, { "--batch", &a.batch, NULL },
		{ "--after", &a.after, NULL }, { "--limit", &a.limit, NULL },
		{ "--location", &a.t.location, NULL },
		{ "--holder", &a.t.holder, NULL },
		{ "--holder-name", &a.t.holder_name, NULL },
		{ "--holder-email", &a.t.holder_email, NULL },
		{ "--reason", &a.t.reason, NULL },
		{ "--actor", &a.t.actor, NULL },
		{ "--gp", &a.gp, NULL }, { "--jc", &a.jc, NULL },
		{ "--scp", &a.scp, NULL }, { "--i", &a.i, NULL },
		{ "--div", &a.div, NULL }, { "--key-versions", &a.kv, NULL },
		{ "--memory", &a.mem, NULL }, { NULL, NULL, NULL },
	};

	memset(&a, 0, sizeof(a));
	if (tsmctl_st_parse(argc, argv, &o, flags) != 0 || o.npos < 1)
		goto usage;
	for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strcmp(o.pos[0], cmds[k]) == 0)
			break;
	if (k == sizeof(cmds) / sizeof(cmds[0]))
		goto usage;
	if ((r = tsmctl_st_open(&o, 1, &s)) != 0)
		return r;
	r = inv_run(s, &o, &a);
	tsm_store_close(s);
	if (r != 2)
		return r;
 usage:
	fprintf(stderr, "%s", usage_inv);
	return 2;
}
