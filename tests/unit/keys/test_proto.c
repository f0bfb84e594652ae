/*
 * The tsm-keyd request parser, table-driven: every request type round-trips
 * and truncated, overlong, wrong-type, zero-length, out-of-range and
 * trailing-byte inputs are refused. Also keys_strerror and keys_kcv (KCVs
 * from FORMAT.md's definition, computed with the openssl CLI:
 *   printf 0000000000000000 | xxd -r -p | openssl enc -des-ede-ecb -nopad \
 *       -K 404142434445464748494A4B4C4D4E4F | xxd -p  -> 8BAF47...).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gp/buf.h"
#include "keys.h"
#include "keys_proto.h"

static const uint8_t HC[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static uint8_t RSP[28];
static const uint8_t C16[16] = { 0x11 };

static void
fill(struct keys_req *q, uint8_t type)
{
	memset(q, 0, sizeof(*q));
	q->type = type;
	strcpy(q->label, "isd.master-1");
	strcpy(q->label2, "new_set");
	q->ver = 7;
	q->role = KEYS_ROLE_MASTER;
	q->method = 1;
	q->alg = KEYS_ALG_DES3;
	q->klen = 16;
	q->proto = 2;
	q->i = 0x55;
	q->s = 8;
	q->hc = HC;
	q->hclen = 8;
	q->rsp = RSP;
	q->rsplen = sizeof(RSP);
	q->ncomp = 2;
	q->comp[0] = C16;
	q->comp[1] = C16;
	q->complen[0] = q->complen[1] = 16;
	q->blob = C16;
	q->bloblen = 16;
	q->data = HC;
	q->datalen = 8;
	q->sigalg = KEYS_SIG_RSA_SHA256;
	q->mac = C16;
	q->maclen = 16;
	q->aid = C16;
	q->aidlen = 7;
	q->ctr = 0x12A5FE;
}

static void
test_roundtrip_all_types(void **state)
{
	uint8_t buf[KEYS_MSG_MAX], buf2[KEYS_MSG_MAX];
	struct keys_req q, p;
	struct gp_wr w, w2;
	size_t cut;
	uint8_t t;

	for (t = 1; t <= KEYS_REQ_MAX; t++) {
		fill(&q, t);
		gp_wr_init(&w, buf, sizeof(buf));
		assert_int_equal(keys_req_encode(&q, &w), 0);
		assert_int_equal(keys_req_parse(buf, w.len, &p), 0);
		assert_int_equal(p.type, t);
		if (keys_req_fields(t) & KF_AID) {
			assert_int_equal(p.aidlen, 7);
			assert_memory_equal(p.aid, C16, 7);
		}
		if (keys_req_fields(t) & KF_MAC)
			assert_int_equal(p.maclen, 16);
		if (keys_req_fields(t) & KF_CTR)
			assert_int_equal(p.ctr, 0x12A5FE);
		if (keys_req_fields(t) & KF_SIGALG)
			assert_int_equal(p.sigalg, KEYS_SIG_RSA_SHA256);
		gp_wr_init(&w2, buf2, sizeof(buf2));
		assert_int_equal(keys_req_encode(&p, &w2), 0);
		assert_int_equal(w2.len, w.len);
		assert_memory_equal(buf, buf2, w.len);
		/* every truncation is refused */
		for (cut = 0; cut < w.len; cut++)
			if (keys_req_fields(t) != 0)
				assert_int_equal(keys_req_parse(buf, cut, &p),
				    KEYS_ERR_PROTO);
		/* a trailing byte is refused */
		buf[w.len] = 0;
		assert_int_equal(keys_req_parse(buf, w.len + 1, &p),
		    KEYS_ERR_PROTO);
	}
}

#define HC8	1, 2, 3, 4, 5, 6, 7, 8
#define KDD10	0, 1, 2, 3, 4, 5, 6, 7, 8, 9
#define AID5	0xA0, 0x00, 0x00, 0x01, 0x51

struct bad {
	const char	*what;
	uint8_t		 in[48];
	size_t		 n;
	int		 want;
};

