#!/usr/bin/env bash
# The image's own configuration, run as root by docker/Dockerfile after scripts/setup-system.sh:
# the non-root lab user, the folders it owns, and the ssh and Open MPI settings that let the
# lab's mpirun start ranks on the MPI host containers (docker-compose.yml, profile mpi).
#
#   LAB_UID, LAB_GID   the lab user's ids (default 1000): make them yours so that the notebooks
#                      folder mounted from your machine stays writable for both of you
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
uid=${LAB_UID:-1000}
gid=${LAB_GID:-1000}
if [ "$uid" -eq 0 ] || [ "$gid" -eq 0 ]; then
  echo "setup-image.sh: LAB_UID and LAB_GID must not be 0: the lab runs as a non-root user" >&2
  exit 2
fi

# node:20 images come with a user "node" (uid and gid 1000): the lab user takes its place.
if id node >/dev/null 2>&1; then userdel --remove node 2>/dev/null || userdel node; fi
if getent group node >/dev/null; then groupdel node; fi
if ! id lab >/dev/null 2>&1; then
  groupadd --non-unique --gid "$gid" lab
  useradd --non-unique --uid "$uid" --gid "$gid" --create-home --home-dir /home/lab --shell /bin/bash lab
fi

# What the lab user owns: the venv, the project (npm run slides/start write build/ there), the
# notebooks folder, ~/.ssh (a volume shared with the MPI hosts: the key the lab makes) and
# /scratch, TMPDIR everywhere (a volume shared with the MPI hosts, so that files the kernel
# writes there, such as compiled .ts modules the ranks require, have the same path on every host).
install -d -o lab -g lab /opt/jupyter /opt/tslab-parallel /home/lab/notebooks
install -d -o lab -g lab -m 700 /home/lab/.ssh
install -d -o lab -g lab -m 1777 /scratch
chown -R lab:lab /opt/tslab-parallel

# `tslab-parallel` on every PATH, ssh sessions' too: `mpirun ... tslab-parallel rank script.ts`
# starts it on the MPI hosts, and `tslab-parallel slides` works in the lab's terminal.
printf '#!/bin/sh\nexec /usr/local/bin/node /opt/tslab-parallel/dist/src/cli.js "$@"\n' >/usr/local/bin/tslab-parallel
chmod 755 /usr/local/bin/tslab-parallel

# ssh from the lab to the MPI hosts: their sshd runs as the lab user on port 2222, with host
# keys made per container; the system sshd's keys, made when the package was installed, are
# unused, and a private key baked into an image is one shared by everyone who has the image.
install -m 644 "$here/ssh_config" /etc/ssh/ssh_config.d/tslab-parallel.conf
rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub

# Open MPI in containers: ranks on one host talk through shared memory, and the single-copy
# mechanism (CMA, process_vm_readv) is refused under Docker's default seccomp profile and
# ptrace scope. A file, not an environment variable: ranks that mpirun starts over ssh read it too.
conf=/etc/openmpi/openmpi-mca-params.conf
if ! grep -q '^btl_vader_single_copy_mechanism' "$conf" 2>/dev/null; then
  printf '\n# tslab-parallel lab image (docker/setup-image.sh)\nbtl_vader_single_copy_mechanism = none\n' >>"$conf"
fi
