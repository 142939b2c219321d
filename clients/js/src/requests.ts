// Commands waiting for their answer, and commands waiting for a connection.
//
// Every command gets a fresh id when it is sent, and its answer is found by
// that id, so any number can be in flight at once without one caller ever
// getting another's answer. Commands made while disconnected wait in a
// bounded queue and are sent in order once the client is connected again;
// when the queue is full a new command is rejected at once, never dropped.

import { SwitchboardError } from './errors.js';

export interface Command {
  /** The command as JSON without its id: `{"type":...}`. */
  body: string;
  /** ms from sending to the answer. */
  timeout: number;
  resolve(data: unknown): void;
  reject(error: SwitchboardError): void;
  /**
   * The application's request (publish, rpc, ...), which may be sent again
   * when the server says it was not run; not set for the client's own
   * commands (connect, subscribe, ping, ...), which it makes anew anyway.
   */
  resendable?: boolean;
}

export class InFlight {
  private nextId = 1;
  private readonly waiting = new Map<number, { command: Command; timer: ReturnType<typeof setTimeout> }>();

  get size(): number {
    return this.waiting.size;
  }

  /** Numbers the command and starts its timeout; returns its id and the frame to send. */
  start(command: Command): { id: number; frame: string } {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      if (this.waiting.delete(id)) {
        command.reject(new SwitchboardError('timeout', `no answer within ${command.timeout} ms`));
      }
    }, command.timeout);
    this.waiting.set(id, { command, timer });
    return { id, frame: `{"id":${id},${command.body.slice(1)}` };
  }

  /** The command with this id, removed; undefined for an unknown id. */
  take(id: number): Command | undefined {
    const entry = this.waiting.get(id);
    if (!entry) return undefined;
    this.waiting.delete(id);
    clearTimeout(entry.timer);
    return entry.command;
  }

  failAll(error: SwitchboardError): void {
    for (const command of this.takeAll()) command.reject(error);
  }

  /** Every command still waiting, in the order they were sent; none waits any more. */
  takeAll(): Command[] {
    const entries = [...this.waiting.values()];
    this.waiting.clear();
    for (const { timer } of entries) clearTimeout(timer);
    return entries.map(({ command }) => command);
  }
}

export class OfflineQueue {
  private commands: Command[] = [];

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.commands.length;
  }

  /** False when full: the caller rejects the command. */
  push(command: Command): boolean {
    if (this.commands.length >= this.limit) return false;
    this.commands.push(command);
    return true;
  }

  /**
   * Puts commands that were sent and not run back at the front, in their
   * order, before what was queued meanwhile; they were accepted already,
   * so the limit does not refuse them.
   */
  putBack(commands: Command[]): void {
    this.commands = [...commands, ...this.commands];
  }

  /** Everything queued, oldest first; the queue is then empty. */
  drain(): Command[] {
    const commands = this.commands;
    this.commands = [];
    return commands;
  }

  failAll(error: SwitchboardError): void {
    for (const command of this.drain()) command.reject(error);
  }
}
