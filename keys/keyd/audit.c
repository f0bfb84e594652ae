/*
 * The audit trail of tsm-keyd: one line per request saying who (uid, pid),
 * what (request name), which key (label, version) and the outcome. Key
 * values never reach this file: only names and error strings do.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "keyd_int.h"

void
keyd_audit(int fd, uid_t uid, pid_t pid, const struct keys_req *q, int result)
{
	struct timespec ts;
	struct tm tm;
	char when[32], line[512];
	int n;

	if (fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line),
	    "%s tsm-keyd uid=%u pid=%d req=%s key=%s/%u%s%s%s result=%s\n",
	    when, (unsigned)uid, (int)pid, keys_req_name(q->type),
	    q->label[0] != '\0' ? q->label : "-", (unsigned)q->ver,
	    q->label2[0] != '\0' ? " target=" : "", q->label2,
	    q->label2[0] != '\0' ? "" : "",
	    result == 0 ? "ok" : keys_strerror(result));
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(fd, line, (size_t)n) != n)
		return;
}
