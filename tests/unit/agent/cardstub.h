/*
 * A card-link stub for the agent tests: answers each command from a rule
 * table (first rule whose command prefix matches, each usable a number of
 * times) and records every command it was sent. It can be "removed"
 * before the n-th transmit.
 */
#ifndef CARDSTUB_H
#define CARDSTUB_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"

#define STUB_RULES	16
#define STUB_LOG	64

struct stub_rule {
	const char	*prefix;	/* hex prefix of the command */
	const char	*rsp;		/* hex response: data ‖ SW */
	int		 times;		/* 0: for ever */
};

struct cardstub {
	struct stub_rule rules[STUB_RULES];
	int		 used[STUB_RULES];
	unsigned	 remove_at;	/* 1-based transmit that fails, 0 never */
	unsigned	 ntx;
	char		 log[STUB_LOG][600];	/* commands sent, hex */
	int		 opened, closed;
};

void	stub_card(struct cardstub *, struct agent_card *);

#endif
