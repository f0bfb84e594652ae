/*
 * libtsmkeys: one request, one answer, over the keyd socket. A dropped
 * connection fails the call cleanly (KEYS_ERR_IO) and the next call
 * reconnects. Answers are parsed through gp_rd like any outside bytes.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gp/buf.h"
#include "gp/err.h"
#include "keys.h"
#include "keys_proto.h"

void
keys_init(struct keys_client *c, const char *path, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : KEYS_TIMEOUT_MS;
}

void
keys_close(struct keys_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int
keys_connect(struct keys_client *c)
{
	struct sockaddr_un sa;
	struct timeval tv;
	int fd;

	if (c->fd >= 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(c->path) >= sizeof(sa.sun_path))
		return KEYS_ERR_INVAL;
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return KEYS_ERR_IO;
	/*
	 * Timeouts by the kernel (SO_RCVTIMEO/SO_SNDTIMEO): a blocking recv or
	 * send is one system call, where poll + recv was two.
	 */
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return KEYS_ERR_IO;
	}
	c->fd = fd;
	return 0;
}

static int
io_err(void)
{
	return errno == EAGAIN ? KEYS_ERR_TIMEOUT :
	    KEYS_ERR_IO;
}

static int
send_all(struct keys_client *c, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? io_err() : KEYS_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Answers are read through a buffer: one recv takes whatever keyd has
 * sent (a whole answer, or several when requests were pipelined).
 */
#define RB_CAP	(2 * (KEYS_MSG_MAX + 4))

struct rbuf {
	uint8_t	 b[RB_CAP];
	size_t	 off, len;
};

static int
rb_fill(struct keys_client *c, struct rbuf *rb, size_t need)
{
	ssize_t g;

	if (rb->len - rb->off >= need)
		return 0;
	if (rb->off > 0) {
		memmove(rb->b, rb->b + rb->off, rb->len - rb->off);
		rb->len -= rb->off;
		gp_wipe(rb->b + rb->len, rb->off);
		rb->off = 0;
	}
	while (rb->len < need) {
		g = recv(c->fd, rb->b + rb->len, sizeof(rb->b) - rb->len, 0);
		if (g < 0 && errno == EINTR)
			continue;
		if (g <= 0)
			return g < 0 ? io_err() : KEYS_ERR_IO;
		rb->len += (size_t)g;
	}
	return 0;
}

/* The next answer's body; it stays valid until the next rb_frame. */
static int
rb_frame(struct keys_client *c, struct rbuf *rb, const uint8_t **body,
    size_t *n)
{
	const uint8_t *h;
	uint32_t len;
	int r;

	if ((r = rb_fill(c, rb, 4)) != 0)
		return r;
	h = rb->b + rb->off;
	len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
	if (len == 0 || len > KEYS_MSG_MAX)
		return KEYS_ERR_TOOLARGE;
	if ((r = rb_fill(c, rb, 4 + (size_t)len)) != 0)
		return r;
	*body = rb->b + rb->off + 4;
	*n = len;
	rb->off += 4 + (size_t)len;
	return 0;
}

/* Appends one request frame (length, body) to w. */
static int
put_frame(const struct keys_req *req, struct gp_wr *w)
{
	size_t at = w->len, n;
	int r;

	if (gp_wr_put(w, "\0\0\0\0", 4) != 0)
		return KEYS_ERR_TOOLARGE;
	if ((r = keys_req_encode(req, w)) != 0)
		return r;
	n = w->len - at - 4;
	if (n > KEYS_MSG_MAX)
		return KEYS_ERR_TOOLARGE;
	w->p[at] = (uint8_t)(n >> 24);
	w->p[at + 1] = (uint8_t)(n >> 16);
	w->p[at + 2] = (uint8_t)(n >> 8);
	w->p[at + 3] = (uint8_t)n;
	return 0;
}

/* Status of an answer body; rd is set on the result after it. */
static int
answer_status(struct keys_client *c, const uint8_t *body, size_t n,
    struct gp_rd *rd)
{
	uint8_t st;
	int r;

	gp_rd_init(rd, body, n);
	if (gp_rd_u8(rd, &st) != 0)
		return KEYS_ERR_PROTO;
	r = st == 0 ? 0 : -(int)st;
	if (r < -KEYS_ERR_MAX)
		r = KEYS_ERR_PROTO;
	/* keyd hangs up on a refused or malformed request: so do we. */
	if (r == KEYS_ERR_DENIED || r == KEYS_ERR_PROTO ||
	    r == KEYS_ERR_TOOLARGE)
		keys_close(c);
	return r;
}

/*
 * Sends req and receives the answer into ans (KEYS_MSG_MAX bytes); rd is
 * set on the result after the status byte. The caller wipes ans.
 */
static int
call(struct keys_client *c, const struct keys_req *req, uint8_t *ans,
    struct gp_rd *rd)
{
	uint8_t body[KEYS_MSG_MAX + 4];
	struct rbuf rbs, *rb = &rbs;
	const uint8_t *a;
	struct gp_wr w;
	size_t n = 0;
	int r;

	gp_rd_init(rd, ans, 0);
	gp_wr_init(&w, body, sizeof(body));
	if ((r = put_frame(req, &w)) != 0)
		goto out;
	rb->off = rb->len = 0;
	if ((r = keys_connect(c)) != 0)
		goto out;
	if ((r = send_all(c, body, w.len)) != 0 ||
	    (r = rb_frame(c, rb, &a, &n)) != 0 || rb->off != rb->len) {
		if (r == 0)
			r = KEYS_ERR_PROTO;	/* more than one answer */
		keys_close(c);	/* stream state unknown: start afresh */
		goto out;
	}
	memcpy(ans, a, n);
	r = answer_status(c, ans, n, rd);
out:
	gp_wipe(rb->b, rb->len);
	gp_wipe(body, w.len);
	return r;
}

static int
done(struct gp_rd *rd, int r)
{
	if (r == 0 && gp_rd_left(rd) != 0)
		return KEYS_ERR_PROTO;
	return r;
}

int
keys_ping(struct keys_client *c)
{
	struct keys_req q = { .type = KEYS_REQ_PING };
	uint8_t ans[KEYS_MSG_MAX];
	struct gp_rd rd;
	int r;

	r = done(&rd, call(c, &q, ans, &rd));
	return r;
}

/* A label that does not fit is refused, never cut: a cut label could
 * name another key set. */
static int
set_label(char *dst, const char *src)
{
	if (src == NULL || strlen(src) > KEYS_LABEL_MAX)
		return KEYS_ERR_INVAL;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int
open_req(struct keys_req *q, const struct keys_open_req *o)
{
	memset(q, 0, sizeof(*q));
	q->type = KEYS_REQ_OPEN;
	if (o->aidlen > 16 || set_label(q->label, o->label) != 0)
		return KEYS_ERR_INVAL;
	q->ver = o->version;
	q->proto = (uint8_t)o->proto;
	q->i = o->i;
	q->s = o->s;
	q->hc = o->host_challenge;
	q->hclen = o->s;
	q->rsp = o->rsp;
	q->rsplen = o->rsplen;
	q->aid = o->sd_aid;
	q->aidlen = o->sd_aid != NULL ? o->aidlen : 0;
	return 0;
}

/* The result of an open answer (after its status) into out. */
static int
open_result(struct gp_rd *rd, uint8_t s, struct keys_session *out)
{
	const uint8_t *hcr;
	uint8_t klen;
	size_t hn;

	if (gp_rd_u8(rd, &klen) != 0 || klen == 0 || klen > GP_KEY_MAX ||
	    gp_rd_copy(rd, out->enc, klen) != 0 ||
	    gp_rd_copy(rd, out->mac, klen) != 0 ||
	    gp_rd_copy(rd, out->rmac, klen) != 0 ||
	    gp_rd_lv(rd, &hcr, &hn) != 0 || hn != s || hn > 16)
		return KEYS_ERR_PROTO;
	memcpy(out->host_cryptogram, hcr, hn);
	out->len = klen;
	out->s = hn;
	return done(rd, 0);
}

int
keys_open_channel_aid(struct keys_client *c, const char *label,
    uint8_t version, int proto, uint8_t i, uint8_t s, const uint8_t *hc,
    const uint8_t *rsp, size_t rsplen, const uint8_t *aid, size_t aidlen,
    struct keys_session *out)
{
	struct keys_open_req o = { label, version, proto, i, s, hc, rsp,
	    rsplen, aid, aidlen };
	struct keys_req q;
	uint8_t ans[KEYS_MSG_MAX];
	struct gp_rd rd;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = open_req(&q, &o)) != 0)
		return r;
	if ((r = call(c, &q, ans, &rd)) == 0)
		r = open_result(&rd, s, out);
	if (r != 0)
		keys_session_wipe(out);
	gp_wipe(ans, sizeof(ans));
	return r;
}

