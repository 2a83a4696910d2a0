#!/usr/bin/env node
// `npm run lint:docker` (part of `npm run lint`): a cheap check, no Docker needed, that the
// image build still covers every workspace. It fails when
//   - a workspace in package.json is not compiled by `npm run build` (its `tsc -b` roots
//     and their project references), or the build compiles a folder that is not a workspace
//     (the image would not ship it);
//   - .dockerignore keeps a workspace's manifest, tsconfig.json or src/ out of the build
//     context, or a root file the build needs;
//   - a service under services/ has no container in docker-compose.yml (or migrate is not
//     given its database);
//   - the Dockerfile lists workspaces by hand instead of asking scripts/docker/workspaces.mjs,
//     or no longer runs `npm run build`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listWorkspaces } from './workspaces.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const problems = [];
const problem = (message) => problems.push(message);

/** tsconfig files may hold comments and trailing commas. */
function readJsonc(file) {
  const text = readFileSync(file, 'utf8')
    .replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (match, string) => string ?? '')
    .replace(/,(\s*[}\]])/g, '$1');
  return JSON.parse(text);
}

const rel = (absolute) => path.relative(root, absolute).split(path.sep).join('/');

/** The folders `tsc -b ROOTS` compiles: the roots and, transitively, their references. */
function compiledBy(roots) {
  const seen = new Set();
  const visit = (dir) => {
    const key = rel(dir);
    if (seen.has(key)) return;
    seen.add(key);
    const tsconfig = path.join(dir, 'tsconfig.json');
    if (!existsSync(tsconfig)) {
      problem(`${key}: compiled by \`npm run build\` but has no tsconfig.json`);
      return;
    }
    for (const reference of readJsonc(tsconfig).references ?? []) {
      const target = path.resolve(dir, reference.path);
      visit(target.endsWith('.json') ? path.dirname(target) : target);
    }
  };
  roots.forEach((dir) => visit(path.resolve(root, dir)));
  return seen;
}

/** Docker's .dockerignore rules: last match wins, `!` re-includes, a match covers subpaths. */
function dockerignore() {
  const file = path.join(root, '.dockerignore');
  if (!existsSync(file)) return () => false;
  const rules = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = path.posix.normalize((negate ? line.slice(1) : line).replace(/^\/+/, ''));
      let source = '';
      for (let i = 0; i < pattern.length; i += 1) {
        const char = pattern[i];
        if (char === '*' && pattern[i + 1] === '*') {
          source += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pattern[i + 2] === '/' ? 2 : 1;
        } else if (char === '*') source += '[^/]*';
        else if (char === '?') source += '[^/]';
        else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, regex: new RegExp(`^${source}$`) };
    });
  return (file) => {
    const parts = file.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const { negate, regex } of rules) {
      if (prefixes.some((prefix) => regex.test(prefix))) excluded = !negate;
    }
    return excluded;
  };
}

const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
let workspaces = [];
try {
  workspaces = listWorkspaces(root);
} catch (error) {
  problem(`package.json workspaces: ${error.message}`);
}

// 1. `npm run build` compiles every workspace, and only workspaces.
const build = manifest.scripts?.build ?? '';
const tscRoots = [...build.matchAll(/tsc\s+-b\s+([^&|;]+)/g)].flatMap((match) =>
  match[1]
    .trim()
    .split(/\s+/)
    .filter((arg) => !arg.startsWith('-'))
    // `services/*`, as the shell expands it: every folder in it.
    .flatMap((arg) =>
      arg.endsWith('/*')
        ? readdirSync(path.join(root, arg.slice(0, -2)), { withFileTypes: true })
            .filter((entry) => entry.isDirectory())
            .map((entry) => `${arg.slice(0, -2)}/${entry.name}`)
        : [arg],
    ),
);
if (tscRoots.length === 0) problem('package.json: the build script runs no `tsc -b <folders>`');
const compiled = compiledBy(tscRoots);
for (const dir of workspaces) {
  if (!existsSync(path.join(root, dir, 'package.json'))) {
    problem(`${dir}: listed in package.json workspaces but has no package.json`);
  } else if (!compiled.has(dir)) {
    problem(
      `${dir}: a workspace that \`npm run build\` does not compile (add it to the tsc -b list)`,
    );
  }
}
for (const dir of compiled) {
  if (!workspaces.includes(dir)) {
    problem(
      `${dir}: compiled by \`npm run build\` but not a workspace, so the image would not ship it`,
    );
  }
}

// 2. The build context keeps what the build reads.
const ignored = dockerignore();
const needed = [
  'package.json',
  'package-lock.json',
  'tsconfig.base.json',
  'scripts/prisma.mjs',
  'scripts/docker/workspaces.mjs',
  'infra/rabbitmq/definitions.json',
  ...workspaces.flatMap((dir) => [`${dir}/package.json`, `${dir}/tsconfig.json`, `${dir}/src`]),
];
for (const file of needed) {
  if (ignored(file)) problem(`.dockerignore leaves ${file} out of the build context`);
}

// 3. The Dockerfile asks workspaces.mjs instead of listing workspaces.
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .split('\n')
  .filter((line) => !line.trimStart().startsWith('#'))
  .join('\n');
for (const dir of workspaces) {
  if (
    new RegExp(`(^|[\\s/])${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|\\s|$)`, 'm').test(
      instructions,
    )
  ) {
    problem(`Dockerfile names the workspace ${dir}: let scripts/docker/workspaces.mjs list them`);
  }
}
for (const [needle, what] of [
  [
    'workspaces.mjs manifests',
    'extract the manifests with scripts/docker/workspaces.mjs manifests',
  ],
  ['workspaces.mjs gather', 'gather the runtime files with scripts/docker/workspaces.mjs gather'],
  ['npm run build', 'compile with npm run build'],
]) {
  if (!instructions.includes(needle)) problem(`Dockerfile: does not ${what}`);
}

// 4. docker-compose.yml runs every service and migrates its database.
const composeFile = path.join(root, 'docker-compose.yml');
if (existsSync(composeFile)) {
  const compose = readFileSync(composeFile, 'utf8');
  for (const dir of workspaces.filter((d) => d.startsWith('services/'))) {
    const name = dir.slice('services/'.length);
    if (!compose.includes(`${dir}/dist/main.js`)) {
      problem(`docker-compose.yml has no container running ${dir}/dist/main.js`);
    }
    if (
      existsSync(path.join(root, dir, 'prisma')) &&
      !compose.includes(`${name.toUpperCase()}_MIGRATE_DATABASE_URL:`)
    ) {
      problem(
        `docker-compose.yml: migrate is not given ${name.toUpperCase()}_MIGRATE_DATABASE_URL`,
      );
    }
  }
}

if (problems.length > 0) {
  console.error(
    `lint:docker: the image build does not cover the workspaces:\n  - ${problems.join('\n  - ')}`,
  );
  process.exit(1);
}
console.log(
  `lint:docker: ${workspaces.length} workspaces, all compiled by the build and shipped by the image`,
);
