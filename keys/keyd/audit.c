/*
 * The audit trail of tsm-keyd: one line per request saying who (uid, pid),
 * what (request name), which key (label, version) and the outcome. Key
 * values never reach this file: only names and error strings do.
 *
 * Lines are buffered per worker and written with one write(2) per batch
 * of requests (keyd_audit_flush), before the batch's answers are sent: no
 * answer leaves keyd before its audit line is in the file. The file is
 * opened O_APPEND, and a flush holds whole lines, so the workers' lines
 * never interleave.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keyd_int.h"

void
keyd_audit_flush(struct keyd *k)
{
	size_t off = 0;
	ssize_t w;

	while (k->audit_fd >= 0 && off < k->alen) {
		w = write(k->audit_fd, k->abuf + off, k->alen - off);
		if (w <= 0)
			break;	/* nothing better to do than drop it */
		off += (size_t)w;
	}
	k->alen = 0;
}

void
keyd_audit(struct keyd *k, uid_t uid, pid_t pid, const struct keys_req *q,
    int result)
{
	struct timespec ts;
	struct tm tm;
	char line[512];
	int n;

	if (k->audit_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec != k->asec || k->awhen[0] == '\0') {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(k->awhen, sizeof(k->awhen), "%Y-%m-%dT%H:%M:%SZ", &tm);
		k->asec = ts.tv_sec;
	}
	n = snprintf(line, sizeof(line),
	    "%s tsm-keyd uid=%u pid=%d req=%s key=%s/%u%s%s result=%s\n",
	    k->awhen, (unsigned)uid, (int)pid, keys_req_name(q->type),
	    q->label[0] != '\0' ? q->label : "-", (unsigned)q->ver,
	    q->label2[0] != '\0' ? " target=" : "", q->label2,
	    result == 0 ? "ok" : keys_strerror(result));
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	if (k->alen + (size_t)n > sizeof(k->abuf))
		keyd_audit_flush(k);
	memcpy(k->abuf + k->alen, line, (size_t)n);
	k->alen += (size_t)n;
}
