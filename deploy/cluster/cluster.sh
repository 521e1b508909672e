#!/usr/bin/env bash
# `make cluster` / `make cluster-down`: the multi-node topology on one machine,
# each node a Linux network namespace with one address on a bridge.
#
#   10.231.0.1   host end of the bridge
#   10.231.0.5   db      PostgreSQL of its own (initdb under /tmp; never the host's)
#   10.231.0.10  lb      nginx: /ws/ and pages -> web1/web2, /v/ -> edge1/edge2
#   10.231.0.11  web1    uvicorn        10.231.0.12  web2   uvicorn
#   10.231.0.20  redis   redis-server (its own: never the host's shared one)
#   10.231.0.21  worker1 celery worker  10.231.0.22  worker2 celery worker + beat
#   10.231.0.30  media   nginx-rtmp origin (manage.py run_media) + demo stream
#   10.231.0.31  edge1   nginx proxy_cache  10.231.0.32  edge2
#
# The host reaches the site at 127.0.0.1:$CLUSTER_PORT and RTMP at
# 127.0.0.1:$CLUSTER_RTMP_PORT (socat forwards).  Everything made is recorded
# under var/cluster and removed by `down`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
STATE=$ROOT/var/cluster
PY=$ROOT/.venv/bin/python
NET=10.231.0
BR=mqbr0
CLUSTER_PORT=${CLUSTER_PORT:-8800}
CLUSTER_RTMP_PORT=${CLUSTER_RTMP_PORT:-19360}
CLUSTER_DB=${CLUSTER_DB:-marquee_cluster}
PGBIN=${CLUSTER_PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
PGDATA_DIR=/tmp/marquee-cluster-pg
PGHOST_LOCAL=$NET.5
declare -A ADDR=([db]=5 [lb]=10 [web1]=11 [web2]=12 [redis]=20 [worker1]=21 [worker2]=22 [media]=30 [edge1]=31 [edge2]=32)

log() { echo "cluster: $*"; }

node_up() {  # name
  local name=$1 ns=mq-$1 host=mqv-$1
  ip netns add "$ns"
  ip link add "$host" type veth peer name eth0 netns "$ns"
  ip link set "$host" master $BR up
  ip -n "$ns" addr add "$NET.${ADDR[$name]}/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" route add default via "$NET.1"
}

start() {  # name ns command...: in its own process group, pid recorded
  local name=$1 ns=$2; shift 2
  if [ "$ns" = host ]; then setsid "$@" >"$STATE/$name.log" 2>&1 < /dev/null &
  else setsid ip netns exec "$ns" "$@" >"$STATE/$name.log" 2>&1 < /dev/null &
  fi
  echo $! >"$STATE/$name.pid"
}

write_env() {
  cat >"$STATE/env" <<ENV
DATABASE_URL=postgres://postgres@$NET.5:5432/$CLUSTER_DB
REDIS_URL=redis://$NET.20:6379/0
CACHE_KEY_PREFIX=cluster
ALLOWED_HOSTS=*
SITE_URL=http://127.0.0.1:$CLUSTER_PORT
CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$CLUSTER_PORT
MEDIA_PUBLIC_URL=http://127.0.0.1:$CLUSTER_PORT
MEDIA_RTMP_PUBLIC_URL=rtmp://127.0.0.1:$CLUSTER_RTMP_PORT/live
TRUSTED_PROXIES=$NET.10/32
MEDIA_HOOK_BASE_URL=http://$NET.10:$CLUSTER_PORT
MEDIA_HOOK_ALLOWED_IPS=$NET.0/24
METRICS_ALLOWED_IPS=$NET.0/24,127.0.0.1/32
RTMP_PORT=1935
MEDIA_HTTP_PORT=8081
MEDIA_RTMP_BIND=0.0.0.0
MEDIA_HTTP_BIND=0.0.0.0
MEDIA_VAR_DIR=$STATE/media
CELERY_TASK_ALWAYS_EAGER=false
CHAT_MAX_SOCKETS_PER_IP=5000
CHAT_MAX_SOCKETS_PER_SESSION=5000
CHAT_MAX_SOCKETS_PER_USER=5000
PRIVATE_BILLING_SECONDS=10
LOG_FORMAT=json
ENV
}

write_lb() {
  mkdir -p "$STATE/lb/temp"
  cat >"$STATE/lb/nginx.conf" <<NGINX
user root;
daemon off;
pid $STATE/lb/nginx.pid;
error_log stderr warn;
events { worker_connections 8192; }
http {
  client_body_temp_path $STATE/lb/temp; proxy_temp_path $STATE/lb/temp;
  fastcgi_temp_path $STATE/lb/temp; uwsgi_temp_path $STATE/lb/temp; scgi_temp_path $STATE/lb/temp;
  access_log off;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  upstream web {
    server $NET.11:8000 max_fails=1 fail_timeout=3s;
    server $NET.12:8000 max_fails=1 fail_timeout=3s;
  }
  upstream edges {
    server $NET.31:8082 max_fails=1 fail_timeout=3s;
    server $NET.32:8082 max_fails=1 fail_timeout=3s;
  }
  server {
    listen 0.0.0.0:$CLUSTER_PORT;
    client_max_body_size 600m;
    location = /metrics { return 404; }
    location /v/ {
      proxy_pass http://edges;
      proxy_next_upstream error timeout http_502 http_503;
    }
    location / {
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Request-ID \$request_id;
      proxy_read_timeout 3600s;
      proxy_next_upstream error timeout;
    }
  }
}
NGINX
}

# One node's process (also used by faults.py to restart a node it killed).
launch() {
  local name=$1 envs
  envs=$(xargs < "$STATE/env")
  case $name in
    web1|web2) start "$name" "mq-$name" env $envs "$ROOT/.venv/bin/uvicorn" marquee.asgi:application \
        --host 0.0.0.0 --port 8000 --ws marquee.chat.wire:FanoutWebSocketProtocol --ws-per-message-deflate false --lifespan on --ws-max-size 4096 --no-access-log ;;
    worker1|worker2) start "$name" "mq-$name" env $envs "$ROOT/.venv/bin/celery" -A marquee worker \
        -n "$name@%h" --concurrency=2 --loglevel=INFO ;;
    beat) start beat mq-worker2 env $envs "$ROOT/.venv/bin/celery" -A marquee beat --loglevel=INFO \
        --schedule="$STATE/celerybeat-schedule" ;;
    media) start media mq-media env $envs "$PY" manage.py run_media ;;
    edge1|edge2)
      mkdir -p "$STATE/$name"
      in_env "$PY" manage.py render_edge_config --origin "$NET.30:8081" --var-dir "$STATE/$name" --bind 0.0.0.0 \
        --port 8082 >/dev/null
      start "$name" "mq-$name" nginx -e stderr -c "$STATE/$name/edge.conf" ;;
    lb) start lb mq-lb nginx -e stderr -c "$STATE/lb/nginx.conf" ;;
    db) start db mq-db runuser -u postgres -- "$PGBIN/postgres" -D "$PGDATA_DIR" -c listen_addresses='*' \
        -c unix_socket_directories="$PGDATA_DIR" -c max_connections=300 ;;
    redis) mkdir -p "$STATE/redis"
      start redis mq-redis redis-server "$ROOT/deploy/redis.conf" --dir "$STATE/redis" --bind 0.0.0.0 --port 6379 \
        --protected-mode no ;;
    *) echo "unknown node $name"; exit 2 ;;
  esac
}