int
keys_open_channel(struct keys_client *c, const char *label, uint8_t version,
    int proto, uint8_t i, uint8_t s, const uint8_t *hc, const uint8_t *rsp,
    size_t rsplen, struct keys_session *out)
{
	return keys_open_channel_aid(c, label, version, proto, i, s, hc, rsp,
	    rsplen, NULL, 0, out);
}

int
keys_open_channels(struct keys_client *c, const struct keys_open_req *o,
    size_t n, struct keys_session *out, int *res)
{
	uint8_t body[KEYS_PIPELINE_MAX * 160];
	struct rbuf rb;
	struct keys_req q;
	const uint8_t *a;
	struct gp_rd rd;
	struct gp_wr w;
	size_t k, an;
	int r = 0;

	rb.off = rb.len = 0;
	for (k = 0; k < n && k < KEYS_PIPELINE_MAX; k++) {
		memset(&out[k], 0, sizeof(out[k]));
		res[k] = KEYS_ERR_IO;
	}
	if (n == 0 || n > KEYS_PIPELINE_MAX)
		return KEYS_ERR_INVAL;
	gp_wr_init(&w, body, sizeof(body));
	for (k = 0; k < n; k++) {
		if ((r = open_req(&q, &o[k])) != 0 ||
		    (r = put_frame(&q, &w)) != 0)
			return r;
	}
	if ((r = keys_connect(c)) != 0)
		return r;
	if ((r = send_all(c, body, w.len)) != 0) {
		keys_close(c);
		goto out;
	}
	for (k = 0; k < n; k++) {
		if ((r = rb_frame(c, &rb, &a, &an)) != 0) {
			keys_close(c);
			break;
		}
		if ((res[k] = answer_status(c, a, an, &rd)) == 0)
			res[k] = open_result(&rd, o[k].s, &out[k]);
		if (res[k] != 0)
			keys_session_wipe(&out[k]);
		if (c->fd < 0 && k + 1 < n) {	/* keyd hung up */
			r = KEYS_ERR_IO;
			break;
		}
	}
	if (r == 0 && rb.off != rb.len) {
		r = KEYS_ERR_PROTO;
		keys_close(c);
	}
out:
	for (; r != 0 && k < n; k++) {
		keys_session_wipe(&out[k]);
		res[k] = r;
	}
	gp_wipe(rb.b, rb.len);
	return r;
}

