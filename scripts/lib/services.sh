# Shared helpers for scripts/dev and scripts/test: install what is missing, and
# start Redis and PostgreSQL on loopback with their data under .local/.
# shellcheck shell=bash

IMAGEGEN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGEGEN_PACKAGES=(redis-server postgresql libhiredis-dev libpq-dev libcurl4-openssl-dev pkg-config ca-certificates curl)

log() { printf '[imagegen] %s\n' "$*" >&2; }
die() { printf '[imagegen] error: %s\n' "$*" >&2; exit 1; }

ensure_packages() {
    local missing=()
    for package in "${IMAGEGEN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
}

# PyYAML and kubernetes-validate for deploy/check, schemathesis for the fuzz test and
# selenium for the console's browser test, in a virtualenv under .local.
ensure_check_tools() {
    local venv="$IMAGEGEN_ROOT/.local/tools"
    if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
        log "installing PyYAML, kubernetes-validate, schemathesis and selenium into .local/tools"
        python3 -m venv "$venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
        "$venv/bin/pip" install --quiet --disable-pip-version-check pyyaml kubernetes-validate 'schemathesis>=4.32,<5' 'selenium>=4.20,<5'
    fi
    export IMAGEGEN_PYTHON="$venv/bin/python"
}

ensure_swift() {
    command -v swift >/dev/null 2>&1 && return 0
    [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH" && return 0
    die "swift is not on PATH (expected it at /opt/swift/usr/bin)"
}

postgres_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    echo "$dir"
}

# Runs a command as the database owner: PostgreSQL refuses to run as root.
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The data directory must be reachable by the postgres user; a checkout under a
# private home directory is not, so fall back to a folder under /tmp there.
postgres_data_dir() {
    local wanted=$1
    mkdir -p "$(dirname "$wanted")"
    if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$(dirname "$wanted")" 2>/dev/null; then
        echo "$wanted"
    else
        echo "/tmp/imagegen-postgres-$(echo "$wanted" | md5sum | cut -c1-8)"
    fi
}

start_postgres() { # dir port
    local dir port bin
    dir=$(postgres_data_dir "$1")
    port=$2
    bin=$(postgres_bin)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_postgres "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
            || die "initdb failed in $dir"
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=200" >/dev/null \
            || { tail -n 20 "$dir/server.log" >&2; die "PostgreSQL did not start on port $port"; }
    fi
    log "PostgreSQL on 127.0.0.1:$port (data in $dir)"
}

stop_postgres() { # dir
    local dir
    dir=$(postgres_data_dir "$1")
    [ -f "$dir/PG_VERSION" ] || return 0
    as_postgres "$(postgres_bin)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

create_database() { # port name
    local exists
    exists=$(psql -h 127.0.0.1 -p "$1" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$2'")
    [ "$exists" = "1" ] || psql -h 127.0.0.1 -p "$1" -U postgres -qc "CREATE DATABASE \"$2\"" >/dev/null
}

drop_database() { # port name
    psql -h 127.0.0.1 -p "$1" -U postgres -qc "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)" >/dev/null
}

# noeviction: queue keys must never be dropped under memory pressure.
# appendonly everysec: a Redis restart loses at most a second of deliveries,
# and PostgreSQL still holds every task.
start_redis() { # dir port
    local dir=$1 port=$2
    mkdir -p "$dir"
    # timeout: a socket that accepts but never answers must not hang the start.
    if timeout 2 redis-cli -p "$port" ping >/dev/null 2>&1; then
        log "Redis already on 127.0.0.1:$port"
        return 0
    fi
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save "" \
        || die "Redis did not start on port $port"
    for _ in $(seq 1 50); do
        timeout 2 redis-cli -p "$port" ping >/dev/null 2>&1 && { log "Redis on 127.0.0.1:$port (data in $dir)"; return 0; }
        sleep 0.1
    done
    die "Redis did not answer on port $port"
}

stop_redis() { # port
    redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true
}

# Background processes of scripts/dev and scripts/bench, with pid files and logs under $STATE.
start_process() { # name command...
    local name=$1
    shift
    stop_process "$name"
    nohup "$@" >>"$STATE/logs/$name.log" 2>&1 &
    echo $! >"$STATE/pids/$name.pid"
}

stop_process() { # name
    local pidfile="$STATE/pids/$1.pid"
    [ -f "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

wait_for_http() { # url name
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    die "$2 did not answer at $1; see $STATE/logs"
}
