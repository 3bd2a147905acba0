import { createConnection, type Socket } from 'node:net';
import { z } from 'zod';
import { addressSchema } from '../inventory/inventory-schema.js';
import { splitAddress } from '../inventory/inventory.js';
import { durationSchema } from '../core/duration.js';
import { defineAction, permanentError, transientError } from '../core/action.js';

/**
 * HAProxy proxy and server names. The runtime API splits its input on `;` and newlines, so a templated label
 * value with one of those could append a command of its own (`s1;shutdown sessions server app/s2`): only the
 * characters HAProxy allows in identifiers get through.
 */
const haproxyName = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : and - only (an HAProxy identifier)');

const haproxyServerSchema = z
  .strictObject({
    /** Path of a unix `stats socket ... level admin`. */
    socket: z
      .string()
      .regex(/^\/[^\0\n\r]*$/, 'must be an absolute path')
      .optional(),
    /** host:port of a TCP `stats socket ipv4@host:port level admin`. */
    address: addressSchema.optional(),
    backend: haproxyName,
    server: haproxyName,
    state: z.enum(['ready', 'drain', 'maint']),
    weight: z.number().int().min(0).max(256).optional(),
    /** How long each runtime-API exchange (connect, command, answer) may take. */
    timeout: durationSchema.refine((ms) => ms > 0, 'must be more than 0').default(5000),
  })
  .superRefine((params, ctx) => {
    if ((params.socket === undefined) === (params.address === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of socket or address' });
    }
  });

type HaproxyServerParams = z.output<typeof haproxyServerSchema>;

/** srv_admin_state bits (HAProxy's SRV_ADMF_*). */
const adminFlags = { forcedMaint: 0x01, forcedDrain: 0x08 } as const;

/** srv_op_state values (HAProxy's SRV_ST_*). */
const operationalStates = ['stopped', 'starting', 'running', 'stopping'] as const;

/** The runtime API never needs this much for one backend; more means something else is answering. */
const maxAnswerBytes = 4 * 1024 * 1024;

/** Answers that retrying cannot change: a missing proxy/server, or a socket without admin level. */
const permanentAnswers = /No such (backend|server)|Can't find backend|Permission denied|Unknown command/i;

interface Endpoint {
  /** For messages. */
  readonly where: string;
  connect(): Socket;
}

function endpointOf(params: HaproxyServerParams): Endpoint {
  if (params.socket !== undefined) {
    const path = params.socket;
    return { where: path, connect: () => createConnection({ path }) };
  }
  const { host, port } = splitAddress(params.address ?? '');
  return { where: params.address ?? '', connect: () => createConnection({ host, port }) };
}

/**
 * One runtime-API exchange: connect, write "command\n", read until HAProxy closes the connection (it does after
 * one command when the session is not interactive).
 */
function exchange(endpoint: Endpoint, command: string, timeoutMs: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    // Defence in depth: the schema already keeps separators out of names.
    if (/[;\r\n]/.test(command)) {
      reject(permanentError(`refusing to send a command with a separator: ${JSON.stringify(command)}`));
      return;
    }
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    let socket: Socket;
    try {
      socket = endpoint.connect();
    } catch (error) {
      reject(transientError(`cannot talk to HAProxy at ${endpoint.where}: ${(error as Error).message}`, error));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: Error | undefined, answer = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer);
    };
    const onAbort = () => {
      finish(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      finish(transientError(`HAProxy at ${endpoint.where} did not answer "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxAnswerBytes)
        finish(transientError(`HAProxy at ${endpoint.where} answered more than ${maxAnswerBytes} bytes to "${command}"`));
      else chunks.push(chunk);
    });
    socket.on('end', () => {
      finish(undefined, Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const message = `cannot talk to HAProxy at ${endpoint.where}: ${error.message}`;
      // A socket file we may not open stays that way; a refused or missing socket may come back (a reload).
      finish(error.code === 'EACCES' ? permanentError(message, error) : transientError(message, error));
    });
  });
}

/** Runs a `set` command: HAProxy answers an empty line on success and a message otherwise. */
async function runSet(endpoint: Endpoint, command: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const answer = (await exchange(endpoint, command, timeoutMs, signal)).trim();
  if (answer === '') return;
  const message = `HAProxy at ${endpoint.where} refused "${command}": ${answer}`;
  throw permanentAnswers.test(answer) ? permanentError(message) : transientError(message);
}

/** One server's row of `show servers state`, by column name. */
type ServerRow = Readonly<Record<string, string>>;

/** Finds `backend`/`server` in a `show servers state <backend>` answer, reading columns by the header's names. */
function findServerRow(answer: string, backend: string, server: string, where: string): ServerRow {
  const lines = answer
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const header = lines.find((line) => line.startsWith('#'));
  if (header === undefined) {
    const message = `HAProxy at ${where} answered "show servers state ${backend}" without a header: ${answer.trim().slice(0, 200)}`;
    throw permanentAnswers.test(answer) ? permanentError(message) : transientError(message);
  }
  const columns = header.slice(1).trim().split(/\s+/);
  for (const required of ['be_name', 'srv_name', 'srv_op_state', 'srv_admin_state', 'srv_uweight']) {
    if (!columns.includes(required))
      throw transientError(`HAProxy at ${where}: "show servers state" has no ${required} column (header: ${header})`);
  }
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    const values = line.split(/\s+/);
    // The first line is the format version, a single number.
    if (values.length < columns.length) continue;
    const row = Object.fromEntries(columns.map((column, index) => [column, values[index] ?? '']));
    if (row.be_name === backend && row.srv_name === server) return row;
  }
  throw transientError(`HAProxy at ${where} does not list server ${backend}/${server} in "show servers state"`);
}

function numberColumn(row: ServerRow, column: string, where: string): number {
  const text = row[column] ?? '';
  const value = Number(text);
  if (text === '' || !Number.isInteger(value)) throw transientError(`HAProxy at ${where}: ${column} is "${text}", not a number`);
  return value;
}

/** Whether srv_admin_state shows `state`: maint = forced maintenance, drain = forced drain, ready = neither. */
function adminStateMatches(adminState: number, state: HaproxyServerParams['state']): boolean {
  const maint = (adminState & adminFlags.forcedMaint) !== 0;
  const drain = (adminState & adminFlags.forcedDrain) !== 0;
  if (state === 'maint') return maint;
  if (state === 'drain') return drain && !maint;
  return !drain && !maint;
}

/**
 * Sets a server's administrative state (and weight) through the HAProxy runtime API, then reads it back.
 * Output: the state HAProxy reports afterwards; adminState is srv_admin_state as HAProxy reports it (bits).
 */
export function createHaproxyServerAction() {
  return defineAction({
    name: 'haproxy.server',
    description: 'Set an HAProxy server to ready, drain or maint (and optionally its weight) through the runtime API, and verify it.',
    schema: haproxyServerSchema,
    defaultTimeoutMs: 30_000,
    // The socket is a file: a label may name one below the directory the playbook writes, never another.
    escapesFor: () => ({ socket: 'path' }),
    async run(params, { signal, logger }) {
      const endpoint = endpointOf(params);
      const target = `${params.backend}/${params.server}`;
      await runSet(endpoint, `set server ${target} state ${params.state}`, params.timeout, signal);
      if (params.weight !== undefined) await runSet(endpoint, `set server ${target} weight ${params.weight}`, params.timeout, signal);

      const answer = await exchange(endpoint, `show servers state ${params.backend}`, params.timeout, signal);
      const row = findServerRow(answer, params.backend, params.server, endpoint.where);
      const adminState = numberColumn(row, 'srv_admin_state', endpoint.where);
      const opState = numberColumn(row, 'srv_op_state', endpoint.where);
      const weight = numberColumn(row, 'srv_uweight', endpoint.where);
      const output = {
        backend: params.backend,
        server: params.server,
        state: params.state,
        adminState,
        operationalState: operationalStates[opState] ?? `unknown (${opState})`,
        weight,
      };
      logger.debug(output, 'haproxy.server: state after change');
      if (!adminStateMatches(adminState, params.state)) {
        throw transientError(
          `HAProxy at ${endpoint.where} reports ${target} with srv_admin_state ${adminState} after setting ${params.state}`,
        );
      }
      if (params.weight !== undefined && weight !== params.weight) {
        throw transientError(`HAProxy at ${endpoint.where} reports ${target} with weight ${weight} after setting ${params.weight}`);
      }
      return output;
    },
  });
}
