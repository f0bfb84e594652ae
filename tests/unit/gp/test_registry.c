/*
 * Unit tests of tsm/gp/registry.c: GET STATUS responses in the tag and the
 * legacy format, privilege names, life cycle names and the 6310 rule.
 * Every input is hand-built; lengths are counted in the comments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gp/buf.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/registry.h"

#include "testutil.h"

/* An ISD: 4F 7 + 9F70 4 + C5 5 + CF 3 + CF 3 + EA 4 + CC 7 = 33 (21). */
#define E_ISD	"E3214F05A0000001519F70010FC5039EFE80CF0140CF0141EA028000" \
		"CC05A000000151"
/* An app: 4F 8 + 9F70 5 + C5 3 + C4 7 + CE 4 + 84 8 + 84 2 = 37 (25). */
#define E_APP	"E3254F06A000000151019F70020700C50100C405A000000152CE020100" \
		"8406A000000152018400"
#define E_NOAID	"E3049F700107"
#define E_EMPTYAID "E3064F009F700107"

static void
test_tag_format(void **state)
{
	struct gp_registry_entry e[4];
	uint8_t b[256];
	size_t n, count;

	(void)state;
	n = unhex(E_ISD E_APP E_NOAID E_EMPTYAID, b, sizeof(b));
	assert_int_equal(gp_registry_parse(b, n, e, 4, &count), 0);
	assert_int_equal(count, 2);
	assert_span_hex(&e[0].aid, "A000000151");
	assert_true(e[0].has_lifecycle);
	assert_int_equal(e[0].lifecycle, 0x0F);
	assert_int_equal(e[0].privileges_len, 3);
	assert_memory_equal(e[0].privileges, "\x9E\xFE\x80", 3);
	assert_int_equal(e[0].nimplicit, 2);
	assert_span_hex(&e[0].implicit[0], "40");
	assert_span_hex(&e[0].implicit[1], "41");
	assert_span_hex(&e[0].sd_aid, "A000000151");
	assert_null(e[0].elf_aid.p);
	assert_int_equal(e[0].nmodules, 0);
	assert_false(e[0].truncated);
	/* Two-byte 9F70: the state is the first byte. */
	assert_span_hex(&e[1].aid, "A00000015101");
	assert_int_equal(e[1].lifecycle, 0x07);
	assert_int_equal(e[1].privileges_len, 1);
	assert_int_equal(e[1].privileges[0], 0x00);
	assert_span_hex(&e[1].elf_aid, "A000000152");
	assert_span_hex(&e[1].elf_version, "0100");
	assert_int_equal(e[1].nmodules, 1);	/* the empty 84 is dropped */
	assert_span_hex(&e[1].modules[0], "A00000015201");
	assert_null(e[1].sd_aid.p);
	/* An empty response is an empty registry. */
	assert_int_equal(gp_registry_parse(b, 0, e, 4, &count), 0);
	assert_int_equal(count, 0);
}

struct bad_case {
	const char	*name;
	const char	*hex;	/* appended after one good entry */
	int		 rc;
	size_t		 count;
};

static const struct bad_case tag_bad[] = {
	{ "other top-level tag", "E2034F0100", GP_ERR_FORMAT, 1 },
	{ "truncated E3", "E3104F05A0", GP_ERR_TRUNC, 1 },
	{ "truncated child", "E3044F05A000", GP_ERR_TRUNC, 1 },
	{ "C5 of 2 bytes", "E30B4F05A000000152C5020000", GP_ERR_FORMAT, 1 },
	{ "9F70 of 3 bytes", "E30D4F05A0000001529F7003070000", GP_ERR_FORMAT,
	    1 },
	{ "9F70 empty", "E30A4F05A0000001529F7000", GP_ERR_FORMAT, 1 },
	{ "4F of 17 bytes", "E3134F11A000000151000000000000000000000000",
	    GP_ERR_FORMAT, 1 },
	{ "repeated 4F", "E30E4F05A0000001524F05A000000153", GP_ERR_FORMAT,
	    1 },
	{ "84 of 17 bytes", "E31A4F05A0000001528411A0000001510000000000000000"
	    "00000000", GP_ERR_FORMAT, 1 },
	{ "indefinite E3", "E3804F05A00000015200 00", GP_ERR_FORMAT, 1 },
	{ "trailing 00", "00", GP_ERR_FORMAT, 1 },
	{ "good second entry", E_APP, 0, 2 },
};

