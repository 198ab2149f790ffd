/** The driver settings of an external target: which driver reaches the database and the app server, and the user commands. */
import { z } from 'zod';
import type { ParseContext } from './parse';
import {
  APP_ACTIONS,
  DB_ACTIONS,
  DRIVER_KINDS,
  checkKey,
  commandKey,
  type AppDriverSettings,
  type DbDriverSettings,
  type DriverKind,
  type UserCommand,
} from './external-types';

const unitName = z.string().regex(/^[\w@.:\\-]+$/);
export const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/);
const selector = z.string().regex(/^[\w./-]+=[\w.-]+(,[\w./-]+=[\w.-]+)*$/);

function driverKind(ctx: ParseContext, key: string): DriverKind {
  return ctx.parse(key, z.enum(DRIVER_KINDS), DRIVER_KINDS.map((k) => `"${k}"`).join(', '), 'none');
}

function userCommands<A extends string>(ctx: ParseContext, service: 'DB' | 'APP', actions: readonly A[]) {
  const commands: Partial<Record<A, UserCommand>> = {};
  const checks: Partial<Record<A, UserCommand>> = {};
  for (const a of actions) {
    const c = ctx.get(commandKey(service, a));
    if (c) commands[a] = { key: commandKey(service, a), command: c };
    const k = ctx.get(checkKey(service, a));
    if (k) checks[a] = { key: checkKey(service, a), command: k };
  }
  return { commands, checks };
}

/** Commands set while the service has no driver: most likely DB_DRIVER=command was forgotten. */
function noDriverProblems(ctx: ParseContext, service: 'DB' | 'APP', keys: string[]): void {
  for (const key of keys) {
    if (ctx.get(key))
      ctx.problems.push(`${key}: set ${service}_DRIVER (command, systemd, compose or kubectl) to use it; ${service}_DRIVER is none`);
  }
}

/** The recovery each action needs from the command driver (a stop without a start cannot be reverted). */
function pairProblems<A extends string>(
  ctx: ParseContext,
  service: 'DB' | 'APP',
  commands: Partial<Record<A, UserCommand>>,
  pairs: ReadonlyArray<[A, A]>,
): void {
  for (const [action, revert] of pairs) {
    if (commands[action] && !commands[revert]) {
      ctx.problems.push(`${commandKey(service, revert)}: required with ${commandKey(service, action)} (it reverts the fault)`);
    }
  }
}

export function parseDb(ctx: ParseContext): DbDriverSettings {
  const kind = driverKind(ctx, 'DB_DRIVER');
  const { commands, checks } = userCommands(ctx, 'DB', DB_ACTIONS);
  const settings: { -readonly [K in keyof DbDriverSettings]: DbDriverSettings[K] } = { kind, commands, checks };
  const keys = [...Object.values(commands), ...Object.values(checks)].map((c) => c.key);
  if (kind === 'none') noDriverProblems(ctx, 'DB', keys);
  if (kind === 'command') {
    if (Object.keys(commands).length === 0) {
      ctx.problems.push(`DB_DRIVER=command: give at least one of ${DB_ACTIONS.map((a) => commandKey('DB', a)).join(', ')}`);
    }
    pairProblems(ctx, 'DB', commands, [
      ['stop', 'start'],
      ['crash', 'start'],
      ['freeze', 'unfreeze'],
    ]);
  }
  if (kind === 'systemd') {
    const unit = ctx.parse('DB_SYSTEMD_UNIT', unitName, 'a systemd unit name such as postgresql@15-main', '');
    if (!unit) ctx.problems.push('DB_SYSTEMD_UNIT: required by DB_DRIVER=systemd (the cluster unit, e.g. postgresql@15-main)');
    else if (/^postgresql(\.service)?$/.test(unit)) {
      ctx.problems.push(
        `DB_SYSTEMD_UNIT: "${unit}" is Debian/Ubuntu's umbrella unit, always "active (exited)": stopping it says nothing about the server. Name the cluster unit, e.g. postgresql@15-main`,
      );
    }
    settings.systemdUnit = unit;
  }
  if (kind === 'compose') settings.composeService = ctx.parse('DB_COMPOSE_SERVICE', k8sName, 'a compose service name', 'db');
  if (kind === 'kubectl') {
    settings.kubeStatefulSet = ctx.parse('DB_KUBE_STATEFULSET', k8sName, 'a StatefulSet name', 'db');
    settings.kubeSelector = ctx.parse('DB_KUBE_SELECTOR', selector, 'a label selector such as app=db', `app=${settings.kubeStatefulSet}`);
  }
  return settings;
}

export function parseApp(ctx: ParseContext): AppDriverSettings {
  const kind = driverKind(ctx, 'APP_DRIVER');
  const { commands, checks } = userCommands(ctx, 'APP', APP_ACTIONS);
  const workers = ctx.get('APP_WORKERS_COMMAND');
  const instance = ctx.get('APP_INSTANCE_COMMAND');
  const settings: { -readonly [K in keyof AppDriverSettings]: AppDriverSettings[K] } = {
    kind,
    commands,
    checks,
    workersCommand: workers ? { key: 'APP_WORKERS_COMMAND', command: workers } : undefined,
    instanceCommand: instance ? { key: 'APP_INSTANCE_COMMAND', command: instance } : undefined,
    systemdReload: ctx.parse(
      'APP_SYSTEMD_RELOAD',
      z.enum(['reload', 'hup']),
      '"reload" (systemctl reload) or "hup" (systemctl kill --kill-whom=main -s HUP)',
      'hup',
    ),
  };
  const keys = [...Object.values(commands), ...Object.values(checks)].map((c) => c.key);
  if (kind === 'none')
    noDriverProblems(ctx, 'APP', [...keys, ...(workers ? ['APP_WORKERS_COMMAND'] : []), ...(instance ? ['APP_INSTANCE_COMMAND'] : [])]);
  if (kind === 'command') {
    if (Object.keys(commands).length === 0) {
      ctx.problems.push(`APP_DRIVER=command: give at least one of ${APP_ACTIONS.map((a) => commandKey('APP', a)).join(', ')}`);
    }
    pairProblems(ctx, 'APP', commands, [
      ['stop', 'start'],
      ['scale-down', 'scale-up'],
    ]);
  }
  if (kind === 'systemd') {
    const unit = ctx.parse('APP_SYSTEMD_UNIT', unitName, 'a systemd unit name such as store.service', '');
    if (!unit) ctx.problems.push('APP_SYSTEMD_UNIT: required by APP_DRIVER=systemd (the gunicorn service, e.g. store.service)');
    settings.systemdUnit = unit;
  }
  if (kind === 'compose') settings.composeService = ctx.parse('APP_COMPOSE_SERVICE', k8sName, 'a compose service name', 'web');
  if (kind === 'kubectl') {
    settings.kubeDeployment = ctx.parse('APP_KUBE_DEPLOYMENT', k8sName, 'a Deployment name', 'web');
    settings.kubeSelector = ctx.parse('APP_KUBE_SELECTOR', selector, 'a label selector such as app=web', `app=${settings.kubeDeployment}`);
  }
  return settings;
}