/* A predict request from p; every field is checked before it is sent. */
static int
predict_req(struct keys_req *q, const struct keys_predict_req *p)
{
	memset(q, 0, sizeof(*q));
	if (p->label == NULL || strlen(p->label) > KEYS_LABEL_MAX ||
	    !keys_label_valid(p->label) || p->kdd == NULL ||
	    p->host_challenge == NULL || p->sd_aid == NULL)
		return KEYS_ERR_INVAL;
	if (!(p->i & GP_SCP03_I_PRAND) || (p->s != 8 && p->s != 16) ||
	    p->seq > 0xFFFFFF || p->aidlen < 5 || p->aidlen > 16)
		return KEYS_ERR_INVAL;
	q->type = KEYS_REQ_PREDICT;
	(void)set_label(q->label, p->label);	/* checked above */
	q->ver = p->version;
	q->proto = 3;
	q->i = p->i;
	q->s = p->s;
	q->hc = p->host_challenge;
	q->hclen = p->s;
	memcpy(q->kdd, p->kdd, GP_KDD_LEN);
	q->ctr = p->seq;
	q->aid = p->sd_aid;
	q->aidlen = p->aidlen;
	return 0;
}

/*
 * The predicted response in an answer: its length, and every field the
 * request fixed (KDD, version, 03, i, counter) must be as asked.
 */
