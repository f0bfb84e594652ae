/*
 * tsm-keyd configuration and the worker loop (server.c), shared by
 * main.c and the tests.
 */
#ifndef KEYD_MAIN_H
#define KEYD_MAIN_H

#include <sys/types.h>

struct keyd;

struct keyd_cfg {
	const char	*socket;
	const char	*module;
	const char	*token;
	const char	*audit;
	uid_t		 allowed_uid;
	int		 workers;
	char		 pin[256];
	/*
	 * Connections held by each worker (shared memory, made by the parent
	 * before the fork; NULL: no balancing) and this worker's index. A
	 * worker accepts only while it holds no more than the least loaded
	 * worker, so that N callers spread over N workers.
	 */
	int		*conns;
	int		 self;
};

int	keyd_serve(struct keyd *, const struct keyd_cfg *, int lfd);

#endif
