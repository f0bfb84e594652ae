/*
 * tsmctl vectors DIR...: reads every *.vec file under the given
 * directories (sorted, recursive), runs the checker of each vector's kind
 * and prints a summary line "N passed, N failed, N skipped". Exits 1 on
 * any failure (and, with --strict, on any skip: CI uses it so that every
 * kind FORMAT.md defines stays implemented).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gp/buf.h"
#include "tsmctl.h"
#include "vec.h"

#define VEC_LINE_MAX	(1 << 20)

struct vec_kind {
	const char	*name;
	int		(*check)(struct vec *);
};

static const struct vec_kind kinds[] = {
	{ "kdf.scp03", vec_check_kdf_scp03 },
	{ "kdf.scp02", vec_check_kdf_scp02 },
	{ "kcv", vec_check_kcv },
	{ "diversify", vec_check_diversify },
	{ "session.scp02", vec_check_session_scp02 },
	{ "session.scp03", vec_check_session_scp03 },
	{ "wrap.scp02", vec_check_wrap_scp02 },
	{ "wrap.scp03", vec_check_wrap_scp03 },
	{ "keyenc.scp02", vec_check_keyenc_scp02 },
	{ "keyenc.scp03", vec_check_keyenc_scp03 },
	{ "storedata.keys", vec_check_storedata_keys },
	{ "cap", vec_check_cap },
	{ "token.data", vec_check_token_data },
	{ "token.dm", vec_check_token_dm },
	{ "parse.cplc", vec_check_parse_cplc },
	{ "parse.card_data", vec_check_parse_card_data },
	{ "parse.card_capabilities", vec_check_parse_card_capabilities },
	{ "parse.card_resources", vec_check_parse_card_resources },
	{ "parse.key_info", vec_check_parse_key_info },
	{ "parse.registry", vec_check_parse_registry },
	{ "parse.privileges", vec_check_parse_privileges },
	{ "build.sd_params", vec_check_build_sd_params },
	{ "build.uicc_params", vec_check_build_uicc_params },
	{ "build.sim_params", vec_check_build_sim_params },
};

struct vec_totals {
	unsigned	pass, fail, skip;
	int		verbose;
	int		strict;		/* a skip fails the run */
};

const char *
vec_get(const struct vec *v, const char *key)
{
	size_t i;

	for (i = 0; i < v->nkv; i++)
		if (strcmp(v->kv[i].k, key) == 0)
			return v->kv[i].v;
	return NULL;
}

int
vec_has(const struct vec *v, const char *key)
{
	return vec_get(v, key) != NULL;
}

int
vec_fail(struct vec *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return VEC_FAIL;
}

int
vec_hex(struct vec *v, const char *key, uint8_t *out, size_t cap, size_t *n)
{
	const char *s = vec_get(v, key);

	if (s == NULL) {
		vec_fail(v, "missing key %s", key);
		return -1;
	}
	if (gp_hex_decode(s, out, cap, n) != 0) {
		vec_fail(v, "bad hex or too long in %s", key);
		return -1;
	}
	return 0;
}

int
vec_hex_alloc(struct vec *v, const char *key, uint8_t **out, size_t *n)
{
	const char *s = vec_get(v, key);
	size_t cap;

	*out = NULL;
	if (s == NULL) {
		vec_fail(v, "missing key %s", key);
		return -1;
	}
	cap = strlen(s) / 2 + 1;
	if ((*out = malloc(cap)) == NULL) {
		vec_fail(v, "out of memory");
		return -1;
	}
	if (gp_hex_decode(s, *out, cap, n) != 0) {
		free(*out);
		*out = NULL;
		vec_fail(v, "bad hex in %s", key);
		return -1;
	}
	return 0;
}

long
vec_int(struct vec *v, const char *key, long def)
{
	const char *s = vec_get(v, key);
	char *end;
	long x;

	if (s == NULL)
		return def;
	errno = 0;
	x = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || x < 0) {
		vec_fail(v, "bad integer in %s", key);
		return -1;
	}
	return x;
}

int
vec_expect(struct vec *v, const char *key, const uint8_t *got, size_t n)
{
	const char *want = vec_get(v, key);
	char *hex;
	int r = VEC_PASS;

	if (want == NULL)
		return VEC_PASS;
	if ((hex = malloc(2 * n + 1)) == NULL)
		return vec_fail(v, "out of memory");
	gp_hex_encode(got, n, hex);
	if (strcasecmp(hex, want) != 0)
		r = vec_fail(v, "%s: got %.200s want %.200s", key, hex, want);
	free(hex);
	return r;
}

int
vec_expect_str(struct vec *v, const char *key, const char *got)
{
	const char *want = vec_get(v, key);

	if (want == NULL)
		return VEC_PASS;
	if (strcmp(got, want) != 0)
		return vec_fail(v, "%s: got '%.200s' want '%.200s'", key, got,
		    want);
	return VEC_PASS;
}

void
vec_path(const struct vec *v, const char *rel, char *out, size_t cap)
{
	if (rel[0] == '/')
		snprintf(out, cap, "%s", rel);
	else
		snprintf(out, cap, "%s/%s", v->dir, rel);
}

