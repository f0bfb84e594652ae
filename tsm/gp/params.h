/*
 * INSTALL parameter encodings.
 *
 * The install parameters field of INSTALL [for install] (GP Card
 * Specification 2.3.1 table 11-49) is C9 (application specific, always
 * present, possibly empty) ‖ optional EF (system specific) ‖ optional EA
 * (ETSI TS 102 226 UICC system specific parameters). This module builds
 * that field and the contents that go into its parts: security domain
 * parameters (for C9 of an SD), the UICC toolkit/access parameters (EA)
 * and the SIM file access and toolkit parameters (CA, inside EF).
 *
 * Lengths are BER (one byte below 128, then 81 xx); all fields are short.
 */
#ifndef GP_PARAMS_H
#define GP_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"

/* An optional byte string: set = 0 means absent, len 0 means empty. */
struct gp_param {
	const uint8_t	*p;
	size_t		 len;
	int		 set;
};

/* Security domain parameters, written in this tag order. */
struct gp_sd_params {
	struct gp_param	 scp;			/* 81: id ‖ i pairs */
	struct gp_param	 accept_extr_here;	/* 82 */
	struct gp_param	 accept_deletion;	/* 83 */
	int		 personalized;		/* 84 00 */
	struct gp_param	 casd_capability;	/* 86 */
	struct gp_param	 accept_extr_away;	/* 87 */
};

int	gp_params_sd(const struct gp_sd_params *, struct gp_wr *);

/* TS 102 226 toolkit application parameters (menu: position ‖ id pairs). */
struct gp_toolkit {
	uint8_t		 priority;
	uint8_t		 max_timers;
	uint8_t		 max_text;
	uint8_t		 max_channels;
	uint8_t		 max_services;	/* UICC form only */
	const uint8_t	*menu;
	size_t		 menu_len;
	const uint8_t	*msl;		/* MSL parameter ‖ MSL data */
	size_t		 msl_len;
	const uint8_t	*tars;		/* 3 bytes per TAR */
	size_t		 tars_len;
};

/* UICC access application specific parameters: one rule per file system. */
struct gp_uicc_rule {
	const uint8_t	*aid;
	size_t		 aid_len;
	const uint8_t	*domain;	/* access domain */
	size_t		 domain_len;
	const uint8_t	*dap;		/* administrative access domain */
	size_t		 dap_len;
};

/* 80 LV(toolkit ‖ max services) [81 LV(rules)]: the content of EA. */
int	gp_params_uicc(const struct gp_toolkit *, const struct gp_uicc_rule *,
	    size_t nrules, struct gp_wr *);
/* LV(access domain) ‖ toolkit (no max services): the content of CA. */
int	gp_params_sim(const uint8_t *domain, size_t domain_len,
	    const struct gp_toolkit *, struct gp_wr *);
/* C9 ‖ length ‖ app (an empty app gives C9 00). */
int	gp_params_c9(const uint8_t *app, size_t app_len, struct gp_wr *);
/* The whole install parameters field: C9 [EF sys] [EA uicc]. */
int	gp_params_install(const uint8_t *app, size_t app_len,
	    const uint8_t *sys, size_t sys_len, const uint8_t *uicc,
	    size_t uicc_len, struct gp_wr *);

#endif