static void
test_tag_errors(void **state)
{
	struct gp_registry_entry e[4];
	char hex[512];
	uint8_t b[256];
	size_t i, j, o, n, count;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(tag_bad) / sizeof(tag_bad[0]); i++) {
		o = (size_t)snprintf(hex, sizeof(hex), "%s", E_ISD);
		for (j = 0; tag_bad[i].hex[j] != '\0'; j++)
			if (tag_bad[i].hex[j] != ' ')
				hex[o++] = tag_bad[i].hex[j];
		hex[o] = '\0';
		n = unhex(hex, b, sizeof(b));
		count = 99;
		rc = gp_registry_parse(b, n, e, 4, &count);
		if (rc != tag_bad[i].rc || count != tag_bad[i].count)
			fail_msg("%s: rc %d count %zu, want %d %zu",
			    tag_bad[i].name, rc, count, tag_bad[i].rc,
			    tag_bad[i].count);
		/* The entry read before the error is intact. */
		assert_span_hex(&e[0].aid, "A000000151");
		assert_int_equal(e[0].lifecycle, 0x0F);
	}
}

static void
test_tag_caps(void **state)
{
	struct gp_registry_entry e[2];
	uint8_t b[256];
	size_t n, count, i;

	(void)state;
	n = unhex(E_ISD E_APP, b, sizeof(b));
	assert_int_equal(gp_registry_parse(b, n, e, 1, &count), GP_ERR_SPACE);
	assert_int_equal(count, 1);
	/* 17 CF values: 16 kept, the entry flagged as truncated. */
	n = unhex("E33A4F05A000000151", b, sizeof(b));
	for (i = 0; i < 17; i++) {
		b[n++] = 0xCF;
		b[n++] = 0x01;
		b[n++] = (uint8_t)i;
	}
	assert_int_equal(n, 2 + 58);
	assert_int_equal(gp_registry_parse(b, n, e, 2, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(e[0].nimplicit, GP_REG_IMPLICIT_MAX);
	assert_true(e[0].truncated);
	assert_int_equal(e[0].implicit[15].p[0], 15);
}

static void
test_legacy(void **state)
{
	struct gp_registry_entry e[4];
	uint8_t b[128];
	size_t n, count;

	(void)state;
	n = unhex("07A00000015100000F9E", b, sizeof(b));
	assert_int_equal(gp_registry_parse_legacy(b, n, GP_STATUS_ISD, e, 4,
	    &count), 0);
	assert_int_equal(count, 1);
	assert_span_hex(&e[0].aid, "A0000001510000");
	assert_int_equal(e[0].lifecycle, 0x0F);
	assert_int_equal(e[0].privileges_len, 1);
	assert_int_equal(e[0].privileges[0], 0x9E);
	/* Two applications and an entry with an empty AID (skipped). */
	n = unhex("07A00000015100000F9E" "05A0000000030700" "000700", b,
	    sizeof(b));
	assert_int_equal(gp_registry_parse_legacy(b, n, GP_STATUS_APPS, e, 4,
	    &count), 0);
	assert_int_equal(count, 2);
	assert_span_hex(&e[1].aid, "A000000003");
	assert_int_equal(e[1].lifecycle, 0x07);
	assert_int_equal(e[1].privileges[0], 0x00);
	/* Load files with modules: count, then (length, AID) each. */
	n = unhex("07A00000006200010100" "02" "06A00000006201" "05A000000003"
	    "05A000000151010000", b, sizeof(b));
	assert_int_equal(gp_registry_parse_legacy(b, n, GP_STATUS_ELF_MODULES,
	    e, 4, &count), 0);
	assert_int_equal(count, 2);
	assert_span_hex(&e[0].aid, "A0000000620001");
	assert_int_equal(e[0].lifecycle, 0x01);
	assert_int_equal(e[0].nmodules, 2);
	assert_span_hex(&e[0].modules[0], "A00000006201");
	assert_span_hex(&e[0].modules[1], "A000000003");
	assert_span_hex(&e[1].aid, "A000000151");
	assert_int_equal(e[1].nmodules, 0);
}

struct legacy_case {
	const char	*name;
	const char	*hex;
	uint8_t		 scope;
	int		 rc;
	size_t		 count;
};

static const struct legacy_case legacy_bad[] = {
	{ "AID cut", "07A00000015100", GP_STATUS_APPS, GP_ERR_TRUNC, 0 },
	{ "one whole entry", "05A00000000307" "00", GP_STATUS_APPS, 0, 1 },
	{ "second cut", "05A0000000030700" "05A00000000307", GP_STATUS_APPS,
	    GP_ERR_TRUNC, 1 },
	{ "AID of 17", "11A000000151000000000000000000000000070000",
	    GP_STATUS_APPS, GP_ERR_FORMAT, 0 },
	{ "module missing", "05A000000003010002" "05A000000004",
	    GP_STATUS_ELF_MODULES, GP_ERR_TRUNC, 0 },
	{ "no module count", "05A0000000030100", GP_STATUS_ELF_MODULES,
	    GP_ERR_TRUNC, 0 },
	{ "bad scope", "05A0000000030700", 0x30, GP_ERR_INVAL, 0 },
	{ "cap", "05A0000000030700" "05A0000000040700" "05A0000000050700",
	    GP_STATUS_APPS, GP_ERR_SPACE, 2 },
};

static void
test_legacy_errors(void **state)
{
	const struct legacy_case *c;
	struct gp_registry_entry e[2];
	uint8_t b[128];
	size_t i, n, count;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(legacy_bad) / sizeof(legacy_bad[0]); i++) {
		c = &legacy_bad[i];
		n = unhex(c->hex, b, sizeof(b));
		count = 99;
		rc = gp_registry_parse_legacy(b, n, c->scope, e, 2, &count);
		if (rc != c->rc || count != c->count)
			fail_msg("%s: rc %d count %zu, want %d %zu", c->name,
			    rc, count, c->rc, c->count);
	}
}

struct priv_case {
	const char	*hex;
	int		 rc;
	const char	*names;
};

static const struct priv_case priv_cases[] = {
	{ "80C000", 0, "security_domain,trusted_path,authorized_management" },
	{ "9EFE80", 0, "security_domain,card_lock,card_terminate,card_reset,"
	    "cvm_management,trusted_path,authorized_management,"
	    "token_verification,global_delete,global_lock,global_registry,"
	    "final_application,receipt_generation" },
	{ "FF", 0, "security_domain,dap_verification,delegated_management,"
	    "card_lock,card_terminate,card_reset,cvm_management,"
	    "mandated_dap_verification" },
	{ "01", 0, "mandated_dap_verification" },
	{ "000000", 0, "" },
	{ "000001", 0, "rfu_b1" },
	{ "0001F0", 0, "global_service,receipt_generation,"
	    "ciphered_load_file_data_block,contactless_activation,"
	    "contactless_self_activation" },
	{ "00000F", 0, "rfu_b4,rfu_b3,rfu_b2,rfu_b1" },
	{ "0001", GP_ERR_FORMAT, NULL },
	{ "", GP_ERR_FORMAT, NULL },
	{ "00000000", GP_ERR_FORMAT, NULL },
};

static void
test_privileges(void **state)
{
	const char *names[GP_PRIV_BITS];
	char txt[1024];
	uint8_t b[8];
	size_t i, k, n, count, used;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(priv_cases) / sizeof(priv_cases[0]); i++) {
		n = unhex(priv_cases[i].hex, b, sizeof(b));
		rc = gp_privileges_names(b, n, names, GP_PRIV_BITS, &count);
		if (rc != priv_cases[i].rc)
			fail_msg("%s: rc %d", priv_cases[i].hex, rc);
		if (rc != 0)
			continue;
		txt[0] = '\0';
		for (k = used = 0; k < count; k++)
			used += (size_t)snprintf(txt + used, sizeof(txt) - used,
			    "%s%s", k ? "," : "", names[k]);
		assert_string_equal(txt, priv_cases[i].names);
	}
	/* Too small a names array. */
	n = unhex("80C000", b, sizeof(b));
	assert_int_equal(gp_privileges_names(b, n, names, 2, &count),
	    GP_ERR_SPACE);
}

