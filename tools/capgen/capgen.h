/*
 * The demo CAP generator: a structurally valid CAP file for a trivial
 * applet, built in memory so that tsmctl, the tests and the fuzzers can
 * have a CAP without a Java Card converter. capgen.c documents the layout.
 */
#ifndef TSMCTL_CAPGEN_H
#define TSMCTL_CAPGEN_H

#include <stddef.h>
#include <stdint.h>

/* D2 76 00 01 77 54 53 4D 01: a proprietary RID and "TSM" 01. */
#define CAPGEN_PKG_AID	"D276000177"  "54534D01"

/* One ZIP entry to write: name and bytes (kept by the caller). */
struct capgen_ent {
	const char	*name;
	const uint8_t	*p;
	size_t		 len;
};

/*
 * Builds the demo CAP (ZIP bytes, caller frees *out). pkg_aid NULL: the
 * CAPGEN_PKG_AID package; applet_aid NULL: the package AID followed by 01.
 * AIDs are 5 to 16 bytes. Returns 0 or a negative enum gp_err.
 */
int	capgen_demo(const uint8_t *pkg_aid, size_t pkg_len,
	    const uint8_t *applet_aid, size_t applet_len, uint8_t **out,
	    size_t *outlen);
/*
 * The same with a static byte array of table bytes (1..65522) in its
 * Static Field component: a load file of about table + 300 bytes, to try
 * large installs with. table 0: capgen_demo.
 */
int	capgen_demo_table(const uint8_t *pkg_aid, size_t pkg_len,
	    const uint8_t *applet_aid, size_t applet_len, size_t table,
	    uint8_t **out, size_t *outlen);
/* Writes entries into a new in-memory ZIP (deflated); caller frees *out. */
int	capgen_zip(const struct capgen_ent *, size_t n, uint8_t **out,
	    size_t *outlen);

#endif
