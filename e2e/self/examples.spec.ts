/**
 * The deployment examples (e2e/external/examples/, reference-store/Dockerfile) against what the
 * drivers and the store expect: an example that drifts (a service renamed, a setting the store no
 * longer reads, gunicorn no longer PID 1, a file it names missing) fails here, not on a user's cluster.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './support/test';
import { parse, parseAllDocuments } from 'yaml';
import { PROJECT_ROOT, REFERENCE_STORE_DIR } from '../../helpers/paths';

const EXAMPLES = path.join(PROJECT_ROOT, 'e2e/external/examples');
const read = (file: string) => fs.readFileSync(file, 'utf8');

interface ComposeService {
  image?: string;
  build?: string | { context: string };
  command?: unknown;
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown> & {
    type?: string;
    selector?: Record<string, unknown>;
    template?: { metadata: { labels: Record<string, string> }; spec: { containers: K8sContainer[] } };
  };
}
interface K8sContainer {
  name: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  readinessProbe?: { httpGet?: { path: string } };
  lifecycle?: { preStop?: unknown };
}

/** Every STORE_* setting the reference store reads (settings, gunicorn.conf.py, its modules). */
function storeSettings(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== '__pycache__') walk(f);
      else if (e.name.endsWith('.py')) for (const m of read(f).matchAll(/["'](STORE_[A-Z0-9_]+)["']/g)) names.add(m[1]!);
    }
  };
  walk(REFERENCE_STORE_DIR);
  return names;
}