static void
test_bad_inputs(void **state)
{
	static const struct bad cases[] = {
		{ "empty", { 0 }, 0, KEYS_ERR_PROTO },
		{ "type 0", { 0x00 }, 1, KEYS_ERR_PROTO },
		{ "type past table", { KEYS_REQ_MAX + 1 }, 1, KEYS_ERR_PROTO },
		{ "zero-length label", { KEYS_REQ_PUBKEY, 0x00, 0x01 }, 3,
		    KEYS_ERR_PROTO },
		{ "label length past data", { KEYS_REQ_PUBKEY, 0x05, 'a' }, 3,
		    KEYS_ERR_PROTO },
		{ "label with NUL", { KEYS_REQ_PUBKEY, 0x02, 'a', 0x00, 1 }, 5,
		    KEYS_ERR_PROTO },
		{ "label with space", { KEYS_REQ_PUBKEY, 0x02, 'a', ' ', 1 },
		    5, KEYS_ERR_PROTO },
		{ "overlong label (33)", { KEYS_REQ_PUBKEY, 33, 'a' }, 3,
		    KEYS_ERR_PROTO },
		{ "role out of range", { KEYS_REQ_GENERATE, 1, 'a', 1, 9, 0, 1,
		    16 }, 8, KEYS_ERR_PROTO },
		{ "method out of range", { KEYS_REQ_GENERATE, 1, 'a', 1, 0, 4,
		    1, 16 }, 8, KEYS_ERR_PROTO },
		{ "alg zero", { KEYS_REQ_GENERATE, 1, 'a', 1, 0, 1, 0, 16 }, 8,
		    KEYS_ERR_PROTO },
		{ "one component", { KEYS_REQ_IMPORT, 1, 'a', 1, 0, 1, 1, 1 },
		    8, KEYS_ERR_PROTO },
		{ "data length overflows", { KEYS_REQ_HMAC, 1, 'a', 1, 0xFF,
		    0xFF, 0 }, 7, KEYS_ERR_PROTO },
		{ "scp proto 4", { KEYS_REQ_OPEN, 1, 'a', 1, 4, 0, 8 }, 7,
		    KEYS_ERR_PROTO },
		{ "s = 12", { KEYS_REQ_OPEN, 1, 'a', 1, 3, 0, 12 }, 7,
		    KEYS_ERR_PROTO },
		{ "signature scheme 4", { KEYS_REQ_SIGN, 1, 'a', 1, 4, 0, 0 },
		    7, KEYS_ERR_PROTO },
		{ "receipt of 7 bytes", { KEYS_REQ_RECEIPT, 1, 'a', 1, 0, 1,
		    0xAA, 7, 1, 2, 3, 4, 5, 6, 7 }, 15, KEYS_ERR_PROTO },
		{ "receipt of 17 bytes", { KEYS_REQ_RECEIPT, 1, 'a', 1, 0, 1,
		    0xAA, 17, 1, 2, 3, 4, 5, 6, 7 }, 15, KEYS_ERR_PROTO },
		{ "role 8", { KEYS_REQ_IMPORT_PAIR, 1, 'a', 1, 8, 0, 1, 0x30 },
		    8, KEYS_ERR_PROTO },
		/* predict: label, ver, 3 i s, lv hc, KDD, counter, lv AID */
		{ "predict ok", { KEYS_REQ_PREDICT, 1, 'a', 1, 3, 0x10, 8,
		    8, HC8, KDD10, 0xFF, 0xFF, 0xFF, 5, AID5 }, 35, 0 },
		{ "predict s = 12", { KEYS_REQ_PREDICT, 1, 'a', 1, 3, 0x10,
		    12 }, 7, KEYS_ERR_PROTO },
		{ "predict host challenge of 7", { KEYS_REQ_PREDICT, 1, 'a', 1,
		    3, 0x10, 8, 7, 1, 2, 3, 4, 5, 6, 7, KDD10, 0, 0, 1, 5,
		    AID5 }, 34, KEYS_ERR_PROTO },
		{ "predict counter cut", { KEYS_REQ_PREDICT, 1, 'a', 1, 3,
		    0x10, 8, 8, HC8, KDD10, 0x00, 0x01 }, 28, KEYS_ERR_PROTO },
		{ "predict AID of 4", { KEYS_REQ_PREDICT, 1, 'a', 1, 3, 0x10, 8,
		    8, HC8, KDD10, 0, 0, 1, 4, 0xA0, 0, 0, 1 }, 34,
		    KEYS_ERR_PROTO },
		{ "predict AID of 17", { KEYS_REQ_PREDICT, 1, 'a', 1, 3, 0x10,
		    8, 8, HC8, KDD10, 0, 0, 1, 17, AID5, AID5, AID5, 1, 2 }, 47,
		    KEYS_ERR_PROTO },
		{ "predict AID length past data", { KEYS_REQ_PREDICT, 1, 'a', 1,
		    3, 0x10, 8, 8, HC8, KDD10, 0, 0, 1, 9, AID5 }, 35,
		    KEYS_ERR_PROTO },
	};
	struct keys_req q;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = keys_req_parse(cases[i].in, cases[i].n, &q);

		if (r != cases[i].want)
			fail_msg("%s: got %d", cases[i].what, r);
	}
}

