/*
 * Checkers of the parse.* kinds (FORMAT.md): CPLC, card recognition data,
 * card capabilities, card resources, key information, GET STATUS registry
 * and privileges. Only the fields a vector lists are compared; an empty
 * expected value means the element is absent (or empty). With
 * expect.error=yes the parser must fail; for the registry the entries read
 * before the error are still compared.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp/buf.h"
#include "gp/carddata.h"
#include "gp/err.h"
#include "gp/registry.h"
#include "gp/tlv.h"
#include "vec.h"

#define REG_MAX		64
#define KEYS_MAX	64
#define TXT_MAX		1024

/*
 * Reconciles the parser's result with expect.error. Returns VEC_PASS to
 * go on comparing fields, VEC_FAIL on a mismatch, and -1 when an expected
 * error happened and nothing else is to be compared (cont == 0).
 */
static int
outcome(struct vec *v, int rc, int cont)
{
	const char *e = vec_get(v, "expect.error");
	int want = e != NULL && strcmp(e, "yes") == 0;

	if (want && rc == 0)
		return vec_fail(v, "parser accepted malformed input");
	if (!want && rc != 0)
		return vec_fail(v, "parser failed: %s (%d)", gp_strerror(rc),
		    rc);
	return want && !cont ? -1 : VEC_PASS;
}

static int
load_input(struct vec *v, uint8_t **in, size_t *n)
{
	return vec_hex_alloc(v, "input", in, n) == 0 ? VEC_PASS : VEC_FAIL;
}

/* Compares a span (absent = empty) with a hex expectation. */
static int
expect_span(struct vec *v, const char *key, const struct gp_span *s)
{
	return vec_expect(v, key, s->p, s->p != NULL ? s->len : 0);
}

static int
expect_num(struct vec *v, const char *key, int has, unsigned long x)
{
	char buf[32] = "";

	if (has)
		snprintf(buf, sizeof(buf), "%lu", x);
	return vec_expect_str(v, key, buf);
}

/* Fails when the vector names an item N of prefix (prefix.N.) past n. */
static int
expect_no_more(struct vec *v, const char *prefix, size_t n)
{
	size_t i, plen = strlen(prefix);
	unsigned long idx;
	char *end;

	for (i = 0; i < v->nkv; i++) {
		if (strncmp(v->kv[i].k, prefix, plen) != 0)
			continue;
		idx = strtoul(v->kv[i].k + plen, &end, 10);
		if (end != v->kv[i].k + plen && *end == '.' &&
		    (idx == 0 || idx > n))
			return vec_fail(v, "%s: only %zu parsed", v->kv[i].k, n);
	}
	return VEC_PASS;
}

static const struct {
	const char	*name;
	size_t		 off;
	size_t		 len;
} cplc_keys[] = {
#define F(x) { "expect." #x, offsetof(struct gp_cplc, x), \
	    sizeof(((struct gp_cplc *)0)->x) }
	F(ic_fabricator), F(ic_type), F(os_id), F(os_release_date),
	F(os_release_level), F(ic_fabrication_date), F(ic_serial),
	F(ic_batch_id), F(module_fabricator), F(module_packaging_date),
	F(icc_manufacturer), F(ic_embedding_date), F(pre_personalizer),
	F(pre_perso_equipment_date), F(pre_perso_equipment_id),
	F(personalizer), F(personalization_date), F(perso_equipment_id),
#undef F
};

int
vec_check_parse_cplc(struct vec *v)
{
	struct gp_cplc c;
	uint8_t *in;
	size_t n, i;
	int r;

	if ((r = load_input(v, &in, &n)) != VEC_PASS)
		return r;
	if ((r = outcome(v, gp_cplc_parse(in, n, &c), 0)) != VEC_PASS)
		goto out;
	for (i = 0; r == VEC_PASS && i < sizeof(cplc_keys) /
	    sizeof(cplc_keys[0]); i++)
		r = vec_expect(v, cplc_keys[i].name,
		    (const uint8_t *)&c + cplc_keys[i].off, cplc_keys[i].len);
out:
	free(in);
	return r < 0 ? VEC_PASS : r;
}

