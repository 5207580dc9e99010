// The hush side of hush's Node interop tests: hush-cli run as a child process, one state
// directory per device, exchanging the JSON lines the CLI prints.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A scratch directory removed at exit.
export function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'hush-node-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export class HushCliError extends Error {
  constructor(args, status, stderr) {
    super(`hush-cli ${args.join(' ')} exited ${status}: ${stderr.trim()}`);
    this.status = status;
    // The library's error name (the last stderr line is "error: <name>" for protocol errors).
    const last = stderr.trim().split('\n').pop() || '';
    this.errorName = last.startsWith('error: ') ? last.slice(7) : null;
  }
}

// One hush device: a state directory driven through hush-cli.
export class HushDevice {
  constructor(cli, dir, name) {
    this.cli = cli;
    this.dir = dir;
    this.name = name;
  }

  static create(cli, root, name) {
    const d = new HushDevice(cli, join(root, name), name);
    d.run(['init', '--name', name, '--prekeys', '5']);
    return d;
  }

  // Runs a command; returns stdout (a Buffer), or throws HushCliError.
  run(args, input = '') {
    const r = spawnSync(this.cli, ['--state', this.dir, ...args], { input, maxBuffer: 1 << 28 });
    if (r.error) throw r.error;
    if (r.status !== 0) {
      if (r.stdout.length !== 0) throw new Error(`hush-cli ${args[0]} failed but printed output`);
      throw new HushCliError(args, r.status, r.stderr.toString());
    }
    return r.stdout;
  }

  // Runs a command that must fail with exit 2 and the library error `name`.
  expectError(name, args, input = '') {
    try {
      this.run(args, input);
    } catch (e) {
      if (e instanceof HushCliError && e.status === 2 && e.errorName === name) return;
      throw e;
    }
    throw new Error(`hush-cli ${args.join(' ')} succeeded; expected error ${name}`);
  }
}

// The JSON lines a command printed, parsed.
export function lines(stdout) {
  return stdout.toString().split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
}
