/*
 * keys_predict_channel's own checks, with no keyd at all: every field out
 * of range is refused with KEYS_ERR_INVAL before anything is sent (a
 * request that passed them would fail to connect: KEYS_ERR_IO), and a
 * refusal leaves nothing in the outputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"

static const uint8_t KDD[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const uint8_t HC[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
    0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F };
static const uint8_t AID[16] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00,
    0x00 };

static struct keys_client cl;

static void
base(struct keys_predict_req *p)
{
	memset(p, 0, sizeof(*p));
	p->label = "isd";
	p->version = 1;
	p->i = 0x10;
	p->s = 8;
	p->kdd = KDD;
	p->seq = 0xFFFFFF;
	p->host_challenge = HC;
	p->sd_aid = AID;
	p->aidlen = 8;
}

static int
call(const struct keys_predict_req *p, size_t cap)
{
	uint8_t rsp[64], zero[sizeof(struct keys_session)];
	struct keys_session ks;
	size_t n = 77;
	int r;

	memset(&ks, 0xAA, sizeof(ks));
	memset(zero, 0, sizeof(zero));
	r = keys_predict_channel(&cl, p, rsp, cap, &n, &ks);
	assert_int_equal(n, 0);
	assert_memory_equal(&ks, zero, sizeof(ks));
	return r;
}

static void
test_valid_is_sent(void **state)
{
	struct keys_predict_req p;

	base(&p);
	assert_int_equal(call(&p, 64), KEYS_ERR_IO);
	p.s = 16;
	p.i = 0x70;
	p.seq = 0;
	p.aidlen = 5;
	assert_int_equal(call(&p, 48), KEYS_ERR_IO);
	p.aidlen = 16;
	assert_int_equal(call(&p, 48), KEYS_ERR_IO);
}

static void
test_each_field_refused(void **state)
{
	struct keys_predict_req p;

#define REFUSED(field, value) do {					\
		base(&p);						\
		p.field = value;					\
		if (call(&p, 64) != KEYS_ERR_INVAL)			\
			fail_msg("%s = %s not refused", #field, #value); \
	} while (0)
	REFUSED(label, NULL);
	REFUSED(label, "");
	REFUSED(label, "a/b");
	REFUSED(label, "abcdefghijklmnopqrstuvwxyz0123456");	/* 33 */
	REFUSED(i, 0x00);
	REFUSED(i, 0x20);
	REFUSED(i, 0xEF);
	REFUSED(s, 0);
	REFUSED(s, 9);
	REFUSED(s, 24);
	REFUSED(kdd, NULL);
	REFUSED(seq, 0x1000000);
	REFUSED(seq, 0xFFFFFFFF);
	REFUSED(host_challenge, NULL);
	REFUSED(sd_aid, NULL);
	REFUSED(aidlen, 0);
	REFUSED(aidlen, 4);
	REFUSED(aidlen, 17);
	REFUSED(aidlen, (size_t)-1);
#undef REFUSED
	base(&p);
	assert_int_equal(call(&p, 31), KEYS_ERR_INVAL);	/* needs 32 */
	assert_int_equal(call(&p, 32), KEYS_ERR_IO);
	p.s = 16;
	assert_int_equal(call(&p, 47), KEYS_ERR_INVAL);	/* needs 48 */
	assert_int_equal(call(NULL, 64), KEYS_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_is_sent),
		cmocka_unit_test(test_each_field_refused),
	};

	keys_init(&cl, "/nonexistent/tsm-keyd.sock", 1000);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
