#!/usr/bin/env bash
# A real single-node Slurm cluster with accounting, for the test suite and developers.
#
#   tests/cluster/slurm.sh start    install what is missing, configure, start, wait idle
#   tests/cluster/slurm.sh stop     stop every daemon it started (by PID file)
#   tests/cluster/slurm.sh status   sinfo and the daemons' PIDs
#
# Idempotent: start on a running cluster only checks it; stop on a stopped one does
# nothing. Needs root and Debian's packages (slurmctld, slurmd, slurm-client, slurmdbd,
# munge, mariadb-server). No systemd: daemons run directly and are tracked by PID
# files under $STATE. The node is 127.0.0.1, partition `debug`, account `autosnap`.
set -euo pipefail

STATE=${AUTOSNAP_SLURM_STATE:-/var/tmp/autosnap-slurm}
CONF=/etc/slurm
PACKAGES=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server)
ACCOUNT=autosnap

log() { printf '[slurm.sh] %s\n' "$*" >&2; }

alive() { [[ -f "$STATE/$1.pid" ]] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

install() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
}

configure() {
    mkdir -p "$STATE"/{ctld,d,mysql,log} "$CONF"
    local cpus mem
    cpus=$(nproc)
    # RealMemory above what slurmd measures drains the node: take 90 % of it.
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    mem=$((mem * 9 / 10))
    cat >"$CONF/slurm.conf" <<EOF
ClusterName=autosnap
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=300
KillWait=5
InactiveLimit=0
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageEnforce=associations
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    cat >"$CONF/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$CONF/slurmdbd.conf"
}

start_munge() {
    alive munged && return
    if [[ ! -s /etc/munge/munge.key ]]; then
        mkdir -p /etc/munge
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    fi
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    munged --force --pid-file="$STATE/munged.pid" --socket=/run/munge/munge.socket.2
}

start_mariadb() {
    alive mariadb && return
    if [[ ! -d "$STATE/mysql/mysql" ]]; then
        mariadb-install-db --user=root --datadir="$STATE/mysql" >/dev/null
    fi
    mkdir -p /run/mysqld
    mariadbd --user=root --datadir="$STATE/mysql" --socket=/run/mysqld/mysqld.sock \
        --pid-file="$STATE/mariadb.pid" --skip-networking=0 --bind-address=127.0.0.1 \
        >"$STATE/log/mariadb.log" 2>&1 &
    for _ in $(seq 60); do
        mariadb -uroot -e 'select 1' >/dev/null 2>&1 && break
        sleep 0.5
    done
    mariadb -uroot <<'EOF'
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF
}

start_slurm() {
    if ! alive slurmdbd; then
        slurmdbd
        for _ in $(seq 60); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.5; done
    fi
    alive slurmctld || slurmctld
    alive slurmd || slurmd -N localhost
    for _ in $(seq 60); do sacctmgr -n list cluster 2>/dev/null | grep -q autosnap && break; sleep 0.5; done
    sacctmgr -i add account "$ACCOUNT" >/dev/null 2>&1 || true
    sacctmgr -i add user root account="$ACCOUNT" >/dev/null 2>&1 || true
}

wait_idle() {
    for _ in $(seq 120); do
        state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
        if [[ "$state" == idle* || "$state" == mixed* || "$state" == allocated* ]]; then
            log "node is $state"
            return 0
        fi
        [[ "$state" == drain* || "$state" == down* ]] && scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
        sleep 1
    done
    log "node did not become idle: $(sinfo 2>&1)"
    return 1
}

start() {
    local t0=$SECONDS
    install
    configure
    # a running controller takes the (re)written slurm.conf without a restart
    alive slurmctld && scontrol reconfigure >/dev/null 2>&1 || true
    start_munge
    start_mariadb
    start_slurm
    wait_idle
    log "cluster up in $((SECONDS - t0)) s"
}

stop() {
    for d in slurmd slurmctld slurmdbd mariadb munged; do
        if alive "$d"; then
            kill "$(cat "$STATE/$d.pid")" 2>/dev/null || true
        fi
    done
    for d in slurmd slurmctld slurmdbd mariadb munged; do
        for _ in $(seq 40); do alive "$d" || break; sleep 0.25; done
        rm -f "$STATE/$d.pid"
    done
    log "stopped"
}

status() {
    for d in munged mariadb slurmdbd slurmctld slurmd; do
        if alive "$d"; then echo "$d: $(cat "$STATE/$d.pid")"; else echo "$d: stopped"; fi
    done
    sinfo 2>/dev/null || true
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
