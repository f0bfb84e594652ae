/*
 * The script runner against the card-link stub: order, the stop rule and
 * its count, warnings, 61xx and 6Cxx, card removal, malformed scripts,
 * expected R-APDUs (DF 20).
 * Expected bytes are written out by hand from ISO 7816-4 and TS 102 226.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent_int.h"
#include "cardstub.h"
#include "gp/script.h"

#define SELECT_ISD	"00A4040008A000000151000000"
#define GET_CPLC	"80CA9F7F00"
#define GET_CRD		"80CA006600"

struct fx {
	struct cardstub	 stub;
	struct agent_card card;
	struct gp_wr	 out;
	struct agent_exec ex;
	struct gp_span	 r[8];
	struct gp_script_rsp rsp;
};

/*
 * Script from hex C-APDUs and expected R-APDUs (exp NULL, or NULL
 * entries: none), run it, decode the response script.
 */
static int
run_x(struct fx *f, const char **cmds, const char **exp, size_t n)
{
	uint8_t raw[8][300], rexp[8][300], sbuf[4096];
	struct gp_span sp[8], ep[8];
	struct gp_wr sw;
	size_t i;
	int r;

	stub_card(&f->stub, &f->card);
	gp_wr_init(&sw, sbuf, sizeof(sbuf));
	for (i = 0; i < n; i++) {
		assert_int_equal(gp_hex_decode(cmds[i], raw[i], 300,
		    &sp[i].len), 0);
		sp[i].p = raw[i];
		ep[i].p = NULL;
		ep[i].len = 0;
		if (exp != NULL && exp[i] != NULL) {
			assert_int_equal(gp_hex_decode(exp[i], rexp[i], 300,
			    &ep[i].len), 0);
			ep[i].p = rexp[i];
		}
	}
	assert_int_equal(gp_script_encode_x(sp, ep, n, &sw), 0);
	gp_wr_init_dyn(&f->out, AGENT_BODY_MAX);
	r = agent_exec_script(&f->card, sw.p, sw.len, &f->out, &f->ex);
	f->rsp.rapdus = f->r;
	f->rsp.cap = 8;
	if (r == 0)
		assert_int_equal(gp_script_rsp_decode(f->out.p, f->out.len,
		    &f->rsp), 0);
	return r;
}

static int
run(struct fx *f, const char **cmds, size_t n)
{
	return run_x(f, cmds, NULL, n);
}

static void
assert_rapdu(const struct gp_span *s, const char *hex)
{
	char got[600];

	gp_hex_encode(s->p, s->len, got);
	assert_string_equal(got, hex);
}

static void
test_order(void **st)
{
	const char *cmds[] = { SELECT_ISD, GET_CPLC, GET_CRD };
	struct fx f;

	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "00A404", "6F009000", 0 };
	f.stub.rules[1] = (struct stub_rule){ "80CA9F7F", "9F7F01AA9000", 0 };
	f.stub.rules[2] = (struct stub_rule){ "80CA0066", "66009000", 0 };
	assert_int_equal(run(&f, cmds, 3), 0);
	assert_int_equal(f.stub.ntx, 3);
	assert_string_equal(f.stub.log[0], SELECT_ISD);
	assert_string_equal(f.stub.log[1], GET_CPLC);
	assert_string_equal(f.stub.log[2], GET_CRD);
	assert_int_equal(f.ex.executed, 3);
	assert_int_equal(f.ex.status, AGENT_SS_OK);
	assert_int_equal(f.rsp.executed, 3);
	assert_int_equal(f.rsp.n, 3);
	assert_int_equal(f.rsp.bad_format, -1);
	assert_rapdu(&f.r[0], "6F009000");
	assert_rapdu(&f.r[1], "9F7F01AA9000");
	assert_rapdu(&f.r[2], "66009000");
	/* The whole body, byte for byte: AB 17 80 01 03 23 04 .. 23 06 ..
	 * 23 04 .. */
	{
		char hex[128];

		gp_hex_encode(f.out.p, f.out.len, hex);
		assert_string_equal(hex, "AB17800103" "23046F009000"
		    "23069F7F01AA9000" "230466009000");
	}
	gp_wr_free(&f.out);
}

