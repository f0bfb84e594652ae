/*
 * tsmctl db migrate|status, card history, audit verify, and the option
 * handling every store command shares (--db URL, --key-file, --json).
 * inventory lives in cmd_store_inventory.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "store/store.h"
#include "cmd_store.h"
#include "tsmctl.h"

static int
flag(int argc, char **argv, int *i, const struct tsmctl_st_flag *f)
{
	for (; f != NULL && f->name != NULL; f++) {
		if (strcmp(argv[*i], f->name) != 0)
			continue;
		if (f->on != NULL) {
			*f->on = 1;
			return 1;
		}
		if (*i + 1 >= argc)
			return -1;
		*f->val = argv[++*i];
		return 1;
	}
	return 0;
}

int
tsmctl_st_parse(int argc, char **argv, struct tsmctl_st *o,
    const struct tsmctl_st_flag *flags)
{
	const struct tsmctl_st_flag common[] = {
		{ "--db", &o->db, NULL }, { "--key-file", &o->key_file, NULL },
		{ "--json", NULL, &o->json }, { NULL, NULL, NULL },
	};
	int i, r;

	memset(o, 0, sizeof(*o));
	o->db = getenv("TSM_DB");
	for (i = 0; i < argc; i++) {
		if ((r = flag(argc, argv, &i, common)) == 0)
			r = flag(argc, argv, &i, flags);
		if (r < 0 || (r == 0 && strncmp(argv[i], "--", 2) == 0)) {
			fprintf(stderr, "tsmctl: bad option %s\n", argv[i]);
			return -1;
		}
		if (r == 0) {
			if (o->npos >= 4)
				return -1;
			o->pos[o->npos++] = argv[i];
		}
	}
	if (o->db == NULL) {
		fprintf(stderr, "tsmctl: no database: --db URL or TSM_DB "
		    "(sqlite:/path/file.db, mariadb://user@host:port/db)\n");
		return -1;
	}
	return 0;
}

int
tsmctl_st_fail(struct tsm_store *s, const char *what, int r)
{
	const char *msg = s != NULL ? tsm_store_errmsg(s) : "";

	fprintf(stderr, "tsmctl: %s: %s%s%s\n", what, tsm_store_strerror(r),
	    *msg != '\0' ? ": " : "", msg);
	return 1;
}

int
tsmctl_st_open(const struct tsmctl_st *o, int check, struct tsm_store **s)
{
	struct tsm_store_opts so = { o->key_file, 0 };
	int r;

	if ((r = tsm_store_open(s, o->db, &so)) != 0)
		return tsmctl_st_fail(NULL, o->db, r);
	if (check && (r = tsm_store_check_schema(*s)) != 0) {
		tsmctl_st_fail(*s, "schema", r);
		tsm_store_close(*s);
		*s = NULL;
		return 1;
	}
	return 0;
}

void
tsmctl_st_json(cJSON *j)
{
	char *txt;

	if (j != NULL && (txt = cJSON_Print(j)) != NULL) {
		printf("%s\n", txt);
		free(txt);
	}
	cJSON_Delete(j);
}

void
tsmctl_st_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
db_status(struct tsm_store *s, const struct tsmctl_st *o, int applied)
{
	struct tsm_store_status st;
	cJSON *j;
	int r;

	if ((r = tsm_store_status(s, &st)) != 0)
		return tsmctl_st_fail(s, "status", r);
	if (o->json) {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "backend", tsm_store_backend(s));
		cJSON_AddNumberToObject(j, "version", st.version);
		cJSON_AddNumberToObject(j, "latest", st.latest);
		cJSON_AddNumberToObject(j, "pending", st.pending);
		if (applied >= 0)
			cJSON_AddNumberToObject(j, "applied", applied);
		tsmctl_st_json(j);
	} else {
		if (applied >= 0)
			printf("applied %d migration(s)\n", applied);
		printf("%s schema version %d of %d (%d pending)\n",
		    tsm_store_backend(s), st.version, st.latest, st.pending);
	}
	return st.version > st.latest ? 1 : 0;
}

int
tsmctl_db(int argc, char **argv)
{
	struct tsmctl_st o;
	struct tsm_store *s = NULL;
	int destructive = 0, applied = 0, r;
	const struct tsmctl_st_flag flags[] = {
		{ "--allow-destructive", NULL, &destructive },
		{ NULL, NULL, NULL },
	};

	if (tsmctl_st_parse(argc, argv, &o, flags) != 0 || o.npos != 1 ||
	    (strcmp(o.pos[0], "migrate") != 0 &&
	    strcmp(o.pos[0], "status") != 0)) {
		fprintf(stderr, "usage: tsmctl db migrate|status --db URL "
		    "[--allow-destructive] [--json]\n");
		return 2;
	}
	if ((r = tsmctl_st_open(&o, 0, &s)) != 0)
		return r;
	if (strcmp(o.pos[0], "migrate") == 0 &&
	    (r = tsm_store_migrate(s, destructive, &applied)) != 0)
		r = tsmctl_st_fail(s, "migrate", r);
	else
		r = db_status(s, &o, strcmp(o.pos[0], "migrate") == 0 ?
		    applied : -1);
	tsm_store_close(s);
	return r;
}

struct hist {
	const struct tsmctl_st	*o;
	cJSON			*arr;
};

static int
hist_event(void *arg, const struct tsm_card_event *e)
{
	struct hist *h = arg;
	char when[32];
	cJSON *j;

	tsmctl_st_time(e->at, when, sizeof(when));
	if (!h->o->json) {
		printf("%s  %-12s -> %-12s %-16s by %s%s%s\n", when,
		    tsm_card_state_name(e->from), tsm_card_state_name(e->to),
		    *e->location ? e->location : "-", e->actor,
		    *e->reason ? ": " : "", e->reason);
		return 0;
	}
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "at", when);
	cJSON_AddStringToObject(j, "from", tsm_card_state_name(e->from));
	cJSON_AddStringToObject(j, "to", tsm_card_state_name(e->to));
	cJSON_AddStringToObject(j, "location", e->location);
	cJSON_AddStringToObject(j, "actor", e->actor);
	cJSON_AddStringToObject(j, "reason", e->reason);
	cJSON_AddItemToArray(h->arr, j);
	return 0;
}

int
tsmctl_card(int argc, char **argv)
{
	struct tsmctl_st o;
	struct tsm_store *s = NULL;
	struct hist h;
	int r;

	if (tsmctl_st_parse(argc, argv, &o, NULL) != 0 || o.npos != 2 ||
	    strcmp(o.pos[0], "history") != 0) {
		fprintf(stderr, "usage: tsmctl card history CSN --db URL "
		    "[--json]\n");
		return 2;
	}
	if ((r = tsmctl_st_open(&o, 1, &s)) != 0)
		return r;
	h.o = &o;
	h.arr = o.json ? cJSON_CreateArray() : NULL;
	if ((r = tsm_store_card_history(s, o.pos[1], hist_event, &h)) != 0) {
		cJSON_Delete(h.arr);
		r = tsmctl_st_fail(s, o.pos[1], r);
	} else if (o.json)
		tsmctl_st_json(h.arr);
	tsm_store_close(s);
	return r;
}

int
tsmctl_audit(int argc, char **argv)
{
	struct tsmctl_st o;
	struct tsm_store *s = NULL;
	struct tsm_audit_report rep;
	cJSON *j;
	int r;

	if (tsmctl_st_parse(argc, argv, &o, NULL) != 0 || o.npos != 1 ||
	    strcmp(o.pos[0], "verify") != 0) {
		fprintf(stderr, "usage: tsmctl audit verify --db URL [--json]\n");
		return 2;
	}
	if ((r = tsmctl_st_open(&o, 1, &s)) != 0)
		return r;
	r = tsm_store_audit_verify(s, &rep);
	if (r != 0 && r != TSM_STORE_ERR_TAMPER) {
		r = tsmctl_st_fail(s, "audit verify", r);
	} else if (o.json) {
		j = cJSON_CreateObject();
		cJSON_AddBoolToObject(j, "ok", r == 0);
		cJSON_AddNumberToObject(j, "records", (double)rep.records);
		if (r != 0) {
			cJSON_AddNumberToObject(j, "first_bad",
			    (double)rep.first_bad);
			cJSON_AddStringToObject(j, "why", rep.why);
		}
		tsmctl_st_json(j);
	} else if (r == 0)
		printf("audit chain intact: %lld record(s)\n",
		    (long long)rep.records);
	else
		printf("audit chain BROKEN at record %lld: %s (%lld record(s) "
		    "verified before it)\n", (long long)rep.first_bad, rep.why,
		    (long long)rep.records);
	tsm_store_close(s);
	return r == 0 ? 0 : 1;
}
