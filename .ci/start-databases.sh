#!/usr/bin/env bash
# Brings up the local servers the integration tests expect, on Debian 12 without systemd:
#   MariaDB     127.0.0.1:3306, user root, empty password, database `test`
#   PostgreSQL  127.0.0.1:5432, user postgres, trust authentication, database `test`
#   MariaDB     127.0.0.1:3307 with its binary log on (ROW), for the change-data capture tests: a second,
#               private server in its own data directory, so the main one is never restarted; started when
#               CI=true or DUALWRITE_CDC_MARIADB=yes (the tests find it through DUALWRITE_IT_CDC_MARIADB_URL,
#               which .ci/run sets, and skip without it outside CI)
# PostgreSQL is switched to wal_level=logical (ALTER SYSTEM and a restart, once) for the logical-decoding
# capture tests, on a server installed by this run, when CI=true, or when DUALWRITE_PG_LOGICAL=yes.
# A server that is missing is installed with apt-get, one that is stopped is started, and the
# script waits (at most DUALWRITE_DB_WAIT_SECONDS, default 60) until both answer.
# Login settings are changed only on a server installed by this run, or when CI=true and the
# login fails, so a developer's own server is never reconfigured behind their back.
# Usage: .ci/start-databases.sh    (as root, or as a user with sudo)
set -euo pipefail

WAIT_SECONDS=${DUALWRITE_DB_WAIT_SECONDS:-60}
MARIADB_LOG=${TMPDIR:-/tmp}/dualwrite-mariadbd.log
CDC_PORT=${DUALWRITE_CDC_MARIADB_PORT:-3307}
CDC_DIR=${DUALWRITE_CDC_MARIADB_DIR:-/var/tmp/dualwrite-cdc-mariadb}
PG_CLUSTER=main

log() { echo "[start-databases] $*"; }
die() { echo "[start-databases] ERROR: $*" >&2; exit 1; }

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "needs root for: $*"
    fi
}

may_reconfigure() { # $1: "yes" when this run installed the server
    [[ $1 == yes || ${CI:-} == true ]]
}

APT_UPDATED=no
apt_install() {
    if [[ $APT_UPDATED == no ]]; then
        as_root apt-get update -q
        APT_UPDATED=yes
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# Retries "$@" once a second until it succeeds or WAIT_SECONDS have passed.
wait_until() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            return 1
        fi
        sleep 1
    done
}

show_log() { # $1: file
    if as_root test -s "$1"; then
        echo "--- last lines of $1:" >&2
        as_root tail -n 20 "$1" >&2
    fi
}

# ----------------------------------------------------------------------------------------------
# MariaDB
# ----------------------------------------------------------------------------------------------

mariadb_login() { mariadb --protocol=TCP -h127.0.0.1 -P3306 -uroot --connect-timeout=2 "$@" </dev/null; }
mariadb_answers() { mariadb_login -e 'SELECT 1' >/dev/null 2>&1; }
# mariadb-admin ping succeeds whenever the server runs, even if root may not log in.
mariadb_runs() {
    mariadb-admin --protocol=TCP -h127.0.0.1 -P3306 -uroot --connect-timeout=2 ping >/dev/null 2>&1 </dev/null
}

mariadb_process() { as_root start-stop-daemon --status --exec /usr/sbin/mariadbd; }
mariadb_runs_or_gone() { mariadb_runs || ! mariadb_process; }
mariadb_installed() { command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]]; }

