import { createInterface } from 'node:readline/promises';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { ownerOfQueue, redact } from '@app/broker';
import {
  QueueNotFoundError,
  ReplayError,
  countDeadLetters,
  deadLetterQueueNames,
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
} from '../dead-letters';
import { formatDeadLetters } from './format';

const SYNOPSIS = `usage: dead-letters list <queue>
       dead-letters replay <queue> [--id <messageId>]
       dead-letters purge <queue> [--yes]`;

const HELP = `${SYNOPSIS}

<queue> is a consumer queue (invoicing.new-order) or its dead-letter queue
(invoicing.new-order.dead). The broker is RABBITMQ_URL
(default amqp://guest:guest@127.0.0.1:5672). Replay as the service that consumes the
queue (its own user, e.g. amqp://invoicing:...@host/messaging): it accepts a replayed
copy only from its own user.

  list     show the parked messages; they stay parked
  replay   send them (or only the one with --id) back to their original queue,
           with a fresh set of retries
  purge    remove them for good; asks to type the queue name, or --yes

exit codes: 0 done, 1 failed (unknown queue, nothing to replay, not confirmed),
            2 wrong usage, 3 broker unreachable`;

export const ExitCode = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';
const CONNECT_TIMEOUT_MS = 5_000;

type Command =
  | { name: 'help' }
  | { name: 'list'; queue: string }
  | { name: 'replay'; queue: string; id?: string }
  | { name: 'purge'; queue: string; yes: boolean };

class UsageError extends Error {}

/** Runs the command in `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let command: Command;
  try {
    command = parseArguments(argv);
  } catch (err) {
    console.error(`dead-letters: ${(err as Error).message}\n${SYNOPSIS}\n(--help for more)`);
    return ExitCode.usage;
  }
  if (command.name === 'help') {
    console.log(HELP);
    return ExitCode.ok;
  }

  const url = env.RABBITMQ_URL || DEFAULT_URL;
  let connection: ChannelModel;
  try {
    connection = await amqplib.connect(url, {
      timeout: CONNECT_TIMEOUT_MS,
      clientProperties: { connection_name: 'dead-letters cli' },
    });
  } catch (err) {
    console.error(
      `dead-letters: cannot reach the broker at ${redact(url)}: ${reasonOf(err)}${connectHint(err)}`,
    );
    return ExitCode.unreachable;
  }
  // A channel or connection error is reported through the rejected call; these listeners
  // only keep the event from being rethrown.
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    const code = await execute(
      command,
      channel,
      decodeURIComponent(new URL(url).username || 'guest'),
    );
    // Its close-ok comes after every ack the channel sent, so none is lost with the connection.
    await channel.close();
    return code;
  } catch (err) {
    if (err instanceof QueueNotFoundError) {
      console.error(
        `dead-letters: ${err.message} (a consumer queue's dead letters wait in <queue>.dead; is RABBITMQ_URL's vhost the right one?)`,
      );
      return ExitCode.failed;
    }
    if (err instanceof ReplayError) {
      console.error(`dead-letters: replayed ${err.replayed}, then stopped: ${err.message}`);
      return ExitCode.failed;
    }
    console.error(`dead-letters: ${reasonOf(err)}`);
    return ExitCode.failed;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function execute(
  command: Exclude<Command, { name: 'help' }>,
  channel: ConfirmChannel,
  userId: string,
): Promise<number> {
  const { queue, deadQueue } = deadLetterQueueNames(command.queue);
  switch (command.name) {
    case 'list': {
      const entries = await listDeadLetters(channel, queue);
      if (entries.length === 0) {
        console.log(`${deadQueue} is empty`);
        return ExitCode.ok;
      }
      console.log(`${plural(entries.length, 'dead letter')} in ${deadQueue}\n`);
      console.log(formatDeadLetters(entries));
      return ExitCode.ok;
    }
    case 'replay': {
      const owner = ownerOfQueue(queue);
      console.log(`replaying as broker user ${userId} into ${queue} (owned by ${owner})`);
      if (userId !== owner) {
        console.error(
          `dead-letters: warning: ${queue} accepts replayed copies only from its own user ${owner}; connect as ${owner}`,
        );
      }
      const replayed = await replayDeadLetters(channel, queue, { id: command.id, userId });
      if (command.id !== undefined && replayed === 0) {
        console.error(`dead-letters: no dead letter with messageId ${command.id} in ${deadQueue}`);
        return ExitCode.failed;
      }
      console.log(`replayed ${plural(replayed, 'dead letter')} from ${deadQueue}`);
      return ExitCode.ok;
    }
    case 'purge': {
      const count = await countDeadLetters(channel, queue);
      if (count === 0) {
        console.log(`${deadQueue} is empty; nothing to purge`);
        return ExitCode.ok;
      }
      if (!command.yes) {
        if (!process.stdin.isTTY) {
          console.error(
            `dead-letters: refusing to purge ${deadQueue} without confirmation: stdin is not a terminal; add --yes`,
          );
          return ExitCode.failed;
        }
        if (!(await confirm(count, queue, deadQueue))) {
          console.error('dead-letters: not confirmed; nothing purged');
          return ExitCode.failed;
        }
      }
      const purged = await purgeDeadLetters(channel, queue);
      console.log(`purged ${plural(purged, 'dead letter')} from ${deadQueue}`);
      return ExitCode.ok;
    }
  }
}

async function confirm(count: number, queue: string, deadQueue: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await prompt.question(
      `This removes ${plural(count, 'message')} from ${deadQueue} for good.\n` +
        `Type the queue name (${deadQueue}) to confirm: `,
    );
    return [queue, deadQueue].includes(answer.trim());
  } finally {
    prompt.close();
  }
}

function parseArguments(argv: string[]): Command {
  const positional: string[] = [];
  let id: string | undefined;
  let yes = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { name: 'help' };
    if (arg === '--yes' || arg === '-y') yes = true;
    else if (arg === '--id') {
      id = argv[i + 1];
      i += 1;
      if (!id) throw new UsageError('--id needs a messageId');
    } else if (arg.startsWith('--id=')) {
      id = arg.slice('--id='.length);
      if (!id) throw new UsageError('--id needs a messageId');
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  const [name, queue, ...extra] = positional;
  if (name === undefined) throw new UsageError('missing command');
  if (!['list', 'replay', 'purge'].includes(name)) {
    throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  }
  if (!queue) throw new UsageError(`${name} needs a queue`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (id !== undefined && name !== 'replay') throw new UsageError('--id goes with replay only');
  if (yes && name !== 'purge') throw new UsageError('--yes goes with purge only');
  if (name === 'replay') return { name, queue, ...(id === undefined ? {} : { id }) };
  if (name === 'purge') return { name, queue, yes };
  return { name: 'list', queue };
}

/** amqplib reports a missing vhost or a refused one only as an unexplained ConnectionClose. */
function connectHint(err: unknown): string {
  return /ConnectionClose/.test(reasonOf(err))
    ? ' (does the vhost in RABBITMQ_URL exist, and may this user use it?)'
    : '';
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map(reasonOf).join('; ');
  }
  if (err instanceof Error) return err.message || (err as { code?: string }).code || err.name;
  return String(err);
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
