/*
 * The MariaDB store from an event loop: Connector/C's non-blocking API
 * (MYSQL_OPT_NONBLOCK, mysql_real_connect_start/_cont,
 * mysql_real_query_start/_cont, mysql_stmt_*_start/_cont) behind small
 * operations that never block the calling thread.
 *
 * One handle is one server connection running one operation at a time;
 * a loop runs as many handles as it wants. Every *_start and
 * tsm_store_async_cont() returns:
 *
 *	> 0	wait: a mask of TSM_STORE_WAIT_* for tsm_store_async_fd();
 *		call tsm_store_async_cont() with the events that happened
 *	0	done, success
 *	< 0	done, an enum tsm_store_err (tsm_store_async_errmsg() says more)
 *
 * With TSM_STORE_WAIT_TIMEOUT set, the loop also arms a timer of
 * tsm_store_async_timeout_ms() and passes TSM_STORE_WAIT_TIMEOUT when it
 * fires. Read the fd again after every call: a reconnect changes it.
 * With libevent: event_assign(ev, base, fd, (w & READ ? EV_READ : 0) |
 * (w & WRITE ? EV_WRITE : 0), cb, h) and a timeout when w & TIMEOUT;
 * in cb, map EV_READ/EV_WRITE/EV_TIMEOUT back and call _cont.
 *
 * The operations run the same statements, checks and audit records as
 * the blocking API (tsm/store/store.h) and interoperate with it row for
 * row. A connection lost before an operation commits is reopened and
 * the operation replayed (a lookup once, a transition up to 8 times, as
 * deadlocks are); one lost during COMMIT is reported as
 * TSM_STORE_ERR_CONNECT: the outcome is unknown, as with the blocking API.
 */
#ifndef TSM_STORE_MARIADB_ASYNC_H
#define TSM_STORE_MARIADB_ASYNC_H

#include <stddef.h>

#include "store/store.h"

/* Equal to Connector/C's MYSQL_WAIT_* */
#define TSM_STORE_WAIT_READ	1
#define TSM_STORE_WAIT_WRITE	2
#define TSM_STORE_WAIT_EXCEPT	4
#define TSM_STORE_WAIT_TIMEOUT	8

struct tsm_store_async;

/* A handle on a mariadb:// URL (as tsm_store_open takes); connects on
 * first use. Fails only on a malformed URL or memory. */
int	tsm_store_async_new(struct tsm_store_async **, const char *url);
void	tsm_store_async_free(struct tsm_store_async *);
/* The audit hasher for transitions (NULL: SHA-256, the default). */
void	tsm_store_async_set_audit_hasher(struct tsm_store_async *,
	    const struct tsm_audit_hasher *);

int	tsm_store_async_fd(const struct tsm_store_async *);	/* -1: none */
unsigned tsm_store_async_timeout_ms(const struct tsm_store_async *);
const char *tsm_store_async_errmsg(const struct tsm_store_async *);
/* 1 while an operation is under way. */
int	tsm_store_async_busy(const struct tsm_store_async *);

/* tsm_store_card_get: *out is filled when the operation ends with 0. */
int	tsm_store_async_card_get_start(struct tsm_store_async *,
	    const char *csn, struct tsm_card *out);
/* tsm_store_card_transition: *changed and why are written when the
 * operation ends. The strings are copied. */
int	tsm_store_async_card_transition_start(struct tsm_store_async *,
	    const char *csn, const struct tsm_transition *, int *changed,
	    char *why, size_t whylen);
/* Drives the operation on: events is the mask that happened. */
int	tsm_store_async_cont(struct tsm_store_async *, int events);

#endif
