/*
 * GET STATUS response parsing (tag and legacy formats), privilege names
 * and life cycle state names (registry.h).
 */
#include <string.h>

#include "gp/buf.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/registry.h"
#include "gp/tlv.h"

static const char *const priv_names[GP_PRIV_BITS] = {
	"security_domain", "dap_verification", "delegated_management",
	"card_lock", "card_terminate", "card_reset", "cvm_management",
	"mandated_dap_verification",
	"trusted_path", "authorized_management", "token_verification",
	"global_delete", "global_lock", "global_registry",
	"final_application", "global_service",
	"receipt_generation", "ciphered_load_file_data_block",
	"contactless_activation", "contactless_self_activation",
	"rfu_b4", "rfu_b3", "rfu_b2", "rfu_b1",
};

int
gp_registry_more(uint16_t sw)
{
	return sw == 0x6310;
}

/* An AID element may be empty (treated as absent by callers), never long. */
static int
aid_once(struct gp_span *dst, const struct gp_tlv *t)
{
	if (dst->p != NULL || t->len > GP_AID_MAX)
		return GP_ERR_FORMAT;
	dst->p = t->v;
	dst->len = t->len;
	return 0;
}

/* Repeated elements: kept up to the cap, the rest only flagged. */
static void
list_add(struct gp_span *list, size_t *n, size_t cap, const uint8_t *p,
    size_t len, int *truncated)
{
	if (len == 0)
		return;
	if (*n == cap) {
		*truncated = 1;
		return;
	}
	list[*n].p = p;
	list[*n].len = len;
	(*n)++;
}

static int
reg_lifecycle(struct gp_registry_entry *e, const struct gp_tlv *t)
{
	/* Some cards send 2 bytes; the state is the first. */
	if (e->has_lifecycle || t->len < 1 || t->len > 2)
		return GP_ERR_FORMAT;
	e->lifecycle = t->v[0];
	e->has_lifecycle = 1;
	return 0;
}

static int
reg_privileges(struct gp_registry_entry *e, const struct gp_tlv *t)
{
	if (e->privileges_len != 0 || (t->len != 1 && t->len != 3))
		return GP_ERR_FORMAT;
	memcpy(e->privileges, t->v, t->len);
	e->privileges_len = t->len;
	return 0;
}

static int
reg_elem(struct gp_registry_entry *e, const struct gp_tlv *t)
{
	switch (t->tag) {
	case 0x4f:
		return aid_once(&e->aid, t);
	case 0x9f70:
		return reg_lifecycle(e, t);
	case 0xc5:
		return reg_privileges(e, t);
	case 0xc4:
		return aid_once(&e->elf_aid, t);
	case 0xce:
		if (e->elf_version.p != NULL)
			return GP_ERR_FORMAT;
		e->elf_version.p = t->v;
		e->elf_version.len = t->len;
		return 0;
	case 0xcc:
		return aid_once(&e->sd_aid, t);
	case 0x84:
		if (t->len > GP_AID_MAX)
			return GP_ERR_FORMAT;
		list_add(e->modules, &e->nmodules, GP_REG_MODULES_MAX, t->v,
		    t->len, &e->truncated);
		return 0;
	case 0xcf:
		list_add(e->implicit, &e->nimplicit, GP_REG_IMPLICIT_MAX,
		    t->v, t->len, &e->truncated);
		return 0;
	}
	return 0;	/* EA and other additions: not ours */
}

static int
reg_entry(const struct gp_tlv *e3, struct gp_registry_entry *e)
{
	struct gp_tlv_it it;
	struct gp_tlv t;
	int r;

	memset(e, 0, sizeof(*e));
	gp_tlv_it_init(&it, e3->v, e3->len);
	while ((r = gp_tlv_next(&it, &t)) == 1)
		if ((r = reg_elem(e, &t)) != 0)
			return r;
	return r;
}

int
gp_registry_parse(const uint8_t *p, size_t n,
    struct gp_registry_entry *entries, size_t cap, size_t *count)
{
	struct gp_registry_entry e;
	struct gp_tlv_it it;
	struct gp_tlv t;
	int r;

	*count = 0;
	gp_tlv_it_init(&it, p, n);
	while ((r = gp_tlv_next(&it, &t)) == 1) {
		if (t.tag != 0xe3)
			return GP_ERR_FORMAT;
		if ((r = reg_entry(&t, &e)) != 0)
			return r;
		if (e.aid.len == 0)
			continue;	/* nothing to name it by */
		if (*count == cap)
			return GP_ERR_SPACE;
		entries[(*count)++] = e;
	}
	return r;
}

