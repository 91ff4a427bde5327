/**
 * exec: Node-RED's exec node, made safe for a shared host. Off unless an administrator lists the commands flows may
 * run in FLOWCREW_EXEC_COMMANDS (names looked up on PATH, or absolute paths); a command never runs through a shell:
 * the command line is split into arguments (quotes respected, as Node-RED's spawn mode does) and shell syntax
 * (pipes, redirections, `$(...)`, `;`, `&&`) is refused at deploy instead of being passed on. Outputs as Node-RED:
 * 1 stdout, 2 stderr, 3 the return code; "wait" mode sends each once at exit, "spawn" mode streams chunks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { defineNode, getProperty, type FlowMessage } from '@flowcrew/sdk';

export interface ExecProps {
  command: string;
  /** Message property appended as arguments (Node-RED: true = payload, '' / false = none). */
  addpay?: string | boolean;
  append?: string;
  useSpawn?: 'true' | 'false' | boolean;
  /** Seconds before the process is killed; 0 = no limit. */
  timer?: number | string;
  oldrc?: boolean | string;
}

const SHELL_SYNTAX = /[|&;<>`]|\$\(|\$\{|\n/;
const MAX_OUTPUT = 10_000_000; // Node-RED's execMaxBufferSize default

/** The commands an administrator allowed (FLOWCREW_EXEC_COMMANDS), read when a node is deployed. */
export function allowedCommands(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.FLOWCREW_EXEC_COMMANDS ?? '').split(',').map((c) => c.trim()).filter(Boolean);
}

/** Split a command line into arguments like Node-RED's spawn mode: whitespace separates, double quotes group. */
export function splitArguments(line: string): string[] {
  return (line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []).map((a) => a.replace(/"/g, ''));
}

export function checkCommand(command: string, allowed: string[]): void {
  if (allowed.length === 0) throw new Error('exec: running commands is off on this runtime (an administrator enables commands with FLOWCREW_EXEC_COMMANDS)');
  if (SHELL_SYNTAX.test(command)) throw new Error(`exec: "${command}" uses shell syntax (pipes, redirections, ;, &&, $(...)); commands run without a shell: ask an administrator to allow a script that does this`);
  const [program] = splitArguments(command);
  if (!program) throw new Error('exec: command is empty');
  const ok = program.includes('/') ? allowed.includes(path.resolve(program)) : allowed.includes(program);
  if (!ok) throw new Error(`exec: "${program}" is not an allowed command (allowed: ${allowed.join(', ')})`);
}

export const execNode = defineNode<ExecProps>({
  type: 'exec',
  category: 'function',
  label: 'exec',
  icon: 'terminal',
  color: '#e2d96e',
  inputs: 1,
  outputs: 3,
  props: {
    type: 'object',
    properties: {
      command: { title: 'Command', type: 'string', minLength: 1, description: 'A command an administrator allowed (FLOWCREW_EXEC_COMMANDS), with fixed arguments' },
      addpay: { title: 'Append', type: ['string', 'boolean'], default: 'payload', description: 'Message property whose value is appended as arguments (empty: none)' },
      append: { title: 'Extra arguments', type: 'string', default: '', description: 'Arguments after the appended value' },
      useSpawn: { title: 'Output', enum: ['false', 'true', false, true], default: 'false', description: 'false: when the command has finished; true: while it runs (spawn mode)' },
      timer: { title: 'Timeout (s)', type: ['number', 'string'], default: '', description: 'Kill the process after this many seconds (empty: no limit)' },
      oldrc: { title: 'Return code as a number', type: ['boolean', 'string'], default: false, description: 'Legacy: the third output\'s payload is the bare code instead of { code }' },
    },
    required: ['command'],
  },
  help: `Runs a command on the runtime's host, as Node-RED's **exec** node — only commands an administrator has allowed.

### Set-up (administrators)
\`FLOWCREW_EXEC_COMMANDS=convert,/opt/tools/report.sh\` lists the commands flows may run (names on PATH or
absolute paths). Unset, the node refuses to deploy. Commands never run through a shell: the command line is split
into arguments (double quotes group words) and shell syntax (\`|\`, \`>\`, \`;\`, \`&&\`, \`$(...)\`) is refused.

### Properties
- **Command**: the program and its fixed arguments.
- **Append**: a message property (default \`payload\`) whose value is split into more arguments.
- **Extra arguments**: added after that.
- **Output**: *when the command has finished* (one message per output) or *while it runs* (a message per chunk).
- **Timeout**: seconds before the process is killed (SIGTERM).

### Outputs
1. standard output, 2. standard error, 3. the return code \`{ code }\` (plus \`signal\` when killed).
\`msg.kill\` (e.g. \`"SIGINT"\`) stops the running process instead.`,
  create(init) {
    const props = init.props;
    const command = String(props.command ?? '').trim();
    checkCommand(command, allowedCommands());
    const addpay = props.addpay === true || props.addpay === undefined ? 'payload' : props.addpay === false ? '' : String(props.addpay);
    const streaming = props.useSpawn === true || props.useSpawn === 'true';
    const timeoutMs = Number(props.timer || 0) * 1000;
    const oldrc = props.oldrc === true || props.oldrc === 'true';
    const running = new Set<ChildProcess>();

    return {
      onInput(msg: FlowMessage, ctx) {
        if ('kill' in msg) {
          const signal = typeof msg.kill === 'string' && msg.kill.toUpperCase().startsWith('SIG') ? msg.kill.toUpperCase() : 'SIGTERM';
          for (const child of running) child.kill(signal as NodeJS.Signals);
          return null;
        }
        const extra = addpay ? getProperty(msg, addpay) : undefined;
        const line = [command, extra === undefined || extra === null ? '' : typeof extra === 'object' ? JSON.stringify(extra) : String(extra), props.append ?? ''].join(' ');
        const [program, ...args] = splitArguments(line);
        return new Promise<null>((resolve, reject) => {
          const child = spawn(program!, args, { shell: false, signal: ctx.signal });
          running.add(child);
          const timer = timeoutMs > 0 ? setTimeout(() => child.kill('SIGTERM'), timeoutMs) : undefined;
          const out: Buffer[] = [];
          const err: Buffer[] = [];
          let size = 0;
          const collect = (into: Buffer[], port: number) => (data: Buffer) => {
            if (streaming) return ctx.send({ ...msg, payload: data.toString('utf8') }, port);
            size += data.length;
            if (size > MAX_OUTPUT) { child.kill('SIGTERM'); return; }
            into.push(data);
          };
          child.stdout.on('data', collect(out, 0));
          child.stderr.on('data', collect(err, 1));
          child.on('error', (error) => {
            clearTimeout(timer);
            running.delete(child);
            reject(new Error(`exec: cannot run "${program}": ${error.message}`));
          });
          child.on('close', (code, signal) => {
            clearTimeout(timer);
            running.delete(child);
            const rc = oldrc ? code : { code, ...(signal ? { signal } : {}) };
            if (!streaming) {
              ctx.send({ ...msg, payload: Buffer.concat(out).toString('utf8'), rc }, 0);
              if (err.length) ctx.send({ ...msg, payload: Buffer.concat(err).toString('utf8'), rc }, 1);
            }
            // Node-RED's legacy mode sends no return code for a success.
            if (!(oldrc && code === 0)) ctx.send({ ...msg, payload: rc }, 2);
            resolve(null);
          });
        });
      },
      close() {
        for (const child of running) child.kill('SIGTERM');
      },
    };
  },
});