static void
test_stop_first_bad_sw(void **st)
{
	const char *cmds[] = { SELECT_ISD, GET_CPLC, GET_CRD, GET_CPLC };
	struct fx f;

	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "00A404", "6310", 0 };	/* warning */
	f.stub.rules[1] = (struct stub_rule){ "80CA9F7F", "6A88", 0 };	/* stop */
	f.stub.rules[2] = (struct stub_rule){ "80CA", "9000", 0 };
	assert_int_equal(run(&f, cmds, 4), 0);
	assert_int_equal(f.stub.ntx, 2);	/* GET_CRD never sent */
	assert_int_equal(f.rsp.executed, 2);	/* the failing one counts */
	assert_int_equal(f.rsp.n, 2);
	assert_rapdu(&f.r[0], "6310");
	assert_rapdu(&f.r[1], "6A88");
	assert_int_equal(f.ex.last_sw, 0x6A88);
	assert_int_equal(f.ex.status, AGENT_SS_OK);
	gp_wr_free(&f.out);

	/* SELECT of an absent application: unknown-application. */
	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "00A404", "6A82", 0 };
	assert_int_equal(run(&f, cmds, 2), 0);
	assert_int_equal(f.rsp.executed, 1);
	assert_int_equal(f.ex.status, AGENT_SS_UNKNOWN_APP);
	assert_string_equal(agent_script_status_name(f.ex.status),
	    "unknown-application");
	gp_wr_free(&f.out);

	/* 6982: security-error. */
	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "00A404", "9000", 0 };
	f.stub.rules[1] = (struct stub_rule){ "80CA", "6982", 0 };
	assert_int_equal(run(&f, cmds, 3), 0);
	assert_int_equal(f.rsp.executed, 2);
	assert_string_equal(agent_script_status_name(f.ex.status),
	    "security-error");
	gp_wr_free(&f.out);
}

static void
test_get_response(void **st)
{
	const char *cmds[] = { GET_CPLC, GET_CRD };
	struct fx f;

	memset(&f, 0, sizeof(f));
	/* 61 05, then GET RESPONSE Le=05 answers 3 bytes and 61 02, then
	 * Le=02 the last 2 bytes and 9000. */
	f.stub.rules[0] = (struct stub_rule){ "80CA9F7F", "6105", 0 };
	f.stub.rules[1] = (struct stub_rule){ "00C0000005", "0102036102", 0 };
	f.stub.rules[2] = (struct stub_rule){ "00C0000002", "04059000", 0 };
	f.stub.rules[3] = (struct stub_rule){ "80CA0066", "9000", 0 };
	assert_int_equal(run(&f, cmds, 2), 0);
	assert_int_equal(f.stub.ntx, 4);
	assert_string_equal(f.stub.log[1], "00C0000005");
	assert_string_equal(f.stub.log[2], "00C0000002");
	assert_int_equal(f.rsp.executed, 2);
	assert_rapdu(&f.r[0], "01020304059000");
	assert_rapdu(&f.r[1], "9000");
	gp_wr_free(&f.out);
}

static void
test_wrong_le(void **st)
{
	const char *cmds[] = { GET_CPLC };
	struct fx f;

	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "80CA9F7F00", "6C03", 1 };
	f.stub.rules[1] = (struct stub_rule){ "80CA9F7F03", "AABBCC9000", 0 };
	assert_int_equal(run(&f, cmds, 1), 0);
	assert_int_equal(f.stub.ntx, 2);
	assert_string_equal(f.stub.log[1], "80CA9F7F03");
	assert_rapdu(&f.r[0], "AABBCC9000");
	gp_wr_free(&f.out);

	/* A card that keeps saying 6Cxx is resent to once, then reported. */
	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "80CA9F7F", "6C03", 0 };
	assert_int_equal(run(&f, cmds, 1), 0);
	assert_int_equal(f.stub.ntx, 2);
	assert_rapdu(&f.r[0], "6C03");
	assert_int_equal(f.rsp.executed, 1);
	gp_wr_free(&f.out);
}

static void
test_card_removed(void **st)
{
	const char *cmds[] = { SELECT_ISD, GET_CPLC, GET_CRD };
	struct fx f;

	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "", "9000", 0 };
	f.stub.remove_at = 2;
	assert_int_equal(run(&f, cmds, 3), 0);
	assert_int_equal(f.ex.status, AGENT_SS_CARD_REMOVED);
	assert_int_equal(f.ex.card_err, AGENT_ERR_CARD_REMOVED);
	assert_string_equal(agent_script_status_name(f.ex.status),
	    "card-removed");
	assert_int_equal(f.rsp.executed, 1);
	assert_int_equal(f.rsp.n, 1);
	assert_rapdu(&f.r[0], "9000");
	gp_wr_free(&f.out);
}

