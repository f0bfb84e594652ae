/*
 * Unit tests of tsm/gp/carddata.c: CPLC, card recognition data, OIDs,
 * card capabilities, card resources, key information, IIN and CIN.
 * Inputs are hand-built or copied from the public cards quoted in
 * ../shared/vectors/parse; expected values are worked out by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "gp/buf.h"
#include "gp/carddata.h"
#include "gp/err.h"

#include "testutil.h"

/* 9F7F 2A then bytes 01..2A: every field holds its own offsets. */
static void
test_cplc_fields(void **state)
{
	uint8_t b[64];
	struct gp_cplc c;
	size_t i;

	(void)state;
	b[0] = 0x9F;
	b[1] = 0x7F;
	b[2] = 0x2A;
	for (i = 0; i < 42; i++)
		b[3 + i] = (uint8_t)(i + 1);
	assert_int_equal(gp_cplc_parse(b, 45, &c), 0);
	assert_memory_equal(c.ic_fabricator, "\x01\x02", 2);
	assert_memory_equal(c.os_release_level, "\x09\x0A", 2);
	assert_memory_equal(c.ic_serial, "\x0D\x0E\x0F\x10", 4);
	assert_memory_equal(c.ic_batch_id, "\x11\x12", 2);
	assert_memory_equal(c.pre_perso_equipment_date, "\x1D\x1E", 2);
	assert_memory_equal(c.pre_perso_equipment_id, "\x1F\x20\x21\x22", 4);
	assert_memory_equal(c.personalizer, "\x23\x24", 2);
	assert_memory_equal(c.personalization_date, "\x25\x26", 2);
	assert_memory_equal(c.perso_equipment_id, "\x27\x28\x29\x2A", 4);
}

static void
test_cplc_errors(void **state)
{
	uint8_t b[64];
	struct gp_cplc c;

	(void)state;
	memset(b, 0x11, sizeof(b));
	memcpy(b, "\x9F\x7F\x29", 3);		/* 41 bytes */
	assert_int_equal(gp_cplc_parse(b, 44, &c), GP_ERR_FORMAT);
	memcpy(b, "\x9F\x7F\x2B", 3);		/* 43 bytes */
	assert_int_equal(gp_cplc_parse(b, 46, &c), GP_ERR_FORMAT);
	memcpy(b, "\x9F\x7F\x2A", 3);
	assert_int_equal(gp_cplc_parse(b, 46, &c), GP_ERR_FORMAT); /* trailer */
	assert_int_equal(gp_cplc_parse(b, 44, &c), GP_ERR_TRUNC);
	memcpy(b, "\x9F\x7E\x2A", 3);		/* another tag */
	assert_int_equal(gp_cplc_parse(b, 45, &c), GP_ERR_FORMAT);
	memcpy(b, "\x9F\x7F\x81\x2A", 4);	/* long form length */
	assert_int_equal(gp_cplc_parse(b, 46, &c), GP_ERR_FORMAT);
	/* The bare 42-byte value (no tag) is not accepted either. */
	assert_int_not_equal(gp_cplc_parse(b + 3, 42, &c), 0);
}

struct oid_case {
	const char	*hex;
	int		 whole;
	int		 rc;
	const char	*txt;
};

static const struct oid_case oid_cases[] = {
	{ "2A864886FC6B", 1, 0, "1.2.840.114283" },
	{ "2B060104012A026E0102", 1, 0, "1.3.6.1.4.1.42.2.110.1.2" },
	{ "2B8510864864020103", 1, 0, "1.3.656.840.100.2.1.3" },
	{ "00", 1, 0, "0.0" },
	{ "27", 1, 0, "0.39" },
	{ "28", 1, 0, "1.0" },
	{ "4F", 1, 0, "1.39" },
	{ "50", 1, 0, "2.0" },
	{ "8837", 1, 0, "2.999" },
	{ "8FFFFFFF7F", 1, 0, "2.4294967215" },
	{ "2A8FFFFFFF7F", 1, 0, "1.2.4294967295" },
	{ "2A9080808000", 1, GP_ERR_TOOLARGE, NULL },
	{ "2A81", 1, GP_ERR_TRUNC, NULL },
	{ "2A8001", 1, GP_ERR_FORMAT, NULL },
	{ "", 1, GP_ERR_FORMAT, NULL },
	{ "020101", 0, 0, "2.1.1" },
	{ "0203", 0, 0, "2.3" },
	{ "9B06", 0, 0, "3462" },
};