static void
test_size_limits(void **state)
{
	static uint8_t big[KEYS_MSG_MAX + 1], data[KEYS_DATA_MAX + 1];
	uint8_t buf[KEYS_MSG_MAX];
	struct keys_req q, p;
	struct gp_wr w;

	assert_int_equal(keys_req_parse(big, sizeof(big), &q),
	    KEYS_ERR_TOOLARGE);
	fill(&q, KEYS_REQ_HMAC);
	q.data = data;
	q.datalen = sizeof(data);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(keys_req_encode(&q, &w), KEYS_ERR_TOOLARGE);
	/* an SD AID is 5..16 bytes (or absent) */
	fill(&q, KEYS_REQ_OPEN);
	q.aidlen = 3;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(keys_req_encode(&q, &w), 0);
	assert_int_equal(keys_req_parse(buf, w.len, &p), KEYS_ERR_PROTO);
	q.aidlen = 0;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(keys_req_encode(&q, &w), 0);
	assert_int_equal(keys_req_parse(buf, w.len, &p), 0);
	assert_int_equal(p.aidlen, 0);
	/* the SCP03 counter is 3 bytes on the wire */
	fill(&q, KEYS_REQ_PREDICT);
	q.ctr = 0xFFFFFF;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(keys_req_encode(&q, &w), 0);
	assert_int_equal(keys_req_parse(buf, w.len, &p), 0);
	assert_int_equal(p.ctr, 0xFFFFFF);
	q.ctr = 0x1000000;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(keys_req_encode(&q, &w), KEYS_ERR_INVAL);
	fill(&q, KEYS_REQ_OPEN);
	strcpy(q.label, "bad label");
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(keys_req_encode(&q, &w), KEYS_ERR_INVAL);
}

static void
test_strerror_kcv(void **state)
{
	static const uint8_t k[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
	    0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };
	static const uint8_t des[3] = { 0x8B, 0xAF, 0x47 };
	uint8_t kcv[3];
	int e;

	for (e = 0; e >= -KEYS_ERR_MAX; e--)
		assert_string_not_equal(keys_strerror(e), "unknown error");
	assert_string_equal(keys_strerror(-99), "unknown error");
	assert_string_equal(keys_strerror(KEYS_ERR_CARD_CRYPTOGRAM),
	    "card cryptogram wrong: card not authenticated");
	assert_string_equal(keys_strerror(KEYS_ERR_CARD_CHALLENGE),
	    "card challenge is not the expected pseudo-random one");
	assert_string_equal(keys_strerror(KEYS_ERR_RECEIPT),
	    "receipt does not verify");
	assert_int_equal(keys_kcv(KEYS_ALG_DES3, k, 16, kcv), 0);
	assert_memory_equal(kcv, des, 3);
	assert_int_equal(keys_kcv(KEYS_ALG_DES3, k, 15, kcv), KEYS_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_types),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_strerror_kcv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
