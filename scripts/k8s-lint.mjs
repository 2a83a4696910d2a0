#!/usr/bin/env node
// Validates deploy/k8s without a cluster (npm run lint:k8s, part of npm run lint):
// 1. builds each kustomization the way `kubectl kustomize` does for the keys used here
//    (resources, namespace, labels, images); a key it does not know fails the check rather than
//    being skipped silently;
// 2. checks every object against the Kubernetes OpenAPI schema of its kind
//    (kubernetes-models: the schemas compiled to validators, no network), and the
//    RabbitmqCluster against a structural schema of the fields used here, taken from the
//    operator's CRD (rabbitmq.com/v1beta1), since kubernetes-models does not ship it;
// 3. checks what the design asks of the deployment: every service Deployment has readiness
//    and liveness probes on /health/ready and /health/live and resource requests and limits,
//    every ConfigMap and Secret it names exists, and the RabbitmqCluster has three replicas.
//   node scripts/k8s-lint.mjs [dir]      (default deploy/k8s)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const base = path.resolve(root, process.argv[2] ?? 'deploy/k8s');
const KNOWN_KEYS = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'images']);
const CLUSTER_SCOPED = new Set(['Namespace']);
// Made at run time by the RabbitMQ Cluster Operator, so absent from the build.
const MADE_BY_OPERATOR = new Set(['rabbitmq-default-user']);
const SERVICES = ['order', 'invoicing', 'shipping', 'statistics', 'payment', 'dashboard'];

const problems = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);

/** The objects of a kustomization, with its namespace and labels applied. */
function build(dir) {
  const file = path.join(dir, 'kustomization.yaml');
  const kustomization = loadYaml(file)[0] ?? {};
  for (const key of Object.keys(kustomization)) {
    if (!KNOWN_KEYS.has(key)) problem(rel(file), `key "${key}" is not understood by lint:k8s`);
  }
  const objects = [];
  for (const resource of kustomization.resources ?? []) {
    const target = path.resolve(dir, resource);
    if (!existsSync(target)) {
      problem(rel(file), `resource ${resource} does not exist`);
      continue;
    }
    if (statSync(target).isDirectory()) objects.push(...build(target));
    else objects.push(...loadYaml(target).map((object) => ({ ...object, __file: rel(target) })));
  }
  for (const object of objects) {
    if (kustomization.namespace && !CLUSTER_SCOPED.has(object.kind)) {
      object.metadata = { ...object.metadata, namespace: kustomization.namespace };
    }
    for (const { pairs } of kustomization.labels ?? []) {
      object.metadata = { ...object.metadata, labels: { ...object.metadata?.labels, ...pairs } };
    }
    for (const container of object.spec?.template?.spec?.containers ?? []) {
      const [name, tag] = splitImage(container.image ?? '');
      const image = (kustomization.images ?? []).find((i) => i.name === name);
      if (!image) continue;
      container.image = `${image.newName ?? name}:${image.newTag ?? tag}`;
    }
  }
  for (const image of kustomization.images ?? []) {
    const used = objects.some((o) =>
      (o.spec?.template?.spec?.containers ?? []).some((c) =>
        c.image?.startsWith(image.newName ?? image.name),
      ),
    );
    if (!used) problem(rel(file), `images: ${image.name} names no container's image`);
  }
  return objects;
}

/** `registry/name:tag` as name and tag (a port in the registry is not a tag). */
function splitImage(image) {
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/')
    ? [image.slice(0, colon), image.slice(colon + 1)]
    : [image, 'latest'];
}

function loadYaml(file) {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) problem(rel(file), doc.errors.map((e) => e.message).join('; '));
      return doc.toJS();
    })
    .filter((object) => object !== null && object !== undefined);
}

const rel = (file) => path.relative(root, file);

/** kubernetes-models' module of an apiVersion and kind: core `v1` or `<group>/<version>`. */
async function modelOf(apiVersion, kind) {
  try {
    const module = await import(`kubernetes-models/${apiVersion}/${kind}`);
    return module[kind];
  } catch {
    return undefined;
  }
}