static int
legacy_modules(struct gp_rd *rd, struct gp_registry_entry *e)
{
	const uint8_t *aid;
	size_t len;
	uint8_t i, nmod;
	int r;

	if ((r = gp_rd_u8(rd, &nmod)) != 0)
		return r;
	for (i = 0; i < nmod; i++) {
		if ((r = gp_rd_lv(rd, &aid, &len)) != 0)
			return r;
		if (len > GP_AID_MAX)
			return GP_ERR_FORMAT;
		list_add(e->modules, &e->nmodules, GP_REG_MODULES_MAX, aid,
		    len, &e->truncated);
	}
	return 0;
}

static int
legacy_entry(struct gp_rd *rd, uint8_t scope, struct gp_registry_entry *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	if ((r = gp_rd_lv(rd, &e->aid.p, &e->aid.len)) != 0 ||
	    (r = gp_rd_u8(rd, &e->lifecycle)) != 0 ||
	    (r = gp_rd_u8(rd, &e->privileges[0])) != 0)
		return r;
	if (e->aid.len > GP_AID_MAX)
		return GP_ERR_FORMAT;
	e->has_lifecycle = 1;
	e->privileges_len = 1;
	if (scope == GP_STATUS_ELF_MODULES)
		return legacy_modules(rd, e);
	return 0;
}

int
gp_registry_parse_legacy(const uint8_t *p, size_t n, uint8_t scope,
    struct gp_registry_entry *entries, size_t cap, size_t *count)
{
	struct gp_registry_entry e;
	struct gp_rd rd;
	int r;

	*count = 0;
	if (scope != GP_STATUS_ISD && scope != GP_STATUS_APPS &&
	    scope != GP_STATUS_ELF && scope != GP_STATUS_ELF_MODULES)
		return GP_ERR_INVAL;
	gp_rd_init(&rd, p, n);
	while (gp_rd_left(&rd) > 0) {
		if ((r = legacy_entry(&rd, scope, &e)) != 0)
			return r;
		if (e.aid.len == 0)
			continue;
		if (*count == cap)
			return GP_ERR_SPACE;
		entries[(*count)++] = e;
	}
	return 0;
}

const char *
gp_privilege_name(size_t index)
{
	return index < GP_PRIV_BITS ? priv_names[index] : NULL;
}

int
gp_privileges_names(const uint8_t *p, size_t n, const char **names,
    size_t cap, size_t *count)
{
	struct gp_rd rd;
	size_t i;
	uint8_t b = 0;

	*count = 0;
	if (n != 1 && n != 3)
		return GP_ERR_FORMAT;
	gp_rd_init(&rd, p, n);
	for (i = 0; i < 8 * n; i++) {
		if (i % 8 == 0 && gp_rd_u8(&rd, &b) != 0)
			return GP_ERR_TRUNC;
		if ((b & (0x80 >> (i % 8))) == 0)
			continue;
		if (*count == cap)
			return GP_ERR_SPACE;
		names[(*count)++] = priv_names[i];
	}
	return 0;
}

int
gp_privilege_set(uint8_t priv[3], const char *name)
{
	size_t i;

	for (i = 0; i < GP_PRIV_BITS; i++)
		if (strcmp(priv_names[i], name) == 0) {
			priv[i / 8] |= (uint8_t)(0x80 >> (i % 8));
			return 0;
		}
	return GP_ERR_NOTFOUND;
}

size_t
gp_privileges_len(const uint8_t priv[3])
{
	return priv[1] == 0 && priv[2] == 0 ? 1 : 3;
}

/* Application and SD states share the LOCKED pattern 1xxx xx11. */
static const char *
lc_app_sd(int sd, uint8_t s)
{
	if ((s & 0x83) == 0x83)
		return "locked";
	if (s == 0x03)
		return "installed";
	if (s == 0x07)
		return "selectable";
	if (sd && s == 0x0f)
		return "personalized";
	if (!sd && (s & 0x87) == 0x07)
		return "app_specific";	/* 0xxx x111 */
	return NULL;
}

const char *
gp_lifecycle_name(enum gp_lc_kind kind, uint8_t s)
{
	switch (kind) {
	case GP_LC_CARD:
		return s == 0x01 ? "op_ready" : s == 0x07 ? "initialized" :
		    s == 0x0f ? "secured" : s == 0x7f ? "card_locked" :
		    s == 0xff ? "terminated" : NULL;
	case GP_LC_APP:
		return lc_app_sd(0, s);
	case GP_LC_SD:
		return lc_app_sd(1, s);
	case GP_LC_ELF:
		return s == 0x01 ? "loaded" : NULL;
	}
	return NULL;
}