#define INIT_UPDATE	"8050000008" "0102030405060708" "00"
#define EXT_AUTH	"8482330010" "11111111111111112222222222222222"
/* A predicted SCP03 INITIALIZE UPDATE answer: KDD, key info, card
 * challenge, card cryptogram, 9000 (values arbitrary). */
#define IU_RSP		"00010203040506070809" "300370" \
			"A1A2A3A4A5A6A7A8" "C1C2C3C4C5C6C7C8" "9000"
#define IU_OTHER	"00010203040506070809" "300370" \
			"A1A2A3A4A5A6A7A8" "C1C2C3C4C5C6C7C9" "9000"

static void
test_expect_met(void **st)
{
	const char *cmds[] = { SELECT_ISD, INIT_UPDATE, EXT_AUTH };
	const char *exp[] = { NULL, IU_RSP, NULL };
	struct fx f;

	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "00A404", "6F009000", 0 };
	f.stub.rules[1] = (struct stub_rule){ "8050", IU_RSP, 0 };
	f.stub.rules[2] = (struct stub_rule){ "8482", "9000", 0 };
	assert_int_equal(run_x(&f, cmds, exp, 3), 0);
	assert_int_equal(f.stub.ntx, 3);
	assert_string_equal(f.stub.log[2], EXT_AUTH);
	assert_int_equal(f.ex.executed, 3);
	assert_int_equal(f.ex.status, AGENT_SS_OK);
	assert_rapdu(&f.r[1], IU_RSP);
	gp_wr_free(&f.out);
}

/* One run where INITIALIZE UPDATE answers rsp instead of IU_RSP. */
static void
unexpected(const char *rsp)
{
	const char *cmds[] = { SELECT_ISD, INIT_UPDATE, EXT_AUTH, GET_CPLC };
	const char *exp[] = { NULL, IU_RSP, NULL, NULL };
	struct fx f;

	print_message("card answers %s\n", rsp);
	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "00A404", "6F009000", 0 };
	f.stub.rules[1] = (struct stub_rule){ "8050", rsp, 0 };
	f.stub.rules[2] = (struct stub_rule){ "", "9000", 0 };
	assert_int_equal(run_x(&f, cmds, exp, 4), 0);
	/* EXTERNAL AUTHENTICATE never reached the card. */
	assert_int_equal(f.stub.ntx, 2);
	assert_int_equal(f.ex.executed, 2);
	assert_int_equal(f.ex.status, AGENT_SS_UNEXPECTED);
	assert_string_equal(agent_script_status_name(f.ex.status),
	    "unexpected-response");
	/* The differing R-APDU is reported as any other. */
	assert_int_equal(f.rsp.executed, 2);
	assert_int_equal(f.rsp.n, 2);
	assert_int_equal(f.rsp.bad_format, -1);
	assert_rapdu(&f.r[0], "6F009000");
	assert_rapdu(&f.r[1], rsp);
	gp_wr_free(&f.out);
}

static void
test_expect_unmet(void **st)
{
	unexpected(IU_OTHER);			/* last cryptogram byte */
	unexpected("00010203040506070809" "9000");	/* shorter */
	unexpected(IU_RSP "00");			/* longer */
	unexpected("6982");			/* an error SW: still this */
	unexpected("9000");
}

static void
test_expect_final_rapdu(void **st)
{
	const char *cmds[] = { GET_CPLC, GET_CRD, GET_CPLC };
	const char *exp[] = { "01020304059000", "6A88", NULL };
	struct fx f;

	/* The expectation is on the final R-APDU, after GET RESPONSE. */
	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "80CA9F7F", "6105", 1 };
	f.stub.rules[1] = (struct stub_rule){ "00C0000005",
	    "01020304059000", 0 };
	f.stub.rules[2] = (struct stub_rule){ "80CA0066", "6A88", 0 };
	assert_int_equal(run_x(&f, cmds, exp, 3), 0);
	/* An expected error SW is met, then the stop rule applies. */
	assert_int_equal(f.stub.ntx, 3);
	assert_int_equal(f.ex.executed, 2);
	assert_int_equal(f.ex.status, AGENT_SS_OK);
	assert_int_equal(f.ex.last_sw, 0x6A88);
	assert_rapdu(&f.r[0], "01020304059000");
	assert_rapdu(&f.r[1], "6A88");
	gp_wr_free(&f.out);
}

