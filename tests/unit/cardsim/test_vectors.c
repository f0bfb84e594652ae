/*
 * libgp's card role, inside the simulator, replays the recorded secure
 * channel sessions of the shared vectors (kinds session.scp02 and
 * session.scp03 of ../shared/vectors, FORMAT.md), read in place: the
 * directory is TSM_VECTORS, else TSM_VECTORS_DIR, searched recursively.
 *
 * For each vector a card is made with the vector's static keys (or its
 * master key diversified with the recorded KDD), KDD, key version,
 * sequence counter, i, s and card challenge (the pseudo-random one when
 * the vector names the security domain, sd_aid). Then:
 *  - the recorded INITIALIZE UPDATE must get exactly init_update.rsp ‖
 *    9000 (with expect.reject: anything but the recording);
 *  - the recorded EXTERNAL AUTHENTICATE must get 9000;
 *  - every step.N.wire must pass the card's secure messaging: the card
 *    runs exactly step.N.plain (seen through sim_card_tap) and does not
 *    answer 6982 or 6988. Its answer is otherwise its own: it is not the
 *    recorded card.
 * Any vector that is malformed or fails fails the test, and at least the
 * 8 session vectors present when this test was written must be found.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gp/err.h"
#include "gp/kdf.h"
#include "common.h"

#define SIM_VEC_MIN	8	/* session vectors in the tree today */
#define SIM_VEC_BUF	(GP_APDU_WIRE_MAX + 64)

/* ---- a small reader of the vector files (FORMAT.md "Syntax") ---------- */

struct sim_kv {
	char		*k, *v;
};

struct sim_vec {
	char		 file[4096];
	char		*name;
	int		 line;
	struct sim_kv	*kv;
	size_t		 nkv;
};

struct sim_vecs {
	struct sim_vec	*v;
	size_t		 n, cap;
	size_t		 files;
	int		 errors;	/* files or lines that did not parse */
};

static const char *
sim_get(const struct sim_vec *v, const char *key)
{
	size_t k;

	for (k = 0; k < v->nkv; k++)
		if (strcmp(v->kv[k].k, key) == 0)
			return v->kv[k].v;
	return NULL;
}

static int
sim_set(struct sim_vec *v, const char *key, const char *val)
{
	struct sim_kv *kv;
	char *dup = strdup(val);
	size_t k;

	if (dup == NULL)
		return -1;
	for (k = 0; k < v->nkv; k++)
		if (strcmp(v->kv[k].k, key) == 0) {
			free(v->kv[k].v);
			v->kv[k].v = dup;
			return 0;
		}
	if ((kv = realloc(v->kv, (v->nkv + 1) * sizeof(*kv))) == NULL ||
	    (kv[v->nkv].k = strdup(key)) == NULL) {
		if (kv != NULL)
			v->kv = kv;
		free(dup);
		return -1;
	}
	kv[v->nkv++].v = dup;
	v->kv = kv;
	return 0;
}

static void
sim_vec_free(struct sim_vec *v)
{
	size_t k;

	for (k = 0; k < v->nkv; k++) {
		gp_wipe(v->kv[k].v, strlen(v->kv[k].v));
		free(v->kv[k].k);
		free(v->kv[k].v);
	}
	free(v->kv);
	free(v->name);
	memset(v, 0, sizeof(*v));
}

