/*
 * tsmctl op queue|list|show: the operations queue from the command line
 * (the REST APIs come later). tsmd carries out a card's queued
 * operations at its next session.
 *
 *   tsmctl op queue --db URL --card CSN install CAP_FILE
 *          [--instance AID] [--privileges HEX] [--params HEX]
 *          [--provider NAME] [--idem KEY]
 *   tsmctl op queue --db URL --card CSN delete|lock|unlock AID [--related]
 *   tsmctl op queue --db URL --card CSN rotate --version N [--label L]
 *   tsmctl op queue --db URL --card CSN personalise AID DGI_FILE
 *   tsmctl op queue --db URL --card CSN suspend|resume|terminate|refresh
 *   tsmctl op list --db URL --card CSN [--json]
 *   tsmctl op show --db URL ID [--json]
 *
 * install reads and checks the CAP (libgp), records the application
 * version (provider "local" unless --provider), and queues the CAP bytes
 * with the operation. The idempotency key defaults to the operation's
 * content, so queueing the same thing twice queues it once.
 *
 * DGI_FILE (personalise): one DGI a line, "TTTT=HEX" (4 hex digits of
 * tag, the value in hex; spaces ignored), "#" comments and blank lines.
 * DGIs 8000..8FFF (EMV CPS: encrypted) and lines starting with "!" are
 * sensitive: tsmd has tsm-keyd encrypt them under the card's DEK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "gp/buf.h"
#include "gp/cap.h"
#include "gp/err.h"
#include "store/ops.h"
#include "store/store.h"
#include "cmd_store.h"
#include "tsmctl.h"

#define CAP_FILE_MAX	(1024 * 1024)

struct op_args {
	const char	*card, *instance, *priv, *params, *provider, *idem;
	const char	*label, *version;
	int		 related;
};

#define DGI_FILE_MAX	(64 * 1024)

static int
usage(void)
{
	fprintf(stderr, "usage: tsmctl op queue --db URL --card CSN install "
	    "CAP_FILE [--instance AID] [--privileges HEX] [--params HEX] "
	    "[--provider NAME] [--idem KEY]\n"
	    "       tsmctl op queue --db URL --card CSN delete|lock|unlock "
	    "AID [--related]\n"
	    "       tsmctl op queue --db URL --card CSN rotate --version N "
	    "[--label L]\n"
	    "       tsmctl op queue --db URL --card CSN personalise AID "
	    "DGI_FILE\n"
	    "       tsmctl op queue --db URL --card CSN suspend|resume|"
	    "terminate|refresh\n"
	    "       tsmctl op list --db URL --card CSN [--json]\n"
	    "       tsmctl op show --db URL ID [--json]\n");
	return 2;
}

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f;
	uint8_t *p;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if ((p = malloc(CAP_FILE_MAX + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(p, 1, CAP_FILE_MAX + 1, f);
	fclose(f);
	if (n == 0 || n > CAP_FILE_MAX) {
		free(p);
		return -1;
	}
	*out = p;
	*len = n;
	return 0;
}

static void
sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	uint8_t md[32];
	unsigned int len = 32;

	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1)
		memset(md, 0, sizeof(md));
	gp_hex_encode(md, 32, out);
}

static int
hex_ok(const char *h, size_t maxbytes)
{
	uint8_t b[64];
	size_t n;

	return h != NULL && strlen(h) / 2 <= maxbytes && maxbytes <= 64 &&
	    gp_hex_decode(h, b, sizeof(b), &n) == 0;
}

/* The install payload (plan.c in tsm/server reads it): the CAP file by
 * version and SHA-256; the store keeps its bytes once per version. */
