/*
 * A bounded HTTP/1.1 response parser: the only code that reads the
 * server's bytes before libgp's script decoder does. It sees the whole
 * response so far and says "complete", "read more" or "refused".
 *
 * Bounds: the head (status line and headers) fits AGENT_HEAD_MAX, at
 * most AGENT_HEADERS_MAX header lines, a body only with a Content-Length
 * of at most AGENT_BODY_MAX (refused as soon as the head is read, before
 * any body byte is waited for). Chunked bodies, obsolete line folding and
 * bodies delimited by the end of the connection are refused: the TSM
 * sends Content-Length.
 */
#include <string.h>
#include <strings.h>

#include "agent_int.h"

struct hdr_state {
	long	clen;		/* -1: absent */
	int	ncard;		/* X-Admin-Card lines seen */
};

/* Next line (without CRLF) from rd; the head is known to end in CRLFCRLF. */
static int
next_line(struct gp_rd *rd, const char **line, size_t *len)
{
	const uint8_t *p = gp_rd_ptr(rd), *e;
	const uint8_t *b;

	if ((e = memchr(p, '\r', gp_rd_left(rd))) == NULL)
		return AGENT_ERR_HTTP;
	*len = (size_t)(e - p);
	if (gp_rd_bytes(rd, *len, &b) != 0 || gp_rd_skip(rd, 2) != 0 ||
	    b[*len] != '\r' || b[*len + 1] != '\n')
		return AGENT_ERR_HTTP;
	*line = (const char *)b;
	return 0;
}

static int
status_line(const char *s, size_t n, struct agent_http_rsp *rsp)
{
	size_t i;

	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
	    (n > 12 && s[12] != ' '))
		return AGENT_ERR_HTTP;
	rsp->status = 0;
	for (i = 9; i < 12; i++) {
		if (s[i] < '0' || s[i] > '9')
			return AGENT_ERR_HTTP;
		rsp->status = rsp->status * 10 + (s[i] - '0');
	}
	if (rsp->status < 100 || rsp->status > 599)
		return AGENT_ERR_HTTP;
	if (s[7] == '0')
		rsp->close = 1;
	return 0;
}

static int
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

static int
name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Equal, ignoring case and blanks (media type parameters). */
static int
ctype_is(const char *v, size_t n, const char *want)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] == ' ' || v[i] == '\t')
			continue;
		if (*want == '\0' || (v[i] | 0x20) != (*want | 0x20))
			return 0;
		want++;
	}
	return *want == '\0';
}

static int
content_length(const char *v, size_t n, struct hdr_state *st)
{
	long x = 0;
	size_t i;

	if (n == 0)
		return AGENT_ERR_HTTP;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return AGENT_ERR_HTTP;
		x = x * 10 + (v[i] - '0');
		if (x > AGENT_BODY_MAX)
			return AGENT_ERR_TOOBIG;
	}
	if (st->clen >= 0 && st->clen != x)
		return AGENT_ERR_HTTP;
	st->clen = x;
	return 0;
}

static int
session_id(const char *v, size_t n, struct agent_http_rsp *rsp)
{
	size_t i;

	if (n == 0 || n > AGENT_SESSION_MAX)
		return AGENT_ERR_PROTOCOL;
	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)v[i]))
			return AGENT_ERR_PROTOCOL;
	memcpy(rsp->session, v, n);
	rsp->session[n] = '\0';
	return 0;
}

/* Control characters become blanks; cut on a UTF-8 character boundary. */
static void
result_text(const char *v, size_t n, struct agent_http_rsp *rsp)
{
	size_t i;

	if (n > AGENT_RESULT_MAX) {
		n = AGENT_RESULT_MAX;
		while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		rsp->result[i] = (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
	}
	rsp->result[n] = '\0';
}

int
agent_csn_ok(const char *v, size_t n)
{
	size_t i;

	if (v == NULL || n != AGENT_CSN_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'A' &&
		    v[i] <= 'F')))
			return 0;
	return 1;
}

int
agent_id_ok(const char *v, size_t n)
{
	size_t i;

	if (v == NULL || n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') ||
		    v[i] == '-' || v[i] == '.' || v[i] == '_' || v[i] == '~'))
			return 0;
	return 1;
}