static void
test_oid_table(void **state)
{
	const struct oid_case *c;
	char txt[64];
	uint8_t b[32];
	size_t i, n;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(oid_cases) / sizeof(oid_cases[0]); i++) {
		c = &oid_cases[i];
		n = unhex(c->hex, b, sizeof(b));
		rc = c->whole ? gp_oid_to_str(b, n, txt, sizeof(txt)) :
		    gp_oid_arcs_to_str(b, n, txt, sizeof(txt));
		if (rc != c->rc)
			fail_msg("OID %s: rc %d want %d", c->hex, rc, c->rc);
		if (rc == 0)
			assert_string_equal(txt, c->txt);
	}
	/* "1.2.840.114283" is 14 characters: 15 bytes with the NUL. */
	n = unhex("2A864886FC6B", b, sizeof(b));
	assert_int_equal(gp_oid_to_str(b, n, txt, 14), GP_ERR_SPACE);
	assert_int_equal(gp_oid_to_str(b, n, txt, 15), 0);
	assert_int_equal(gp_oid_to_str(b, n, txt, 0), GP_ERR_SPACE);
	assert_int_equal(gp_oid_to_str(b, n, NULL, 15), GP_ERR_INVAL);
}

static const char crd_gppro1[] =
    "664C734A06072A864886FC6B01600C060A2A864886FC6B02020101630906072A8648"
    "86FC6B03640B06092A864886FC6B040215650B06092B8510864864020103660C060A"
    "2B060104012A026E0102";
/* kaoh multi-byte i: SCP 03 i=60 and SCP 11 i=9B06 (3462). */
static const char crd_kaoh_multi[] =
    "663F733D06072A864886FC6B01600C060A2A864886FC6B02020301630906072A8648"
    "86FC6B03640B06092A864886FC6B040360640C060A2A864886FC6B04119B06";

static void
test_card_data(void **state)
{
	struct gp_card_data cd;
	uint8_t b[128];
	char txt[64];
	size_t n;

	(void)state;
	n = unhex(crd_gppro1, b, sizeof(b));
	assert_int_equal(gp_card_data_parse(b, n, &cd), 0);
	assert_span_hex(&cd.gp_version, "020101");
	assert_int_equal(cd.nscp, 1);
	assert_int_equal(cd.scp[0].id, 0x02);
	assert_int_equal(cd.scp[0].i, 0x15);
	assert_true(cd.scp[0].has_i);
	assert_int_equal(gp_oid_to_str(cd.card_config_oid.p,
	    cd.card_config_oid.len, txt, sizeof(txt)), 0);
	assert_string_equal(txt, "1.3.656.840.100.2.1.3");
	assert_span_hex(&cd.chip_oid, "2B060104012A026E0102");
	/* A bare 73 (without 66) is the same data. */
	assert_int_equal(gp_card_data_parse(b + 2, n - 2, &cd), 0);
	assert_int_equal(cd.nscp, 1);
	n = unhex(crd_kaoh_multi, b, sizeof(b));
	assert_int_equal(gp_card_data_parse(b, n, &cd), 0);
	assert_span_hex(&cd.gp_version, "020301");
	assert_int_equal(cd.nscp, 2);
	assert_int_equal(cd.scp[0].id, 0x03);
	assert_int_equal(cd.scp[0].i, 0x60);
	assert_int_equal(cd.scp[1].id, 0x11);
	assert_int_equal(cd.scp[1].i, 3462);
	assert_null(cd.card_config_oid.p);
	assert_null(cd.chip_oid.p);
}

/* SCP80 sent as raw bytes 80 00 decodes to id 80, i 00. */
static void
test_card_data_scp80(void **state)
{
	struct gp_card_data cd;
	uint8_t b[64];
	size_t n;

	(void)state;
	n = unhex("660F730D640B06092A864886FC6B048000", b, sizeof(b));
	assert_int_equal(gp_card_data_parse(b, n, &cd), 0);
	assert_int_equal(cd.nscp, 1);
	assert_int_equal(cd.scp[0].id, 0x80);
	assert_int_equal(cd.scp[0].i, 0);
	assert_true(cd.scp[0].has_i);
	/* No i byte at all: the protocol alone. */
	n = unhex("660E730C640A06082A864886FC6B0402", b, sizeof(b));
	assert_int_equal(gp_card_data_parse(b, n, &cd), 0);
	assert_int_equal(cd.scp[0].id, 0x02);
	assert_false(cd.scp[0].has_i);
	/* Another body's OID in 64 is skipped. */
	n = unhex("660A7308640606042B060104", b, sizeof(b));
	assert_int_equal(gp_card_data_parse(b, n, &cd), 0);
	assert_int_equal(cd.nscp, 0);
}

