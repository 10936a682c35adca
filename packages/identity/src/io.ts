import { close, closeSync, fstat, fstatSync, open, openSync, read, readSync } from 'node:fs';

/**
 * One file-system call, in its blocking and its promise form. The identity logic is written once,
 * as a generator that yields these, and run by {@link runSync} or {@link runAsync}: the sync
 * and async entry points cannot drift apart.
 */
export interface Io<T> {
  readonly sync: () => T;
  readonly async: () => Promise<T>;
}

/** A computation that performs {@link Io} steps and returns `T`. */
export type Program<T> = Generator<Io<unknown>, T, unknown>;

/** Performs one step inside a {@link Program}: `const fd = yield* perform(openFile(path))`. */
export function* perform<T>(io: Io<T>): Program<T> {
  return (yield io) as T;
}

/** Runs a program, blocking on every step. */
export function runSync<T>(program: Program<T>): T {
  let step = program.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = step.value.sync();
    } catch (error) {
      step = program.throw(error);
      continue;
    }
    step = program.next(result);
  }
  return step.value;
}

/** Runs a program, awaiting every step. */
export async function runAsync<T>(program: Program<T>): Promise<T> {
  let step = program.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = await step.value.async();
    } catch (error) {
      step = program.throw(error);
      continue;
    }
    step = program.next(result);
  }
  return step.value;
}

type Callback<T> = (error: NodeJS.ErrnoException | null, value?: T) => void;

function promised<T>(start: (done: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, value) => (error ? reject(error) : resolve(value as T)));
  });
}

/** Opens a file for reading; yields its descriptor. */
export const openFile = (path: string): Io<number> => ({
  sync: () => openSync(path, 'r'),
  async: () => promised<number>((done) => open(path, 'r', done)),
});

/** The size `fstat` reports: 0 for pipes and `/proc` files, whatever they hold. */
export const fileSize = (fd: number): Io<number> => ({
  sync: () => fstatSync(fd).size,
  async: () => promised<{ size: number }>((done) => fstat(fd, done)).then(({ size }) => size),
});

/** Reads into `buffer` from the current position; yields the byte count, 0 at end of file. */
export const readInto = (fd: number, buffer: Uint8Array): Io<number> => ({
  sync: () => readSync(fd, buffer, 0, buffer.length, null),
  async: () => promised<number>((done) => read(fd, buffer, 0, buffer.length, null, done)),
});

/** Closes a descriptor; a failure is ignored because the data was already read or lost. */
export const closeFile = (fd: number): Io<void> => ({
  sync: () => {
    try {
      closeSync(fd);
    } catch {}
  },
  async: () => new Promise<void>((resolve) => close(fd, () => resolve())),
});