/*
 * Only a hint, so anything doubtful (not a CSN, or two of them) is
 * dropped rather than refused: the TSM then simply runs discovery.
 */
static void
card_hint(const char *v, size_t n, struct agent_http_rsp *rsp,
    struct hdr_state *st)
{
	if (st->ncard++ == 0 && agent_csn_ok(v, n)) {
		memcpy(rsp->card, v, n);
		rsp->card[n] = '\0';
	} else
		rsp->card[0] = '\0';
}

static int
header(const char *s, size_t n, struct agent_http_rsp *rsp,
    struct hdr_state *st)
{
	const char *colon, *v;
	size_t nn, vn;

	if ((colon = memchr(s, ':', n)) == NULL || colon == s)
		return AGENT_ERR_HTTP;
	nn = (size_t)(colon - s);
	for (v = s; v < colon; v++)
		if (!is_tchar((unsigned char)*v))
			return AGENT_ERR_HTTP;
	v = colon + 1;
	vn = n - nn - 1;
	while (vn > 0 && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (name_is(s, nn, "Content-Length"))
		return content_length(v, vn, st);
	if (name_is(s, nn, "Transfer-Encoding"))
		return AGENT_ERR_HTTP;
	if (name_is(s, nn, "Connection") && vn == 5 &&
	    strncasecmp(v, "close", 5) == 0)
		rsp->close = 1;
	else if (name_is(s, nn, "X-Admin-Session"))
		return session_id(v, vn, rsp);
	else if (name_is(s, nn, "X-Admin-Result"))
		result_text(v, vn, rsp);
	else if (name_is(s, nn, "X-Admin-Card"))
		card_hint(v, vn, rsp, st);
	else if (name_is(s, nn, "X-Admin-Protocol"))
		rsp->proto_ok = vn == strlen(AGENT_PROTOCOL) &&
		    memcmp(v, AGENT_PROTOCOL, vn) == 0;
	else if (name_is(s, nn, "Content-Type"))
		rsp->ctype_ok = ctype_is(v, vn, AGENT_CT_RESPONSE);
	return 0;
}

/* Length of the head up to and including CRLFCRLF, 0 when not there. */
static size_t
head_len(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 4 <= n; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

static int
parse_head(const uint8_t *p, size_t hl, struct agent_http_rsp *rsp,
    struct hdr_state *st)
{
	struct gp_rd rd;
	const char *line;
	size_t len;
	int r, count = 0;

	gp_rd_init(&rd, p, hl);
	if ((r = next_line(&rd, &line, &len)) != 0 ||
	    (r = status_line(line, len, rsp)) != 0)
		return r;
	for (;;) {
		if ((r = next_line(&rd, &line, &len)) != 0)
			return r;
		if (len == 0)
			return 0;
		if (++count > AGENT_HEADERS_MAX)
			return AGENT_ERR_TOOBIG;
		if ((r = header(line, len, rsp, st)) != 0)
			return r;
	}
}

int
agent_http_parse(const uint8_t *p, size_t n, struct agent_http_rsp *rsp)
{
	struct hdr_state st = { .clen = -1 };
	size_t hl;
	int r;

	memset(rsp, 0, sizeof(*rsp));
	if (p == NULL)
		return n == 0 ? 1 : AGENT_ERR_INVAL;
	if ((hl = head_len(p, n < AGENT_HEAD_MAX ? n : AGENT_HEAD_MAX)) == 0)
		return n >= AGENT_HEAD_MAX ? AGENT_ERR_TOOBIG : 1;
	if ((r = parse_head(p, hl, rsp, &st)) != 0)
		return r;
	if (rsp->status < 200)
		return AGENT_ERR_HTTP;	/* we never send Expect */
	if (rsp->status == 204 || rsp->status == 304)
		st.clen = 0;
	else if (st.clen < 0)
		return AGENT_ERR_HTTP;
	if (n - hl < (size_t)st.clen)
		return 1;
	rsp->body = p + hl;
	rsp->body_len = (size_t)st.clen;
	rsp->total = hl + (size_t)st.clen;
	return 0;
}
