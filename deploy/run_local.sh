#!/usr/bin/env bash
# The course layout of docker-compose.yml on one machine, with Debian's redis-server and nginx:
#
#   browsers -> nginx :8080 (login, sticky cookie) -> WEB Streamlit processes :8501.. -> Redis <- WORKERS workers
#                                                                \__________ one model store __________/
#
# Usage, from anywhere (Ctrl+C stops it all):
#   deploy/run_local.sh [WEB=2] [WORKERS=1]
# Settings (environment): DLP_CACHE_DIR (the shared model store; default the user's cache),
# PROXY_PORT (8080), PROXY_ADDRESS (127.0.0.1; 0.0.0.0 to serve the room), FIRST_PORT (8501),
# REDIS_PORT (6379; ignored when DLP_QUEUE is set, then that Redis is used and none is started),
# RUN_DIR (logs, Redis's data and nginx's files; /tmp/dlp-course), DLP_SECRETS_DIR (deploy/: the
# Redis password and the class's login, made by deploy/make_secrets.py on the first run, which
# prints the login), PYTHON (.venv/bin/python). Needs: apt-get install nginx redis-server.
#
# A process that dies (a crash, the out-of-memory killer) is started again, and
# RUN_DIR/supervisor.log says which one and why, as compose's `restart: unless-stopped` does; one that
# dies 5 times within a minute stops the whole layout instead.
set -euo pipefail
cd "$(dirname "$0")/.."

WEB=${1:-2}
WORKERS=${2:-1}
PYTHON=${PYTHON:-.venv/bin/python}
PROXY_PORT=${PROXY_PORT:-8080}
PROXY_ADDRESS=${PROXY_ADDRESS:-127.0.0.1}
FIRST_PORT=${FIRST_PORT:-8501}
REDIS_PORT=${REDIS_PORT:-6379}
RUN_DIR=${RUN_DIR:-/tmp/dlp-course}
SECRETS_DIR=${DLP_SECRETS_DIR:-deploy}
export DLP_CACHE_DIR=${DLP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deep-learning-playground}
export PYTHONUNBUFFERED=1
# TensorBoard (Runs page) on one port for all web processes (the first to open it starts it, the others
# use it), behind nginx's /tensorboard/.
export DLP_TENSORBOARD_PORT=${DLP_TENSORBOARD_PORT:-6006} DLP_TENSORBOARD_URL=/tensorboard/
# Debian installs nginx in /usr/sbin, which a user's PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac
for tool in nginx redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install nginx redis-server" >&2; exit 1; }
done
mkdir -p "$RUN_DIR" "$DLP_CACHE_DIR"
"$PYTHON" deploy/make_secrets.py --dir "$SECRETS_DIR"
REDIS_PASSWORD=$(sed -n 's/^DLP_REDIS_PASSWORD=//p' "$SECRETS_DIR/.env")

log() { echo "$(date '+%F %T') $*" | tee -a "$RUN_DIR/supervisor.log" >&2; }

