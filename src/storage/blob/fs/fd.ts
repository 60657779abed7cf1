/**
 * The callback fs API as small promises: a commit is a handful of calls, and the promise API's FileHandle costs more
 * per call (bench/PROFILE.md).
 */
import { close as fsClose, fstat as fsFstat, fsync as fsFsync, open as fsOpen, stat as fsStat, type Stats } from 'node:fs';

export function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => fsOpen(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

export function fdOp(op: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void, fd: number): Promise<void> {
  return new Promise((resolve, reject) => op(fd, (err) => (err ? reject(err) : resolve())));
}

export function closeFd(fd: number): Promise<void> {
  return fdOp(fsClose, fd);
}

export function fstatFd(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fsFstat(fd, (err, s) => (err ? reject(err) : resolve(s))));
}

/** The path's stats, or undefined when it does not exist. */
export function statOrUndefined(path: string): Promise<Stats | undefined> {
  return new Promise((resolve, reject) => fsStat(path, (err, s) => (err ? (isNotFound(err) ? resolve(undefined) : reject(err)) : resolve(s))));
}

export async function fsyncPath(path: string): Promise<void> {
  const fd = await openFd(path, 'r');
  try {
    await fdOp(fsFsync, fd);
  } finally {
    await closeFd(fd);
  }
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

export function isExists(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'EEXIST';
}
