/*
 * tsmctl: the operator's command-line tool. Each subcommand lives in its
 * own file; this one only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "tsmctl.h"

static const struct tsmctl_cmd cmds[] = {
	{ "vectors", "vectors [-v] [--strict] DIR...  check known-answer vectors",
	    tsmctl_vectors },
	{ "cap", "cap demo|info|loadfile ...  build or inspect CAP files",
	    tsmctl_cap },
	{ "demo", "demo [CAP]             SCP03 host/card session over memory",
	    tsmctl_demo },
	{ "keys", "keys ...               key ceremony (through tsm-keyd)",
	    tsmctl_keys },
	{ "db", "db migrate|status      store schema", tsmctl_db },
	{ "inventory", "inventory import|list|show|transition  card inventory",
	    tsmctl_inventory },
	{ "card", "card history CARD      a card's state history", tsmctl_card },
	{ "audit", "audit verify           walk the audit hash chain",
	    tsmctl_audit },
	{ "op", "op queue|list|show     card operations queue", tsmctl_op },
	{ "agent", "agent init|enrol|revoke  agent CA and certificates", tsmctl_agent },
	{ "offline-script", "offline-script --proto 3|2 ... --out FILE  "
	    "secure-channel session for scriptor", tsmctl_offline_script },
};

static void
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: tsmctl COMMAND [ARGS]\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  tsmctl %s\n", cmds[i].help);
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage();
		return 2;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 2, argv + 2);
	usage();
	return 2;
}
