#ifndef TSMCTL_H
#define TSMCTL_H

struct tsmctl_cmd {
	const char	*name;
	const char	*help;
	int		(*run)(int, char **);
};

int	tsmctl_vectors(int, char **);	/* vectors.c */
int	tsmctl_cap(int, char **);	/* cap.c */
int	tsmctl_demo(int, char **);	/* demo.c */
int	tsmctl_keys(int, char **);	/* cmd_keys.c */
int	tsmctl_cap_verify(int, char **);	/* cmd_capverify.c */
int	tsmctl_db(int, char **);	/* cmd_store.c */
int	tsmctl_inventory(int, char **);	/* cmd_store.c */
int	tsmctl_card(int, char **);	/* cmd_store.c */
int	tsmctl_audit(int, char **);	/* cmd_store.c */
int	tsmctl_op(int, char **);	/* cmd_op.c */
int	tsmctl_agent(int, char **);	/* cmd_agent.c */
int	tsmctl_offline_script(int, char **);	/* cmd_offline.c */

#endif