static void
test_expect_removed(void **st)
{
	const char *cmds[] = { SELECT_ISD, INIT_UPDATE, EXT_AUTH };
	const char *exp[] = { NULL, IU_RSP, NULL };
	struct fx f;

	/* Gone during the guarded command: card-removed, as always. */
	memset(&f, 0, sizeof(f));
	f.stub.rules[0] = (struct stub_rule){ "", "6F009000", 0 };
	f.stub.remove_at = 2;
	assert_int_equal(run_x(&f, cmds, exp, 3), 0);
	assert_int_equal(f.ex.status, AGENT_SS_CARD_REMOVED);
	assert_int_equal(f.rsp.executed, 1);
	gp_wr_free(&f.out);
}

static void
test_bad_scripts(void **st)
{
	static const char *bad[] = {
		"AA03220100",		/* C-APDU too short */
		"AA05",			/* truncated */
		"AB00",			/* a response template */
		"AA0381010022",		/* immediate action */
		"AA80",			/* indefinite */
		"AA0C" "DF20029000" "220580CA9F7F00",	/* DF 20 first */
		"AA11" "220580CA9F7F00" "DF20029000" "DF20029000",
		"AA0B" "220580CA9F7F00" "DF200190",	/* 1-byte R-APDU */
	};
	struct cardstub stub;
	struct agent_card card;
	struct agent_exec ex;
	struct gp_wr out;
	struct gp_span sp[1];
	struct gp_script_rsp rsp = { .rapdus = sp, .cap = 1 };
	uint8_t b[32];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&stub, 0, sizeof(stub));
		stub_card(&stub, &card);
		gp_wr_init_dyn(&out, AGENT_BODY_MAX);
		assert_int_equal(gp_hex_decode(bad[i], b, sizeof(b), &n), 0);
		assert_int_equal(agent_exec_script(&card, b, n, &out, &ex), 0);
		assert_int_equal(stub.ntx, 0);
		assert_int_equal(gp_script_rsp_decode(out.p, out.len, &rsp),
		    0);
		assert_int_equal(rsp.executed, 0);
		assert_true(rsp.bad_format == GP_SCRIPT_BAD_TAG ||
		    rsp.bad_format == GP_SCRIPT_BAD_LENGTH);
		gp_wr_free(&out);
	}
}

static void
test_too_many_commands(void **st)
{
	struct cardstub stub;
	struct agent_card card;
	struct agent_exec ex;
	struct gp_wr out, sw;
	struct gp_span sp[1];
	struct gp_script_rsp rsp = { .rapdus = sp, .cap = 1 };
	static const uint8_t cmd[] = { 0x80, 0xCA, 0x9F, 0x7F, 0x00 };
	struct gp_span cmds[AGENT_SCRIPT_MAX + 1];
	size_t i;

	for (i = 0; i <= AGENT_SCRIPT_MAX; i++) {
		cmds[i].p = cmd;
		cmds[i].len = sizeof(cmd);
	}
	gp_wr_init_dyn(&sw, 65536);
	assert_int_equal(gp_script_encode(cmds, AGENT_SCRIPT_MAX + 1, &sw),
	    0);
	memset(&stub, 0, sizeof(stub));
	stub_card(&stub, &card);
	gp_wr_init_dyn(&out, AGENT_BODY_MAX);
	assert_int_equal(agent_exec_script(&card, sw.p, sw.len, &out, &ex),
	    0);
	assert_int_equal(stub.ntx, 0);
	assert_int_equal(gp_script_rsp_decode(out.p, out.len, &rsp), 0);
	assert_int_equal(rsp.bad_format, GP_SCRIPT_BAD_TAG);
	gp_wr_free(&out);
	gp_wr_free(&sw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_stop_first_bad_sw),
		cmocka_unit_test(test_get_response),
		cmocka_unit_test(test_wrong_le),
		cmocka_unit_test(test_card_removed),
		cmocka_unit_test(test_expect_met),
		cmocka_unit_test(test_expect_unmet),
		cmocka_unit_test(test_expect_final_rapdu),
		cmocka_unit_test(test_expect_removed),
		cmocka_unit_test(test_bad_scripts),
		cmocka_unit_test(test_too_many_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
