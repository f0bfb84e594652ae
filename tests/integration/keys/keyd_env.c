/*
 * A SoftHSMv2 token initialised in a temporary directory and a tsm-keyd
 * started on a socket there, for every keys integration test.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gp/buf.h"
#include "keyd_env.h"

int
env_setup(struct keyd_env *e)
{
	char path[160], cmd[512];
	FILE *f;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/tsmkeys.XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/softhsm2.conf", e->dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\n", e->dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(e->sock, sizeof(e->sock), "%s/keyd.sock", e->dir);
	snprintf(e->audit, sizeof(e->audit), "%s/audit.log", e->dir);
	snprintf(e->pinfile, sizeof(e->pinfile), "%s/pin", e->dir);
	if ((f = fopen(e->pinfile, "w")) == NULL)
		return -1;
	fprintf(f, "%s\n", ENV_PIN);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free "
	    "--label tsm --pin %s --so-pin 87654321 >/dev/null", ENV_PIN);
	return system(cmd) == 0 ? 0 : -1;
}

int
env_start(struct keyd_env *e, const char *const *extra)
{
	const char *argv[32];
	struct keys_client c;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int n = 0, i, st, r;

	argv[n++] = KEYD_PATH;
	argv[n++] = "-s";
	argv[n++] = e->sock;
	argv[n++] = "-P";
	argv[n++] = e->pinfile;
	argv[n++] = "-a";
	argv[n++] = e->audit;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	unlink(e->sock);
	if ((e->pid = fork()) == 0) {
		setpgid(0, 0);
		execv(KEYD_PATH, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	keys_init(&c, e->sock, 1000);
	for (i = 0; i < 500; i++) {
		if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
			e->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		}
		r = keys_ping(&c);
		if (r == 0 || r == KEYS_ERR_DENIED) {
			keys_close(&c);
			return 0;
		}
		keys_close(&c);
		nanosleep(&ts, NULL);
	}
	return 126;
}

void
env_stop(struct keyd_env *e)
{
	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, NULL, 0);
	}
	e->pid = 0;
}

void
env_kill(struct keyd_env *e)
{
	if (e->pid > 0) {
		kill(-e->pid, SIGKILL);
		waitpid(e->pid, NULL, 0);
	}
	e->pid = 0;
}

void
env_teardown(struct keyd_env *e)
{
	char cmd[160];

	env_stop(e);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", e->dir);
}

int
env_up(struct keyd_env *e, struct keys_client *c, int timeout_ms)
{
	if (env_setup(e) != 0 || env_start(e, NULL) != 0)
		return -1;
	keys_init(c, e->sock, timeout_ms);
	return 0;
}

void
env_down(struct keyd_env *e, struct keys_client *c)
{
	keys_close(c);
	env_teardown(e);
}

int
env_audit_count(const struct keyd_env *e, const char *what)
{
	char line[512];
	FILE *f;
	int n = 0;

	f = fopen(e->audit, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, what) != NULL)
			n++;
	fclose(f);
	return n;
}

int
env_raw_connect(const struct keyd_env *e)
{
	struct sockaddr_un sa;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(e->sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, e->sock, strlen(e->sock) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

FILE *
env_pkcs11_objects(const char *type)
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "pkcs11-tool --module "
	    "/usr/lib/softhsm/libsofthsm2.so --token-label tsm --login "
	    "--pin %s --list-objects --type %s 2>/dev/null", ENV_PIN, type);
	p = popen(cmd, "r");
	assert_non_null(p);
	return p;
}

int
env_import(struct keys_client *c, const char *label, uint8_t ver, int role,
    int method, int alg, const uint8_t *v, size_t n)
{
	uint8_t a[32], b[32], kcv[3];
	struct keys_component comp[2];
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		b[i] = (uint8_t)(0x5A + 7 * i);
		a[i] = v[i] ^ b[i];
	}
	comp[0].value = a;
	comp[0].len = n;
	comp[1].value = b;
	comp[1].len = n;
	if ((r = keys_kcv(alg, a, n, comp[0].kcv)) != 0 ||
	    (r = keys_kcv(alg, b, n, comp[1].kcv)) != 0)
		return r;
	r = keys_import_components(c, label, ver, role, method, alg, comp, 2,
	    kcv);
	gp_wipe(a, sizeof(a));
	return r;
}
