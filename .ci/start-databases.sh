#!/usr/bin/env bash
# Brings up the local servers the integration tests expect, on Debian 12 without systemd:
#   MariaDB     127.0.0.1:3306, user root, empty password, database `test`
#   PostgreSQL  127.0.0.1:5432, user postgres, trust authentication, database `test`
# A server that is missing is installed with apt-get, one that is stopped is started, and the
# script waits (at most DUALWRITE_DB_WAIT_SECONDS, default 60) until both answer.
# Login settings are changed only on a server installed by this run, or when CI=true and the
# login fails, so a developer's own server is never reconfigured behind their back.
# Usage: .ci/start-databases.sh    (as root, or as a user with sudo)
set -euo pipefail

WAIT_SECONDS=${DUALWRITE_DB_WAIT_SECONDS:-60}
MARIADB_LOG=${TMPDIR:-/tmp}/dualwrite-mariadbd.log
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
    if [[ -z $(psql_login -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'") ]]; then
        log "creating PostgreSQL database test"
        psql_login -d postgres -c 'CREATE DATABASE test'
    fi
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

mariadb_login -D test -Nse "SELECT CONCAT('MariaDB ready: ', VERSION())" \
    || die "MariaDB does not answer: mariadb -h127.0.0.1 -uroot -e 'select 1'"
psql_login -d test -Atc "SELECT 'PostgreSQL ready: ' || current_setting('server_version')" \
    || die "PostgreSQL does not answer: psql -h 127.0.0.1 -U postgres -d test -c 'select 1'"
