/*
 * The inventory state machine (docs/store.md), pure: no I/O. Every edge
 * is listed; anything else is refused with a reason. The card's own GP
 * life cycle, when known, vetoes what it contradicts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

static const char *const names[TSM_CARD_NSTATES] = {
	"manufactured", "in_stock", "allocated", "issued", "active",
	"suspended", "lost", "stolen", "terminated",
};

#define B(s)	(1u << (s))

/* allowed[from] = set of states reachable in one step */
static const unsigned allowed[TSM_CARD_NSTATES] = {
	[TSM_CARD_MANUFACTURED] = B(TSM_CARD_IN_STOCK) | B(TSM_CARD_TERMINATED),
	[TSM_CARD_IN_STOCK] = B(TSM_CARD_ALLOCATED) | B(TSM_CARD_LOST) |
	    B(TSM_CARD_STOLEN) | B(TSM_CARD_TERMINATED),
	[TSM_CARD_ALLOCATED] = B(TSM_CARD_IN_STOCK) | B(TSM_CARD_ISSUED) |
	    B(TSM_CARD_LOST) | B(TSM_CARD_STOLEN) | B(TSM_CARD_TERMINATED),
	[TSM_CARD_ISSUED] = B(TSM_CARD_ACTIVE) | B(TSM_CARD_LOST) |
	    B(TSM_CARD_STOLEN) | B(TSM_CARD_TERMINATED),
	[TSM_CARD_ACTIVE] = B(TSM_CARD_SUSPENDED) | B(TSM_CARD_LOST) |
	    B(TSM_CARD_STOLEN) | B(TSM_CARD_TERMINATED),
	[TSM_CARD_SUSPENDED] = B(TSM_CARD_ACTIVE) | B(TSM_CARD_LOST) |
	    B(TSM_CARD_STOLEN) | B(TSM_CARD_TERMINATED),
	[TSM_CARD_LOST] = B(TSM_CARD_ACTIVE) | B(TSM_CARD_TERMINATED),
	[TSM_CARD_STOLEN] = B(TSM_CARD_TERMINATED),
	[TSM_CARD_TERMINATED] = 0,
};

const char *
tsm_card_state_name(enum tsm_card_state s)
{
	if ((unsigned)s >= TSM_CARD_NSTATES)
		return "unknown";
	return names[s];
}

int
tsm_card_state_parse(const char *s, enum tsm_card_state *out)
{
	int i;

	for (i = 0; i < TSM_CARD_NSTATES; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum tsm_card_state)i;
			return 0;
		}
	}
	return TSM_STORE_ERR_INVAL;
}

static int refuse(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return TSM_STORE_ERR_TRANSITION;
}

/* Parameters a target state needs, and whether a repeat is a no-op. */
static int
check_params(const struct tsm_card *c, const struct tsm_transition *t,
    int *noop, char *why, size_t len)
{
	const char *to = names[t->to];
	int needs_loc = t->to == TSM_CARD_IN_STOCK ||
	    t->to == TSM_CARD_ALLOCATED;

	if (needs_loc && (t->location == NULL || *t->location == '\0'))
		return refuse(why, len, "%s needs a location", to);
	if (t->location != NULL && strlen(t->location) > TSM_NAME_MAX)
		return refuse(why, len, "%s: location too long", to);
	if (t->to == TSM_CARD_ISSUED && t->holder_id <= 0 &&
	    c->holder_id <= 0)
		return refuse(why, len, "%s needs a cardholder", to);
	if (c->state != t->to)
		return 0;
	if (needs_loc && strcmp(c->location, t->location) != 0)
		return refuse(why, len, "card is already %s, at another "
		    "location (%s)", to, c->location);
	if (t->to == TSM_CARD_ISSUED && t->holder_id > 0 &&
	    t->holder_id != c->holder_id)
		return refuse(why, len, "card is already %s to another "
		    "cardholder", to);
	*noop = 1;
	return 0;
}

/* The card's GP life cycle vetoes what contradicts it. */
static int
check_gp(const struct tsm_card *c, const struct tsm_transition *t,
    char *why, size_t len)
{
	if (strcmp(c->gp_state, "TERMINATED") == 0 &&
	    t->to != TSM_CARD_TERMINATED)
		return refuse(why, len, "the card reports GP life cycle %s; "
		    "only %s is possible", c->gp_state, "terminated");
	if (strcmp(c->gp_state, "CARD_LOCKED") == 0 &&
	    t->to == TSM_CARD_ACTIVE)
		return refuse(why, len, "the card reports GP life cycle %s; "
		    "unlock it before it is %s", c->gp_state, "active");
	return 0;
}

int
tsm_lifecycle_check(const struct tsm_card *c, const struct tsm_transition *t,
    int *noop, char *why, size_t len)
{
	int r;

	*noop = 0;
	if (why != NULL && len > 0)
		why[0] = '\0';
	if ((unsigned)t->to >= TSM_CARD_NSTATES ||
	    (unsigned)c->state >= TSM_CARD_NSTATES)
		return refuse(why, len, "unknown state");
	if ((r = check_params(c, t, noop, why, len)) != 0 || *noop)
		return r;
	if ((allowed[c->state] & B(t->to)) == 0)
		return refuse(why, len, "%s -> %s is not a lifecycle edge",
		    names[c->state], names[t->to]);
	return check_gp(c, t, why, len);
}
