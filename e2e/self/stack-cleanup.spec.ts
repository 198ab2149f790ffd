import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './support/test';
import { childEnv, loadConfig, readEnv } from '../../helpers/config';
import { PROJECT_ROOT } from '../../helpers/paths';
import { EmbeddedStack } from '../../helpers/stack/embedded-stack';
import { isAlive, pidsWithMarker, waitForExit } from '../../helpers/stack/processes';
import { waitUntil } from '../../helpers/wait';

const STACK_NAME = 'self-leftover';

function holdStack(): Promise<{ child: ChildProcess; baseUrl: string }> {
  // node itself (not npx): the PID we kill must be the one that owns the stack
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'e2e/self/support/hold-stack.ts')], {
    cwd: PROJECT_ROOT,
    env: childEnv({ STACK_NAME, TARGET: 'embedded' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += String(d);
      const m = /READY (\S+)/.exec(out);
      if (m?.[1]) resolve({ child, baseUrl: m[1] });
    });
    child.stderr?.on('data', (d) => (out += String(d)));
    child.once('exit', (code) => reject(new Error(`stack holder exited with ${code}: ${out}`)));
  });
}

test.describe('leftover stack cleanup', { tag: '@self' }, () => {
  test.setTimeout(90_000);
  const cfg = loadConfig({ ...readEnv(), STACK_NAME, TARGET: 'embedded' });

  let holder: ChildProcess | undefined;
  test.afterEach(async () => {
    if (holder?.pid !== undefined && isAlive(holder.pid)) holder.kill('SIGKILL');
    await EmbeddedStack.open(cfg.embedded.stackDir)?.down();
  });

  test('should refuse a stack folder whose run is alive, and clean it once that run was killed', async () => {
    const { child } = await holdStack();
    holder = child;
    const old = EmbeddedStack.open(cfg.embedded.stackDir);
    expect(old, 'the holder wrote its state').toBeDefined();
    const oldPids = [old!.cluster.postmasterPid(), old!.store.masterPid(), ...old!.store.workerPids()].filter(
      (p): p is number => p !== undefined,
    );
    expect(oldPids.length, 'postmaster, gunicorn master and workers').toBeGreaterThanOrEqual(3);

    await expect(EmbeddedStack.up(cfg, { pid: process.pid, kind: 'helper-test' })).rejects.toThrow(/belongs to a running process/);

    // the run dies without teardown: its postgres and gunicorn are left behind
    child.kill('SIGKILL');
    expect(await waitForExit(child.pid!, 5_000)).toBe(true);
    expect(oldPids.every(isAlive), 'the servers outlive their run').toBe(true);

    const fresh = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'helper-test' });
    await waitUntil(() => oldPids.every((p) => !isAlive(p)), { description: 'leftover processes gone', timeoutMs: 10_000 });
    expect(await fresh.store.healthStatus()).toBe(200);

    await fresh.down();
    expect(fs.existsSync(cfg.embedded.stackDir), 'folder removed').toBe(false);
    expect(pidsWithMarker(cfg.embedded.stackDir), 'no process of the stack left').toEqual([]);
  });
});
