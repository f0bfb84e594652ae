/*
 * The PC/SC card link (pcsc-lite): waits for a card with
 * SCardGetStatusChange, connects T=0 or T=1, transmits. A card pulled
 * out, reset or a reader unplugged mid-script is "card removed".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include "links.h"

struct agent_pcsc {
	SCARDCONTEXT	 ctx;
	SCARDHANDLE	 h;
	DWORD		 proto;
	int		 connected;
	char		*want;		/* name or prefix, NULL: any */
	char		 name[256];	/* the reader found */
};

/* Finds the reader; 1 found, 0 not (yet), or an error. */
static int
find_reader(struct agent_pcsc *p)
{
	char buf[4096];
	DWORD len = sizeof(buf);
	LONG rv;
	const char *r;

	rv = SCardListReaders(p->ctx, NULL, buf, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE || rv == SCARD_E_TIMEOUT)
		return 0;
	if (rv != SCARD_S_SUCCESS || len == 0 || len > sizeof(buf))
		return rv == SCARD_S_SUCCESS ? 0 : AGENT_ERR_CARD;
	buf[sizeof(buf) - 1] = '\0';
	for (r = buf; *r != '\0' && r < buf + len; r += strlen(r) + 1) {
		if (p->want != NULL &&
		    strncmp(r, p->want, strlen(p->want)) != 0)
			continue;
		if (strlen(r) >= sizeof(p->name))
			continue;
		strcpy(p->name, r);
		return 1;
	}
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static long
left_ms(long deadline)
{
	long d;

	if (deadline < 0)
		return -1;
	d = deadline - now_ms();
	return d > 0 ? d : 0;
}

/* Waits until the reader's state has (want = 1) or lacks a card. */
static int
wait_state(struct agent_pcsc *p, int timeout_ms, int want)
{
	SCARD_READERSTATE st;
	long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms, l;
	LONG rv;
	int r;

	while ((r = find_reader(p)) == 0) {
		if ((l = left_ms(deadline)) == 0)
			return 0;
		nanosleep(&(struct timespec){ 0, 200000000L }, NULL);
	}
	if (r < 0)
		return r;
	memset(&st, 0, sizeof(st));
	st.szReader = p->name;
	st.dwCurrentState = SCARD_STATE_UNAWARE;
	for (;;) {
		l = left_ms(deadline);
		rv = SCardGetStatusChange(p->ctx, l < 0 ? INFINITE :
		    (DWORD)l, &st, 1);
		if (rv == SCARD_E_TIMEOUT)
			return 0;
		if (rv != SCARD_S_SUCCESS)
			return AGENT_ERR_CARD;
		if (want && (st.dwEventState & SCARD_STATE_PRESENT) &&
		    !(st.dwEventState & SCARD_STATE_MUTE))
			return 1;
		if (!want && (st.dwEventState & SCARD_STATE_EMPTY))
			return 1;
		st.dwCurrentState = st.dwEventState & ~SCARD_STATE_CHANGED;
	}
}

static int
pcsc_present(void *ctx, int timeout_ms)
{
	return wait_state(ctx, timeout_ms, 1);
}

static int
card_err(LONG rv)
{
	switch (rv) {
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
	case SCARD_W_RESET_CARD:
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_W_UNPOWERED_CARD:
		return AGENT_ERR_CARD_REMOVED;
	}
	return AGENT_ERR_CARD;
}

static int
pcsc_open(void *ctx)
{
	struct agent_pcsc *p = ctx;
	LONG rv;

	if (p->name[0] == '\0' && find_reader(p) != 1)
		return AGENT_ERR_NO_CARD;
	rv = SCardConnect(p->ctx, p->name, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &p->h, &p->proto);
	if (rv != SCARD_S_SUCCESS)
		return card_err(rv) == AGENT_ERR_CARD_REMOVED ?
		    AGENT_ERR_NO_CARD : AGENT_ERR_CARD;
	p->connected = 1;
	return 0;
}

static int
pcsc_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t cap, size_t *rlen)
{
	struct agent_pcsc *p = ctx;
	DWORD len = cap > MAX_BUFFER_SIZE_EXTENDED ?
	    MAX_BUFFER_SIZE_EXTENDED : (DWORD)cap;
	LONG rv;

	if (!p->connected)
		return AGENT_ERR_CARD;
	rv = SCardTransmit(p->h, p->proto == SCARD_PROTOCOL_T0 ?
	    SCARD_PCI_T0 : SCARD_PCI_T1, cmd, (DWORD)n, NULL, rsp, &len);
	if (rv != SCARD_S_SUCCESS)
		return card_err(rv);
	*rlen = len;
	return 0;
}

static void
pcsc_close(void *ctx)
{
	struct agent_pcsc *p = ctx;

	if (p->connected)
		SCardDisconnect(p->h, SCARD_LEAVE_CARD);
	p->connected = 0;
}

static const struct agent_card_ops pcsc_ops = {
	.present = pcsc_present,
	.open = pcsc_open,
	.transmit = pcsc_transmit,
	.close = pcsc_close,
};

int
agent_pcsc_new(const char *reader, struct agent_pcsc **out)
{
	struct agent_pcsc *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return AGENT_ERR_NOMEM;
	if (reader != NULL && (p->want = strdup(reader)) == NULL) {
		free(p);
		return AGENT_ERR_NOMEM;
	}
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &p->ctx) != SCARD_S_SUCCESS) {
		free(p->want);
		free(p);
		return AGENT_ERR_CARD;
	}
	*out = p;
	return 0;
}

void
agent_pcsc_free(struct agent_pcsc *p)
{
	if (p == NULL)
		return;
	pcsc_close(p);
	SCardReleaseContext(p->ctx);
	free(p->want);
	free(p);
}

void
agent_pcsc_card(struct agent_pcsc *p, struct agent_card *c)
{
	c->ops = &pcsc_ops;
	c->ctx = p;
}

int
agent_pcsc_wait_removed(struct agent_pcsc *p, int timeout_ms)
{
	return wait_state(p, timeout_ms, 0);
}