/* Every name sets exactly its own bit, and reads back to itself. */
static void
test_privilege_roundtrip(void **state)
{
	const char *names[GP_PRIV_BITS];
	uint8_t p[3], want[3];
	size_t i, count;

	(void)state;
	for (i = 0; i < GP_PRIV_BITS; i++) {
		memset(p, 0, sizeof(p));
		memset(want, 0, sizeof(want));
		want[i / 8] = (uint8_t)(0x80 >> (i % 8));
		assert_int_equal(gp_privilege_set(p, gp_privilege_name(i)), 0);
		assert_memory_equal(p, want, 3);
		assert_int_equal(gp_privileges_len(p), i < 8 ? 1 : 3);
		assert_int_equal(gp_privileges_names(p, 3, names, GP_PRIV_BITS,
		    &count), 0);
		assert_int_equal(count, 1);
		assert_string_equal(names[0], gp_privilege_name(i));
	}
	assert_null(gp_privilege_name(GP_PRIV_BITS));
	memset(p, 0, sizeof(p));
	assert_int_equal(gp_privilege_set(p, "security_domain"), 0);
	assert_int_equal(gp_privilege_set(p, "trusted_path"), 0);
	assert_int_equal(gp_privilege_set(p, "authorized_management"), 0);
	assert_memory_equal(p, "\x80\xC0\x00", 3);
	assert_int_equal(gp_privilege_set(p, "card_lock"), 0);
	assert_memory_equal(p, "\x90\xC0\x00", 3);
	assert_int_equal(gp_privilege_set(p, "no_such_privilege"),
	    GP_ERR_NOTFOUND);
	assert_memory_equal(p, "\x90\xC0\x00", 3);
}

