/*
 * The simulator card link: a libcardsim card in the agent's own process,
 * for demonstrations, tests and the load generator. A power cut
 * (sim_card_tear) looks like a card taken away.
 */
#include <stdlib.h>

#include "cardsim.h"
#include "links.h"

struct agent_sim {
	struct sim_card	*card;
};

static int
sim_present(void *ctx, int timeout_ms)
{
	return 1;
}

static int
sim_open(void *ctx)
{
	struct agent_sim *s = ctx;

	return sim_card_reset(s->card) == 0 ? 0 : AGENT_ERR_CARD;
}

static int
sim_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t cap, size_t *rlen)
{
	struct agent_sim *s = ctx;
	int r;

	if ((r = sim_card_transmit(s->card, cmd, n, rsp, cap, rlen)) == 0)
		return 0;
	return r == SIM_ERR_TORN ? AGENT_ERR_CARD_REMOVED : AGENT_ERR_CARD;
}

static void
sim_close(void *ctx)
{
}

static const struct agent_card_ops sim_ops = {
	.present = sim_present,
	.open = sim_open,
	.transmit = sim_transmit,
	.close = sim_close,
};

int
agent_sim_new(const char *profile, const char *state_path,
    struct agent_sim **out)
{
	struct sim_opts o = { .profile = profile, .state_path = state_path };
	struct agent_sim *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return AGENT_ERR_NOMEM;
	if (sim_card_open(&o, &s->card) != 0) {
		free(s);
		return AGENT_ERR_CONFIG;
	}
	*out = s;
	return 0;
}

void
agent_sim_free(struct agent_sim *s)
{
	if (s == NULL)
		return;
	sim_card_free(s->card);
	free(s);
}

void
agent_sim_card(struct agent_sim *s, struct agent_card *c)
{
	c->ops = &sim_ops;
	c->ctx = s;
}

struct sim_card *
agent_sim_handle(struct agent_sim *s)
{
	return s->card;
}