static int
predict_rsp(struct gp_rd *rd, const struct keys_predict_req *p,
    const uint8_t **rsp, size_t *n)
{
	const uint8_t *kdd, *cc;
	struct gp_rd b;
	uint8_t kvn, scp, i;
	uint32_t seq;

	if (gp_rd_lv(rd, rsp, n) != 0 || *n != 16 + 2 * (size_t)p->s)
		return KEYS_ERR_PROTO;
	gp_rd_init(&b, *rsp, *n);
	if (gp_rd_bytes(&b, GP_KDD_LEN, &kdd) != 0 ||
	    gp_rd_u8(&b, &kvn) != 0 || gp_rd_u8(&b, &scp) != 0 ||
	    gp_rd_u8(&b, &i) != 0 || gp_rd_bytes(&b, 2 * (size_t)p->s,
	    &cc) != 0 || gp_rd_u24(&b, &seq) != 0 || gp_rd_left(&b) != 0)
		return KEYS_ERR_PROTO;
	if (memcmp(kdd, p->kdd, GP_KDD_LEN) != 0 || kvn != p->version ||
	    scp != 0x03 || i != p->i || seq != p->seq)
		return KEYS_ERR_PROTO;
	return 0;
}

int
keys_predict_channel(struct keys_client *c,
    const struct keys_predict_req *p, uint8_t *rsp, size_t cap,
    size_t *rsplen, struct keys_session *out)
{
	uint8_t ans[KEYS_MSG_MAX];
	const uint8_t *pr;
	struct keys_req q;
	struct gp_rd rd;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	*rsplen = 0;
	if (p == NULL || (r = predict_req(&q, p)) != 0)
		return KEYS_ERR_INVAL;
	if (rsp == NULL || cap < 16 + 2 * (size_t)p->s)
		return KEYS_ERR_INVAL;
	if ((r = call(c, &q, ans, &rd)) != 0 ||
	    (r = predict_rsp(&rd, p, &pr, &n)) != 0 ||
	    (r = open_result(&rd, p->s, out)) != 0)
		goto out;
	memcpy(rsp, pr, n);
	*rsplen = n;
out:
	if (r != 0)
		keys_session_wipe(out);
	gp_wipe(ans, sizeof(ans));
	return r;
}

void
keys_session_wipe(struct keys_session *s)
{
	gp_wipe(s, sizeof(*s));
}

int
keys_session_start(const struct keys_session *ks, int proto, uint8_t i,
    uint8_t kvn, const uint8_t *host_challenge, const uint8_t *rsp,
    size_t rsplen, uint8_t level, struct gp_scp *scp, struct gp_wr *apdu)
{
	struct gp_scp_keys k;
	uint8_t iu[64];
	struct gp_wr w;
	int r;

	if (ks->s == 0 || ks->s > 16 || ks->len > GP_KEY_MAX)
		return KEYS_ERR_INVAL;
	memset(&k, 0, sizeof(k));
	memcpy(k.enc, ks->enc, ks->len);
	memcpy(k.mac, ks->mac, ks->len);
	memcpy(k.rmac, ks->rmac, ks->len);
	k.len = ks->len;	/* the DEK stays in keyd (PUT KEY asks it) */
	gp_wr_init(&w, iu, sizeof(iu));
	if ((r = gp_scp_host_init(scp, proto, i, (uint8_t)ks->s, kvn,
	    host_challenge, &w)) != 0) {
		r = KEYS_ERR_INVAL;
		goto out;
	}
	if ((r = gp_scp_host_auth_session(scp, &k, rsp, rsplen)) != 0) {
		r = r == GP_ERR_AUTH ? KEYS_ERR_CARD_CRYPTOGRAM : KEYS_ERR_INVAL;
		goto out;
	}
	/* libgp derived the host cryptogram itself: keyd must agree. */
	if (gp_ct_memcmp(scp->host_cryptogram, ks->host_cryptogram,
	    ks->s) != 0) {
		r = KEYS_ERR_INVAL;
		goto out;
	}
	if ((r = gp_scp_host_ext_auth(scp, level, apdu)) != 0)
		r = r == GP_ERR_SPACE ? KEYS_ERR_TOOLARGE : KEYS_ERR_INVAL;
out:
	if (r != 0)
		gp_scp_free(scp);
	gp_wipe(&k, sizeof(k));
	return r;
}