struct bad_case {
	const char	*name;
	const char	*hex;
	int		 rc;
};

static const struct bad_case crd_bad[] = {
	{ "outer 67", "67027300", GP_ERR_FORMAT },
	{ "trailing byte", "6602730000", GP_ERR_FORMAT },
	{ "66 without 73", "66024F00", GP_ERR_FORMAT },
	{ "version not GP", "660B7309600706052B06010401", GP_ERR_FORMAT },
	{ "version prefix only", "660D730B600906072A864886FC6B02",
	    GP_ERR_FORMAT },
	{ "two OIDs in 60", "66127310600E06052A864886FC06052A864886FC",
	    GP_ERR_FORMAT },
	{ "empty OID", "6606730465020600", GP_ERR_FORMAT },
	{ "unterminated i", "660F730D640B06092A864886FC6B04039B",
	    GP_ERR_TRUNC },
	{ "bytes after i", "6610730E640C060A2A864886FC6B0403150A",
	    GP_ERR_FORMAT },
	{ "repeated 66", "660E730C660406022901660406022901",
	    GP_ERR_FORMAT },
	{ "repeated 65", "660E730C650406022901650406022901",
	    GP_ERR_FORMAT },
	{ "truncated 73", "66047305", GP_ERR_TRUNC },
};

static void
test_card_data_errors(void **state)
{
	struct gp_card_data cd;
	uint8_t b[256];
	size_t i, n;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(crd_bad) / sizeof(crd_bad[0]); i++) {
		n = unhex(crd_bad[i].hex, b, sizeof(b));
		rc = gp_card_data_parse(b, n, &cd);
		if (rc != crd_bad[i].rc)
			fail_msg("%s: rc %d want %d", crd_bad[i].name, rc,
			    crd_bad[i].rc);
	}
	/* Nine SCP OIDs: more than GP_CRD_SCP_MAX. */
	b[0] = 0x66;
	b[1] = 2 + 9 * 12;
	b[2] = 0x73;
	b[3] = 9 * 12;
	for (i = 0; i < 9; i++)
		unhex("640A06082A864886FC6B0403", b + 4 + 12 * i, 12);
	assert_int_equal(gp_card_data_parse(b, 4 + 9 * 12, &cd),
	    GP_ERR_SPACE);
}

/* GPPro "Broken - double 0x67", a real card. */
static const char caps_double[] =
    "673A6738A006800102810155A00A8001038102001082010781039EFE8082031E0300"
    "83010285040102084086020408870401020840880501020304" "05";

static void
test_card_caps(void **state)
{
	struct gp_card_caps cc;
	uint8_t b[128];
	size_t n;

	(void)state;
	n = unhex(caps_double, b, sizeof(b));
	assert_int_equal(gp_card_caps_parse(b, n, &cc), 0);
	assert_int_equal(cc.nscp, 2);
	assert_int_equal(cc.scp[0].id, 0x02);
	assert_span_hex(&cc.scp[0].options, "55");
	assert_null(cc.scp[0].key_lengths.p);
	assert_int_equal(cc.scp[1].id, 0x03);
	assert_span_hex(&cc.scp[1].options, "0010");
	assert_span_hex(&cc.scp[1].key_lengths, "07");
	assert_span_hex(&cc.ssd_privileges, "9EFE80");
	assert_span_hex(&cc.app_privileges, "1E0300");
	assert_span_hex(&cc.lfdb_hash_algs, "02");
	assert_null(cc.lfdb_enc_suites.p);
	assert_span_hex(&cc.token_suites, "01020840");
	assert_span_hex(&cc.receipt_suites, "0408");
	assert_span_hex(&cc.dap_suites, "01020840");
	assert_span_hex(&cc.key_params, "0102030405");
	/* Same content without the quirk. */
	assert_int_equal(gp_card_caps_parse(b + 2, n - 2, &cc), 0);
	assert_int_equal(cc.nscp, 2);
	/* An inner 67 next to other content is just an unknown tag. */
	n = unhex("67076700810300FF00", b, sizeof(b));
	assert_int_equal(gp_card_caps_parse(b, n, &cc), 0);
	assert_int_equal(cc.nscp, 0);
	assert_span_hex(&cc.ssd_privileges, "00FF00");
}