struct lc_case {
	enum gp_lc_kind	 kind;
	uint8_t		 state;
	const char	*name;
};

static const struct lc_case lc_cases[] = {
	{ GP_LC_CARD, 0x01, "op_ready" },
	{ GP_LC_CARD, 0x07, "initialized" },
	{ GP_LC_CARD, 0x0F, "secured" },
	{ GP_LC_CARD, 0x7F, "card_locked" },
	{ GP_LC_CARD, 0xFF, "terminated" },
	{ GP_LC_CARD, 0x03, NULL },
	{ GP_LC_APP, 0x03, "installed" },
	{ GP_LC_APP, 0x07, "selectable" },
	{ GP_LC_APP, 0x0F, "app_specific" },
	{ GP_LC_APP, 0x7F, "app_specific" },
	{ GP_LC_APP, 0x83, "locked" },
	{ GP_LC_APP, 0x87, "locked" },
	{ GP_LC_APP, 0xFF, "locked" },
	{ GP_LC_APP, 0x01, NULL },
	{ GP_LC_APP, 0x05, NULL },
	{ GP_LC_SD, 0x03, "installed" },
	{ GP_LC_SD, 0x07, "selectable" },
	{ GP_LC_SD, 0x0F, "personalized" },
	{ GP_LC_SD, 0x8F, "locked" },
	{ GP_LC_SD, 0x1F, NULL },
	{ GP_LC_ELF, 0x01, "loaded" },
	{ GP_LC_ELF, 0x03, NULL },
};

static void
test_lifecycle(void **state)
{
	const struct lc_case *c;
	const char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lc_cases) / sizeof(lc_cases[0]); i++) {
		c = &lc_cases[i];
		got = gp_lifecycle_name(c->kind, c->state);
		if (c->name == NULL && got != NULL)
			fail_msg("%d/%02X: got %s", c->kind, c->state, got);
		if (c->name != NULL && (got == NULL || strcmp(got, c->name)))
			fail_msg("%d/%02X: got %s want %s", c->kind, c->state,
			    got ? got : "NULL", c->name);
	}
}

static void
test_more(void **state)
{
	(void)state;
	assert_true(gp_registry_more(0x6310));
	assert_false(gp_registry_more(0x9000));
	assert_false(gp_registry_more(0x6300));
	assert_false(gp_registry_more(0x6311));
	assert_false(gp_registry_more(0x6A88));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag_format),
		cmocka_unit_test(test_tag_errors),
		cmocka_unit_test(test_tag_caps),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_legacy_errors),
		cmocka_unit_test(test_privileges),
		cmocka_unit_test(test_privilege_roundtrip),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_more),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