start_mariadb() {
    local installed_now=no
    if mariadb_answers; then
        log "MariaDB answers on 127.0.0.1:3306"
    else
        if ! mariadb_installed; then
            log "MariaDB is not installed: installing mariadb-server"
            apt_install mariadb-server
            installed_now=yes
        fi
        if ! mariadb_runs && mariadb_process; then
            # Starting, or shutting down: another start would be a no-op (--oknodo), so wait it out.
            log "mariadbd runs but does not answer yet: waiting for it to answer or exit"
            wait_until mariadb_runs_or_gone || die "mariadbd neither answers nor exits after ${WAIT_SECONDS}s"
        fi
        if ! mariadb_runs; then
            log "starting MariaDB (output in $MARIADB_LOG)"
            # Debian's init script would create the socket directory; it is on a tmpfs.
            as_root install -d -o mysql -g mysql -m 0755 /run/mysqld
            as_root start-stop-daemon --start --oknodo --background --output "$MARIADB_LOG" \
                --exec /usr/sbin/mariadbd -- --user=mysql
        fi
        if ! wait_until mariadb_runs; then
            show_log "$MARIADB_LOG"
            show_log /var/log/mysql/error.log
            die "MariaDB did not start within ${WAIT_SECONDS}s"
        fi
        if ! mariadb_answers; then
            may_reconfigure "$installed_now" \
                || die "MariaDB runs but root cannot log in over TCP with an empty password; allow it, or point the tests elsewhere with DUALWRITE_IT_MARIADB_URL/_USER/_PASSWORD"
            allow_mariadb_root
        fi
        wait_until mariadb_answers || die "MariaDB root login over TCP still fails after ${WAIT_SECONDS}s"
    fi
    mariadb_login -e 'CREATE DATABASE IF NOT EXISTS test'
}

# A fresh Debian install lets root in only through the Unix socket (unix_socket plugin), which is
# how this logs in. TCP clients from 127.0.0.1 match root@localhost when the server resolves
# names, and root@127.0.0.1 under skip-name-resolve, so both get an empty password.
allow_mariadb_root() {
    log "allowing MariaDB root to log in over TCP with an empty password"
    as_root mariadb --protocol=SOCKET -uroot </dev/null -e "
        ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
        CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
        ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
        CREATE USER IF NOT EXISTS 'root'@'::1' IDENTIFIED BY '';
        ALTER USER 'root'@'::1' IDENTIFIED BY '';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
        FLUSH PRIVILEGES;" \
        || die "could not log in to MariaDB as root through its Unix socket to allow TCP logins"
}

# ----------------------------------------------------------------------------------------------
# MariaDB with a binary log, for the change-data capture tests
# ----------------------------------------------------------------------------------------------

cdc_login() { mariadb --protocol=TCP -h127.0.0.1 -P"$CDC_PORT" -uroot --connect-timeout=2 "$@" </dev/null; }
cdc_answers() { cdc_login -e 'SELECT 1' >/dev/null 2>&1; }
cdc_runs() {
    mariadb-admin --protocol=TCP -h127.0.0.1 -P"$CDC_PORT" -uroot --connect-timeout=2 ping >/dev/null 2>&1 </dev/null
}