int
keys_put_key(struct keys_client *c, const struct keys_putkey_req *p,
    struct gp_wr *apdu, uint8_t kcvs[9])
{
	struct keys_req q = { .type = KEYS_REQ_PUTKEY };
	uint8_t ans[KEYS_MSG_MAX];
	const uint8_t *a;
	struct gp_rd rd;
	uint16_t n;
	int r;

	if (set_label(q.label, p->label) != 0 ||
	    set_label(q.label2, p->new_label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = p->version;
	q.proto = (uint8_t)p->proto;
	q.s = 8;
	memcpy(q.kdd, p->kdd, GP_KDD_LEN);
	memcpy(q.seq, p->seq, 2);
	q.ver2 = p->new_version;
	q.old_kvn = p->old_kvn;
	q.new_kvn = p->new_kvn;
	q.key_id = p->key_id;
	if ((r = call(c, &q, ans, &rd)) != 0)
		goto out;
	if (gp_rd_u16(&rd, &n) != 0 || gp_rd_bytes(&rd, n, &a) != 0 ||
	    gp_rd_copy(&rd, kcvs, 9) != 0) {
		r = KEYS_ERR_PROTO;
		goto out;
	}
	if ((r = done(&rd, 0)) != 0)
		goto out;
	if (gp_wr_put(apdu, a, n) != 0)
		r = KEYS_ERR_TOOLARGE;
out:
	gp_wipe(ans, sizeof(ans));
	return r;
}

int
keys_card_kcv(struct keys_client *c, const char *label, uint8_t version,
    const uint8_t kdd[GP_KDD_LEN], uint8_t kcvs[9])
{
	struct keys_req q = { .type = KEYS_REQ_CARD_KCV };
	uint8_t ans[KEYS_MSG_MAX];
	struct gp_rd rd;
	int r;

	if (set_label(q.label, label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	memcpy(q.kdd, kdd, GP_KDD_LEN);
	if ((r = call(c, &q, ans, &rd)) == 0 && gp_rd_copy(&rd, kcvs, 9) != 0)
		r = KEYS_ERR_PROTO;
	return done(&rd, r);
}

static int
kcv_answer(struct keys_client *c, const struct keys_req *q, uint8_t kcv[3])
{
	uint8_t ans[KEYS_MSG_MAX];
	struct gp_rd rd;
	int r;

	if ((r = call(c, q, ans, &rd)) == 0 && gp_rd_copy(&rd, kcv, 3) != 0)
		r = KEYS_ERR_PROTO;
	return done(&rd, r);
}

int
keys_generate(struct keys_client *c, const char *label, uint8_t version,
    int role, int method, int alg, size_t len, uint8_t kcv[3])
{
	struct keys_req q = { .type = KEYS_REQ_GENERATE };

	if (len > 255)
		return KEYS_ERR_INVAL;
	if (set_label(q.label, label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	q.role = (uint8_t)role;
	q.method = (uint8_t)method;
	q.alg = (uint8_t)alg;
	q.klen = (uint8_t)len;
	return kcv_answer(c, &q, kcv);
}

int
keys_import_components(struct keys_client *c, const char *label,
    uint8_t version, int role, int method, int alg,
    const struct keys_component *comp, size_t n, uint8_t kcv[3])
{
	struct keys_req q = { .type = KEYS_REQ_IMPORT };
	size_t k;

	if (n < 2 || n > 3)
		return KEYS_ERR_INVAL;
	if (set_label(q.label, label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	q.role = (uint8_t)role;
	q.method = (uint8_t)method;
	q.alg = (uint8_t)alg;
	q.ncomp = n;
	for (k = 0; k < n; k++) {
		q.comp[k] = comp[k].value;
		q.complen[k] = comp[k].len;
		memcpy(q.kcv[k], comp[k].kcv, 3);
	}
	return kcv_answer(c, &q, kcv);
}

int
keys_import_wrapped(struct keys_client *c, const char *label,
    uint8_t version, int role, int method, int alg, size_t len,
    const char *tk_label, uint8_t tk_version, const uint8_t *blob,
    size_t bloblen, const uint8_t kcv[3], uint8_t out_kcv[3])
{
	struct keys_req q = { .type = KEYS_REQ_IMPORT_WRAPPED };

	if (len > 255)
		return KEYS_ERR_INVAL;
	if (set_label(q.label, label) != 0 ||
	    set_label(q.label2, tk_label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	q.role = (uint8_t)role;
	q.method = (uint8_t)method;
	q.alg = (uint8_t)alg;
	q.klen = (uint8_t)len;
	q.ver2 = tk_version;
	q.blob = blob;
	q.bloblen = bloblen;
	memcpy(q.kcv[0], kcv, 3);
	return kcv_answer(c, &q, out_kcv);
}

int
keys_list(struct keys_client *c, struct keys_info *out, size_t cap,
    size_t *n)
{
	struct keys_req q = { .type = KEYS_REQ_LIST };
	uint8_t ans[KEYS_MSG_MAX];
	const uint8_t *l;
	struct gp_rd rd;
	uint16_t cnt, k;
	size_t ln;
	int r;

	*n = 0;
	if ((r = call(c, &q, ans, &rd)) != 0)
		return r;
	if (gp_rd_u16(&rd, &cnt) != 0)
		return KEYS_ERR_PROTO;
	for (k = 0; k < cnt; k++) {
		struct keys_info ki;

		memset(&ki, 0, sizeof(ki));
		if (gp_rd_lv(&rd, &l, &ln) != 0 || ln > KEYS_LABEL_MAX ||
		    gp_rd_u8(&rd, &ki.version) != 0 ||
		    gp_rd_u8(&rd, &ki.role) != 0 ||
		    gp_rd_u8(&rd, &ki.method) != 0 ||
		    gp_rd_u8(&rd, &ki.alg) != 0 ||
		    gp_rd_u8(&rd, &ki.len) != 0 ||
		    gp_rd_copy(&rd, ki.kcv, 3) != 0)
			return KEYS_ERR_PROTO;
		memcpy(ki.label, l, ln);
		if (*n < cap)
			out[(*n)++] = ki;
	}
	return done(&rd, 0);
}

int
keys_hmac(struct keys_client *c, const char *label, uint8_t version,
    const uint8_t *data, size_t n, uint8_t out[32])
{
	struct keys_req q = { .type = KEYS_REQ_HMAC };
	uint8_t ans[KEYS_MSG_MAX];
	struct gp_rd rd;
	int r;

	if (n > KEYS_DATA_MAX)
		return KEYS_ERR_TOOLARGE;
	if (set_label(q.label, label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	q.data = data;
	q.datalen = n;
	if ((r = call(c, &q, ans, &rd)) == 0 && gp_rd_copy(&rd, out, 32) != 0)
		r = KEYS_ERR_PROTO;
	return done(&rd, r);
}

static int check_hash(size_t);

static int
blob_answer(struct keys_client *c, const struct keys_req *q, uint8_t *out,
    size_t cap, size_t *outlen)
{
	uint8_t ans[KEYS_MSG_MAX];
	const uint8_t *p;
	struct gp_rd rd;
	uint16_t n;
	int r;

	*outlen = 0;
	if ((r = call(c, q, ans, &rd)) != 0)
		return r;
	if (gp_rd_u16(&rd, &n) != 0 || gp_rd_bytes(&rd, n, &p) != 0)
		return KEYS_ERR_PROTO;
	if (n > cap)
		return KEYS_ERR_TOOLARGE;
	memcpy(out, p, n);
	*outlen = n;
	return done(&rd, 0);
}

int
keys_sign(struct keys_client *c, const char *label, uint8_t version,
    const uint8_t *hash, size_t hlen, uint8_t *sig, size_t cap,
    size_t *siglen)
{
	struct keys_req q = { .type = KEYS_REQ_SIGN };

	*siglen = 0;
	if (check_hash(hlen) != 0)
		return KEYS_ERR_INVAL;
	if (set_label(q.label, label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	q.data = hash;
	q.datalen = hlen;
	return blob_answer(c, &q, sig, cap, siglen);
}

int
keys_pubkey(struct keys_client *c, const char *label, uint8_t version,
    uint8_t *der, size_t cap, size_t *derlen)
{
	struct keys_req q = { .type = KEYS_REQ_PUBKEY };

	if (set_label(q.label, label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	return blob_answer(c, &q, der, cap, derlen);
}

static int
check_hash(size_t hlen)
{
	return hlen == 20 || hlen == 32 || hlen == 48 || hlen == 64 ? 0 :
	    KEYS_ERR_INVAL;
}

int
keys_sign_token(struct keys_client *c, const char *label, uint8_t version,
    int scheme, const uint8_t *data, size_t n, uint8_t *sig, size_t cap,
    size_t *siglen)
{
	struct keys_req q = { .type = KEYS_REQ_SIGN_TOKEN };

	*siglen = 0;
	if (scheme <= KEYS_SIG_AUTO || scheme > KEYS_SIG_LAST || n < 3 ||
	    n > 258)
		return KEYS_ERR_INVAL;
	if (set_label(q.label, label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	q.sigalg = (uint8_t)scheme;
	q.data = data;
	q.datalen = n;
	return blob_answer(c, &q, sig, cap, siglen);
}

int
keys_import_pair(struct keys_client *c, const char *label, uint8_t version,
    const uint8_t *der, size_t n, uint8_t fpr[3])
{
	struct keys_req q = { .type = KEYS_REQ_IMPORT_PAIR };

	if (n == 0 || n > KEYS_DATA_MAX)
		return KEYS_ERR_INVAL;
	if (set_label(q.label, label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	q.role = KEYS_ROLE_DAP;
	q.data = der;
	q.datalen = n;
	return kcv_answer(c, &q, fpr);
}

int
keys_verify_receipt(struct keys_client *c, const char *label,
    uint8_t version, const uint8_t *data, size_t n, const uint8_t *receipt,
    size_t rlen)
{
	struct keys_req q = { .type = KEYS_REQ_RECEIPT };
	uint8_t ans[KEYS_MSG_MAX];
	struct gp_rd rd;
	int r;

	if (n > KEYS_DATA_MAX || rlen < 8 || rlen > 16)
		return KEYS_ERR_INVAL;
	if (set_label(q.label, label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = version;
	q.data = data;
	q.datalen = n;
	q.mac = receipt;
	q.maclen = rlen;
	r = call(c, &q, ans, &rd);
	return done(&rd, r);
}

int
keys_encrypt_dgis(struct keys_client *c, const struct keys_dgi_req *d,
    const uint8_t *dgis, size_t n, struct gp_wr *out)
{
	struct keys_req q = { .type = KEYS_REQ_DGI };
	uint8_t ans[KEYS_MSG_MAX];
	const uint8_t *p;
	struct gp_rd rd;
	uint16_t len;
	int r;

	if (n == 0 || n > KEYS_DATA_MAX)
		return KEYS_ERR_INVAL;
	if (set_label(q.label, d->label) != 0)
		return KEYS_ERR_INVAL;
	q.ver = d->version;
	q.proto = (uint8_t)d->proto;
	q.s = 8;
	memcpy(q.kdd, d->kdd, GP_KDD_LEN);
	memcpy(q.seq, d->seq, 2);
	q.data = dgis;
	q.datalen = n;
	if ((r = call(c, &q, ans, &rd)) != 0)
		goto out;
	if (gp_rd_u16(&rd, &len) != 0 || gp_rd_bytes(&rd, len, &p) != 0) {
		r = KEYS_ERR_PROTO;
		goto out;
	}
	if ((r = done(&rd, 0)) == 0 && gp_wr_put(out, p, len) != 0)
		r = KEYS_ERR_TOOLARGE;
out:
	gp_wipe(ans, sizeof(ans));
	return r;
}
