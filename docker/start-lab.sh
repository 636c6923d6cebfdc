#!/usr/bin/env bash
# The lab container's command: starts JupyterLab (or COMMAND...) with token authentication.
#
#   start-lab.sh [COMMAND...]      default COMMAND: jupyter lab (its options are in
#                                  docker/jupyter_server_config.json, installed in the venv)
#
#   JUPYTER_TOKEN   the token; when empty, a random one is made and printed with the URL
#   LAB_PORT        the port published on the host, for the URL printed (default 8888)
#
# The token is also written, readable by this user only, to
# ${JUPYTER_RUNTIME_DIR:-~/.local/share/jupyter/runtime}/lab-token, where docker/healthcheck.mjs
# reads it. The lab's ssh key (for mpirun on the MPI hosts) is made here if ~/.ssh has none.
set -euo pipefail

if [ $# -eq 0 ]; then set -- jupyter lab; fi

generated=false
if [ -z "${JUPYTER_TOKEN:-}" ]; then
  JUPYTER_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  generated=true
fi
export JUPYTER_TOKEN # jupyter_server reads its token from this variable

runtime=${JUPYTER_RUNTIME_DIR:-$HOME/.local/share/jupyter/runtime}
mkdir -p "$runtime"
(umask 077 && printf '%s\n' "$JUPYTER_TOKEN" >"$runtime/lab-token")

# Open MPI starts ranks on the MPI hosts over ssh with this key; their sshd trusts
# ~/.ssh/authorized_keys, which they see through the volume mounted on ~/.ssh.
if command -v ssh-keygen >/dev/null; then
  mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh"
  if [ ! -s "$HOME/.ssh/id_ed25519" ]; then
    ssh-keygen -q -t ed25519 -N '' -C "tslab-parallel lab" -f "$HOME/.ssh/id_ed25519"
  fi
  if ! grep -qsF "$(cat "$HOME/.ssh/id_ed25519.pub")" "$HOME/.ssh/authorized_keys"; then
    cat "$HOME/.ssh/id_ed25519.pub" >>"$HOME/.ssh/authorized_keys"
  fi
  chmod 600 "$HOME/.ssh/authorized_keys"
fi

url="http://127.0.0.1:${LAB_PORT:-8888}/lab"
echo "========================================================================"
if $generated; then
  echo " JupyterLab with the \"TypeScript (parallel)\" kernel. Open:"
  echo "   $url?token=$JUPYTER_TOKEN"
  echo " (a random token, new at each start; set JUPYTER_TOKEN to choose one)"
else
  echo " JupyterLab with the \"TypeScript (parallel)\" kernel. Open:"
  echo "   $url   and log in with the token you set in JUPYTER_TOKEN"
fi
echo "========================================================================"

exec "$@"
