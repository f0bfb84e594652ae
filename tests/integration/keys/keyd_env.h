/*
 * Test environment of the keys integration tests: a SoftHSMv2 token in a
 * temporary directory and a tsm-keyd on a socket there.
 */
#ifndef KEYD_ENV_H
#define KEYD_ENV_H

#include <sys/types.h>

#include <stdio.h>

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
/* env_setup, env_start (no extra arguments) and the client c on keyd's
 * socket; 0, or -1 when keyd is not up. */
int	env_up(struct keyd_env *, struct keys_client *, int timeout_ms);
/* The client closed, then env_teardown. */
void	env_down(struct keyd_env *, struct keys_client *);
/* The lines of keyd's audit log holding what (cmocka: the test fails
 * when the log cannot be read). */
int	env_audit_count(const struct keyd_env *, const char *what);
/* A connection of its own to keyd's socket, bypassing the client. */
int	env_raw_connect(const struct keyd_env *);
/* pkcs11-tool listing the token's objects of type (privkey, secrkey),
 * logged in; pclose it. */
FILE	*env_pkcs11_objects(const char *type);
/* Imports a key as two components (v ^ r, r) with their KCVs. */
int	env_import(struct keys_client *, const char *label, uint8_t ver,
	    int role, int method, int alg, const uint8_t *v, size_t n);

#endif
