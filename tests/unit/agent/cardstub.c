/* The card-link stub (cardstub.h). */
#include <string.h>

#include "cardstub.h"
#include "gp/buf.h"

static int
st_present(void *ctx, int timeout_ms)
{
	return 1;
}

static int
st_open(void *ctx)
{
	((struct cardstub *)ctx)->opened++;
	return 0;
}

static void
st_close(void *ctx)
{
	((struct cardstub *)ctx)->closed++;
}

static int
st_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t cap, size_t *rlen)
{
	struct cardstub *s = ctx;
	char hex[600];
	size_t i;

	s->ntx++;
	if (s->remove_at != 0 && s->ntx >= s->remove_at)
		return AGENT_ERR_CARD_REMOVED;
	if (n > 290)
		n = 290;
	gp_hex_encode(cmd, n, hex);
	if (s->ntx <= STUB_LOG)
		strcpy(s->log[s->ntx - 1], hex);
	for (i = 0; i < STUB_RULES && s->rules[i].prefix != NULL; i++) {
		if (strncmp(hex, s->rules[i].prefix,
		    strlen(s->rules[i].prefix)) != 0)
			continue;
		if (s->rules[i].times != 0 &&
		    s->used[i] >= s->rules[i].times)
			continue;
		s->used[i]++;
		return gp_hex_decode(s->rules[i].rsp, rsp, cap, rlen) == 0 ?
		    0 : AGENT_ERR_CARD;
	}
	rsp[0] = 0x6D;
	rsp[1] = 0x00;
	*rlen = 2;
	return 0;
}

static const struct agent_card_ops stub_ops = {
	.present = st_present,
	.open = st_open,
	.transmit = st_transmit,
	.close = st_close,
};

void
stub_card(struct cardstub *s, struct agent_card *c)
{
	c->ops = &stub_ops;
	c->ctx = s;
}
