/**
 * `admin.key`: the key a server bound beyond loopback with no key at all makes
 * for its owner. Created new (O_CREAT|O_EXCL|O_NOFOLLOW), mode 0600, so that it
 * is never written through a symbolic link nor into a file others can read.
 *
 * An existing `admin.key` (a file, a link, dangling or not) is never written:
 * the server refuses to start. It cannot hold a usable key: the file is only
 * made while the store holds no key at all, so whatever it holds is from
 * another store (or was put there by someone else). The owner removes it, or
 * sets TRIALOG_ADMIN_KEY.
 */
import { closeSync, constants, fsyncSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from './config.js';

/**
 * Creates the file, then asks for the key, then writes it: the file is claimed
 * before a key exists, so a refusal leaves the store without a key nobody holds.
 */
export async function writeNewAdminKeyFile(file: string, makeKey: () => Promise<string>): Promise<void> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ELOOP') {
      throw new ConfigError(
        `${file} exists already (a file or a link), and the store holds no API key, so it holds none of this store's: ` +
          'not writing a new admin key into it. Remove it, or set TRIALOG_ADMIN_KEY',
      );
    }
    throw error;
  }
  try {
    const key = await makeKey();
    writeSync(fd, `${key}\n`);
    fsyncSync(fd);
  } catch (error) {
    unlinkSync(file);
    throw error;
  } finally {
    closeSync(fd);
  }
}
