#!/usr/bin/env node
// Scaffolds a new consuming service from templates/consumer-service (docs/new-service.md):
//
//   npm run new-service -- <name> [--port <port>]   a NewOrder subscriber, services/<name>
//   node scripts/new-service.mjs --lab-solution <name>
//       does the workshop attendee's change in a generated service (one point per whole
//       euro, templates/consumer-service-lab-solution), for CI and for trainers
//
// Besides services/<name> it adds the service to the lists outside its folder
// (scripts/service-template/edits.mjs says which) and regenerates what follows from them.
// It checks everything before it writes anything; `npm run remove-service -- <name>`
// undoes it.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  LAB_SOLUTION,
  ROOT,
  TEMPLATE,
  TEMPLATE_MARK,
  contextOf,
  filesBelow,
  format,
  problemWithName,
  regenerate,
  render,
  syncLockfile,
  takenPorts,
} from './service-template/common.mjs';
import { editsFor, presentIn, runEdits } from './service-template/edits.mjs';

const log = (line) => console.log(`[new-service] ${line}`);

function fail(message) {
  console.error(`[new-service] ${message}\n[new-service] nothing was changed.`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { labSolution: false, port: undefined, name: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--lab-solution') options.labSolution = true;
    else if (arg === '--port') options.port = argv[++i];
    else if (arg.startsWith('--port=')) options.port = arg.slice('--port='.length);
    else if (arg === '-h' || arg === '--help') {
      console.log(
        'usage: npm run new-service -- <name> [--port <port>]\n' +
          '       node scripts/new-service.mjs --lab-solution <name>',
      );
      process.exit(0);
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
    else if (options.name === undefined) options.name = arg;
    else fail(`one service at a time (got "${options.name}" and "${arg}")`);
  }
  return options;
}

function choosePort(requested) {
  const taken = takenPorts();
  if (requested === undefined) return Math.max(...taken) + 1;
  const port = Number(requested);
  if (!Number.isInteger(port) || port < 1024 || port > 65535)
    fail(`--port ${requested} is not a port between 1024 and 65535`);
  if (taken.has(port)) fail(`port ${port} is another service's default`);
  return port;
}

/** Everything that would make the generation fail half-way, found before any write. */
function check(name, ctx) {
  const problem = problemWithName(name);
  if (problem) fail(problem);
  const target = path.join(ROOT, 'services', name);
  if (existsSync(target)) {
    const manifest = path.join(target, 'package.json');
    const generated =
      existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).template === TEMPLATE_MARK;
    fail(
      generated
        ? `services/${name} already exists: choose another name, or remove it first (npm run remove-service -- ${name})`
        : `services/${name} already exists, a service of the system: choose another name`,
    );
  }
  const present = presentIn(ctx);
  if (present.length > 0)
    fail(
      `"${name}" is already named in ${present.map((edit) => edit.file).join(', ')}: a service of that name exists or was half removed (npm run remove-service -- ${name})`,
    );
  if (!existsSync(TEMPLATE)) fail(`the template ${path.relative(ROOT, TEMPLATE)} is missing`);
  // A dry run of the edits on the texts as they are: a missing anchor fails here.
  for (const edit of editsFor(ctx)) edit.apply(readFileSync(path.join(ROOT, edit.file), 'utf8'));
}

function renderInto(from, target, ctx) {
  const written = [];
  for (const relative of filesBelow(from)) {
    const destination = path.join(target, render(relative, ctx));
    mkdirSync(path.dirname(destination), { recursive: true });
    writeFileSync(destination, render(readFileSync(path.join(from, relative), 'utf8'), ctx));
    written.push(destination);
  }
  return written;
}

function generate({ name, port: requestedPort }) {
  const port = choosePort(requestedPort);
  const ctx = contextOf(name, port);
  try {
    check(name, ctx);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }

  const target = path.join(ROOT, 'services', name);
  log(
    `services/${name}: from ${path.relative(ROOT, TEMPLATE)} (port ${port}, queue ${name}.new-order)`,
  );
  try {
    renderInto(TEMPLATE, target, ctx);
    const manifestFile = path.join(target, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(
      manifestFile,
      `${JSON.stringify({ ...manifest, template: TEMPLATE_MARK }, null, 2)}\n`,
    );
    const edited = runEdits(ctx, 'apply');
    for (const edit of edited) log(`${edit.file}: ${name} added`);
    format([`services/${name}`, ...edited.filter((edit) => edit.format).map((edit) => edit.file)]);
    regenerate(log);
    syncLockfile(log);
  } catch (err) {
    console.error(`[new-service] failed: ${err instanceof Error ? err.message : String(err)}`);
    console.error(`[new-service] undoing: npm run remove-service -- ${name}`);
    runEdits(ctx, 'revert');
    rmSync(target, { recursive: true, force: true });
    process.exit(1);
  }

  console.log(`
[new-service] services/${name} is ready. Next:
  make build             compile it (and generate its Prisma client)
  make setup             its database "${name}", roles ${name}_owner/${name}_service, broker user ${name}
  make up                start it with the others (port ${port}); then
  curl "http://127.0.0.1:${port}/${name}/points?customerId=<a customer>"
  npx jest services/${name}   its unit and integration tests
Where each piece lives: docs/new-service.md. Undo: npm run remove-service -- ${name}`);
}

/** The attendee's change, scripted: the lab's version of the domain rule and its test. */
function labSolution({ name }) {
  const target = path.join(ROOT, 'services', name);
  const manifest = path.join(target, 'package.json');
  if (
    !existsSync(manifest) ||
    JSON.parse(readFileSync(manifest, 'utf8')).template !== TEMPLATE_MARK
  )
    fail(`services/${name} is not a service generated from ${TEMPLATE_MARK}`);
  const ctx = contextOf(name, 0);
  const scratch = path.join(ROOT, '.run', `lab-solution-${name}`);
  rmSync(scratch, { recursive: true, force: true });
  const written = renderInto(LAB_SOLUTION, scratch, ctx);
  for (const file of written) {
    const relative = path.relative(scratch, file);
    cpSync(file, path.join(target, relative));
    log(`services/${name}/${relative}: the lab's solution`);
  }
  rmSync(scratch, { recursive: true, force: true });
  format([`services/${name}`]);
}

const options = parseArgs(process.argv.slice(2));
if (!options.name) fail(problemWithName(undefined));
if (options.labSolution) labSolution(options);
else generate(options);