static char *
install_payload(const struct gp_cap *cap, const char *sha,
    const struct op_args *a, int64_t vid)
{
	cJSON *j = cJSON_CreateObject(), *arr, *e;
	char aid[33], *out;
	size_t k;

	if (j == NULL)
		return NULL;
	cJSON_AddStringToObject(j, "cap_sha256", sha);
	gp_hex_encode(cap->pkg.b, cap->pkg.len, aid);
	cJSON_AddStringToObject(j, "package", aid);
	cJSON_AddNumberToObject(j, "version_id", (double)vid);
	arr = cJSON_AddArrayToObject(j, "applets");
	for (k = 0; k < cap->napplets; k++) {
		e = cJSON_CreateObject();
		gp_hex_encode(cap->applets[k].aid.b, cap->applets[k].aid.len,
		    aid);
		cJSON_AddStringToObject(e, "module", aid);
		cJSON_AddStringToObject(e, "instance", a->instance != NULL &&
		    cap->napplets == 1 ? a->instance : aid);
		cJSON_AddItemToArray(arr, e);
	}
	cJSON_AddStringToObject(j, "privileges", a->priv ? a->priv : "00");
	cJSON_AddStringToObject(j, "params", a->params ? a->params : "C900");
	out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return out;
}

static int
queue_install(struct tsm_store *s, const struct op_args *a, const char *file,
    int json)
{
	struct gp_cap *cap = NULL;
	struct tsm_app_ref ref;
	uint8_t *bytes = NULL;
	char sha[65], pkg[33], ver[16], idem[160], *payload = NULL;
	int64_t vid, id;
	size_t n;
	int r, existed = 0;

	if (read_file(file, &bytes, &n) != 0) {
		fprintf(stderr, "tsmctl: %s: cannot read (at most 1 MiB)\n",
		    file);
		return 1;
	}
	if ((r = gp_cap_open_mem(bytes, n, &cap)) != 0 ||
	    cap->napplets == 0) {
		fprintf(stderr, "tsmctl: %s: %s\n", file, r != 0 ?
		    gp_strerror(r) : "no applet to install");
		r = 1;
		goto out;
	}
	if ((a->instance != NULL && (cap->napplets != 1 ||
	    !hex_ok(a->instance, 16))) || (a->priv && !hex_ok(a->priv, 3)) ||
	    (a->params && !hex_ok(a->params, 64))) {
		fprintf(stderr, "tsmctl: bad --instance, --privileges or "
		    "--params\n");
		r = 2;
		goto out;
	}
	sha256_hex(bytes, n, sha);
	gp_hex_encode(cap->pkg.b, cap->pkg.len, pkg);
	snprintf(ver, sizeof(ver), "%u.%u", cap->pkg_major, cap->pkg_minor);
	ref.provider = a->provider ? a->provider : "local";
	ref.name = cap->pkg_name != NULL ? cap->pkg_name : pkg;
	ref.package_aid = pkg;
	ref.version = ver;
	ref.cap_sha256 = sha;
	ref.cap_size = (int64_t)n;
	ref.cap = bytes;
	ref.cap_len = n;
	if ((r = tsm_store_app_version_ensure(s, &ref, &vid)) != 0) {
		r = tsmctl_st_fail(s, "application version", r);
		goto out;
	}
	if ((payload = install_payload(cap, sha, a, vid)) == NULL) {
		r = 1;
		goto out;
	}
	snprintf(idem, sizeof(idem), "install:%s:%.64s:%.32s", a->card, sha,
	    a->instance ? a->instance : "");
	if ((r = tsm_store_op_queue(s, a->card, "install", payload,
	    a->idem ? a->idem : idem, "tsmctl", &id, &existed)) != 0) {
		r = tsmctl_st_fail(s, a->card, r);
		goto out;
	}
	if (json)
		printf("{\"op\": %lld, \"existed\": %s}\n", (long long)id,
		    existed ? "true" : "false");
	else
		printf("op %lld %s: install %s (%zu applet(s)) on %s\n",
		    (long long)id, existed ? "already queued" : "queued", pkg,
		    cap->napplets, a->card);
	r = 0;
 out:
	free(payload);
	gp_cap_free(cap);
	free(bytes);
	return r;
}

