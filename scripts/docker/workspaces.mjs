#!/usr/bin/env node
// The npm workspaces as the Docker build sees them, read from the root package.json, so
// the Dockerfile never lists a workspace by hand: a workspace added to package.json is
// installed, compiled and shipped without touching the Dockerfile.
//
//   node scripts/docker/workspaces.mjs list [--services]         workspace folders, one a line
//   node scripts/docker/workspaces.mjs manifests SRC DEST        package.json of the root and of
//                                                                every workspace, plus the lockfile
//   node scripts/docker/workspaces.mjs gather SRC DEST [--services]
//                                                                what the runtime needs of each
//                                                                workspace (manifest, dist, Prisma)
//
// --services: only the workspaces under services/ and the workspaces they depend on, for
// the lean service image; without it, every workspace (the tools image: migrate, demo, bench).
// Runs with nothing but Node (no dependencies): the Dockerfile calls it before `npm ci`.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Files and folders of a workspace that the runtime needs, when they exist. */
export const RUNTIME_ENTRIES = ['package.json', 'dist', 'prisma', 'prisma.config.ts', 'public'];

/** Root files the runtime needs besides the workspaces. */
export const ROOT_RUNTIME_ENTRIES = ['package.json', 'scripts', 'infra/rabbitmq'];

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Expands one "workspaces" entry: a folder, or a folder pattern ending in `/*`. */
function expand(root, pattern) {
  const clean = pattern.replace(/\/+$/, '');
  if (!clean.includes('*')) return [clean];
  if (!/^[^*]+\/\*$/.test(clean)) {
    throw new Error(`workspace pattern "${pattern}" is not supported (use "dir" or "dir/*")`);
  }
  const parent = clean.slice(0, -2);
  const dir = path.join(root, parent);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => existsSync(path.join(dir, name, 'package.json')))
    .sort()
    .map((name) => `${parent}/${name}`);
}

/** Every workspace folder (relative, forward slashes) named by the root package.json. */
export function listWorkspaces(root) {
  const manifest = readJson(path.join(root, 'package.json'));
  const patterns = Array.isArray(manifest.workspaces)
    ? manifest.workspaces
    : (manifest.workspaces?.packages ?? []);
  return [...new Set(patterns.flatMap((pattern) => expand(root, pattern)))];
}

/** The workspaces under services/ plus every workspace they depend on, transitively. */
export function serviceClosure(root) {
  const all = listWorkspaces(root);
  const byName = new Map(
    all.map((dir) => [readJson(path.join(root, dir, 'package.json')).name, dir]),
  );
  const wanted = new Set();
  const visit = (dir) => {
    if (wanted.has(dir)) return;
    wanted.add(dir);
    const { dependencies = {} } = readJson(path.join(root, dir, 'package.json'));
    for (const name of Object.keys(dependencies)) {
      if (byName.has(name)) visit(byName.get(name));
    }
  };
  all.filter((dir) => dir.startsWith('services/')).forEach(visit);
  return all.filter((dir) => wanted.has(dir));
}

// Build info files (dist/.tsbuildinfo) are of no use at run time.
function copy(from, to) {
  mkdirSync(path.dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true, filter: (file) => !file.endsWith('.tsbuildinfo') });
}

export function copyManifests(src, dest) {
  for (const file of ['package.json', 'package-lock.json']) {
    copy(path.join(src, file), path.join(dest, file));
  }
  for (const dir of listWorkspaces(src)) {
    copy(path.join(src, dir, 'package.json'), path.join(dest, dir, 'package.json'));
  }
}

export function gather(src, dest, { servicesOnly = false } = {}) {
  const workspaces = servicesOnly ? serviceClosure(src) : listWorkspaces(src);
  for (const entry of ROOT_RUNTIME_ENTRIES) {
    copy(path.join(src, entry), path.join(dest, entry));
  }
  for (const dir of workspaces) {
    if (!existsSync(path.join(src, dir, 'dist'))) {
      throw new Error(`${dir}/dist is missing: \`npm run build\` does not compile ${dir}`);
    }
    for (const entry of RUNTIME_ENTRIES) {
      const from = path.join(src, dir, entry);
      if (existsSync(from)) copy(from, path.join(dest, dir, entry));
    }
  }
  return workspaces;
}

function main(argv) {
  const [command, ...rest] = argv;
  const servicesOnly = rest.includes('--services');
  const args = rest.filter((arg) => !arg.startsWith('--'));
  switch (command) {
    case 'list': {
      const root = args[0] ?? process.cwd();
      const dirs = servicesOnly ? serviceClosure(root) : listWorkspaces(root);
      console.log(dirs.join('\n'));
      return;
    }
    case 'manifests':
      if (args.length !== 2) break;
      copyManifests(args[0], args[1]);
      return;
    case 'gather': {
      if (args.length !== 2) break;
      const dirs = gather(args[0], args[1], { servicesOnly });
      console.log(`gathered ${dirs.length} workspaces: ${dirs.join(' ')}`);
      return;
    }
  }
  console.error(
    'usage: workspaces.mjs list [ROOT] [--services] | manifests SRC DEST | gather SRC DEST [--services]',
  );
  process.exit(2);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
