/*
 * libtsmagent: the device side of the over-the-air session (docs/agent.md).
 *
 * The agent waits for a card, POSTs to the TSM, runs the command script
 * the TSM answers with on the card, POSTs the responses back, and so on
 * until the TSM ends the session with 204. It owns no global state: every
 * piece of it hangs off a struct agent, and the card is reached only
 * through the caller's struct agent_card (a vtable), so a phone app (JNI),
 * a kiosk or an ATM plugs in its own reader.
 *
 * The server link is HTTPS (TLS 1.2+, OpenSSL) with a client certificate,
 * kept alive across sessions; a dropped link is resumed (X-Admin-Resume)
 * after an exponential back-off with jitter.
 */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

enum agent_err {
	AGENT_OK = 0,
	AGENT_ERR_INVAL = -1,		/* caller passed an invalid argument */
	AGENT_ERR_NOMEM = -2,
	AGENT_ERR_CONFIG = -3,		/* bad URL, unreadable cert, key or CA */
	AGENT_ERR_CONNECT = -4,		/* the server could not be reached */
	AGENT_ERR_TLS = -5,		/* handshake failed (certificate, version) */
	AGENT_ERR_LINK = -6,		/* connection dropped or timed out */
	AGENT_ERR_HTTP = -7,		/* malformed HTTP response */
	AGENT_ERR_TOOBIG = -8,		/* response larger than allowed */
	AGENT_ERR_REFUSED = -9,		/* 401/403: this device is refused */
	AGENT_ERR_SESSION = -10,	/* 409: unknown or finished session */
	AGENT_ERR_SERVER = -11,		/* any other unexpected HTTP status */
	AGENT_ERR_PROTOCOL = -12,	/* well-formed HTTP, wrong protocol */
	AGENT_ERR_NO_CARD = -13,	/* no card in the reader */
	AGENT_ERR_CARD_REMOVED = -14,	/* the card left during the session */
	AGENT_ERR_CARD = -15,		/* the reader or card link failed */
	AGENT_ERR_TIMEOUT = -16,	/* waited for a card in vain */
};

const char *agent_strerror(int);
/* A sentence for the cardholder: what happened and what to do. */
const char *agent_message(int);

/*
 * The card link. ctx is the caller's. Every function returns 0 or a
 * negative agent_err. transmit gets one command APDU and writes the
 * response (data ‖ SW1 SW2) into rsp[0..cap); it returns
 * AGENT_ERR_CARD_REMOVED when the card has gone, AGENT_ERR_CARD for any
 * other link failure. present waits up to timeout_ms (-1: for ever) for a
 * card: 1 present, 0 not, or an error. open connects to the card
 * (power-up), close lets it go. The agent calls present, open, transmit...,
 * close, in that order, once per session.
 */
struct agent_card_ops {
	int	(*present)(void *ctx, int timeout_ms);
	int	(*open)(void *ctx);
	int	(*transmit)(void *ctx, const uint8_t *cmd, size_t n,
		    uint8_t *rsp, size_t cap, size_t *rlen);
	void	(*close)(void *ctx);
};

struct agent_card {
	const struct agent_card_ops	*ops;
	void				*ctx;
};

#define AGENT_LOG_ERROR	0
#define AGENT_LOG_INFO	1
#define AGENT_LOG_DEBUG	2

struct agent_config {
	const char	*server;	/* https://host[:port][/path] */
	const char	*cert;		/* PEM client certificate (CN = id) */
	const char	*key;		/* PEM private key */
	const char	*ca;		/* PEM CA that signed the server */
	int		 io_timeout_ms;	/* 0: 30000 */
	unsigned	 retries;	/* link drops per exchange; 0: 5 */
	unsigned	 backoff_ms;	/* first back-off; 0: 250 */
	unsigned	 backoff_max_ms; /* 0: 8000 */
	/*
	 * The card hint (X-Admin-Card): the CSN the TSM gave at the end of
	 * the last session goes with the next session's first POST, so the
	 * TSM may skip discovery. card_hint presets it (20 hex digits,
	 * uppercase, e.g. saved from agent_card_hint by an app between
	 * runs; copied); no_card_hint: never send nor keep one.
	 */
	const char	*card_hint;
	int		 no_card_hint;
	/* Hooks, all optional: sleeping (default nanosleep), logging. */
	void		(*sleep_ms)(void *arg, unsigned ms);
	void		(*log)(void *arg, int level, const char *msg);
	void		*arg;
};

struct agent;

int	agent_new(const struct agent_config *, struct agent **);
void	agent_free(struct agent *);
/* The agent id: the CN of the client certificate. */
const char *agent_id(const struct agent *);
/* The card hint the next session will send, NULL when none. */
const char *agent_card_hint(const struct agent *);

/* What one session did. */
struct agent_outcome {
	int		 err;		/* 0 or an agent_err */
	unsigned	 exchanges;	/* HTTP POSTs answered */
	unsigned	 commands;	/* script commands run on the card */
	unsigned	 resumes;	/* link drops recovered */
	int		 http_status;	/* last status received, 0: none */
	char		 message[256];	/* for the cardholder */
};

/*
 * Runs one session with the card in card (present must already say so,
 * or the first exchange reports it absent). Returns outcome->err.
 */
int	agent_session(struct agent *, const struct agent_card *,
	    struct agent_outcome *);

/*
 * Waits up to timeout_ms for a card (-1: for ever), then runs a session.
 * AGENT_ERR_TIMEOUT when none came.
 */
int	agent_serve_card(struct agent *, const struct agent_card *,
	    int timeout_ms, struct agent_outcome *);

#endif