stop_node() {  # name: the whole process group, at once (a crash, not a shutdown)
  local pidfile=$STATE/$1.pid pgid
  [ -e "$pidfile" ] || return 0
  pgid=$(cat "$pidfile")
  kill -KILL -- "-$pgid" 2>/dev/null || true
  # Gone for good before anyone relaunches it (PostgreSQL refuses to start
  # while a dying backend still holds its shared memory).
  for _ in $(seq 1 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$pidfile"
}

in_env() { env $(grep -v '^#' "$STATE/env" | xargs) "$@"; }

wait_http() {  # url seconds
  for _ in $(seq 1 "$2"); do
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
    sleep 1
  done
  return 1
}

up() {
  if ip link show $BR >/dev/null 2>&1; then log "already up (make cluster-down first)"; exit 1; fi
  [ "$(id -u)" = 0 ] || { log "needs root (ip netns)"; exit 1; }
  mkdir -p "$STATE"
  ip link add $BR type bridge
  ip addr add "$NET.1/24" dev $BR
  ip link set $BR up
  for name in "${!ADDR[@]}"; do node_up "$name"; done
  write_env
  write_lb
  rm -rf "$PGDATA_DIR"; mkdir -p "$PGDATA_DIR"; chown postgres: "$PGDATA_DIR"; chmod 700 "$PGDATA_DIR"
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust >"$STATE/initdb.log"
  echo "host all all $NET.0/24 trust" >>"$PGDATA_DIR/pg_hba.conf"
  launch db
  for _ in $(seq 1 30); do "$PGBIN/pg_isready" -q -h "$PGHOST_LOCAL" && break; sleep 1; done
  launch redis
  psql -h "$PGHOST_LOCAL" -U postgres -Atc "select 1 from pg_database where datname='$CLUSTER_DB'" | grep -q 1 \
    || createdb -h "$PGHOST_LOCAL" -U postgres "$CLUSTER_DB"
  sleep 1
  log "migrating and seeding $CLUSTER_DB"
  in_env "$PY" manage.py migrate --noinput -v 0
  in_env "$PY" manage.py seed_demo >"$STATE/seed.log" 2>&1 || true
  in_env "$PY" manage.py collectstatic --noinput -v 0
  for name in web1 web2 worker1 worker2 beat media edge1 edge2; do launch $name; done
  launch lb
  start site-forward host socat TCP-LISTEN:$CLUSTER_PORT,bind=127.0.0.1,fork,reuseaddr TCP:$NET.10:$CLUSTER_PORT
  start rtmp-forward host socat TCP-LISTEN:$CLUSTER_RTMP_PORT,bind=127.0.0.1,fork,reuseaddr TCP:$NET.30:1935
  for web in 11 12; do
    wait_http "http://$NET.$web:8000/healthz" 90 || { log "web $NET.$web not healthy (see $STATE/web*.log)"; exit 1; }
  done
  wait_http "http://127.0.0.1:$CLUSTER_PORT/healthz" 30 || { log "load balancer not answering"; exit 1; }
  if [ "${CLUSTER_DEMO_STREAM:-1}" = 1 ]; then
    start demo mq-media env $(cat "$STATE/env" | xargs) MEDIA_RTMP_BIND=127.0.0.1 "$PY" manage.py run_demo_stream
  fi
  log "up: http://127.0.0.1:$CLUSTER_PORT  rtmp://127.0.0.1:$CLUSTER_RTMP_PORT/live  (logs: $STATE/*.log)"
}

down() {
  if [ -d "$STATE" ]; then
    for pidfile in "$STATE"/*.pid; do
      [ -e "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      kill -TERM -- "-$pid" 2>/dev/null || true
    done
    sleep 2
    for pidfile in "$STATE"/*.pid; do
      [ -e "$pidfile" ] || continue
      kill -KILL -- "-$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    done
  fi
  for name in "${!ADDR[@]}"; do
    ip netns pids "mq-$name" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "mq-$name" 2>/dev/null || true
    ip link del "mqv-$name" 2>/dev/null || true
  done
  ip link del $BR 2>/dev/null || true
  rm -rf "$PGDATA_DIR"
  rm -rf "$STATE"
  log "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  kill) stop_node "$2" ;;
  launch) launch "$2" ;;
  *) echo "usage: $0 up|down|kill NODE|launch NODE"; exit 2 ;;
esac
