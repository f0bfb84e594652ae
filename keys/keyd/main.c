/*
 * tsm-keyd: the key custody daemon. The only process that loads the
 * PKCS#11 module. It checks the token login once, binds the unix socket,
 * then runs a few worker processes (SoftHSMv2 serialises work inside one
 * process; separate processes scale with cores), each with its own
 * PKCS#11 session. The parent restarts a worker that dies.
 *
 *   tsm-keyd -s SOCKET [-m MODULE] [-t TOKEN] [-P PINFILE] [-u UID]
 *            [-a AUDITFILE] [-w WORKERS]
 *
 * The PIN comes from PINFILE or the TSM_KEYD_PIN environment variable,
 * never from the command line.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyd_int.h"
#include "keyd_main.h"

#define WORKERS_MAX	16

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: tsm-keyd -s SOCKET [-m MODULE] [-t TOKEN] "
	    "[-P PINFILE] [-u UID] [-a AUDITFILE] [-w WORKERS]\n");
	return 2;
}

static int
read_pin(const char *file, char *pin, size_t cap)
{
	const char *env;
	FILE *f;
	size_t n;

	if (file == NULL) {
		if ((env = getenv("TSM_KEYD_PIN")) == NULL ||
		    strlen(env) >= cap)
			return -1;
		memcpy(pin, env, strlen(env) + 1);
		return 0;
	}
	if ((f = fopen(file, "r")) == NULL)
		return -1;
	n = fread(pin, 1, cap - 1, f);
	fclose(f);
	pin[n] = '\0';
	pin[strcspn(pin, "\r\n")] = '\0';
	return 0;
}

static int
parse(int argc, char **argv, struct keyd_cfg *c)
{
	const char *pinfile = NULL;
	int ch;

	memset(c, 0, sizeof(*c));
	c->module = "/usr/lib/softhsm/libsofthsm2.so";
	c->token = "tsm";
	c->allowed_uid = getuid();
	c->workers = 1;
	while ((ch = getopt(argc, argv, "s:m:t:P:u:a:w:")) != -1) {
		switch (ch) {
		case 's': c->socket = optarg; break;
		case 'm': c->module = optarg; break;
		case 't': c->token = optarg; break;
		case 'P': pinfile = optarg; break;
		case 'u': c->allowed_uid = (uid_t)strtoul(optarg, NULL, 10);
			break;
		case 'a': c->audit = optarg; break;
		case 'w': c->workers = atoi(optarg); break;
		default: return -1;
		}
	}
	if (c->socket == NULL || c->workers < 1 || c->workers > WORKERS_MAX)
		return -1;
	if (read_pin(pinfile, c->pin, sizeof(c->pin)) != 0) {
		fprintf(stderr, "tsm-keyd: no PIN (-P file or TSM_KEYD_PIN)\n");
		return -1;
	}
	return 0;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return -1;
	unlink(path);	/* a stale socket of a killed keyd */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0660) != 0 || listen(fd, 128) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
worker(const struct keyd_cfg *cfg, int lfd, int afd, int self)
{
	struct keyd_cfg wc = *cfg, *c = &wc;
	static struct keyd k;
	int r = 0, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	/* Workers starting together can race in the module's token scan. */
	for (i = 0; i < 20; i++) {
		if ((r = keyd_p11_open(&k, c->module, c->token, c->pin)) == 0 ||
		    r == KEYS_ERR_LOGIN)
			break;
		usleep(50 * 1000);
	}
	if (r != 0) {
		fprintf(stderr, "tsm-keyd: worker: %s\n", keys_strerror(r));
		_exit(3);
	}
	k.audit_fd = afd;
	wc.self = self;
	if (wc.conns != NULL)
		__atomic_store_n(&wc.conns[self], 0, __ATOMIC_RELAXED);
	r = keyd_serve(&k, c, lfd);
	_exit(r == 0 ? 0 : 1);
}

static pid_t
spawn(const struct keyd_cfg *c, int lfd, int afd, int self)
{
	pid_t p;

	if ((p = fork()) == 0)
		worker(c, lfd, afd, self);
	return p;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct keyd_cfg c;
	struct keyd k;
	pid_t pids[WORKERS_MAX], p;
	int lfd, afd = -1, r, i, st;

	if (parse(argc, argv, &c) != 0)
		return usage();
	/* Check the token and PIN once, before anyone can connect. */
	if ((r = keyd_p11_open(&k, c.module, c.token, c.pin)) != 0) {
		fprintf(stderr, "tsm-keyd: %s: %s\n", c.token,
		    keys_strerror(r));
		gp_wipe(c.pin, sizeof(c.pin));
		return 3;
	}
	keyd_p11_close(&k);
	if (c.audit != NULL && (afd = open(c.audit, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "tsm-keyd: %s: %s\n", c.audit, strerror(errno));
		return 1;
	}
	if ((lfd = listen_on(c.socket)) < 0) {
		fprintf(stderr, "tsm-keyd: %s: %s\n", c.socket, strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: waitpid returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Connection counts, shared with the workers (balancing). */
	c.conns = mmap(NULL, sizeof(int) * WORKERS_MAX, PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c.conns == MAP_FAILED)
		c.conns = NULL;
	for (i = 0; i < c.workers; i++)
		pids[i] = spawn(&c, lfd, afd, i);
	fprintf(stderr, "tsm-keyd: ready on %s (%d workers)\n", c.socket,
	    c.workers);
	while (!stop) {
		if ((p = waitpid(-1, &st, 0)) < 0)
			continue;
		for (i = 0; i < c.workers && !stop; i++)
			if (pids[i] == p && !(WIFEXITED(st) &&
			    WEXITSTATUS(st) == 3))
				pids[i] = spawn(&c, lfd, afd, i);
	}
	for (i = 0; i < c.workers; i++)
		kill(pids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	unlink(c.socket);
	gp_wipe(c.pin, sizeof(c.pin));
	return 0;
}
