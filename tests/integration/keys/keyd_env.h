/*
 * Test environment of the keys integration tests: a SoftHSMv2 token in a
 * temporary directory and a tsm-keyd on a socket there.
 */
#ifndef KEYD_ENV_H
#define KEYD_ENV_H

#include <sys/types.h>

#include "keys.h"

#define ENV_PIN		"1234"

struct keyd_env {
	char	 dir[64];
	char	 sock[128];
	char	 audit[128];
	char	 pinfile[128];
	pid_t	 pid;
};

/* Creates the directory, softhsm2.conf (SOFTHSM2_CONF) and the token. */
int	env_setup(struct keyd_env *);
/* Starts keyd with extra arguments (NULL-terminated); 0 once it answers,
 * else keyd's exit status (126: not ready in 10 s). */
int	env_start(struct keyd_env *, const char *const *extra);
void	env_stop(struct keyd_env *);
void	env_kill(struct keyd_env *);	/* SIGKILL, no cleanup */
void	env_teardown(struct keyd_env *);
/* Imports a key as two components (v ^ r, r) with their KCVs. */
int	env_import(struct keys_client *, const char *label, uint8_t ver,
	    int role, int method, int alg, const uint8_t *v, size_t n);

#endif
