#!/usr/bin/env bash
# The course layout of docker-compose.yml on one machine, with Debian's redis-server and nginx:
#
#   browsers -> nginx :8080 (sticky cookie) -> WEB Streamlit processes :8501.. -> Redis <- WORKERS workers
#                                                        \__________ one model store __________/
#
# Usage, from anywhere (Ctrl+C stops it all):
#   deploy/run_local.sh [WEB=2] [WORKERS=1]
# Settings (environment): DLP_CACHE_DIR (the shared model store; default the user's cache),
# PROXY_PORT (8080), FIRST_PORT (8501), REDIS_PORT (6379; ignored when DLP_QUEUE is set, then that
# Redis is used and none is started), RUN_DIR (logs and nginx's files; /tmp/dlp-course),
# PYTHON (.venv/bin/python). Needs: apt-get install nginx redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."

WEB=${1:-2}
WORKERS=${2:-1}
PYTHON=${PYTHON:-.venv/bin/python}
PROXY_PORT=${PROXY_PORT:-8080}
FIRST_PORT=${FIRST_PORT:-8501}
REDIS_PORT=${REDIS_PORT:-6379}
RUN_DIR=${RUN_DIR:-/tmp/dlp-course}
export DLP_CACHE_DIR=${DLP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deep-learning-playground}
export PYTHONUNBUFFERED=1
for tool in nginx redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install nginx redis-server" >&2; exit 1; }
done
mkdir -p "$RUN_DIR" "$DLP_CACHE_DIR"

pids=()
stop_all() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all EXIT INT TERM

if [ -z "${DLP_QUEUE:-}" ]; then
  export DLP_QUEUE="redis://127.0.0.1:$REDIS_PORT/0"
  # A scratch Redis: no snapshots; a restart forgets the queue (trained models stay in the store).
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$RUN_DIR" \
    >"$RUN_DIR/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
echo "queue $DLP_QUEUE, models in $DLP_CACHE_DIR, logs in $RUN_DIR"

for n in $(seq "$WORKERS"); do
  "$PYTHON" -m core.worker >"$RUN_DIR/worker-$n.log" 2>&1 &
  pids+=($!)
done

servers=""
for n in $(seq "$WEB"); do
  port=$((FIRST_PORT + n - 1))
  "$PYTHON" -m streamlit run app.py --server.port "$port" --server.address 127.0.0.1 \
    --server.headless true --browser.gatherUsageStats false >"$RUN_DIR/web-$n.log" 2>&1 &
  pids+=($!)
  servers="$servers        server 127.0.0.1:$port;\n"
done

# The same nginx.conf as Docker's, with these processes as its upstream and loopback as its address.
sed -e '/^\s*server web[0-9]*:8501;/d' \
    -e "s|^\(\s*hash \$dlp_route consistent;\)|\1\n$servers|" \
    -e "s|^\(\s*\)listen 8080;|\1listen 127.0.0.1:$PROXY_PORT;|" \
    deploy/nginx.conf >"$RUN_DIR/nginx.conf"
nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" -t -q
nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" -g 'daemon off;' \
  >"$RUN_DIR/nginx.log" 2>&1 &
pids+=($!)

for n in $(seq "$WEB"); do
  port=$((FIRST_PORT + n - 1))
  for _ in $(seq 120); do curl -fs "http://127.0.0.1:$port/_stcore/health" >/dev/null 2>&1 && break; sleep 0.5; done
done
echo "serving on http://127.0.0.1:$PROXY_PORT ($WEB web processes, $WORKERS worker(s)); Ctrl+C stops"
wait -n "${pids[@]}" || true
echo "a process stopped (see $RUN_DIR/*.log); stopping the rest" >&2