/** The fields of rabbitmq.com/v1beta1 RabbitmqCluster used here, as the operator's CRD types them. */
const rabbitmqClusterSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'rabbitmq.com/v1beta1' },
    kind: { const: 'RabbitmqCluster' },
    metadata: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' } },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      properties: {
        replicas: { type: 'integer', minimum: 0 },
        image: { type: 'string' },
        imagePullSecrets: { type: 'array' },
        service: { type: 'object' },
        persistence: {
          type: 'object',
          additionalProperties: false,
          properties: {
            storageClassName: { type: 'string' },
            storage: { type: ['string', 'integer'], pattern: '^[0-9]+(\\.[0-9]+)?([KMGTPE]i?)?$' },
          },
        },
        resources: {
          type: 'object',
          additionalProperties: false,
          properties: {
            requests: { $ref: '#/$defs/quantities' },
            limits: { $ref: '#/$defs/quantities' },
          },
        },
        affinity: { type: 'object' },
        tolerations: { type: 'array' },
        rabbitmq: {
          type: 'object',
          additionalProperties: false,
          properties: {
            additionalConfig: { type: 'string', maxLength: 100000 },
            advancedConfig: { type: 'string', maxLength: 100000 },
            envConfig: { type: 'string', maxLength: 100000 },
            additionalPlugins: { type: 'array', items: { type: 'string' } },
          },
        },
        tls: { type: 'object' },
        override: { type: 'object' },
        skipPostDeploySteps: { type: 'boolean' },
        terminationGracePeriodSeconds: { type: 'integer', minimum: 0 },
        delayStartSeconds: { type: 'integer', minimum: 0 },
        secretBackend: { type: 'object' },
      },
    },
  },
  $defs: {
    quantities: {
      type: 'object',
      additionalProperties: {
        type: ['string', 'integer'],
        pattern: '^[0-9]+(\\.[0-9]+)?(m|[KMGTPE]i?)?$',
      },
    },
  },
};
const validateRabbitmqCluster = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(
  rabbitmqClusterSchema,
);

async function checkSchema(object) {
  const where = `${object.__file} ${object.kind}/${object.metadata?.name}`;
  const { __file, ...plain } = object;
  if (object.apiVersion === 'rabbitmq.com/v1beta1' && object.kind === 'RabbitmqCluster') {
    if (!validateRabbitmqCluster(plain)) {
      for (const e of validateRabbitmqCluster.errors ?? []) {
        problem(where, `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
      }
    }
    return;
  }
  const Model = await modelOf(object.apiVersion, object.kind);
  if (!Model) {
    problem(where, `no schema for ${object.apiVersion} ${object.kind}`);
    return;
  }
  try {
    new Model(plain).validate();
  } catch (err) {
    problem(where, err.message.replace(/\s+/g, ' '));
  }
}

function checkDesign(objects) {
  const names = (kind) =>
    new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata?.name));
  const configMaps = names('ConfigMap');
  const secrets = new Set([...names('Secret'), ...MADE_BY_OPERATOR]);
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  for (const service of SERVICES) {
    if (!deployments.some((d) => d.metadata?.name === service)) {
      problem('deploy/k8s', `no Deployment for ${service}`);
    }
  }
  for (const workload of objects.filter((o) =>
    ['Deployment', 'StatefulSet', 'Job'].includes(o.kind),
  )) {
    const where = `${workload.__file} ${workload.kind}/${workload.metadata?.name}`;
    for (const container of workload.spec?.template?.spec?.containers ?? []) {
      if (!container.resources?.requests || !container.resources?.limits) {
        problem(where, `container ${container.name} has no resource requests and limits`);
      }
      if (workload.kind === 'Deployment') {
        if (container.readinessProbe?.httpGet?.path !== '/health/ready') {
          problem(where, `container ${container.name}: readiness probe is not GET /health/ready`);
        }
        if (container.livenessProbe?.httpGet?.path !== '/health/live') {
          problem(where, `container ${container.name}: liveness probe is not GET /health/live`);
        }
      }
      for (const source of container.envFrom ?? []) {
        if (source.configMapRef && !configMaps.has(source.configMapRef.name)) {
          problem(where, `ConfigMap ${source.configMapRef.name} is not in the build`);
        }
        if (source.secretRef && !secrets.has(source.secretRef.name)) {
          problem(where, `Secret ${source.secretRef.name} is not in the build`);
        }
      }
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (ref && !secrets.has(ref.name)) problem(where, `Secret ${ref.name} is not in the build`);
      }
    }
  }
  const cluster = objects.find((o) => o.kind === 'RabbitmqCluster');
  if (!cluster) problem('deploy/k8s', 'no RabbitmqCluster');
  else if (cluster.spec?.replicas !== 3)
    problem('deploy/k8s', 'the RabbitmqCluster must have 3 replicas');
}

/** Every folder under `dir` (itself included) that holds a kustomization. */
function kustomizations(dir) {
  const found = existsSync(path.join(dir, 'kustomization.yaml')) ? [dir] : [];
  for (const entry of readdirSync(dir)) {
    const sub = path.join(dir, entry);
    if (statSync(sub).isDirectory()) found.push(...kustomizations(sub));
  }
  return found;
}

const dirs = kustomizations(base);
if (dirs.length === 0) problem(rel(base), 'no kustomization found');
let checked = 0;
for (const dir of dirs) {
  const objects = build(dir);
  for (const object of objects) await checkSchema(object);
  checkDesign(objects);
  checked += objects.length;
}
if (problems.length > 0) {
  console.error(`lint:k8s: ${problems.length} problem(s):`);
  for (const line of problems) console.error(`  - ${line}`);
  process.exit(1);
}
console.log(
  `lint:k8s: ${dirs.map(rel).join(', ')}: ${checked} objects valid against the Kubernetes schemas (RabbitmqCluster structurally)`,
);