static void
vec_clear(struct vec *v)
{
	size_t i;

	for (i = 0; i < v->nkv; i++) {
		free(v->kv[i].k);
		free(v->kv[i].v);
	}
	free(v->kv);
	free(v->name);
	v->kv = NULL;
	v->nkv = 0;
	v->name = NULL;
	v->why[0] = '\0';
}

static void
vec_run(struct vec *v, struct vec_totals *t)
{
	const char *kind = vec_get(v, "kind");
	int r = VEC_SKIP;
	size_t i;

	v->why[0] = '\0';
	if (kind == NULL) {
		r = vec_fail(v, "vector has no kind");
	} else {
		snprintf(v->why, sizeof(v->why), "unknown kind %s", kind);
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcmp(kinds[i].name, kind) == 0) {
				v->why[0] = '\0';
				r = kinds[i].check(v);
				break;
			}
	}
	if (r == VEC_PASS)
		t->pass++;
	else if (r == VEC_FAIL)
		t->fail++;
	else
		t->skip++;
	if (r != VEC_PASS || t->verbose)
		printf("%-4s %s:%d [%s]%s%s\n",
		    r == VEC_PASS ? "ok" : r == VEC_FAIL ? "FAIL" : "skip",
		    v->path, v->line, v->name ? v->name : "?",
		    v->why[0] ? " " : "", v->why);
}

static int
vec_add(struct vec *v, const char *line, int lineno)
{
	const char *eq = strchr(line, '=');
	struct vec_kv *kv;

	if (eq == NULL || eq == line) {
		fprintf(stderr, "%s:%d: not a key=value line\n", v->path,
		    lineno);
		return -1;
	}
	for (size_t i = 0; i < v->nkv; i++)
		if (strlen(v->kv[i].k) == (size_t)(eq - line) &&
		    strncmp(v->kv[i].k, line, (size_t)(eq - line)) == 0) {
			fprintf(stderr, "%s:%d: key repeated\n", v->path,
			    lineno);
			return -1;
		}
	kv = realloc(v->kv, (v->nkv + 1) * sizeof(*kv));
	if (kv == NULL)
		return -1;
	v->kv = kv;
	kv[v->nkv].k = strndup(line, (size_t)(eq - line));
	kv[v->nkv].v = strdup(eq + 1);
	if (kv[v->nkv].k == NULL || kv[v->nkv].v == NULL)
		return -1;
	v->nkv++;
	return 0;
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int
vec_file(const char *path, struct vec_totals *t)
{
	struct vec v;
	char *line, *slash;
	FILE *f;
	int lineno = 0, rc = 0;

	memset(&v, 0, sizeof(v));
	v.path = path;
	snprintf(v.dir, sizeof(v.dir), "%s", path);
	if ((slash = strrchr(v.dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(v.dir, sizeof(v.dir), ".");
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		t->fail++;
		return -1;
	}
	if ((line = malloc(VEC_LINE_MAX)) == NULL) {
		fclose(f);
		return -1;
	}
	while (fgets(line, VEC_LINE_MAX, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "%s:%d: line too long\n", path, lineno);
			t->fail++;
			rc = -1;
			break;
		}
		chomp(line);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (line[0] == '[') {
			if (v.name != NULL)
				vec_run(&v, t);
			vec_clear(&v);
			v.line = lineno;
			v.name = strndup(line + 1, strcspn(line + 1, "]"));
			continue;
		}
		if (v.name == NULL || vec_add(&v, line, lineno) != 0) {
			fprintf(stderr, "%s:%d: malformed line\n", path, lineno);
			t->fail++;
			rc = -1;
		}
	}
	if (v.name != NULL)
		vec_run(&v, t);
	vec_clear(&v);
	free(line);
	fclose(f);
	return rc;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define VEC_DEPTH_MAX	16

/* Walks dir in name order; runs every *.vec file. Symlinked directories
 * are not followed (no loops); depth is capped. */
static int
vec_walk(const char *dir, struct vec_totals *t, int depth)
{
	struct dirent *de;
	struct stat st;
	char **names = NULL, path[4096];
	size_t n = 0, i, len;
	int rc = 0;
	DIR *d;

	if (depth > VEC_DEPTH_MAX) {
		fprintf(stderr, "%s: directories nested too deep\n", dir);
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char **nn;
		if (de->d_name[0] == '.')
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*nn))) == NULL)
			break;
		names = nn;
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		len = strlen(names[i]);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (vec_walk(path, t, depth + 1) != 0)
				rc = -1;
		} else if (len > 4 && strcmp(names[i] + len - 4, ".vec") == 0) {
			if (vec_file(path, t) != 0)
				rc = -1;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
tsmctl_vectors(int argc, char **argv)
{
	struct vec_totals t = { 0, 0, 0, 0, 0 };
	int i, ndirs = 0, bad = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			t.verbose = 1;
			continue;
		}
		if (strcmp(argv[i], "--strict") == 0) {
			t.strict = 1;
			continue;
		}
		ndirs++;
		if (vec_walk(argv[i], &t, 0) != 0)
			bad = 1;
	}
	if (ndirs == 0) {
		fprintf(stderr, "usage: tsmctl vectors [-v] [--strict] DIR...\n");
		return 2;
	}
	printf("%u passed, %u failed, %u skipped\n", t.pass, t.fail, t.skip);
	return (t.fail > 0 || bad || (t.strict && t.skip > 0)) ? 1 : 0;
}