# Its own data directory, socket, pid file and log, owned by the mysql user like the main server's; the
# main server (3306) is neither stopped nor reconfigured.
start_cdc_mariadb() {
    if ! cdc_answers; then
        cdc_runs && die "a server answers on 127.0.0.1:$CDC_PORT but root cannot log in with an empty password; stop it, or set DUALWRITE_CDC_MARIADB_PORT to a free port"
        mariadb_installed || die "mariadbd is not installed (the main MariaDB should have installed it)"
        as_root install -d -o mysql -g mysql -m 0750 "$CDC_DIR"
        if ! as_root test -d "$CDC_DIR/data/mysql"; then
            log "creating the binlog MariaDB's data directory $CDC_DIR/data"
            as_root mariadb-install-db --no-defaults --user=mysql --datadir="$CDC_DIR/data" \
                --auth-root-authentication-method=normal --skip-test-db >"$CDC_DIR.install.log" 2>&1 \
                || { show_log "$CDC_DIR.install.log"; die "mariadb-install-db failed for $CDC_DIR/data"; }
        fi
        log "starting a MariaDB with its binary log on 127.0.0.1:$CDC_PORT (log in $CDC_DIR/mariadbd.err)"
        # setsid: the server outlives this script, like the main one started by start-stop-daemon.
        as_root setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$CDC_DIR/data" \
            --port="$CDC_PORT" --bind-address=127.0.0.1 --socket="$CDC_DIR/mariadbd.sock" \
            --pid-file="$CDC_DIR/mariadbd.pid" --log-error="$CDC_DIR/mariadbd.err" \
            --log-bin="$CDC_DIR/data/binlog" --binlog-format=ROW --binlog-row-image=FULL \
            --binlog-annotate-row-events --server-id=7 --max-connections=300 </dev/null >/dev/null 2>&1 &
        if ! wait_until cdc_answers; then
            show_log "$CDC_DIR/mariadbd.err"
            die "the binlog MariaDB did not answer on 127.0.0.1:$CDC_PORT within ${WAIT_SECONDS}s"
        fi
    fi
    local settings
    settings=$(cdc_login -Nse "SELECT CONCAT('log_bin=', IF(@@log_bin, 'ON', 'OFF'), ' binlog_format=', @@binlog_format)")
    [[ $settings == "log_bin=ON binlog_format=ROW" ]] \
        || die "the MariaDB on 127.0.0.1:$CDC_PORT has $settings, the change-data capture tests need log_bin=ON binlog_format=ROW"
    cdc_login -e 'CREATE DATABASE IF NOT EXISTS test'
    log "binlog MariaDB ready on 127.0.0.1:$CDC_PORT (DUALWRITE_IT_CDC_MARIADB_URL=jdbc:mariadb://127.0.0.1:$CDC_PORT/test)"
}

# ----------------------------------------------------------------------------------------------
# PostgreSQL
# ----------------------------------------------------------------------------------------------

psql_login() { PGCONNECT_TIMEOUT=2 psql -h 127.0.0.1 -p 5432 -U postgres -w -X -q "$@" </dev/null; }
pg_answers() { psql_login -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; }
# pg_isready succeeds whenever the server accepts connections, even if postgres may not log in.
pg_accepts() { pg_isready -q -h 127.0.0.1 -p 5432 -t 2 </dev/null; }
pg_version() { find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1 || true; }
pg_installed() { [[ -n $(pg_version) ]] && command -v pg_ctlcluster >/dev/null 2>&1; }
pg_runs() { pg_ctlcluster "$1" "$PG_CLUSTER" status >/dev/null 2>&1; }

