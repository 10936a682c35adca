#!/usr/bin/env bash
# A private Docker engine for the end-to-end tests, separate from any system Docker:
#   docker.sh ensure   install docker.io and iptables when missing, start dockerd (or reuse
#                      the one this script started), wait for it, make it a one-node Swarm
#                      manager
#   docker.sh stop     stop what `ensure` started and undo what dockerd left on the host
#                      (bridges, iptables chains, FORWARD policy); images stay cached
#   docker.sh status   print whether it runs, and the DOCKER_HOST to use
#   docker.sh env      print `export DOCKER_HOST=...`
# Everything lives in $HANDOVER_E2E_DIR (default /var/lib/handover-e2e): data-root, exec-root,
# socket, pid file, log. Works with CI=true and no stdin. Needs root (dockerd does).
set -euo pipefail
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

dir="${HANDOVER_E2E_DIR:-/var/lib/handover-e2e}"
sock="$dir/docker.sock"
host="unix://$sock"
pidfile="$dir/dockerd.pid"
log="$dir/dockerd.log"
pre="$dir/prestate"
# Debian's client matches Debian's daemon; a newer client on PATH also works (API 1.41), but
# its `docker build` needs buildx.
client="${HANDOVER_E2E_DOCKER:-$(command -v /usr/bin/docker || command -v docker || true)}"

say() { printf 'docker.sh: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}
docker_() { DOCKER_HOST="$host" "$client" "$@"; }

# The pid of the dockerd this script started, if it still runs.
our_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--exec-root $dir/exec" || return 1
  echo "$pid"
}

install_docker() {
  # dockerd needs iptables at start (its NAT chains); a machine can have the daemon without it.
  local packages=()
  command -v dockerd >/dev/null 2>&1 && [[ -n "$client" ]] || packages+=(docker.io)
  command -v iptables >/dev/null 2>&1 || packages+=(iptables)
  ((${#packages[@]} == 0)) && return 0
  [[ "$(id -u)" == 0 ]] || die "missing ${packages[*]}; install them (apt-get install ${packages[*]}) as root"
  say "installing ${packages[*]}"
  # Keep the package from starting a system dockerd: it would own docker0 and iptables too.
  local policy=/usr/sbin/policy-rc.d made=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made=1
  fi
  apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" </dev/null
  ((made)) && rm -f "$policy"
  client="$(command -v /usr/bin/docker || command -v docker)"
  command -v iptables >/dev/null 2>&1 || die "iptables is still missing after installing it"
}

# What the host looked like before our first start, so `stop` can put it back. Written once:
# after a crash the next start must not record dockerd's leftovers as the original state.
save_prestate() {
  [[ -d "$pre" ]] && return 0
  mkdir -p "$pre"
  ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 >"$pre/links"
  iptables -S FORWARD 2>/dev/null | awk '$1=="-P"{print $3}' >"$pre/forward-policy" || true
  [[ -d /run/docker ]] && touch "$pre/run-docker-existed"
  return 0
}

ensure() {
  [[ "$(id -u)" == 0 ]] || die "needs root: dockerd manages namespaces, mounts and iptables"
  install_docker
  mkdir -p "$dir/data" "$dir/exec"
  local pid
  if pid="$(our_pid)" && docker_ version >/dev/null 2>&1; then
    say "reusing dockerd $pid ($host)"
  else
    [[ -n "${pid:-}" ]] && die "dockerd $pid runs but does not answer on $host; see $log or run: $0 stop"
    save_prestate
    say "starting dockerd ($host, log $log)"
    # setsid: the daemon outlives the shell (and the CI step) that started it.
    setsid dockerd --data-root "$dir/data" --exec-root "$dir/exec" -H "$host" \
      --pidfile "$pidfile" --log-level warn >"$log" 2>&1 </dev/null &
    local waited=0
    until docker_ version >/dev/null 2>&1; do
      ((waited++ < 120)) || die "dockerd did not answer on $host within 60 s; last log lines:
$(tail -20 "$log")"
      sleep 0.5
    done
    say "dockerd $(cat "$pidfile") answers after ~$((waited / 2)) s"
  fi
  if [[ "$(docker_ info --format '{{.Swarm.LocalNodeState}}')" != active ]]; then
    docker_ swarm init --advertise-addr 127.0.0.1 >/dev/null
    say "swarm initialised (one manager, advertising 127.0.0.1)"
  fi
  echo "export DOCKER_HOST=$host"
}

# Removes every rule that jumps to or names docker's chains and bridges, then the chains.
clean_iptables() {
  command -v iptables >/dev/null 2>&1 || return 0
  local table line chain
  for table in filter nat mangle; do
    iptables -t "$table" -S 2>/dev/null | grep '^-A' | grep -E 'DOCKER|docker0|docker_gwbridge' |
      while read -r line; do
        # Rules in docker's own chains go with the chains; only the hooks elsewhere need -D.
        chain="$(awk '{print $2}' <<<"$line")"
        [[ "$chain" == DOCKER* ]] && continue
        read -ra rule <<<"${line/#-A/-D}"
        iptables -t "$table" "${rule[@]}" 2>/dev/null || true
      done || true
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^DOCKER/ {print $2}'); do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^DOCKER/ {print $2}'); do
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
  if [[ -s "$pre/forward-policy" ]]; then iptables -P FORWARD "$(cat "$pre/forward-policy")"; fi
}

stop() {
  local pid
  if pid="$(our_pid)"; then
    # Services would be rescheduled at the next start; the tests remove theirs, this catches
    # what a killed test left. Images and the swarm stay (the cache).
    docker_ service ls -q 2>/dev/null | xargs -r env DOCKER_HOST="$host" "$client" service rm >/dev/null 2>&1 || true
    docker_ ps -aq 2>/dev/null | xargs -r env DOCKER_HOST="$host" "$client" rm -f >/dev/null 2>&1 || true
    say "stopping dockerd $pid"
    kill -TERM "$pid"
    local waited=0
    while [[ -e "/proc/$pid" ]]; do
      if ((waited++ == 60)); then
        say "dockerd $pid still runs after 30 s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      sleep 0.5
    done
  else
    say "no dockerd started by this script is running"
  fi
  # containerd and shims started by that dockerd (it normally stops them itself).
  local p
  for p in $(pgrep -f -- "$dir/exec/containerd" || true); do
    say "stopping leftover $(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-80) ($p)"
    kill -TERM "$p" 2>/dev/null || true
  done
  # Mounts under our directories, deepest first.
  awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  if [[ -d "$pre" ]]; then
    local link
    for link in docker0 docker_gwbridge; do
      if ip link show "$link" >/dev/null 2>&1 && ! grep -qx "$link" "$pre/links"; then
        ip link delete "$link" 2>/dev/null || true
      fi
    done
    clean_iptables
    [[ -e "$pre/run-docker-existed" ]] || rm -rf /run/docker 2>/dev/null || true
    rm -rf "$pre"
  fi
  rm -f "$pidfile"
}

status() {
  local pid
  if pid="$(our_pid)"; then
    echo "dockerd $pid running; DOCKER_HOST=$host; swarm: $(docker_ info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo '?')"
  else
    echo "not running (DOCKER_HOST would be $host)"
    return 3
  fi
}

case "${1:-}" in
ensure) ensure ;;
stop) stop ;;
status) status ;;
env) echo "export DOCKER_HOST=$host" ;;
*) die "usage: $0 ensure|stop|status|env" ;;
esac
