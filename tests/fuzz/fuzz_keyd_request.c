/*
 * libFuzzer harness on the tsm-keyd request parser (keys_req_parse): every
 * byte a caller sends goes through it before anything else. A request that
 * parses must encode back to the same bytes and keep the limits keyd's
 * handlers rely on (every type of the table, predict's counter included).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "keys_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[KEYS_MSG_MAX];
	struct keys_req q;
	struct gp_wr w;

	if (keys_req_parse(data, size, &q) != 0)
		return 0;
	if (q.ctr > 0xFFFFFF || q.aidlen > 16 || (q.aidlen > 0 &&
	    q.aidlen < 5) || q.hclen > 16 || q.rsplen > 64)
		__builtin_trap();
	gp_wr_init(&w, out, sizeof(out));
	if (keys_req_encode(&q, &w) != 0 || w.len != size ||
	    memcmp(out, data, size) != 0)
		__builtin_trap();
	return 0;
}
