/**
 * A migrated, empty cluster kept per PostgreSQL server, Python/Django and the store's code:
 * a stack copies its data directory (0.1 s) instead of running initdb, createdb and migrate (2 s
 * measured on 2 cores), then gives its roles passwords of its own. The template is built once by
 * the first stack that needs it, in a folder of its own, and renamed into place only when complete.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REFERENCE_STORE_DIR } from '../paths';
import { findFreePort } from './ports';
import { isAlive } from './processes';
import { PostgresCluster, postgresUrl } from './postgres-cluster';

/** Raise it when what a template holds changes in a way the key does not see. */
const TEMPLATE_FORMAT = 2; // 2: built by the store without flaws (1 could hold a flaw's dropped constraint)
/** A template not used for this long is removed by the next one built. */
const UNUSED_TEMPLATE_MS = 24 * 3600_000;
/** The templates kept, the most recently used first (one per PostgreSQL major and store version). */
const MAX_TEMPLATES = 8;
const READY_FILE = 'ready.json';

export interface TemplateSource {
  /** the stack root: templates live in its templates/ folder */
  readonly root: string;
  readonly pgBin: string;
  readonly python: string;
  readonly portRange: { min: number; max: number };
  /** the store's database and its owner, created in the template */
  readonly db: { readonly name: string; readonly user: string };
  /** runs the store's migrations against this database URL */
  readonly migrate: (databaseUrl: string) => Promise<unknown>;
}

interface TemplateSecrets {
  readonly superPassword: string;
  readonly userPassword: string;
}

export interface TemplateUse {
  readonly key: string;
  /** this stack built the template (the first of its key) */
  readonly built: boolean;
  readonly buildMs?: number;
  readonly copyMs: number;
}

/**
 * Fills `cluster` (stopped, no data directory yet) from the template of `src`, building it first
 * when there is none, starts it, and sets the given passwords for the superuser and the store's role.
 */
export async function clusterFromTemplate(
  src: TemplateSource,
  cluster: PostgresCluster,
  passwords: { readonly superPassword: string; readonly userPassword: string },
): Promise<TemplateUse> {
  const key = templateKey(src);
  const dir = path.join(src.root, 'templates', key);
  let built = false;
  let buildMs: number | undefined;
  if (!fs.existsSync(path.join(dir, READY_FILE))) {
    await removeDeadBuilds(path.dirname(dir), src.pgBin);
    const t0 = Date.now();
    await buildTemplate(src, dir);
    buildMs = Date.now() - t0;
    built = true;
  }
  const secrets = JSON.parse(fs.readFileSync(path.join(dir, READY_FILE), 'utf8')) as TemplateSecrets;
  const now = new Date();
  fs.utimesSync(path.join(dir, READY_FILE), now, now); // in use: kept
  const t0 = Date.now();
  await cluster.initFromCopy(path.join(dir, 'pg', 'data'));
  const copyMs = Date.now() - t0;
  await cluster.start();
  await cluster.setPasswords(secrets.superPassword, { postgres: passwords.superPassword, [src.db.user]: passwords.userPassword });
  return { key, built, buildMs, copyMs };
}

/** What the template depends on: the server binary, the interpreter and Django, the store's code. */
function templateKey(src: TemplateSource): string {
  const h = createHash('sha256');
  const out = (file: string, args: string[]) => {
    const r = spawnSync(file, args, { encoding: 'utf8', timeout: 10_000 });
    return `${r.status}:${r.stdout ?? ''}`;
  };
  h.update(`format ${TEMPLATE_FORMAT}\n${src.pgBin}\n${out(path.join(src.pgBin, 'postgres'), ['--version'])}\n`);
  h.update(`${src.python}\n${out(src.python, ['-c', 'import django; print(django.__file__, django.get_version())'])}\n`);
  // any change to the store's code builds a new template (1.8 s once): a post_migrate hook is code too
  for (const file of storeSources(REFERENCE_STORE_DIR))
    h.update(`${path.relative(REFERENCE_STORE_DIR, file)}\n${fs.readFileSync(file, 'utf8')}\n`);
  return h.digest('hex').slice(0, 16);
}

/** Every .py file of the store, sorted: migrations, settings, and code that runs at migrate (post_migrate hooks). */
function storeSources(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== '__pycache__') found.push(...storeSources(full));
    else if (entry.isFile() && entry.name.endsWith('.py')) found.push(full);
  }
  return found.sort();
}

/** initdb, createdb, migrate and a clean stop in a folder of its own, then renamed to dir. */
async function buildTemplate(src: TemplateSource, dir: string): Promise<void> {
  const parent = path.dirname(dir);
  // 0711 as the stack root: the postgres user traverses it to the data directory, nobody lists it
  fs.mkdirSync(parent, { recursive: true, mode: 0o711 });
  // a short name: the server's socket path (in pg/socket) must stay under 108 characters
  const building = path.join(parent, `build-${process.pid}-${randomBytes(3).toString('hex')}`);
  const secrets: TemplateSecrets = { superPassword: newPassword(), userPassword: newPassword() };
  const cluster = new PostgresCluster({ dir: path.join(building, 'pg'), pgBin: src.pgBin, port: await findFreePort(src.portRange) });
  fs.mkdirSync(building, { mode: 0o711 });
  try {
    await cluster.init(secrets.superPassword);
    await cluster.start();
    try {
      await cluster.createDatabase(secrets.superPassword, { ...src.db, password: secrets.userPassword });
      await src.migrate(postgresUrl({ user: src.db.user, password: secrets.userPassword, port: cluster.port, database: src.db.name }));
    } finally {
      await cluster.stop('fast');
    }
    fs.writeFileSync(path.join(building, READY_FILE), JSON.stringify(secrets), { mode: 0o600 });
    try {
      fs.renameSync(building, dir);
    } catch (error) {
      // another run built the same template at the same time: theirs is as good as ours
      if (!fs.existsSync(path.join(dir, READY_FILE))) throw error;
    }
  } finally {
    fs.rmSync(building, { recursive: true, force: true });
  }
  removeUnusedTemplates(parent, path.basename(dir));
}

/** Builds left by a run killed while building: their server stopped (by data directory), their folder removed. */
async function removeDeadBuilds(parent: string, pgBin: string): Promise<void> {
  if (!fs.existsSync(parent)) return;
  for (const name of fs.readdirSync(parent)) {
    const pid = Number(/^build-(\d+)-/.exec(name)?.[1]);
    if (!pid || isAlive(pid)) continue;
    const cluster = new PostgresCluster({ dir: path.join(parent, name, 'pg'), pgBin, port: 0 });
    if (cluster.isRunning()) await cluster.stop('immediate');
    fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

/**
 * Other templates (an older store, another flaw set) beyond the MAX_TEMPLATES used last, or unused
 * for a day: 46 MB each, and a change to the store's code leaves every older one unused for good.
 */
function removeUnusedTemplates(parent: string, keep: string): void {
  const used = (name: string) => {
    const ready = path.join(parent, name, READY_FILE);
    return fs.existsSync(ready) ? fs.statSync(ready).mtimeMs : 0;
  };
  const others = fs
    .readdirSync(parent)
    .filter((name) => name !== keep && !name.startsWith('build-'))
    .map((name) => ({ name, usedMs: used(name) }))
    .sort((a, b) => b.usedMs - a.usedMs);
  others.forEach((t, i) => {
    if (i >= MAX_TEMPLATES - 1 || Date.now() - t.usedMs > UNUSED_TEMPLATE_MS)
      fs.rmSync(path.join(parent, t.name), { recursive: true, force: true });
  });
}

/** A random password (144 bits, URL-safe). */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}