test.describe('deployment examples', () => {
  test('should give compose a store image that migrates and runs gunicorn as PID 1, a proxy, a read-only role and healthchecks', () => {
    const file = path.join(EXAMPLES, 'compose.yaml');
    const compose = parse(read(file)) as { services: Record<string, ComposeService> };
    const { db, web, toxiproxy } = compose.services;
    // the compose driver's default services (DB_COMPOSE_SERVICE, APP_COMPOSE_SERVICE)
    expect(db, 'a service "db"').toBeDefined();
    expect(web, 'a service "web"').toBeDefined();
    expect(toxiproxy, 'a service "toxiproxy" for the link faults').toBeDefined();

    // every file the compose file names is shipped
    const build = typeof web!.build === 'string' ? web!.build : web!.build?.context;
    expect(build, 'web is built from the reference store').toBeDefined();
    const context = path.resolve(EXAMPLES, build!);
    expect(fs.existsSync(path.join(context, 'Dockerfile')), `${context}/Dockerfile`).toBe(true);
    for (const s of Object.values(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.'))
          expect(fs.existsSync(path.resolve(EXAMPLES, source)), `${source} (a volume of compose.yaml)`).toBe(true);
      }
    }

    // gunicorn is PID 1: the exec form of command, an entrypoint in exec form that ends with exec "$@"
    expect(Array.isArray(web!.command), 'web: command in exec form (a list)').toBe(true);
    const dockerfile = read(path.join(context, 'Dockerfile'));
    const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
    expect(entry, 'the Dockerfile: ENTRYPOINT in exec form').not.toBeNull();
    const script = (JSON.parse(entry![1]!) as string[])[0]!;
    const entrypoint = read(path.join(context, script));
    expect(entrypoint, `${script}: migrates`).toMatch(/manage\.py migrate/);
    expect(entrypoint.trim().split('\n').at(-1), `${script}: ends in exec "$@"`).toBe('exec "$@"');
    expect(fs.statSync(path.join(context, script)).mode & 0o111, `${script} is executable`).not.toBe(0);
    expect(web!.command, 'the launcher script, never python -m gunicorn (a USR2 re-exec breaks it)').toContain('serve.py');

    // healthchecks: db and toxiproxy here, web in its image; web waits for both to be healthy
    expect(db!.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
    expect(toxiproxy!.healthcheck, 'toxiproxy: a healthcheck').toBeDefined();
    expect(dockerfile, 'the store image: a HEALTHCHECK on /api/health/').toMatch(/^HEALTHCHECK[\s\S]*\/api\/health\//m);
    expect(web!.depends_on?.db?.condition).toBe('service_healthy');
    expect(web!.depends_on?.toxiproxy?.condition).toBe('service_healthy');

    // the store reaches PostgreSQL through the proxy the link faults name (TOXIPROXY_PROXY=postgres)
    const proxies = JSON.parse(read(path.join(EXAMPLES, 'toxiproxy.json'))) as Array<{ name: string; listen: string; upstream: string }>;
    const pgProxy = proxies.find((p) => p.name === 'postgres');
    expect(pgProxy, 'toxiproxy.json: a proxy "postgres"').toBeDefined();
    expect(pgProxy!.upstream).toBe('db:5432');
    const storeUrl = new URL(web!.environment!.STORE_DATABASE_URL!);
    expect(`${storeUrl.hostname}:${storeUrl.port}`, 'the store connects to the proxy').toBe(
      `toxiproxy:${pgProxy!.listen.split(':').at(-1)}`,
    );

    // the read-only role of DATABASE_URL is made at initdb, with SELECT on the tables the owner creates
    const reader = read(path.join(EXAMPLES, 'initdb/10-reader.sh'));
    expect(reader).toMatch(/CREATE ROLE shop_reader LOGIN/);
    expect(reader).toMatch(new RegExp(`FOR ROLE ${db!.environment!.POSTGRES_USER} IN SCHEMA public GRANT SELECT ON TABLES TO shop_reader`));
    expect(reader, 'the reader is never given a write').not.toMatch(/GRANT (INSERT|UPDATE|DELETE|ALL)/i);

    // every STORE_* setting the example gives is one the store reads
    const known = storeSettings();
    for (const name of Object.keys(web!.environment ?? {})) expect(known, `compose.yaml sets ${name}`).toContain(name);
  });

  test('should give Kubernetes the workloads the kubectl driver names, Services that survive a pod, and a preStop drain', () => {
    const docs = parseAllDocuments(read(path.join(EXAMPLES, 'k8s.yaml'))).map((d) => d.toJS() as K8sObject);
    const find = (kind: string, name: string) => {
      const o = docs.find((d) => d.kind === kind && d.metadata.name === name);
      expect(o, `${kind}/${name}`).toBeDefined();
      return o!;
    };
    // the driver's defaults: StatefulSet db (app=db), Deployment web (app=web)
    const db = find('StatefulSet', 'db');
    const web = find('Deployment', 'web');
    expect(db.spec.template!.metadata.labels.app).toBe('db');
    expect(web.spec.template!.metadata.labels.app).toBe('web');
    expect(web.spec.replicas as number, 'a worker is a pod: kill-worker and scale-down need two or more').toBeGreaterThanOrEqual(2);

    // the suite reaches both through Services (NodePort), never a port-forward to one pod
    const services = docs.filter((d) => d.kind === 'Service');
    for (const app of ['db', 'web']) {
      const s = services.find((x) => x.spec.type === 'NodePort' && (x.spec.selector as Record<string, string>).app === app);
      expect(s, `a NodePort Service selecting app=${app}`).toBeDefined();
    }

    const store = web.spec.template!.spec.containers[0]!;
    expect(store.command, 'args, not command: the image entrypoint (migrate, then exec) stays').toBeUndefined();
    expect(store.args).toContain('serve.py');
    expect(store.lifecycle?.preStop, 'a preStop drain: the pod leaves the endpoints before it stops').toBeDefined();
    expect(store.readinessProbe?.httpGet?.path).toBe('/api/health/');
    const known = storeSettings();
    for (const e of store.env ?? []) expect(known, `k8s.yaml sets ${e.name}`).toContain(e.name);
  });

  test('should give systemd a notify unit with gunicorn as its main process, a reload by HUP, a drain on stop and a /tmp of its own', () => {
    const unit = read(path.join(EXAMPLES, 'shop-web.service'));
    const key = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(unit)?.[1];
    expect(key('Type')).toBe('notify');
    expect(key('ExecStart')).toMatch(/ serve\.py -c gunicorn\.conf\.py$/);
    expect(key('ExecReload')).toMatch(/kill -s HUP \$MAINPID/);
    expect(key('KillMode'), 'TERM to the master only: it drains its workers').toBe('mixed');
    expect(key('PrivateTmp')).toBe('yes');
  });
});
