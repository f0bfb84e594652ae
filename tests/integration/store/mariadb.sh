#!/usr/bin/env bash
# Runs the store suite and the tsmctl script against a throw-away MariaDB:
# Debian's mariadbd on a temporary datadir, a unix socket in that dir and
# a loopback port, no systemd, no grant tables; stopped on exit.
# usage: mariadb.sh STORE_SUITE TSMCTL TSMCTL_SH
#        mariadb.sh --run CMD [ARGS]   (CMD sees TSM_MARIADB_SOCKET; for
#                                       the benchmark)
set -u
run=
if [ "$1" = --run ]; then
	shift
	run=1
else
	suite=$1 tsmctl=$2 cli=$3
fi
d=$(mktemp -d /tmp/tsm-mariadb.XXXXXX)
pid=
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	fi
	rm -rf "$d"
}
trap stop EXIT
PATH=$PATH:/usr/sbin:/usr/bin
command -v mariadbd >/dev/null || { echo "mariadbd missing: tools/scripts/deps.sh"; exit 1; }
user=()
[ "$(id -u)" -eq 0 ] && user=(--user=root)
# --skip-name-resolve --force: the server only ever listens on 127.0.0.1
# and a unix socket, so the host name need not resolve (minimal systems).
mariadb-install-db --no-defaults --datadir="$d/data" --auth-root-authentication-method=normal \
	--skip-test-db --skip-name-resolve --force "${user[@]}" >"$d/install.log" 2>&1 ||
	{ cat "$d/install.log"; exit 1; }
port=$(( 20000 + RANDOM % 20000 ))
mariadbd --no-defaults --datadir="$d/data" --socket="$d/sock" --port="$port" \
	--bind-address=127.0.0.1 --skip-grant-tables --skip-name-resolve \
	--innodb-buffer-pool-size=256M --innodb-log-file-size=256M \
	--innodb-flush-log-at-trx-commit=2 --log-error="$d/err.log" \
	--pid-file="$d/pid" "${user[@]}" &
pid=$!
for _ in $(seq 1 300); do
	[ -S "$d/sock" ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$d/err.log"; exit 1; }
	sleep 0.1
done
[ -S "$d/sock" ] || { echo "mariadbd did not start"; cat "$d/err.log"; exit 1; }
if [ -n "$run" ]; then
	TSM_MARIADB_SOCKET="$d/sock" "$@"
	exit $?
fi
mkdir "$d/scratch"
"$suite" "mariadb://root@localhost/%s?socket=$d/sock&create=1" "$d/scratch" || exit 1
# the loopback port works as well as the socket
"$suite" "mariadb://root@127.0.0.1:$port/%s?create=1" "$d/scratch" >/dev/null 2>&1 <<<"" &&
	echo "suite over TCP: ok" || { echo "suite over TCP failed"; exit 1; }
bash "$cli" "$tsmctl" "mariadb://root@localhost/%s?socket=$d/sock&create=1" || exit 1