static const struct bad_case caps_bad[] = {
	{ "outer 66", "6603810100", GP_ERR_FORMAT },
	{ "A0 without 80", "6705A003810155", GP_ERR_FORMAT },
	{ "80 of two bytes", "6706A00480020203", GP_ERR_FORMAT },
	{ "repeated 81", "6706810100810100", GP_ERR_FORMAT },
	{ "repeated 80 in A0", "6708A006800102800103", GP_ERR_FORMAT },
	{ "truncated A0", "6704A0058001", GP_ERR_TRUNC },
	{ "trailing byte", "670381010000", GP_ERR_FORMAT },
};

static void
test_card_caps_errors(void **state)
{
	struct gp_card_caps cc;
	uint8_t b[64];
	size_t i, n;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(caps_bad) / sizeof(caps_bad[0]); i++) {
		n = unhex(caps_bad[i].hex, b, sizeof(b));
		rc = gp_card_caps_parse(b, n, &cc);
		if (rc != caps_bad[i].rc)
			fail_msg("%s: rc %d want %d", caps_bad[i].name, rc,
			    caps_bad[i].rc);
	}
}

struct res_case {
	const char	*hex;
	int		 rc;
	int		 has_apps, has_nvm, has_vm;
	uint32_t	 apps, nvm, vm;
};

static const struct res_case res_cases[] = {
	/* kaoh: 0x0002, 0x00016DB4 = 93620, 0x0000086A = 2154 */
	{ "FF211081020002820400016DB483040000086A", 0, 1, 1, 1, 2, 93620,
	    2154 },
	{ "FF2103810105", 0, 1, 0, 0, 5, 0, 0 },
	{ "FF21068204FFFFFFFF", 0, 0, 1, 0, 0, 0xFFFFFFFF, 0 },
	{ "FF21058303010000", 0, 0, 0, 1, 0, 0, 0x010000 },
	{ "FF2100", 0, 0, 0, 0, 0, 0, 0 },
	{ "FF210782050100000000", GP_ERR_FORMAT, 0, 0, 0, 0, 0, 0 },
	{ "FF21028100", GP_ERR_FORMAT, 0, 0, 0, 0, 0, 0 },
	{ "FF2106810101810102", GP_ERR_FORMAT, 0, 0, 0, 0, 0, 0 },
	{ "FF2203810105", GP_ERR_FORMAT, 0, 0, 0, 0, 0, 0 },
	{ "FF2104810105", GP_ERR_TRUNC, 0, 0, 0, 0, 0, 0 },
};

static void
test_card_resources(void **state)
{
	const struct res_case *c;
	struct gp_card_resources cr;
	uint8_t b[64];
	size_t i, n;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(res_cases) / sizeof(res_cases[0]); i++) {
		c = &res_cases[i];
		n = unhex(c->hex, b, sizeof(b));
		rc = gp_card_resources_parse(b, n, &cr);
		if (rc != c->rc)
			fail_msg("%s: rc %d want %d", c->hex, rc, c->rc);
		if (rc != 0)
			continue;
		assert_int_equal(cr.has_installed_apps, c->has_apps);
		assert_int_equal(cr.has_free_nvm, c->has_nvm);
		assert_int_equal(cr.has_free_vm, c->has_vm);
		assert_int_equal(cr.installed_apps, c->apps);
		assert_int_equal(cr.free_nvm, c->nvm);
		assert_int_equal(cr.free_vm, c->vm);
	}
}