start_postgres() {
    local installed_now=no version
    if pg_answers; then
        log "PostgreSQL answers on 127.0.0.1:5432"
    else
        if ! pg_installed; then
            log "PostgreSQL is not installed: installing postgresql"
            apt_install postgresql
            installed_now=yes
        fi
        version=$(pg_version)
        [[ -d /etc/postgresql/$version/$PG_CLUSTER ]] \
            || die "no PostgreSQL cluster /etc/postgresql/$version/$PG_CLUSTER (create it with pg_createcluster $version $PG_CLUSTER)"
        if [[ $installed_now == yes ]]; then
            trust_local_connections "$version"
        fi
        if ! pg_runs "$version"; then
            log "starting PostgreSQL $version/$PG_CLUSTER"
            as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$PG_CLUSTER" start \
                || { show_log "/var/log/postgresql/postgresql-$version-$PG_CLUSTER.log"; die "PostgreSQL $version/$PG_CLUSTER did not start"; }
        fi
        if ! wait_until pg_accepts; then
            show_log "/var/log/postgresql/postgresql-$version-$PG_CLUSTER.log"
            die "PostgreSQL does not accept connections on 127.0.0.1:5432 after ${WAIT_SECONDS}s"
        fi
        if ! pg_answers; then
            may_reconfigure "$installed_now" \
                || die "PostgreSQL runs but user postgres cannot log in over TCP without a password; set trust authentication in /etc/postgresql/$version/$PG_CLUSTER/pg_hba.conf, or point the tests elsewhere with DUALWRITE_IT_POSTGRES_URL/_USER/_PASSWORD"
            trust_local_connections "$version"
            wait_until pg_answers || die "PostgreSQL login as postgres over TCP still fails after ${WAIT_SECONDS}s"
        fi
    fi
    ensure_pg_logical "$installed_now"
    if [[ -z $(psql_login -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'") ]]; then
        log "creating PostgreSQL database test"
        psql_login -d postgres -c 'CREATE DATABASE test'
    fi
}

# Logical decoding (the PostgreSQL change-data capture) needs wal_level=logical, which takes a restart.
# ALTER SYSTEM writes postgresql.auto.conf, so a second run finds it set and restarts nothing.
ensure_pg_logical() { # $1: "yes" when this run installed the server
    local level version
    level=$(psql_login -d postgres -Atc 'SHOW wal_level')
    if [[ $level == logical ]]; then
        log "PostgreSQL runs with wal_level=logical"
        return
    fi
    if ! may_reconfigure "$1" && [[ ${DUALWRITE_PG_LOGICAL:-} != yes ]]; then
        log "PostgreSQL runs with wal_level=$level: the logical-decoding capture tests skip (set DUALWRITE_PG_LOGICAL=yes to switch it to logical)"
        return
    fi
    version=$(pg_version)
    log "setting wal_level=logical and restarting PostgreSQL $version/$PG_CLUSTER"
    psql_login -d postgres -c 'ALTER SYSTEM SET wal_level = logical'
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$PG_CLUSTER" restart \
        || { show_log "/var/log/postgresql/postgresql-$version-$PG_CLUSTER.log"; die "PostgreSQL $version/$PG_CLUSTER did not restart"; }
    wait_until pg_answers || die "PostgreSQL does not answer after the restart for wal_level=logical"
    level=$(psql_login -d postgres -Atc 'SHOW wal_level')
    [[ $level == logical ]] || die "PostgreSQL still runs with wal_level=$level after ALTER SYSTEM SET wal_level = logical and a restart"
}

# pg_hba.conf is read top down and the first matching line wins, so trust lines go first.
trust_local_connections() { # $1: version
    local hba=/etc/postgresql/$1/$PG_CLUSTER/pg_hba.conf marker='# dualwrite: trust local connections'
    if as_root grep -qF "$marker" "$hba"; then
        return
    fi
    log "setting trust authentication for local, 127.0.0.1 and ::1 in $hba"
    local lines
    lines=$(printf '%s\n%s\n%s\n%s\n' "$marker (.ci/start-databases.sh; for tests only)" \
        'local   all   all                 trust' \
        'host    all   all   127.0.0.1/32  trust' \
        'host    all   all   ::1/128       trust')
    # Rewrites in place (cat >) so that the file keeps its owner and mode.
    { echo "$lines"; echo; as_root cat "$hba"; } | as_root tee "$hba.dualwrite-new" >/dev/null
    # shellcheck disable=SC2016 # $1 is expanded by the inner sh
    as_root sh -c 'cat "$1.dualwrite-new" > "$1" && rm -f "$1.dualwrite-new"' sh "$hba"
    if pg_runs "$1"; then
        as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$PG_CLUSTER" reload
    fi
}

# ----------------------------------------------------------------------------------------------

start_mariadb
start_postgres
if [[ ${CI:-} == true || ${DUALWRITE_CDC_MARIADB:-} == yes ]]; then
    start_cdc_mariadb
fi

mariadb_login -D test -Nse "SELECT CONCAT('MariaDB ready: ', VERSION())" \
    || die "MariaDB does not answer: mariadb -h127.0.0.1 -uroot -e 'select 1'"
psql_login -d test -Atc "SELECT 'PostgreSQL ready: ' || current_setting('server_version')" \
    || die "PostgreSQL does not answer: psql -h 127.0.0.1 -U postgres -d test -c 'select 1'"
