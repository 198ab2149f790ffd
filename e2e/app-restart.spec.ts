/**
 * The runbook's second section, automated and measured: restart gunicorn/uvicorn while the store is
 * under load; the remaining workers keep serving, the service is back after the restart, and its
 * answers are correct. Each scenario runs for the sync workers (project app-restart) and for
 * uvicorn workers (project app-restart-uvicorn).
 */
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import { bound } from '../helpers/config';
import { failedRecords as failed } from '../helpers/experiment/load-experiment';
import { userCommandShare } from '../helpers/faults/fault';
import { classifyRestartFailures } from '../helpers/integrity/restart-failures';
import { expect, need } from './fixtures';

import { describeFailures, doneAt, identities, inFlightAt, test } from './support/app-experiment';

test.describe('application server under load', { tag: '@app' }, () => {
  test('should fail no request and complete a graceful reload (SIGHUP)', async ({ underLoad, target, cfg }) => {
    need(target.server.identity);
    await underLoad('app-reload', (run) => {
      const atReload = inFlightAt(run.records, run.injected.startedAt);
      expect(atReload.length, 'requests were in flight when the reload began (else nothing here is tested)').toBeGreaterThan(0);
      expect(describeFailures(failed(run.records)), 'no request fails while the workers are replaced').toEqual([]);
      // the look that saw the old workers gone (kubectl, docker: a tool's call) is the driver's time,
      // not the store's: what it saw came about before it ended
      const look = run.recovered.lookMs ?? 0;
      const seenMs = doneAt(run.recovered) - run.injected.startedAt;
      const completeMs = seenMs - look;
      expect(
        completeMs,
        `the reload completes: every old worker exited ${completeMs}ms after the reload began (seen at ${seenMs}ms by a look of ${look}ms${userCommandShare(run.injected)}), within ${bound(cfg, 'appReloadCompleteMs')}`,
      ).toBeLessThanOrEqual(cfg.thresholds.appReloadCompleteMs);
      const { before, after } = identities(run);
      expect(before.workers.length, 'workers were seen before the reload').toBeGreaterThan(0);
      expect(
        after.workers.filter((w) => before.workers.includes(w)),
        `every worker was replaced (before ${before.workers.join(' ')})`,
      ).toEqual([]);
      expect(after.workers.length, 'as many workers as before').toBe(before.workers.length);
    });
  });

  test('should keep serving on the other workers when one worker is killed (SIGKILL)', async ({ underLoad, target, cfg, storeKind }) => {
    need(target.server.identity);
    await underLoad('app-kill-worker', (run) => {
      const killedAt = run.injected.endedAt;
      const afterKill = failed(run.records).filter((r) => r.start > killedAt);
      expect(describeFailures(afterKill), 'every request that started after the kill is served by another worker').toEqual([]);
      // what a dead worker can take down: sync workers serve one request at a time; an uvicorn worker
      // holds every connection it accepted, so the bound is what was in flight when it died
      const inFlight = run.records.filter((r) => r.start <= killedAt && r.end >= run.injected.startedAt).length;
      const canLose = storeKind === 'gunicorn' ? 1 : inFlight;
      // lost with the worker: failures, and orders whose answer died with it (their safe retry replayed them)
      const lost = failed(run.records).length + run.droppedInFlight.length;
      expect(
        lost,
        `failures on any worker (${failed(run.records).length}) and answers lost and replayed (${run.droppedInFlight.length}) are at most what the killed worker could hold when it died (${canLose})`,
      ).toBeLessThanOrEqual(canLose);
      expect(
        Math.round(run.stats.downtimeMs),
        `the longest stretch without a successful answer (${Math.round(run.stats.downtimeMs)}ms${userCommandShare(run.injected)}) is within ${bound(cfg, 'appWorkerKillGapMs')}`,
      ).toBeLessThanOrEqual(cfg.thresholds.appWorkerKillGapMs);
      const { before, after } = identities(run);
      const respawned = after.workers.filter((w) => !before.workers.includes(w));
      expect(respawned.length, `a worker was replaced (before ${before.workers.join(' ')}, after ${after.workers.join(' ')})`).toBe(1);
      expect(after.workers.length, 'as many workers as before').toBe(before.workers.length);
    });
  });

  test('should drop nothing in flight and come back with the same answers after a full restart (TERM, start)', async ({
    underLoad,
    target,
    cfg,
    api,
    evidence,
  }) => {
    await underLoad('app-restart', async (run) => {
      const atStop = inFlightAt(run.records, run.injected.startedAt);
      expect(atStop.length, 'requests were in flight when the stop began (else nothing here is tested)').toBeGreaterThan(0);
      if (run.before && run.after) {
        expect(run.after.instance, 'a new server instance runs').toBeDefined();
        expect(run.after.instance, 'the instance is not the one before the restart').not.toBe(run.before.instance);
      } else {
        // the driver cannot name the instance: said in the report, and the fault proved the store went down instead
        const identity = target.server.identity;
        test.info().annotations.push({
          type: 'not checked',
          description: `a new server instance after the restart: ${identity.ok ? 'the identity was not read' : identity.missing}`,
        });
        expect(run.injected.observation, 'the restart took the store down').toMatch(/stops answering health 200/);
      }
      // refused and turned away unread are safe to retry; anything else was accepted and lost
      const { refused, turnedAway: away, dropped } = classifyRestartFailures(failed(run.records), run.injected.startedAt, run.storedKeys);
      await evidence.json('failures during the restart by kind', {
        refused: refused.length,
        turnedAway: away.length,
        dropped: dropped.length,
        droppedRequests: describeFailures(dropped),
      });
      expect(
        describeFailures(dropped),
        `no request dropped in flight (${refused.length} refused and ${away.length} turned away unread: safe to retry)`,
      ).toEqual([]);
      expect(
        Math.round(run.stats.downtimeMs),
        `the restart's downtime (${Math.round(run.stats.downtimeMs)}ms: shutdown ${run.injected.endedAt - run.injected.startedAt}ms${userCommandShare(run.injected)}, boot ${run.recovered.endedAt - run.recovered.startedAt}ms${userCommandShare(run.recovered)}) is within ${bound(cfg, 'appRestartDowntimeMs')}`,
      ).toBeLessThanOrEqual(cfg.thresholds.appRestartDowntimeMs);
      const order = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('restart') });
      expect(order.status, 'a new order after the restart').toBe(201);
    });
  });

  test('should fail no request during a zero-downtime restart (USR2 re-exec, then TERM to the old master)', async ({
    underLoad,
    target,
  }) => {
    need(target.server.identity);
    await underLoad('app-reexec', (run) => {
      expect(
        describeFailures(failed(run.records)),
        'no request fails while a new server takes over the socket and the old one drains',
      ).toEqual([]);
      const { before, after } = identities(run);
      expect(after.instance, 'a new server instance runs').toBeDefined();
      expect(after.instance, 'not the one before').not.toBe(before.instance);
      expect(
        after.workers.filter((w) => before.workers.includes(w)),
        'every worker is new',
      ).toEqual([]);
      expect(after.workers.length, 'as many workers as before').toBe(before.workers.length);
    });
  });

  test('should keep serving while scaled down and up (TTOU, TTIN)', async ({ underLoad, target }) => {
    need(target.server.identity);
    await underLoad('app-scale-down', (run) => {
      expect(describeFailures(failed(run.records)), 'no request fails while a worker is retired and another started').toEqual([]);
      const { before, after } = identities(run);
      expect(before.workers.length, 'workers were seen before scaling').toBeGreaterThan(1);
      expect(after.workers.length, 'back to the full worker count').toBe(before.workers.length);
    });
  });
});