static int
expect_oid(struct vec *v, const char *key, const struct gp_span *s,
    int whole)
{
	char txt[TXT_MAX] = "";
	int r = 0;

	if (s->p != NULL)
		r = whole ? gp_oid_to_str(s->p, s->len, txt, sizeof(txt)) :
		    gp_oid_arcs_to_str(s->p, s->len, txt, sizeof(txt));
	if (r != 0)
		return vec_fail(v, "%s: cannot format OID (%d)", key, r);
	return vec_expect_str(v, key, txt);
}

static int
card_data_scp(struct vec *v, const struct gp_crd_scp *s, size_t idx)
{
	char key[64], val[16] = "";
	int r;

	snprintf(key, sizeof(key), "expect.scp.%zu.id", idx);
	if ((r = vec_expect(v, key, &s->id, 1)) != VEC_PASS)
		return r;
	/* Whole bytes: 70 -> "70", 3462 -> "0D86". */
	if (s->has_i)
		snprintf(val, sizeof(val), "%0*lX", s->i <= 0xff ? 2 :
		    s->i <= 0xffff ? 4 : s->i <= 0xffffff ? 6 : 8,
		    (unsigned long)s->i);
	snprintf(key, sizeof(key), "expect.scp.%zu.i", idx);
	return vec_expect_str(v, key, val);
}

int
vec_check_parse_card_data(struct vec *v)
{
	struct gp_card_data cd;
	uint8_t *in;
	size_t n, i;
	int r;

	if ((r = load_input(v, &in, &n)) != VEC_PASS)
		return r;
	if ((r = outcome(v, gp_card_data_parse(in, n, &cd), 0)) != VEC_PASS)
		goto out;
	if ((r = expect_oid(v, "expect.gp_version", &cd.gp_version, 0)) ||
	    (r = expect_oid(v, "expect.card_config_oid", &cd.card_config_oid,
	    1)) ||
	    (r = expect_oid(v, "expect.chip_oid", &cd.chip_oid, 1)) ||
	    (r = expect_num(v, "expect.scp.count", 1, cd.nscp)) ||
	    (r = expect_no_more(v, "expect.scp.", cd.nscp)))
		goto out;
	for (i = 0; r == VEC_PASS && i < cd.nscp; i++)
		r = card_data_scp(v, &cd.scp[i], i + 1);
out:
	free(in);
	return r < 0 ? VEC_PASS : r;
}

static int
caps_scp(struct vec *v, const struct gp_caps_scp *s, size_t idx)
{
	char key[64];
	int r;

	snprintf(key, sizeof(key), "expect.scp.%zu.id", idx);
	if ((r = vec_expect(v, key, &s->id, s->has_id ? 1 : 0)) != VEC_PASS)
		return r;
	snprintf(key, sizeof(key), "expect.scp.%zu.options", idx);
	if ((r = expect_span(v, key, &s->options)) != VEC_PASS)
		return r;
	snprintf(key, sizeof(key), "expect.scp.%zu.key_lengths", idx);
	return expect_span(v, key, &s->key_lengths);
}