static int
queue_simple(struct tsm_store *s, const struct op_args *a, const char *kind,
    const char *aid, int json)
{
	char payload[128], idem[160];
	int64_t id;
	int r, existed = 0;

	if (!hex_ok(aid, 16) || strlen(aid) < 10) {
		fprintf(stderr, "tsmctl: bad AID %s\n", aid);
		return 2;
	}
	snprintf(payload, sizeof(payload), "{\"aid\":\"%s\"%s}", aid,
	    a->related ? ",\"related\":true" : "");
	/* lock and unlock may be asked again later: a fresh key. */
	if (strcmp(kind, "delete") == 0)
		snprintf(idem, sizeof(idem), "delete:%s:%s:%d", a->card, aid,
		    a->related);
	else {
		uint8_t rnd[8];
		char h[17];

		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return 1;
		gp_hex_encode(rnd, sizeof(rnd), h);
		snprintf(idem, sizeof(idem), "%s:%s:%s", kind, a->card, h);
	}
	if ((r = tsm_store_op_queue(s, a->card, kind, payload,
	    a->idem ? a->idem : idem, "tsmctl", &id, &existed)) != 0)
		return tsmctl_st_fail(s, a->card, r);
	if (json)
		printf("{\"op\": %lld, \"existed\": %s}\n", (long long)id,
		    existed ? "true" : "false");
	else
		printf("op %lld %s: %s %s on %s\n", (long long)id, existed ?
		    "already queued" : "queued", kind, aid, a->card);
	return 0;
}

static int
print_queued(int64_t id, int existed, const char *what, const char *card,
    int json)
{
	if (json)
		printf("{\"op\": %lld, \"existed\": %s}\n", (long long)id,
		    existed ? "true" : "false");
	else
		printf("op %lld %s: %s on %s\n", (long long)id, existed ?
		    "already queued" : "queued", what, card);
	return 0;
}

static int
fresh_idem(const char *kind, const char *card, char *idem, size_t cap)
{
	uint8_t rnd[8];
	char h[17];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	gp_hex_encode(rnd, sizeof(rnd), h);
	snprintf(idem, cap, "%s:%s:%s", kind, card, h);
	return 0;
}

/* suspend, resume, refresh: each queue is a new request; terminate once. */
static int
queue_card(struct tsm_store *s, const struct op_args *a, const char *kind,
    int json)
{
	char idem[160];
	int64_t id;
	int r, existed = 0;

	if (strcmp(kind, "terminate") == 0)
		snprintf(idem, sizeof(idem), "terminate:%s", a->card);
	else if (fresh_idem(kind, a->card, idem, sizeof(idem)) != 0)
		return 1;
	if ((r = tsm_store_op_queue(s, a->card, kind, "{}",
	    a->idem ? a->idem : idem, "tsmctl", &id, &existed)) != 0)
		return tsmctl_st_fail(s, a->card, r);
	return print_queued(id, existed, kind, a->card, json);
}

/* rotate: to the issuer key set label/version of tsm-keyd. */
static int
queue_rotate(struct tsm_store *s, const struct op_args *a, int json)
{
	const char *label = a->label != NULL ? a->label : "isd";
	char payload[128], idem[160], what[80], *end;
	long v;
	int64_t id;
	size_t k;
	int r, existed = 0;

	if (a->version == NULL)
		return usage();
	v = strtol(a->version, &end, 0);
	if (*a->version == '\0' || *end != '\0' || v < 1 || v > 0x7F) {
		fprintf(stderr, "tsmctl: bad key version %s (1..127)\n",
		    a->version);
		return 2;
	}
	for (k = 0; label[k] != '\0'; k++)
		if (!((label[k] >= 'a' && label[k] <= 'z') ||
		    (label[k] >= 'A' && label[k] <= 'Z') ||
		    (label[k] >= '0' && label[k] <= '9') || label[k] == '-' ||
		    label[k] == '_' || label[k] == '.'))
			break;
	if (k == 0 || k > 32 || label[k] != '\0') {
		fprintf(stderr, "tsmctl: bad key label %s\n", label);
		return 2;
	}
	snprintf(payload, sizeof(payload), "{\"label\":\"%s\",\"version\":%ld}",
	    label, v);
	snprintf(idem, sizeof(idem), "rotate:%s:%s:%ld", a->card, label, v);
	if ((r = tsm_store_op_queue(s, a->card, "rotate", payload,
	    a->idem ? a->idem : idem, "tsmctl", &id, &existed)) != 0)
		return tsmctl_st_fail(s, a->card, r);
	snprintf(what, sizeof(what), "rotate to %s/%ld", label, v);
	return print_queued(id, existed, what, a->card, json);
}