static void
test_key_info_basic(void **state)
{
	struct gp_key_info k[4];
	uint8_t b[64];
	size_t n, count;

	(void)state;
	/* Key 01/01 AES-16, an empty slot, key 02/01 with length 00 = 256. */
	n = unhex("E010C00401018810C000C00602018000A180", b, sizeof(b));
	assert_int_equal(gp_key_info_parse(b, n, k, 4, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(k[0].id, 0x01);
	assert_int_equal(k[0].version, 0x01);
	assert_false(k[0].extended);
	assert_int_equal(k[0].ncomp, 1);
	assert_int_equal(k[0].comp[0].type, 0x88);
	assert_int_equal(k[0].comp[0].len, 16);
	assert_null(k[0].usage.p);
	assert_int_equal(k[1].ncomp, 2);
	assert_int_equal(k[1].comp[0].type, 0x80);
	assert_int_equal(k[1].comp[0].len, 256);
	assert_int_equal(k[1].comp[1].type, 0xA1);
	assert_int_equal(k[1].comp[1].len, 128);
	/* Capacity 1: the second key does not fit; the first is kept. */
	assert_int_equal(gp_key_info_parse(b, n, k, 1, &count), GP_ERR_SPACE);
	assert_int_equal(count, 1);
}

static void
test_key_info_extended(void **state)
{
	struct gp_key_info k[2];
	uint8_t b[64];
	size_t n, count;

	(void)state;
	/* GPPro: 01 73 FF A1 0080, A0 0003 (no FF prefix), usage 84, access 00 */
	n = unhex("E00FC00D0173FFA10080A0000301840100", b, sizeof(b));
	assert_int_equal(gp_key_info_parse(b, n, k, 2, &count), 0);
	assert_int_equal(count, 1);
	assert_true(k[0].extended);
	assert_int_equal(k[0].version, 0x73);
	assert_int_equal(k[0].ncomp, 2);
	assert_int_equal(k[0].comp[0].type, 0xA1);
	assert_int_equal(k[0].comp[0].len, 128);
	assert_int_equal(k[0].comp[1].type, 0xA0);
	assert_int_equal(k[0].comp[1].len, 3);
	assert_span_hex(&k[0].usage, "84");
	assert_span_hex(&k[0].access, "00");
	/* Empty usage and access are present and empty. */
	n = unhex("E00AC0080120FF8000100000", b, sizeof(b));
	assert_int_equal(gp_key_info_parse(b, n, k, 2, &count), 0);
	assert_int_equal(k[0].comp[0].len, 16);
	assert_non_null(k[0].usage.p);
	assert_int_equal(k[0].usage.len, 0);
	assert_int_equal(k[0].access.len, 0);
}

static const struct bad_case key_bad[] = {
	{ "C0 with only an id", "E003C00101", GP_ERR_TRUNC },
	{ "basic, odd pair", "E007C005010188 1080", GP_ERR_TRUNC },
	{ "extended, usage past end", "E009C0070120FF80001002", GP_ERR_TRUNC },
	{ "extended, trailing byte", "E00BC0090120FF8000100000AA",
	    GP_ERR_FORMAT },
	{ "outer C0", "C00401018810", GP_ERR_FORMAT },
	{ "truncated C0", "E006C00501018810", GP_ERR_TRUNC },
};

static void
test_key_info_errors(void **state)
{
	struct gp_key_info k[4];
	uint8_t b[64];
	char hex[64];
	size_t i, j, o, n, count;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(key_bad) / sizeof(key_bad[0]); i++) {
		/* The table may space hex for reading: drop the spaces. */
		for (j = o = 0; key_bad[i].hex[j] != '\0'; j++)
			if (key_bad[i].hex[j] != ' ')
				hex[o++] = key_bad[i].hex[j];
		hex[o] = '\0';
		n = unhex(hex, b, sizeof(b));
		rc = gp_key_info_parse(b, n, k, 4, &count);
		if (rc != key_bad[i].rc)
			fail_msg("%s: rc %d want %d", key_bad[i].name, rc,
			    key_bad[i].rc);
	}
}

static void
test_iin_cin(void **state)
{
	struct gp_span s;
	uint8_t b[16];
	size_t n;

	(void)state;
	n = unhex("4203112233", b, sizeof(b));
	assert_int_equal(gp_iin_parse(b, n, &s), 0);
	assert_span_hex(&s, "112233");
	assert_int_equal(gp_cin_parse(b, n, &s), GP_ERR_FORMAT);
	assert_null(s.p);
	n = unhex("4500", b, sizeof(b));
	assert_int_equal(gp_cin_parse(b, n, &s), 0);
	assert_non_null(s.p);
	assert_int_equal(s.len, 0);
	n = unhex("450100FF", b, sizeof(b));
	assert_int_equal(gp_cin_parse(b, n, &s), GP_ERR_FORMAT);
	n = unhex("4205AA", b, sizeof(b));
	assert_int_equal(gp_iin_parse(b, n, &s), GP_ERR_TRUNC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cplc_fields),
		cmocka_unit_test(test_cplc_errors),
		cmocka_unit_test(test_oid_table),
		cmocka_unit_test(test_card_data),
		cmocka_unit_test(test_card_data_scp80),
		cmocka_unit_test(test_card_data_errors),
		cmocka_unit_test(test_card_caps),
		cmocka_unit_test(test_card_caps_errors),
		cmocka_unit_test(test_card_resources),
		cmocka_unit_test(test_key_info_basic),
		cmocka_unit_test(test_key_info_extended),
		cmocka_unit_test(test_key_info_errors),
		cmocka_unit_test(test_iin_cin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