int
vec_check_parse_card_capabilities(struct vec *v)
{
	struct gp_card_caps cc;
	uint8_t *in;
	size_t n, i;
	int r;

	if ((r = load_input(v, &in, &n)) != VEC_PASS)
		return r;
	if ((r = outcome(v, gp_card_caps_parse(in, n, &cc), 0)) != VEC_PASS)
		goto out;
	if ((r = expect_num(v, "expect.scp.count", 1, cc.nscp)) ||
	    (r = expect_no_more(v, "expect.scp.", cc.nscp)) ||
	    (r = expect_span(v, "expect.ssd_privileges", &cc.ssd_privileges)) ||
	    (r = expect_span(v, "expect.app_privileges", &cc.app_privileges)) ||
	    (r = expect_span(v, "expect.lfdb_hash_algs", &cc.lfdb_hash_algs)) ||
	    (r = expect_span(v, "expect.lfdb_enc_suites",
	    &cc.lfdb_enc_suites)) ||
	    (r = expect_span(v, "expect.token_suites", &cc.token_suites)) ||
	    (r = expect_span(v, "expect.receipt_suites", &cc.receipt_suites)) ||
	    (r = expect_span(v, "expect.dap_suites", &cc.dap_suites)) ||
	    (r = expect_span(v, "expect.key_params", &cc.key_params)))
		goto out;
	for (i = 0; r == VEC_PASS && i < cc.nscp; i++)
		r = caps_scp(v, &cc.scp[i], i + 1);
out:
	free(in);
	return r < 0 ? VEC_PASS : r;
}

int
vec_check_parse_card_resources(struct vec *v)
{
	struct gp_card_resources cr;
	uint8_t *in;
	size_t n;
	int r;

	if ((r = load_input(v, &in, &n)) != VEC_PASS)
		return r;
	if ((r = outcome(v, gp_card_resources_parse(in, n, &cr), 0)) !=
	    VEC_PASS)
		goto out;
	if ((r = expect_num(v, "expect.installed_apps", cr.has_installed_apps,
	    cr.installed_apps)) == VEC_PASS &&
	    (r = expect_num(v, "expect.free_nvm", cr.has_free_nvm,
	    cr.free_nvm)) == VEC_PASS)
		r = expect_num(v, "expect.free_vm", cr.has_free_vm, cr.free_vm);
out:
	free(in);
	return r < 0 ? VEC_PASS : r;
}

/* "TYPE/LENGTH,..." with hex type and decimal length. */
static void
key_components(const struct gp_key_info *k, char *out, size_t cap)
{
	size_t i, used = 0;
	int w;

	out[0] = '\0';
	for (i = 0; i < k->ncomp && used < cap; i++) {
		w = snprintf(out + used, cap - used, "%s%02X/%lu",
		    i ? "," : "", k->comp[i].type, (unsigned long)k->comp[i].len);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static int
key_fields(struct vec *v, const struct gp_key_info *k, size_t idx)
{
	char key[64], txt[TXT_MAX];
	int r;

	snprintf(key, sizeof(key), "expect.key.%zu.id", idx);
	if ((r = vec_expect(v, key, &k->id, 1)) != VEC_PASS)
		return r;
	snprintf(key, sizeof(key), "expect.key.%zu.version", idx);
	if ((r = vec_expect(v, key, &k->version, 1)) != VEC_PASS)
		return r;
	key_components(k, txt, sizeof(txt));
	snprintf(key, sizeof(key), "expect.key.%zu.components", idx);
	if ((r = vec_expect_str(v, key, txt)) != VEC_PASS)
		return r;
	snprintf(key, sizeof(key), "expect.key.%zu.usage", idx);
	if ((r = expect_span(v, key, &k->usage)) != VEC_PASS)
		return r;
	snprintf(key, sizeof(key), "expect.key.%zu.access", idx);
	return expect_span(v, key, &k->access);
}

int
vec_check_parse_key_info(struct vec *v)
{
	struct gp_key_info *keys;
	uint8_t *in;
	size_t n, count, i;
	int r;

	if ((r = load_input(v, &in, &n)) != VEC_PASS)
		return r;
	if ((keys = calloc(KEYS_MAX, sizeof(*keys))) == NULL) {
		free(in);
		return vec_fail(v, "out of memory");
	}
	r = outcome(v, gp_key_info_parse(in, n, keys, KEYS_MAX, &count), 0);
	if (r != VEC_PASS)
		goto out;
	if ((r = expect_num(v, "expect.count", 1, count)) ||
	    (r = expect_no_more(v, "expect.key.", count)))
		goto out;
	for (i = 0; r == VEC_PASS && i < count; i++)
		r = key_fields(v, &keys[i], i + 1);
out:
	free(keys);
	free(in);
	return r < 0 ? VEC_PASS : r;
}

/* Comma list of hex values. */
static void
span_list(const struct gp_span *list, size_t n, char *out, size_t cap)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (used + 2 * list[i].len + 2 > cap)
			break;
		if (i)
			out[used++] = ',';
		gp_hex_encode(list[i].p, list[i].len, out + used);
		used += 2 * list[i].len;
	}
}

