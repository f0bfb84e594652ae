/*
 * libFuzzer harness for the card data and registry parsers: the same
 * input goes to every GET DATA parser, to GET STATUS in the tag format
 * and in the legacy format of every scope, to the privilege decoder and
 * the OID formatters, and through a recursive BER-TLV walk to the depth
 * limit. Every span a parser returns is read back in full so that the
 * sanitizers check it lies inside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "gp/buf.h"
#include "gp/carddata.h"
#include "gp/err.h"
#include "gp/registry.h"
#include "gp/tlv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned
span_sum(const struct gp_span *s)
{
	unsigned sum = 0;
	size_t i;

	for (i = 0; s->p != NULL && i < s->len; i++)
		sum += s->p[i];
	return sum;
}

static void
oid(const struct gp_span *s, int whole)
{
	char txt[256];

	if (s->p == NULL)
		return;
	/* The parser validated it: formatting may only run out of room. */
	if ((whole ? gp_oid_to_str(s->p, s->len, txt, sizeof(txt)) :
	    gp_oid_arcs_to_str(s->p, s->len, txt, sizeof(txt))) != 0 &&
	    s->len < 40)
		abort();
}

static void
carddata(const uint8_t *p, size_t n)
{
	struct gp_cplc cplc;
	struct gp_card_data cd;
	struct gp_card_caps cc;
	struct gp_card_resources cr;
	struct gp_key_info keys[8];
	struct gp_span s;
	size_t i, count;

	(void)gp_cplc_parse(p, n, &cplc);
	if (gp_card_data_parse(p, n, &cd) == 0) {
		oid(&cd.gp_version, 0);
		oid(&cd.card_config_oid, 1);
		oid(&cd.chip_oid, 1);
		if (cd.nscp > GP_CRD_SCP_MAX)
			abort();
	}
	if (gp_card_caps_parse(p, n, &cc) == 0)
		for (i = 0; i < cc.nscp; i++)
			(void)(span_sum(&cc.scp[i].options) +
			    span_sum(&cc.scp[i].key_lengths));
	(void)gp_card_resources_parse(p, n, &cr);
	(void)gp_key_info_parse(p, n, keys, 8, &count);
	if (count > 8)
		abort();
	for (i = 0; i < count; i++)
		(void)(span_sum(&keys[i].usage) + span_sum(&keys[i].access));
	if (gp_iin_parse(p, n, &s) == 0)
		(void)span_sum(&s);
	if (gp_cin_parse(p, n, &s) == 0)
		(void)span_sum(&s);
	(void)gp_oid_to_str(p, n, (char[64]){ 0 }, 64);
}

static void
entries(const struct gp_registry_entry *e, size_t count, size_t cap)
{
	size_t i, k;

	if (count > cap)
		abort();
	for (i = 0; i < count; i++) {
		if (e[i].aid.len == 0 || e[i].aid.len > 16 ||
		    e[i].nmodules > GP_REG_MODULES_MAX ||
		    e[i].nimplicit > GP_REG_IMPLICIT_MAX)
			abort();
		(void)(span_sum(&e[i].aid) + span_sum(&e[i].elf_aid) +
		    span_sum(&e[i].elf_version) + span_sum(&e[i].sd_aid));
		for (k = 0; k < e[i].nmodules; k++)
			(void)span_sum(&e[i].modules[k]);
		for (k = 0; k < e[i].nimplicit; k++)
			(void)span_sum(&e[i].implicit[k]);
	}
}

static void
registry(const uint8_t *p, size_t n)
{
	static const uint8_t scopes[] = { 0x80, 0x40, 0x20, 0x10 };
	struct gp_registry_entry e[8];
	const char *names[GP_PRIV_BITS];
	size_t i, count;

	(void)gp_registry_parse(p, n, e, 8, &count);
	entries(e, count, 8);
	for (i = 0; i < sizeof(scopes); i++) {
		(void)gp_registry_parse_legacy(p, n, scopes[i], e, 8, &count);
		entries(e, count, 8);
	}
	(void)gp_privileges_names(p, n < 3 ? (n > 0 ? 1 : 0) : 3, names,
	    GP_PRIV_BITS, &count);
	if (n > 0)
		(void)gp_lifecycle_name(GP_LC_APP, p[0]);
}

static int
visit(void *arg, const struct gp_tlv *t, int depth)
{
	unsigned *sum = arg;
	struct gp_span s = { t->v, t->len };

	*sum += span_sum(&s) + (unsigned)depth;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sum = 0;

	carddata(data, size);
	registry(data, size);
	(void)gp_tlv_walk(data, size, GP_TLV_RECURSE, visit, &sum);
	return 0;
}
