#!/usr/bin/env bash
# Starts a throwaway sshd on 127.0.0.1 for the end-to-end tests and benchmarks, once: a second call
# finds it running and only prints where it is. Everything lives in one state folder; nothing of the
# machine's own ssh setup is touched. Prints KEY=VALUE lines (also written to $STATE/env).
# RTM_SSHD_EXTRA_CONFIG: more sshd_config lines, for a second sshd a test wants to misbehave (a ForceCommand
# that prints a banner, say); a Subsystem line there replaces the default internal-sftp one.
set -euo pipefail
STATE=${RTM_SSHD_STATE:-/tmp/rtm-test-sshd}
PORT=${RTM_SSHD_PORT:-2222}
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
mkdir -p "$STATE"
chmod 700 "$STATE"
if [ -f "$STATE/sshd.pid" ] && kill -0 "$(cat "$STATE/sshd.pid")" 2>/dev/null; then
  cat "$STATE/env"; exit 0
fi
[ -f "$STATE/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$STATE/host_ed25519"
[ -f "$STATE/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$STATE/client_ed25519"
cp "$STATE/client_ed25519.pub" "$STATE/authorized_keys"
chmod 600 "$STATE/authorized_keys"
mkdir -p /run/sshd 2>/dev/null || true
EXTRA=${RTM_SSHD_EXTRA_CONFIG:-}
SUBSYSTEM='Subsystem sftp internal-sftp'
# sshd refuses a second Subsystem line for the same name.
if printf '%s\n' "$EXTRA" | grep -qiE '^[[:space:]]*Subsystem[[:space:]]+sftp'; then SUBSYSTEM=''; fi
cat > "$STATE/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $PORT
HostKey $STATE/host_ed25519
PidFile $STATE/sshd.pid
AuthorizedKeysFile $STATE/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
$SUBSYSTEM
MaxSessions 64
MaxStartups 64:30:128
LogLevel ERROR
$EXTRA
CONF
"$SSHD" -f "$STATE/sshd_config" -E "$STATE/sshd.log"
for _ in $(seq 50); do [ -f "$STATE/sshd.pid" ] && break; sleep 0.1; done
# known_hosts entry for our port, so tests verify the host key like a real admin would
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$STATE/host_ed25519.pub")" > "$STATE/known_hosts"
cat > "$STATE/env" <<ENV
RTM_SSH_HOST=127.0.0.1
RTM_SSH_PORT=$PORT
RTM_SSH_USER=$(id -un)
RTM_SSH_KEY=$STATE/client_ed25519
RTM_SSH_KNOWN_HOSTS=$STATE/known_hosts
ENV
cat "$STATE/env"
