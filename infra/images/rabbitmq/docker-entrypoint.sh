#!/bin/sh
# Turns the official image's environment variables into configuration, then runs the server.
set -eu
conf=/etc/rabbitmq/conf.d/10-defaults.conf
{
  echo 'loopback_users = none'
  echo 'listeners.tcp.default = 5672'
  echo 'management.tcp.port = 15672'
  if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then echo "default_user = $RABBITMQ_DEFAULT_USER"; fi
  if [ -n "${RABBITMQ_DEFAULT_PASS:-}" ]; then echo "default_pass = $RABBITMQ_DEFAULT_PASS"; fi
  if [ -n "${RABBITMQ_DEFAULT_VHOST:-}" ]; then echo "default_vhost = $RABBITMQ_DEFAULT_VHOST"; fi
} >"$conf"
# The variables would be read again by the server; the file above is the one source.
unset RABBITMQ_DEFAULT_USER RABBITMQ_DEFAULT_PASS RABBITMQ_DEFAULT_VHOST
if [ "${1:-}" = rabbitmq-server ]; then
  shift
  # The /usr/sbin wrapper drops the environment; this one keeps it (ENVIRONMENT.md).
  exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
fi
exec "$@"