static int
reg_fields(struct vec *v, const struct gp_registry_entry *e, size_t idx)
{
	static const char *const spans[] = { "aid", "elf_aid", "elf_version",
	    "sd_aid" };
	const struct gp_span *sp[] = { &e->aid, &e->elf_aid, &e->elf_version,
	    &e->sd_aid };
	char key[64], txt[TXT_MAX];
	size_t i;
	int r = VEC_PASS;

	for (i = 0; r == VEC_PASS && i < 4; i++) {
		snprintf(key, sizeof(key), "expect.entry.%zu.%s", idx, spans[i]);
		r = expect_span(v, key, sp[i]);
	}
	snprintf(key, sizeof(key), "expect.entry.%zu.lifecycle", idx);
	if (r == VEC_PASS)
		r = vec_expect(v, key, &e->lifecycle, e->has_lifecycle ? 1 : 0);
	snprintf(key, sizeof(key), "expect.entry.%zu.privileges", idx);
	if (r == VEC_PASS)
		r = vec_expect(v, key, e->privileges, e->privileges_len);
	span_list(e->modules, e->nmodules, txt, sizeof(txt));
	snprintf(key, sizeof(key), "expect.entry.%zu.modules", idx);
	if (r == VEC_PASS)
		r = vec_expect_str(v, key, txt);
	span_list(e->implicit, e->nimplicit, txt, sizeof(txt));
	snprintf(key, sizeof(key), "expect.entry.%zu.implicit", idx);
	if (r == VEC_PASS)
		r = vec_expect_str(v, key, txt);
	return r;
}

int
vec_check_parse_registry(struct vec *v)
{
	struct gp_registry_entry *e;
	uint8_t *in;
	size_t n, count, i;
	int r;

	if ((r = load_input(v, &in, &n)) != VEC_PASS)
		return r;
	if ((e = calloc(REG_MAX, sizeof(*e))) == NULL) {
		free(in);
		return vec_fail(v, "out of memory");
	}
	/* Entries before an error count: compare them in every case. */
	r = outcome(v, gp_registry_parse(in, n, e, REG_MAX, &count), 1);
	if (r != VEC_PASS)
		goto out;
	if ((r = expect_num(v, "expect.count", 1, count)) ||
	    (r = expect_no_more(v, "expect.entry.", count)))
		goto out;
	for (i = 0; r == VEC_PASS && i < count; i++)
		r = reg_fields(v, &e[i], i + 1);
out:
	free(e);
	free(in);
	return r;
}

int
vec_check_parse_privileges(struct vec *v)
{
	const char *names[GP_PRIV_BITS];
	char txt[TXT_MAX];
	uint8_t *in;
	size_t n, count, i, used = 0;
	int r;

	if ((r = load_input(v, &in, &n)) != VEC_PASS)
		return r;
	r = outcome(v, gp_privileges_names(in, n, names, GP_PRIV_BITS,
	    &count), 0);
	free(in);
	if (r != VEC_PASS)
		return r < 0 ? VEC_PASS : r;
	txt[0] = '\0';
	for (i = 0; i < count; i++)
		used += (size_t)snprintf(txt + used, sizeof(txt) - used, "%s%s",
		    i ? "," : "", names[i]);
	if ((r = expect_num(v, "expect.count", 1, count)) != VEC_PASS)
		return r;
	return vec_expect_str(v, "expect.names", txt);
}