/* Appends one DGI (tag, length, value) as hex to out. */
static int
dgi_hex(char **out, size_t *len, size_t *cap, unsigned tag,
    const uint8_t *v, size_t n)
{
	uint8_t h[5];
	size_t hl = 0, need = 2 * (n + 5) + 1;
	char *p;

	if (*len + need > *cap) {
		if ((p = realloc(*out, *len + need + 4096)) == NULL)
			return -1;
		*out = p;
		*cap = *len + need + 4096;
	}
	h[hl++] = (uint8_t)(tag >> 8);
	h[hl++] = (uint8_t)tag;
	if (n < 255)
		h[hl++] = (uint8_t)n;
	else {
		h[hl++] = 0xFF;
		h[hl++] = (uint8_t)(n >> 8);
		h[hl++] = (uint8_t)n;
	}
	gp_hex_encode(h, hl, *out + *len);
	*len += 2 * hl;
	gp_hex_encode(v, n, *out + *len);
	*len += 2 * n;
	return 0;
}

/*
 * Reads a DGI file into the clear and sensitive DGI streams (hex). A
 * line the parser refuses is named by number; values are never printed.
 */
static int
read_dgis(const char *path, char **clear, char **sens)
{
	char line[8192], tagh[5], *p, *q, *val;
	size_t cl = 0, cc = 0, sl = 0, scap = 0, n, k;
	uint8_t *v = NULL;
	unsigned tag;
	int lineno = 0, r = -1, bang;
	FILE *f;

	*clear = *sens = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "tsmctl: %s: cannot read\n", path);
		return -1;
	}
	if ((v = malloc(DGI_FILE_MAX)) == NULL)
		goto out;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "tsmctl: %s:%d: line too long\n", path,
			    lineno);
			goto out;
		}
		for (p = q = line; *p != '\0'; p++)	/* drop blanks */
			if (*p != ' ' && *p != '\t' && *p != '\r' &&
			    *p != '\n')
				*q++ = *p;
		*q = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		bang = line[0] == '!';
		p = line + bang;
		if ((val = strchr(p, '=')) == NULL || val - p != 4)
			goto bad;
		memcpy(tagh, p, 4);
		tagh[4] = '\0';
		for (k = 0; k < 4; k++)
			if (!((tagh[k] >= '0' && tagh[k] <= '9') ||
			    (tagh[k] >= 'a' && tagh[k] <= 'f') ||
			    (tagh[k] >= 'A' && tagh[k] <= 'F')))
				goto bad;
		tag = (unsigned)strtoul(tagh, NULL, 16);
		val++;
		if (gp_hex_decode(val, v, DGI_FILE_MAX, &n) != 0 ||
		    n > 0xFFFE)
			goto bad;
		if ((bang || (tag & 0xF000) == 0x8000) ?
		    dgi_hex(sens, &sl, &scap, tag, v, n) :
		    dgi_hex(clear, &cl, &cc, tag, v, n))
			goto out;
		if (cl + sl > 2 * DGI_FILE_MAX) {
			fprintf(stderr, "tsmctl: %s: over %d bytes of DGIs\n",
			    path, DGI_FILE_MAX);
			goto out;
		}
		continue;
 bad:
		fprintf(stderr, "tsmctl: %s:%d: not TTTT=HEX\n", path, lineno);
		goto out;
	}
	if (cl + sl == 0) {
		fprintf(stderr, "tsmctl: %s: no DGI\n", path);
		goto out;
	}
	r = 0;
 out:
	if (v != NULL) {
		memset(v, 0, DGI_FILE_MAX);
		free(v);
	}
	memset(line, 0, sizeof(line));
	fclose(f);
	if (r != 0) {
		free(*clear);
		free(*sens);
		*clear = *sens = NULL;
	}
	return r;
}

