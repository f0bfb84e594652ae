/*
 * The card links libtsmagent ships: PC/SC (pcsc-lite, library
 * tsmagent_pcsc) and the in-process virtual card (libcardsim, library
 * tsmagent_sim). Each fills a struct agent_card; an embedder with its own
 * reader API writes its own struct agent_card_ops instead (docs/agent.md).
 */
#ifndef AGENT_LINKS_H
#define AGENT_LINKS_H

#include "agent.h"

struct agent_pcsc;

/* reader: a reader name or its prefix; NULL: the first reader. */
int	agent_pcsc_new(const char *reader, struct agent_pcsc **);
void	agent_pcsc_free(struct agent_pcsc *);
void	agent_pcsc_card(struct agent_pcsc *, struct agent_card *);
/* After a session: waits up to timeout_ms (-1: for ever) for the card to
 * leave. 1 gone, 0 still there, or an error. */
int	agent_pcsc_wait_removed(struct agent_pcsc *, int timeout_ms);

struct agent_sim;
struct sim_card;

/* A libcardsim card of profile (NULL: the default), kept in state_path
 * when given. */
int	agent_sim_new(const char *profile, const char *state_path,
	    struct agent_sim **);
void	agent_sim_free(struct agent_sim *);
void	agent_sim_card(struct agent_sim *, struct agent_card *);
struct sim_card *agent_sim_handle(struct agent_sim *);

#endif