declare -A name_of=()   # pid -> process name (web-1, worker-1, redis, nginx)
declare -A launch=()    # process name -> the command (a function below and its arguments) that starts it
declare -A deaths=()    # process name -> the times ($SECONDS) it died lately
stop_all() {
  trap - EXIT INT TERM
  [ ${#name_of[@]} -eq 0 ] || kill "${!name_of[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  exit "${1:-0}"
}
trap 'stop_all 0' INT TERM
trap 'stop_all $?' EXIT
run_redis() { exec redis-server "$RUN_DIR/redis.conf"; }
run_worker() { exec "$PYTHON" -m core.worker; }
run_web() {
  exec "$PYTHON" -m streamlit run app.py --server.port "$1" --server.address 127.0.0.1 \
    --server.headless true --browser.gatherUsageStats false
}
run_nginx() { exec nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" -g 'daemon off;'; }
start() {  # start NAME: run its command in the background, logging to RUN_DIR/NAME.log
  ${launch[$1]} >>"$RUN_DIR/$1.log" 2>&1 &
  name_of[$!]=$1
}

if [ -z "${DLP_QUEUE:-}" ]; then
  export DLP_QUEUE="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0"
  # Loopback only, a password, and an append-only file: jobs survive a Redis restart.
  (umask 077; printf '%s\n' "port $REDIS_PORT" "bind 127.0.0.1" "requirepass $REDIS_PASSWORD" \
     "appendonly yes" "save \"\"" "dir $RUN_DIR" >"$RUN_DIR/redis.conf")
  launch[redis]="run_redis"
  start redis
  for _ in $(seq 50); do REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
echo "models in $DLP_CACHE_DIR, logs in $RUN_DIR"

for n in $(seq "$WORKERS"); do
  launch[worker-$n]="run_worker"
  start "worker-$n"
done

for n in $(seq "$WEB"); do
  launch[web-$n]="run_web $((FIRST_PORT + n - 1))"
  start "web-$n"
done

web_processes() {  # nginx.conf's part between BEGIN and END, for these processes (see its comments)
  local n m
  echo '    split_clients "${request_id}" $dlp_new_route {'
  for n in $(seq $((WEB - 1))); do printf '        %s%% %d;\n' "$(awk "BEGIN {printf \"%.2f\", 100 / $WEB}")" "$n"; done
  printf '        * %d;\n    }\n    map $cookie_dlp_route $dlp_route {\n' "$WEB"
  for n in $(seq "$WEB"); do printf '        %d %d;\n' "$n" "$n"; done
  printf '        default $dlp_new_route;\n    }\n    map $upstream_addr $dlp_answered {\n'
  for n in $(seq "$WEB"); do printf '        ~:%d$ %d;\n' $((FIRST_PORT + n - 1)) "$n"; done
  printf '        default "";\n    }\n'
  for n in $(seq "$WEB"); do
    printf '    upstream dlp_web%d {\n        server 127.0.0.1:%d;\n' "$n" $((FIRST_PORT + n - 1))
    for m in $(seq "$WEB"); do
      [ "$m" -eq "$n" ] || printf '        server 127.0.0.1:%d backup;\n' $((FIRST_PORT + m - 1))
    done
    echo '    }'
  done
}

# The same nginx.conf as Docker's, with these processes and this address; the login file beside it.
web_processes >"$RUN_DIR/nginx-web.conf"
awk -v part="$RUN_DIR/nginx-web.conf" '
  /# BEGIN web processes/ { print; while ((getline line < part) > 0) print line; skip = 1; next }
  /# END web processes/ { skip = 0 }
  !skip' deploy/nginx.conf |
  sed -e '/^\s*server web[0-9]*:6006;/d' \
      -e "s|^\(\s*upstream tensorboard {\)|\1\n        server 127.0.0.1:$DLP_TENSORBOARD_PORT;|" \
      -e "s|^\(\s*\)listen 8080;|\1listen $PROXY_ADDRESS:$PROXY_PORT;|" >"$RUN_DIR/nginx.conf"
cp "$SECRETS_DIR/htpasswd" "$RUN_DIR/htpasswd" && chmod 644 "$RUN_DIR/htpasswd"  # nginx's workers read it
nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" -t -q
launch[nginx]="run_nginx"
start nginx

for n in $(seq "$WEB"); do
  port=$((FIRST_PORT + n - 1))
  "$PYTHON" - "$port" <<'WAIT'
import sys, time, urllib.request
for _ in range(240):  # Streamlit answers its health check within seconds; two minutes at most
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/_stcore/health", timeout=2)
        break
    except OSError:
        time.sleep(0.5)
WAIT
done
log "serving on http://$PROXY_ADDRESS:$PROXY_PORT ($WEB web processes, $WORKERS worker(s)); Ctrl+C stops"

while true; do  # the supervisor: start again whatever stops
  set +e
  wait -n -p died "${!name_of[@]}"
  status=$?
  set -e
  [ -n "${died:-}" ] && [ -n "${name_of[$died]:-}" ] || continue
  name=${name_of[$died]}
  unset "name_of[$died]"
  if [ "$status" -gt 128 ]; then why="killed by SIG$(kill -l $((status - 128)))"; else why="exit status $status"; fi
  recent=""
  for when in ${deaths[$name]:-} $SECONDS; do [ $((SECONDS - when)) -lt 60 ] && recent="$recent $when"; done
  deaths[$name]=$recent
  if [ "$(wc -w <<<"$recent")" -ge 5 ]; then
    log "$name (pid $died) stopped ($why), the 5th time within a minute; stopping everything (see $RUN_DIR/$name.log)"
    stop_all 1
  fi
  log "$name (pid $died) stopped ($why); starting it again (see $RUN_DIR/$name.log)"
  start "$name"
done