static int
queue_perso(struct tsm_store *s, const struct op_args *a, const char *aid,
    const char *file, int json)
{
	char *clear = NULL, *sens = NULL, *payload = NULL, sha[65];
	char idem[200], what[80];
	cJSON *j;
	int64_t id;
	int r, existed = 0;

	if (!hex_ok(aid, 16) || strlen(aid) < 10) {
		fprintf(stderr, "tsmctl: bad AID %s\n", aid);
		return 2;
	}
	if (read_dgis(file, &clear, &sens) != 0)
		return 1;
	if ((j = cJSON_CreateObject()) == NULL) {
		r = 1;
		goto out;
	}
	cJSON_AddStringToObject(j, "aid", aid);
	cJSON_AddStringToObject(j, "clear", clear != NULL ? clear : "");
	cJSON_AddStringToObject(j, "sensitive", sens != NULL ? sens : "");
	payload = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (payload == NULL) {
		r = 1;
		goto out;
	}
	/* The same data for the same application: the same operation. */
	sha256_hex((const uint8_t *)payload, strlen(payload), sha);
	snprintf(idem, sizeof(idem), "personalise:%s:%s", a->card, sha);
	if ((r = tsm_store_op_queue(s, a->card, "personalise", payload,
	    a->idem ? a->idem : idem, "tsmctl", &id, &existed)) != 0) {
		r = tsmctl_st_fail(s, a->card, r);
		goto out;
	}
	snprintf(what, sizeof(what), "personalise %s", aid);
	r = print_queued(id, existed, what, a->card, json);
 out:
	if (payload != NULL) {
		memset(payload, 0, strlen(payload));
		free(payload);
	}
	if (clear != NULL) {
		memset(clear, 0, strlen(clear));
		free(clear);
	}
	if (sens != NULL) {
		memset(sens, 0, strlen(sens));
		free(sens);
	}
	return r;
}

static cJSON *
op_json(const struct tsm_op *op)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddNumberToObject(j, "id", (double)op->id);
	cJSON_AddStringToObject(j, "kind", op->kind);
	cJSON_AddStringToObject(j, "state", op->state);
	cJSON_AddNumberToObject(j, "attempts", op->attempts);
	cJSON_AddStringToObject(j, "result", op->result);
	return j;
}

struct list_ctx {
	cJSON	*arr;
};

static int
list_one(void *arg, const struct tsm_op *op)
{
	struct list_ctx *c = arg;

	if (c->arr != NULL)
		cJSON_AddItemToArray(c->arr, op_json(op));
	else
		printf("%lld\t%s\t%s\t%d\t%s\n", (long long)op->id, op->kind,
		    op->state, op->attempts, op->result);
	return 0;
}

static int
list_ops(struct tsm_store *s, const char *csn, int json)
{
	struct tsm_card k;
	struct list_ctx c = { json ? cJSON_CreateArray() : NULL };
	int r;

	if ((r = tsm_store_card_get(s, csn, &k)) != 0 ||
	    (r = tsm_store_op_list(s, k.id, list_one, &c)) != 0) {
		cJSON_Delete(c.arr);
		return tsmctl_st_fail(s, csn, r);
	}
	if (json)
		tsmctl_st_json(c.arr);
	return 0;
}