static void
sim_vecs_free(struct sim_vecs *s)
{
	size_t k;

	for (k = 0; k < s->n; k++)
		sim_vec_free(&s->v[k]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
is_session(const struct sim_vec *v)
{
	const char *kind = sim_get(v, "kind");

	return kind != NULL && (strcmp(kind, "session.scp02") == 0 ||
	    strcmp(kind, "session.scp03") == 0);
}

/* Keeps *cur when it is a session vector, frees it otherwise. */
static int
sim_keep(struct sim_vecs *s, struct sim_vec *cur)
{
	struct sim_vec *nv;

	if (cur->name == NULL)
		return 0;
	if (!is_session(cur)) {
		sim_vec_free(cur);
		return 0;
	}
	if (s->n == s->cap) {
		if ((nv = realloc(s->v, (s->cap * 2 + 8) * sizeof(*nv))) ==
		    NULL)
			return -1;
		s->v = nv;
		s->cap = s->cap * 2 + 8;
	}
	s->v[s->n++] = *cur;
	memset(cur, 0, sizeof(*cur));
	return 0;
}

static void
sim_parse_error(struct sim_vecs *s, const char *path, int line,
    const char *what)
{
	fprintf(stderr, "FAIL %s:%d: %s\n", path, line, what);
	s->errors++;
}

/* One line of a .vec file into *cur (a new vector or a key of it). */
static int
sim_parse_line(struct sim_vecs *s, const char *path, int ln, char *line,
    struct sim_vec *cur)
{
	char *eq, *end;

	if (*line == '\0' || *line == '#')
		return 0;
	if (*line == '[') {
		if (sim_keep(s, cur) != 0)
			return -1;
		if ((end = strchr(line, ']')) == NULL || end[1] != '\0' ||
		    end == line + 1) {
			sim_parse_error(s, path, ln, "bad [name] line");
			return 0;
		}
		*end = '\0';
		if ((cur->name = strdup(line + 1)) == NULL)
			return -1;
		snprintf(cur->file, sizeof(cur->file), "%s", path);
		cur->line = ln;
		return 0;
	}
	if ((eq = strchr(line, '=')) == NULL || eq == line) {
		sim_parse_error(s, path, ln, "not key=value");
		return 0;
	}
	*eq = '\0';
	if (cur->name == NULL)
		sim_parse_error(s, path, ln, "key outside a vector");
	else if (sim_get(cur, line) != NULL)
		sim_parse_error(s, path, ln, "key given twice");
	else if (sim_set(cur, line, eq + 1) != 0)
		return -1;
	return 0;
}

static int
sim_read_file(struct sim_vecs *s, const char *path)
{
	struct sim_vec cur;
	char *line = NULL, *nl;
	size_t cap = 0;
	ssize_t got;
	int ln = 0, r = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		sim_parse_error(s, path, 0, strerror(errno));
		return 0;
	}
	s->files++;
	memset(&cur, 0, sizeof(cur));
	while (r == 0 && (got = getline(&line, &cap, f)) >= 0) {
		ln++;
		if ((nl = strpbrk(line, "\r\n")) != NULL)
			*nl = '\0';
		r = sim_parse_line(s, path, ln, line, &cur);
	}
	if (r == 0)
		r = sim_keep(s, &cur);
	sim_vec_free(&cur);
	free(line);
	fclose(f);
	return r;
}

static int
vec_name(const struct dirent *d)
{
	return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* Every *.vec under dir, in name order. */
static int
sim_read_dir(struct sim_vecs *s, const char *dir, int depth)
{
	struct dirent **ents;
	char path[4096];
	struct stat sb;
	size_t n;
	int k, cnt, r = 0;

	if (depth > 16)
		return 0;
	if ((cnt = scandir(dir, &ents, vec_name, alphasort)) < 0) {
		sim_parse_error(s, dir, 0, strerror(errno));
		return 0;
	}
	for (k = 0; k < cnt; k++) {
		if (r == 0 && snprintf(path, sizeof(path), "%s/%s", dir,
		    ents[k]->d_name) < (int)sizeof(path) &&
		    stat(path, &sb) == 0) {
			n = strlen(path);
			if (S_ISDIR(sb.st_mode))
				r = sim_read_dir(s, path, depth + 1);
			else if (S_ISREG(sb.st_mode) && n > 4 &&
			    strcmp(path + n - 4, ".vec") == 0)
				r = sim_read_file(s, path);
		}
		free(ents[k]);
	}
	free(ents);
	return r;
}

static const char *
vectors_dir(void)
{
	const char *d = getenv("TSM_VECTORS");

	if (d != NULL && *d != '\0')
		return d;
#ifdef TSM_VECTORS_DIR
	return TSM_VECTORS_DIR;
#else
	return ".";
#endif
}

/* ---- replaying one session against a simulator card ------------------ */

struct sim_run {
	struct sim_vec	*v;
	char		 why[256];
	uint8_t		 seen[SIM_VEC_BUF];	/* what the tap saw last */
	size_t		 seen_len;
	unsigned	 nseen;
	uint8_t		 b0[SIM_VEC_BUF], b1[SIM_VEC_BUF];
};

static int
sim_fail(struct sim_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
sim_fail(struct sim_run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -1;
}

static void
sim_tap_cb(void *arg, const uint8_t *cmd, size_t n)
{
	struct sim_run *r = arg;

	r->nseen++;
	r->seen_len = n <= sizeof(r->seen) ? n : 0;
	memcpy(r->seen, cmd, r->seen_len);
}

/* Hex value of key: exactly want bytes (want 0: any, up to cap). */
static int
sim_hex(struct sim_run *r, const char *key, uint8_t *out, size_t cap,
    size_t want, size_t *n)
{
	const char *s = sim_get(r->v, key);
	size_t got = 0;

	if (s == NULL)
		return sim_fail(r, "%s missing", key);
	if (strlen(s) > 2 * cap || gp_hex_decode(s, out, cap, &got) != 0)
		return sim_fail(r, "%s is not hex (or too long)", key);
	if (want != 0 && got != want)
		return sim_fail(r, "%s: %zu bytes, want %zu", key, got, want);
	if (n != NULL)
		*n = got;
	return 0;
}

/* What the vector says the card is. */
struct sim_sess {
	int		proto, prand, reject, has_level;
	uint8_t		i, s, kvn, level;
	uint8_t		hc[16], rsp[64], sd_aid[16];
	size_t		rspn, aidn;
	struct gp_keyset ks;
	struct sim_keys	 card;
};

static int
sim_sess_keys(struct sim_run *r, struct sim_sess *x)
{
	const char *m = sim_get(r->v, "diversify");
	enum gp_div_method dm;
	uint8_t master[GP_KEY_MAX];
	size_t n = 0, n2 = 0, n3 = 0;
	int e;

	if (sim_get(r->v, "master") != NULL) {
		if (m == NULL || gp_div_method_parse(m, &dm) != 0)
			return sim_fail(r, "master without a known diversify");
		if (sim_hex(r, "master", master, sizeof(master), 0, &n) != 0)
			return -1;
		e = gp_keyset_diversify(&x->ks, dm, master, n, x->rsp);
		gp_wipe(master, sizeof(master));
		return e ? sim_fail(r, "diversify: %s", gp_strerror(e)) : 0;
	}
	if (sim_hex(r, "key.enc", x->ks.enc, GP_KEY_MAX, 0, &n) ||
	    sim_hex(r, "key.mac", x->ks.mac, GP_KEY_MAX, 0, &n2) ||
	    sim_hex(r, "key.dek", x->ks.dek, GP_KEY_MAX, 0, &n3))
		return -1;
	if (n != n2 || n != n3)
		return sim_fail(r, "static keys differ in length");
	x->ks.len = n;
	return 0;
}

static int
sim_byte(struct sim_run *r, const char *key, uint8_t *out)
{
	return sim_hex(r, key, out, 1, 1, NULL);
}

/* The INITIALIZE UPDATE response, taken apart into the card's config. */
static int
sim_sess_card(struct sim_run *r, struct sim_sess *x)
{
	const uint8_t *p = x->rsp;
	struct sim_keys *k = &x->card;
	size_t need = x->proto == 3 ? 13u + 2 * x->s : 28;

	if (x->rspn < need || p[11] != x->proto)
		return sim_fail(r, "init_update.rsp is not an SCP0%d response",
		    x->proto);
	memset(k, 0, sizeof(*k));
	k->proto = x->proto;
	k->s = x->s;
	k->kvn = p[10];
	k->enc = x->ks.enc;
	k->mac = x->ks.mac;
	k->dek = x->ks.dek;
	k->len = x->ks.len;
	k->kdd = p;
	if (x->proto == 2) {
		k->i = x->i;
		k->seq = (uint32_t)p[12] << 8 | p[13];
		k->challenge = p + 14;
		return 0;
	}
	if ((k->i = p[12]) != x->i)
		return sim_fail(r, "i %02X is not the response's %02X", x->i,
		    p[12]);
	if (k->i & GP_SCP03_I_PRAND) {
		if (x->rspn < need + 3)
			return sim_fail(r, "no sequence counter in the response");
		p += need;
		k->seq = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	}
	/* With sd_aid the card computes its pseudo-random challenge. */
	x->prand = (k->i & GP_SCP03_I_PRAND) && x->aidn != 0;
	k->challenge = x->prand ? NULL : x->rsp + 13;
	if (x->aidn != 0) {
		k->isd = x->sd_aid;
		k->isd_len = x->aidn;
	}
	return 0;
}

static int
sim_sess_read(struct sim_run *r, struct sim_sess *x)
{
	const char *kind = sim_get(r->v, "kind"), *s = sim_get(r->v, "s"),
	    *rej = sim_get(r->v, "expect.reject");

	memset(x, 0, sizeof(*x));
	x->proto = strcmp(kind, "session.scp02") == 0 ? 2 : 3;
	x->s = 8;
	if (s != NULL && strcmp(s, "8") != 0) {
		if (strcmp(s, "16") != 0 || x->proto != 3)
			return sim_fail(r, "s must be 8 (or 16 for SCP03)");
		x->s = 16;
	}
	if (sim_byte(r, "kvn", &x->kvn) || sim_byte(r, "i", &x->i) ||
	    sim_hex(r, "host_challenge", x->hc, sizeof(x->hc), x->s, NULL) ||
	    sim_hex(r, "init_update.rsp", x->rsp, sizeof(x->rsp), 0,
	    &x->rspn))
		return -1;
	if ((x->has_level = sim_get(r->v, "level") != NULL) &&
	    sim_byte(r, "level", &x->level))
		return -1;
	if (sim_get(r->v, "sd_aid") != NULL && sim_hex(r, "sd_aid", x->sd_aid,
	    sizeof(x->sd_aid), 0, &x->aidn))
		return -1;
	if (rej != NULL && strcmp(rej, "card_cryptogram") != 0)
		return sim_fail(r, "unknown expect.reject=%s", rej);
	x->reject = rej != NULL;
	if (x->rspn < 13)
		return sim_fail(r, "init_update.rsp too short");
	if (sim_sess_keys(r, x) != 0)
		return -1;
	x->ks.kvn = x->rsp[10];
	return sim_sess_card(r, x);
}

static int
sim_xmit(struct sim_run *r, struct sim_card *c, const uint8_t *cmd,
    size_t n, size_t *rlen)
{
	int e = sim_card_transmit(c, cmd, n, r->b1, sizeof(r->b1), rlen);

	if (e != 0)
		return sim_fail(r, "transmit: %s", sim_strerror(e));
	if (*rlen < 2)
		return sim_fail(r, "a response without SW");
	return 0;
}

static uint16_t
sim_sw(const struct sim_run *r, size_t rlen)
{
	return (uint16_t)(r->b1[rlen - 2] << 8 | r->b1[rlen - 1]);
}

static int
sim_select(struct sim_run *r, struct sim_card *c, const struct sim_sess *x)
{
	struct gp_apdu a = { .cla = 0x00, .ins = 0xA4, .p1 = 0x04,
	    .data = x->aidn ? x->sd_aid : sim_isd_aid,
	    .lc = x->aidn ? x->aidn : sizeof(sim_isd_aid), .ne = 256 };
	struct gp_wr w;
	size_t rlen;

	gp_wr_init(&w, r->b0, sizeof(r->b0));
	if (gp_apdu_encode(&a, &w) != 0 ||
	    sim_xmit(r, c, w.p, w.len, &rlen) != 0)
		return sim_fail(r, "SELECT");
	return sim_sw(r, rlen) == 0x9000 ? 0 :
	    sim_fail(r, "SELECT of the SD: %04X", sim_sw(r, rlen));
}

/* The recorded INITIALIZE UPDATE, or the one FORMAT.md defines. */
static int
sim_iu_cmd(struct sim_run *r, const struct sim_sess *x, size_t *n)
{
	struct gp_apdu a = { .cla = 0x80, .ins = 0x50, .p1 = x->kvn,
	    .data = x->hc, .lc = x->s, .ne = 256 };
	struct gp_wr w;

	if (sim_get(r->v, "expect.init_update") != NULL)
		return sim_hex(r, "expect.init_update", r->b0, sizeof(r->b0),
		    0, n);
	gp_wr_init(&w, r->b0, sizeof(r->b0));
	if (gp_apdu_encode(&a, &w) != 0)
		return sim_fail(r, "INITIALIZE UPDATE encoding");
	*n = w.len;
	return 0;
}

/* The recorded EXTERNAL AUTHENTICATE, or libgp's host builds it. */
static int
sim_ea_cmd(struct sim_run *r, const struct sim_sess *x, size_t *n)
{
	struct gp_scp h;
	struct gp_wr w;
	int e;

	if (sim_get(r->v, "expect.ext_auth") != NULL)
		return sim_hex(r, "expect.ext_auth", r->b0, sizeof(r->b0), 0,
		    n);
	memset(&h, 0, sizeof(h));
	gp_wr_init(&w, r->b0, sizeof(r->b0));
	if ((e = gp_scp_host_init(&h, x->proto, x->i, x->s, x->kvn, x->hc,
	    &w)) == 0 &&
	    (e = gp_scp_host_auth(&h, &x->ks, x->rsp, x->rspn)) == 0) {
		gp_wr_init(&w, r->b0, sizeof(r->b0));
		e = gp_scp_host_ext_auth(&h, x->level, &w);
		*n = w.len;
	}
	gp_scp_free(&h);
	return e ? sim_fail(r, "host EXTERNAL AUTHENTICATE: %s",
	    gp_strerror(e)) : 0;
}

/* step.N.wire through the card's secure messaging, in order. */
static int
sim_steps(struct sim_run *r, struct sim_card *c, int *nsteps)
{
	uint8_t plain[SIM_VEC_BUF];
	char key[64];
	size_t n = 0, pn = 0, rlen;
	unsigned before;
	uint16_t sw;
	int i;

	for (i = 1;; i++) {
		snprintf(key, sizeof(key), "step.%d.wire", i);
		if (sim_get(r->v, key) == NULL)
			break;
		if (sim_hex(r, key, r->b0, sizeof(r->b0), 0, &n) != 0)
			return -1;
		snprintf(key, sizeof(key), "step.%d.plain", i);
		if (sim_hex(r, key, plain, sizeof(plain), 0, &pn) != 0)
			return -1;
		before = r->nseen;
		if (sim_xmit(r, c, r->b0, n, &rlen) != 0)
			return -1;
		sw = sim_sw(r, rlen);
		printf("  [%s] step %d: SW %04X\n", r->v->name, i, sw);
		if (sw == 0x6982 || sw == 0x6988)
			return sim_fail(r, "step %d: secure messaging refused "
			    "(%04X)", i, sw);
		if (r->nseen != before + 1)
			return sim_fail(r, "step %d: the card ran %u commands",
			    i, r->nseen - before);
		if (r->seen_len != pn || memcmp(r->seen, plain, pn) != 0)
			return sim_fail(r, "step %d: the card ran another "
			    "command than step.%d.plain", i, i);
	}
	*nsteps = i - 1;
	return 0;
}

static int
sim_replay(struct sim_run *r, struct sim_sess *x, int *nsteps)
{
	struct sim_opts o = { .profile = NULL };
	struct sim_card *c = NULL;
	size_t n, rlen;
	int e, rc = -1;

	*nsteps = 0;
	if ((e = sim_card_open_keys(&o, &x->card, &c)) != 0)
		return sim_fail(r, "card: %s", sim_strerror(e));
	sim_card_tap(c, sim_tap_cb, r);
	if (sim_select(r, c, x) != 0 || sim_iu_cmd(r, x, &n) != 0 ||
	    sim_xmit(r, c, r->b0, n, &rlen) != 0)
		goto out;
	if (rlen != x->rspn + 2 || memcmp(r->b1, x->rsp, x->rspn) != 0 ||
	    sim_sw(r, rlen) != 0x9000) {
		if (x->reject)
			rc = 0;	/* the card cannot make the bad cryptogram */
		else
			sim_fail(r, "INITIALIZE UPDATE answered %zu bytes, "
			    "SW %04X, not init_update.rsp ‖ 9000", rlen,
			    sim_sw(r, rlen));
		goto out;
	}
	if (x->reject) {
		sim_fail(r, "the card made the rejected card cryptogram");
		goto out;
	}
	if (!x->has_level) {	/* a log cut after INITIALIZE UPDATE */
		rc = 0;
		goto out;
	}
	if (sim_ea_cmd(r, x, &n) != 0 || sim_xmit(r, c, r->b0, n, &rlen) != 0)
		goto out;
	if (sim_sw(r, rlen) != 0x9000) {
		sim_fail(r, "EXTERNAL AUTHENTICATE: %04X", sim_sw(r, rlen));
		goto out;
	}
	rc = sim_steps(r, c, nsteps);
 out:
	sim_card_free(c);
	return rc;
}

/* 0 when the vector replays; otherwise why is set. */
static int
sim_run_vector(struct sim_vec *v, char *why, size_t whylen, int *nsteps)
{
	struct sim_run *r = calloc(1, sizeof(*r));
	struct sim_sess *x = calloc(1, sizeof(*x));
	int rc = -1;

	*nsteps = 0;
	if (r == NULL || x == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	r->v = v;
	if ((rc = sim_sess_read(r, x)) == 0)
		rc = sim_replay(r, x, nsteps);
	snprintf(why, whylen, "%s", r->why);
 out:
	if (x != NULL) {
		gp_keyset_wipe(&x->ks);
		gp_wipe(x, sizeof(*x));
	}
	if (r != NULL)
		gp_wipe(r, sizeof(*r));
	free(r);
	free(x);
	return rc;
}

/* ---- tests --------------------------------------------------------------- */

static struct sim_vecs all;

static int
setup(void **state)
{
	(void)state;
	memset(&all, 0, sizeof(all));
	return sim_read_dir(&all, vectors_dir(), 0);
}

static int
teardown(void **state)
{
	(void)state;
	sim_vecs_free(&all);
	return 0;
}

/* Every session vector replays; none is malformed; none is missing. */
static void
test_vectors_replay(void **state)
{
	size_t k, nfail = 0, n2 = 0, n3 = 0, nsteps = 0;
	char why[256];
	int steps;

	(void)state;
	printf("vectors: %s (%zu files)\n", vectors_dir(), all.files);
	assert_int_equal(all.errors, 0);
	for (k = 0; k < all.n; k++) {
		struct sim_vec *v = &all.v[k];

		if (sim_run_vector(v, why, sizeof(why), &steps) != 0) {
			fprintf(stderr, "FAIL %s:%d [%s]: %s\n", v->file,
			    v->line, v->name, why);
			nfail++;
			continue;
		}
		nsteps += (size_t)steps;
		if (strcmp(sim_get(v, "kind"), "session.scp02") == 0)
			n2++;
		else
			n3++;
		printf("ok [%s] (%d steps)\n", v->name, steps);
	}
	printf("%zu session vectors (%zu SCP02, %zu SCP03), %zu steps, "
	    "%zu failed\n", all.n, n2, n3, nsteps, nfail);
	assert_int_equal(nfail, 0);
	assert_true(all.n >= SIM_VEC_MIN);
	assert_true(n2 >= 1 && n3 >= 1);
	assert_true(nsteps >= 10);
}

static struct sim_vec *
find_vec(const char *name)
{
	size_t k;

	for (k = 0; k < all.n; k++)
		if (strcmp(all.v[k].name, name) == 0)
			return &all.v[k];
	fail_msg("vector %s not found", name);
	return NULL;
}

/* A copy of a vector to tamper with. */
static void
copy_vec(const struct sim_vec *from, struct sim_vec *to)
{
	size_t k;

	memset(to, 0, sizeof(*to));
	if (from == NULL) {
		fail_msg("vector to copy not found");
		return;
	}
	to->name = strdup(from->name);
	assert_non_null(to->name);
	for (k = 0; k < from->nkv; k++)
		assert_int_equal(sim_set(to, from->kv[k].k, from->kv[k].v), 0);
}

/* Flips the low bit of the hex byte at byte index off (negative: from
 * the end) of key. */
static void
flip(struct sim_vec *v, const char *key, long off)
{
	char buf[2 * SIM_VEC_BUF + 1];
	const char *s = sim_get(v, key);
	size_t n, at;

	assert_non_null(s);
	n = strlen(s);
	assert_true(n < sizeof(buf) && n >= 2);
	memcpy(buf, s, n + 1);
	at = off >= 0 ? 2 * (size_t)off : n - 2 * (size_t)(-off);
	assert_true(at + 1 < n);
	buf[at + 1] = buf[at + 1] == '0' ? '1' : '0';
	assert_int_equal(sim_set(v, key, buf), 0);
}

static int
run_copy(struct sim_vec *v, char *why, size_t n)
{
	int steps, r = sim_run_vector(v, why, n, &steps);

	sim_vec_free(v);
	return r;
}

/* The replay notices each kind of breakage, and expect.reject works. */
static void
test_vectors_detect_tampering(void **state)
{
	struct sim_vec *src, v;
	char why[256];

	(void)state;
	src = find_vec("kaoh.scp03.get_status_enc_mac");
	/* a C-MAC byte of step 2: the card refuses the command */
	copy_vec(src, &v);
	flip(&v, "step.2.wire", -2);
	assert_int_equal(run_copy(&v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "step 2: secure messaging refused (6982)"));
	/* another plain command than the one the card decrypts */
	copy_vec(src, &v);
	flip(&v, "step.3.plain", 3);
	assert_int_equal(run_copy(&v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "step 3: the card ran another command"));
	/* a recorded card cryptogram that is wrong: the card differs ... */
	copy_vec(src, &v);
	flip(&v, "init_update.rsp", 13 + 8);
	assert_int_equal(run_copy(&v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not init_update.rsp"));
	/* ... which is what an expect.reject vector asks */
	copy_vec(src, &v);
	flip(&v, "init_update.rsp", 13 + 8);
	assert_int_equal(sim_set(&v, "expect.reject", "card_cryptogram"), 0);
	assert_int_equal(run_copy(&v, why, sizeof(why)), 0);
	/* and a good recording marked rejected fails */
	copy_vec(src, &v);
	assert_int_equal(sim_set(&v, "expect.reject", "card_cryptogram"), 0);
	assert_int_equal(run_copy(&v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "made the rejected card cryptogram"));
	/* a wrong host cryptogram in EXTERNAL AUTHENTICATE */
	copy_vec(find_vec("kaoh.scp02.install_mac_enc"), &v);
	flip(&v, "expect.ext_auth", 6);
	assert_int_equal(run_copy(&v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "EXTERNAL AUTHENTICATE: 6300"));
	/* a broken vector: a missing key */
	copy_vec(find_vec("kaoh.scp02.get_status_mac_only"), &v);
	assert_int_equal(sim_set(&v, "key.mac", "0011"), 0);
	assert_int_equal(run_copy(&v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "static keys differ in length"));
}

/* The SCP03 pseudo-random challenge is the card's own, from sd_aid. */
static void
test_vectors_prand_challenge(void **state)
{
	struct sim_vec v;
	char why[256];

	(void)state;
	/* Without sd_aid the recorded challenge is configured as fixed;
	 * with it the card derives it: a wrong sd_aid must then differ. */
	copy_vec(find_vec("kaoh.scp03.mutual_auth"), &v);
	assert_int_equal(sim_set(&v, "sd_aid", "A000000151000001"), 0);
	assert_int_equal(run_copy(&v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not init_update.rsp"));
	copy_vec(find_vec("kaoh.scp03.get_status_aes_192"), &v);
	flip(&v, "init_update.rsp", -1);	/* the sequence counter */
	assert_int_equal(run_copy(&v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not init_update.rsp"));
}

/* A card made from a vector keeps its keys, KDD, counter and fixed
 * challenge in its state file: reopened, it answers the recording. */
static void
test_vectors_state_file(void **state)
{
	char path[] = "/tmp/sim_vecstate_XXXXXX";
	struct sim_opts o = { .state_path = path };
	struct sim_card *c = NULL;
	struct sim_run *r = calloc(1, sizeof(*r));
	struct sim_sess *x = calloc(1, sizeof(*x));
	size_t n, rlen;
	int fd;

	(void)state;
	assert_non_null(r);
	assert_non_null(x);
	r->v = find_vec("kaoh.scp02.get_status_mac_only");
	assert_int_equal(sim_sess_read(r, x), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sim_card_open_keys(&o, &x->card, &c), 0);
	sim_card_free(c);
	c = NULL;
	assert_int_equal(sim_card_open(&o, &c), 0);	/* from the file */
	assert_int_equal(sim_select(r, c, x), 0);
	assert_int_equal(sim_iu_cmd(r, x, &n), 0);
	assert_int_equal(sim_xmit(r, c, r->b0, n, &rlen), 0);
	assert_int_equal(rlen, x->rspn + 2);
	assert_memory_equal(r->b1, x->rsp, x->rspn);
	assert_int_equal(sim_sw(r, rlen), 0x9000);
	sim_card_free(c);
	assert_int_equal(unlink(path), 0);
	gp_keyset_wipe(&x->ks);
	gp_wipe(x, sizeof(*x));
	free(x);
	free(r);
}

/* The reader: syntax errors count, other kinds are left out. */
static void
test_vectors_reader(void **state)
{
	static const char text[] =
	    "# comment\n\n[a]\nkind=session.scp02\nx=1\n"
	    "[b]\nkind=kcv\n"
	    "[c]\r\nkind=session.scp03\r\ny=\r\n"
	    "[d]\nkind=session.scp03\nkind=session.scp02\nbad line\n";
	char dir[] = "/tmp/sim_vectors_XXXXXX", path[64];
	struct sim_vecs s;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.vec", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(sim_read_dir(&s, dir, 0), 0);
	assert_int_equal(s.files, 1);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0].name, "a");
	assert_string_equal(sim_get(&s.v[0], "x"), "1");
	assert_string_equal(s.v[1].name, "c");
	assert_string_equal(sim_get(&s.v[1], "y"), "");
	assert_int_equal(s.errors, 2);	/* key twice, no '=' */
	sim_vecs_free(&s);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	/* a missing directory is an error, not an empty set */
	memset(&s, 0, sizeof(s));
	assert_int_equal(sim_read_dir(&s, "/nonexistent/sim_vectors", 0), 0);
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.n, 0);
	sim_vecs_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_replay),
		cmocka_unit_test(test_vectors_detect_tampering),
		cmocka_unit_test(test_vectors_prand_challenge),
		cmocka_unit_test(test_vectors_state_file),
		cmocka_unit_test(test_vectors_reader),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
