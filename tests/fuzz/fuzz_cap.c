/*
 * libFuzzer harness for gp_cap_open_mem, the parser of uploaded CAP files,
 * and gp_cap_open_lfdb, the same checks on a loaded block (tsm-cardsim's).
 *
 * Random bytes seldom make a ZIP archive whose entries are CAP components,
 * so the first input byte picks one of two shapes:
 *   even: the rest is the ZIP archive itself (libzip and the entry walk);
 *   odd:  the rest is a run of components (tag, u2 size, body): opened as
 *         a Load File Data Block as it is, and zipped under
 *         <pkg>/javacard/<Name>.cap and opened as a CAP file: the fuzzer
 *         then mutates component structure directly.
 * Seeds: 00 || a CAP file, 01 || its components concatenated.
 *
 * The ZIP writer is the demo generator's (tools/capgen).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gp/buf.h"
#include "gp/cap.h"
#include "gp/err.h"
#include "capgen.h"

#define NENT	32

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
use(const struct gp_cap *cap)
{
	uint8_t md[32];
	size_t n;

	if (gp_cap_lfdb_hash(cap, GP_CAP_SHA256, md, sizeof(md), &n) != 0 ||
	    cap->c4_len != cap->lfdb_len + (size_t)(cap->lfdb - cap->c4))
		abort();
}

static void
open_zip(const uint8_t *p, size_t n)
{
	struct gp_cap *cap = NULL;

	if (gp_cap_open_mem(p, n, &cap) == 0) {
		use(cap);
		gp_cap_free(cap);
	} else if (cap != NULL)
		abort();
}

static void
open_lfdb(const uint8_t *p, size_t n)
{
	struct gp_cap *cap = NULL;

	if (gp_cap_open_lfdb(p, n, &cap) == 0) {
		use(cap);
		/* The rebuilt block holds nothing that was not given. */
		if (cap->lfdb_len > n)
			abort();
		gp_cap_free(cap);
	} else if (cap != NULL)
		abort();
}

/* Splits p into components and zips them; names repeat, libzip refuses. */
static void
open_components(const uint8_t *p, size_t n)
{
	struct capgen_ent e[NENT];
	char names[NENT][48];
	struct gp_rd rd;
	uint8_t tag, *zip;
	uint16_t size;
	size_t k = 0, zlen, start;

	gp_rd_init(&rd, p, n);
	while (k < NENT && gp_rd_left(&rd) >= 3) {
		start = rd.off;
		(void)gp_rd_u8(&rd, &tag);
		(void)gp_rd_u16(&rd, &size);
		if (size > gp_rd_left(&rd))
			size = (uint16_t)gp_rd_left(&rd);
		(void)gp_rd_skip(&rd, size);
		snprintf(names[k], sizeof(names[k]), "f/javacard/%s.cap",
		    gp_cap_comp_name(tag) ? gp_cap_comp_name(tag) : "Custom");
		e[k] = (struct capgen_ent){ names[k], p + start,
		    rd.off - start };
		k++;
	}
	if (capgen_zip(e, k, &zip, &zlen) != 0)
		return;
	open_zip(zip, zlen);
	free(zip);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
		open_zip(data + 1, size - 1);
	else {
		open_lfdb(data + 1, size - 1);
		open_components(data + 1, size - 1);
	}
	return 0;
}