static int
show_op(struct tsm_store *s, const char *ids, int json)
{
	struct tsm_op op;
	char *end;
	long long id = strtoll(ids, &end, 10);
	int r;

	if (*ids == '\0' || *end != '\0' || id <= 0)
		return usage();
	memset(&op, 0, sizeof(op));
	if ((r = tsm_store_op_get(s, id, &op)) != 0)
		return tsmctl_st_fail(s, ids, r);
	if (json)
		tsmctl_st_json(op_json(&op));
	else
		printf("op %lld: %s, %s, %d attempt(s)%s%s\n", id, op.kind,
		    op.state, op.attempts, op.result[0] ? ", " : "",
		    op.result);
	tsm_op_clear(&op);
	return 0;
}

int
tsmctl_op(int argc, char **argv)
{
	struct tsmctl_st o;
	struct op_args a;
	struct tsm_store *s = NULL;
	const struct tsmctl_st_flag flags[] = {
		{ "--card", &a.card, NULL }, { "--instance", &a.instance, NULL },
		{ "--privileges", &a.priv, NULL },
		{ "--params", &a.params, NULL },
		{ "--provider", &a.provider, NULL }, { "--idem", &a.idem, NULL },
		{ "--related", NULL, &a.related }, { "--label", &a.label, NULL },
		{ "--version", &a.version, NULL }, { NULL, NULL, NULL },
	};
	int r, want;

	memset(&a, 0, sizeof(a));
	if (tsmctl_st_parse(argc, argv, &o, flags) != 0 || o.npos < 1)
		return usage();
	if (strcmp(o.pos[0], "queue") == 0) {
		if (o.npos < 2 || a.card == NULL)
			return usage();
		want = 3;
		if (strcmp(o.pos[1], "personalise") == 0 ||
		    strcmp(o.pos[1], "personalize") == 0)
			want = 4;
		else if (strcmp(o.pos[1], "rotate") == 0 ||
		    strcmp(o.pos[1], "suspend") == 0 ||
		    strcmp(o.pos[1], "resume") == 0 ||
		    strcmp(o.pos[1], "terminate") == 0 ||
		    strcmp(o.pos[1], "refresh") == 0)
			want = 2;
		if (o.npos != want)
			return usage();
	}
	if (strcmp(o.pos[0], "list") == 0 && (o.npos != 1 || a.card == NULL))
		return usage();
	if (strcmp(o.pos[0], "show") == 0 && o.npos != 2)
		return usage();
	if ((r = tsmctl_st_open(&o, 1, &s)) != 0)
		return r;
	if (strcmp(o.pos[0], "list") == 0)
		r = list_ops(s, a.card, o.json);
	else if (strcmp(o.pos[0], "show") == 0)
		r = show_op(s, o.pos[1], o.json);
	else if (strcmp(o.pos[0], "queue") != 0)
		r = usage();
	else if (strcmp(o.pos[1], "install") == 0)
		r = queue_install(s, &a, o.pos[2], o.json);
	else if (strcmp(o.pos[1], "delete") == 0 ||
	    strcmp(o.pos[1], "lock") == 0 || strcmp(o.pos[1], "unlock") == 0)
		r = queue_simple(s, &a, o.pos[1], o.pos[2], o.json);
	else if (strcmp(o.pos[1], "rotate") == 0)
		r = queue_rotate(s, &a, o.json);
	else if (strcmp(o.pos[1], "personalise") == 0 ||
	    strcmp(o.pos[1], "personalize") == 0)
		r = queue_perso(s, &a, o.pos[2], o.pos[3], o.json);
	else if (strcmp(o.pos[1], "suspend") == 0 ||
	    strcmp(o.pos[1], "resume") == 0 ||
	    strcmp(o.pos[1], "terminate") == 0 ||
	    strcmp(o.pos[1], "refresh") == 0)
		r = queue_card(s, &a, o.pos[1], o.json);
	else
		r = usage();
	tsm_store_close(s);
	return r;
}
