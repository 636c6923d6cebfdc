#!/usr/bin/env bash
# An MPI host container's command (docker-compose.yml, profile mpi): runs sshd as the lab user,
# without root, so that the lab's mpirun can log in with the lab's key and start Open MPI's
# daemon and the ranks here. Same image as the lab, so node, the project and Open MPI are at
# the same paths; the notebooks and /scratch (TMPDIR) are the same volumes.
#
#   SSHD_PORT      port to listen on (default 2222; docker/ssh_config points the lab there)
#   SSHD_WAIT_S    how long to wait for the lab's key to appear (default 120)
#   start-mpi-host.sh [SSHD_OPTION...]   more sshd options (e.g. -o LogLevel=DEBUG); they come
#                  first, and for sshd the first value given for an option wins
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${SSHD_PORT:-2222}
keys=$HOME/.ssh/authorized_keys
state=$HOME/.sshd

# The lab service makes the key when it starts (docker/start-lab.sh), on the shared ~/.ssh volume.
waited=0
until [ -s "$keys" ]; do
  if [ "$waited" -ge "${SSHD_WAIT_S:-120}" ]; then
    echo "start-mpi-host.sh: no $keys after ${waited} s; it comes from the lab service, which shares ~/.ssh with this one:" >&2
    echo "  start both with: docker compose -f docker/docker-compose.yml --profile mpi up" >&2
    exit 1
  fi
  [ "$waited" -eq 0 ] && echo "waiting for the lab's key in $keys"
  sleep 1
  waited=$((waited + 1))
done

mkdir -p "$state" && chmod 700 "$state"
# A host key of its own, made anew with each container (the lab does not pin it: docker/ssh_config).
if [ ! -s "$state/ssh_host_ed25519_key" ]; then
  ssh-keygen -q -t ed25519 -N '' -C "$(hostname)" -f "$state/ssh_host_ed25519_key"
fi

echo "$(hostname): sshd listening on port $port for $(id -un); the lab's mpirun starts ranks here"
# An absolute path: sshd re-executes itself. SetEnv: ssh sessions do not inherit the container's
# environment, and the ranks must use the shared TMPDIR.
exec /usr/sbin/sshd -D -e -f "$here/sshd_config" "$@" \
  -o "Port=$port" \
  -o "HostKey=$state/ssh_host_ed25519_key" \
  -o "PidFile=$state/sshd.pid" \
  -o "AuthorizedKeysFile=$keys" \
  -o "AllowUsers=$(id -un)" \
  -o "SetEnv=TMPDIR=${TMPDIR:-/tmp}"
