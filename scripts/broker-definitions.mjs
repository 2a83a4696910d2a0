#!/usr/bin/env node
// Writes infra/rabbitmq/definitions.json: the `messaging` vhost, one user per service with
// least-privilege permissions, and the exchanges of the contract. The compose broker loads
// it at start (infra/rabbitmq/rabbitmq.conf); `make setup` imports it into a local broker
// with `rabbitmqctl import_definitions`. Regenerate after changing users or exchanges:
//   node scripts/broker-definitions.mjs
// Passwords are the local-only defaults of shared/runtime/src/local-defaults.ts.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { LOCAL_DEFAULTS } = await import(path.join(root, 'shared/runtime/dist/local-defaults.js'));
const { Exchanges } = await import(path.join(root, 'shared/contracts/dist/catalog.js'));
// Who may do what: shared/broker/src/permissions.ts.
const { BrokerPermissions: PERMISSIONS } = await import(
  path.join(root, 'shared/broker/dist/permissions.js')
);

// The dashboard's observer: a queue bound by the administrator, which its user may only read.
const { ObserverQueue, observerBindings } = await import(
  path.join(root, 'shared/broker/dist/observer.js')
);
// Order's event history, a stream subscribers may read to catch up (docs/backfill.md).
const { OrderHistory } = await import(path.join(root, 'shared/broker/dist/history.js'));

const vhost = LOCAL_DEFAULTS.brokerVhost;

const target = path.join(root, 'infra/rabbitmq/definitions.json');

/** RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)). */
function hashWithSalt(salt, password) {
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

// The hashes already written, by user: one that still matches its password is kept, so a
// regeneration changes the file only where a user or permission changed (adding a service
// and removing it again leaves the file as it was).
const written = new Map(
  existsSync(target)
    ? JSON.parse(readFileSync(target, 'utf8')).users.map((user) => [user.name, user.password_hash])
    : [],
);

function passwordHash(user, password) {
  const earlier = written.get(user);
  if (earlier) {
    const salt = Buffer.from(earlier, 'base64').subarray(0, 4);
    if (hashWithSalt(salt, password) === earlier) return earlier;
  }
  return hashWithSalt(randomBytes(4), password);
}

const services = Object.keys(PERMISSIONS);
const observer = ObserverQueue.user;
const definitions = {
  vhosts: [{ name: vhost }],
  users: services.map((service) => ({
    name: service,
    password_hash: passwordHash(service, LOCAL_DEFAULTS.brokerPassword(service)),
    hashing_algorithm: 'rabbit_password_hashing_sha256',
    tags: [],
  })),
  permissions: services.map((service) => ({ user: service, vhost, ...PERMISSIONS[service] })),
  exchanges: Object.values(Exchanges).map((exchange) => ({
    name: exchange.name,
    vhost,
    type: exchange.type,
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: {},
  })),
  queues: [
    {
      name: ObserverQueue.name,
      vhost,
      durable: true,
      auto_delete: false,
      arguments: ObserverQueue.arguments,
    },
    {
      name: OrderHistory.name,
      vhost,
      durable: true,
      auto_delete: false,
      arguments: OrderHistory.arguments,
    },
  ],
  bindings: observerBindings()
    .map(({ exchange, routingKey }) => ({
      source: exchange,
      vhost,
      destination: ObserverQueue.name,
      destination_type: 'queue',
      routing_key: routingKey,
      arguments: {},
    }))
    .concat({
      source: OrderHistory.exchange,
      vhost,
      destination: OrderHistory.name,
      destination_type: 'queue',
      routing_key: OrderHistory.routingKey,
      arguments: {},
    }),
};
// `monitoring`: the dashboard may read queue depths and rates from the management API.
definitions.users.push({
  name: observer,
  password_hash: passwordHash(observer, LOCAL_DEFAULTS.brokerPassword(observer)),
  hashing_algorithm: 'rabbit_password_hashing_sha256',
  tags: ['monitoring'],
});
definitions.permissions.push({ user: observer, vhost, ...ObserverQueue.permissions });

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(target, `${JSON.stringify(definitions, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}
