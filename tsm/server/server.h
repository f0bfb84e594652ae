/*
 * tsmserver: the tsmd server as a library (tsm/tsmd/main.c is its
 * program). Configuration, the HTTPS agent endpoint on libevent, the
 * session engine, worker threads for the store and tsm-keyd, /healthz and
 * /metrics, and the SIGTERM drain. docs/tsmd.md describes it;
 * docs/protocol/agent.md the protocol it speaks.
 */
#ifndef TSM_SERVER_H
#define TSM_SERVER_H

#include <stddef.h>
#include <stdint.h>

enum tsm_err {
	TSM_OK = 0,
	TSM_ERR_INVAL = -1,	/* invalid argument or configuration */
	TSM_ERR_NOMEM = -2,
	TSM_ERR_IO = -3,	/* a file or socket failed */
	TSM_ERR_TLS = -4,	/* certificates, keys or the TLS library */
	TSM_ERR_EVENT = -5,	/* libevent refused */
	TSM_ERR_STORE = -6,	/* the store failed */
	TSM_ERR_KEYS = -7,	/* tsm-keyd failed */
	TSM_ERR_PROTO = -8,	/* an agent broke the protocol */
	TSM_ERR_CARD = -9,	/* a card answered wrongly */
	TSM_ERR_AUTH = -10,	/* card cryptogram / R-MAC did not verify */
	TSM_ERR_STATE = -11,	/* not allowed in the session's state */
	TSM_ERR_NOTFOUND = -12,
	TSM_ERR_BUSY = -13,	/* overloaded or draining */
};

const char *tsm_strerror(int);

#define TSM_PATH_MAX	1024

struct tsm_server_cfg {
	char	listen[128];		/* host:port of the agent endpoint */
	char	metrics_listen[128];	/* host:port, plain HTTP; "" off */
	char	port_file[TSM_PATH_MAX]; /* writes the bound ports ("" off) */
	char	tls_cert[TSM_PATH_MAX];	/* server certificate chain (PEM) */
	char	tls_key[TSM_PATH_MAX];
	char	agent_ca[TSM_PATH_MAX];	/* CA that issues agent certs */
	char	agent_crl[TSM_PATH_MAX]; /* its CRL ("" none); reloaded */
	char	db[TSM_PATH_MAX];	/* store URL */
	char	db_key_file[TSM_PATH_MAX];
	char	keyd[TSM_PATH_MAX];	/* tsm-keyd socket */
	char	key_label[33];		/* keyd label of the cards' ISD keys */
	char	transport_label[33];	/* keyd label of transport keys ("": */
					/* key_label) */
	int	loops;			/* event loops; 0: one per core */
	int	workers;		/* store / keyd worker threads */
	int	session_timeout_ms;	/* idle session is dropped after */
	int	drain_timeout_ms;	/* SIGTERM: wait this long at most */
	size_t	body_max;		/* request body limit (413) */
	int	scp02_i;		/* i of SCP02 cards (not in the IU) */
	int	log_level;		/* 0 error, 1 warn, 2 info, 3 debug */
	size_t	load_block;		/* LOAD data per command */
	int	precompute;		/* 1: pre-compute for named cards */
};

void	tsm_server_cfg_defaults(struct tsm_server_cfg *);
/* One "key = value" setting; err gets a reason. */
int	tsm_server_cfg_set(struct tsm_server_cfg *, const char *key,
	    const char *value, char *err, size_t errlen);
/* A config file of such lines; '#' comments. */
int	tsm_server_cfg_load(struct tsm_server_cfg *, const char *path,
	    char *err, size_t errlen);
/* Everything needed is set and consistent. */
int	tsm_server_cfg_check(const struct tsm_server_cfg *, char *err,
	    size_t errlen);

struct tsm_server;

int	tsm_server_new(const struct tsm_server_cfg *, struct tsm_server **);
/* Runs until SIGTERM/SIGINT (or tsm_server_stop) has drained sessions. */
int	tsm_server_run(struct tsm_server *);
/* Asks for a drain; safe from any thread. */
void	tsm_server_stop(struct tsm_server *);
void	tsm_server_free(struct tsm_server *);
int	tsm_server_port(const struct tsm_server *);

/* Structured logs: one logfmt line per event on stderr. */
enum { TSM_LOG_ERR = 0, TSM_LOG_WARN, TSM_LOG_INFO, TSM_LOG_DEBUG };
void	tsm_log_set_level(int);
void	tsm_log(int level, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
