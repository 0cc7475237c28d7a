// No container engine exists on these machines, so the Dockerfile is checked
// statically: every COPY source exists (and is not excluded by .dockerignore),
// every stage a COPY --from names is defined, the runtime stages are
// distroless and non-root, production installs omit dev dependencies, and the
// entrypoints — the images' CMDs and the ones the operator gives each
// component — are compiled from TypeScript sources that exist.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ALL_COMPONENTS, entrypoint } from '../../../operator/src/api/components.js';
import { repoRoot } from '../../support/paths.js';

interface Instruction {
  op: string;
  args: string;
  stage: string;
}

/** Instructions with line continuations joined and comments dropped, each tagged with its stage. */
function parseDockerfile(text: string): { instructions: Instruction[]; stages: string[] } {
  const joined = text.replace(/\\\n(\s*#[^\n]*\n)*/g, ' ');
  const instructions: Instruction[] = [];
  const stages: string[] = [];
  let stage = '';
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') {
      stage = /\bAS\s+(\S+)/i.exec(m[2]!)?.[1] ?? '';
      stages.push(stage);
    }
    instructions.push({ op, args: m[2]!, stage });
  }
  return { instructions, stages };
}

/** dist/<x>.js → <x>.ts (tsconfig.build.json: rootDir ".", outDir "dist"). */
function sourceOf(distPath: string): string {
  assert.match(distPath, /^dist\/.+\.js$/);
  return distPath.replace(/^dist\//, '').replace(/\.js$/, '.ts');
}

const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const { instructions, stages } = parseDockerfile(dockerfile);
const ignore = fs
  .readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const RUNTIME_STAGES = ['platform', 'operator'];

describe('Dockerfile', function () {
  it('has the build, deps, platform and operator stages', function () {
    assert.deepEqual(stages, ['build', 'deps', 'platform', 'operator']);
  });

  it('copies only files that exist and that .dockerignore lets into the context', function () {
    const copies = instructions.filter((i) => i.op === 'COPY' && !i.args.includes('--from='));
    assert.ok(copies.length > 0);
    for (const c of copies) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        assert.ok(fs.existsSync(path.join(repoRoot, src)), `COPY source ${src} does not exist`);
        const top = src.replace(/\/$/, '').split('/')[0]!;
        assert.ok(!ignore.includes(src) && !ignore.includes(top), `COPY source ${src} is excluded by .dockerignore`);
      }
    }
  });

  it('copies from stages that exist, and from earlier ones', function () {
    for (const c of instructions.filter((i) => i.args.includes('--from='))) {
      const from = /--from=(\S+)/.exec(c.args)![1]!;
      assert.ok(stages.indexOf(from) >= 0, `COPY --from=${from}: no such stage`);
      assert.ok(stages.indexOf(from) < stages.indexOf(c.stage), `COPY --from=${from} in ${c.stage}`);
    }
  });

  it('installs production dependencies without dev dependencies', function () {
    const deps = instructions.filter((i) => i.stage === 'deps' && i.op === 'RUN').map((i) => i.args);
    assert.ok(
      deps.some((r) => /npm ci\b.*--omit=dev/.test(r)),
      deps.join('\n'),
    );
    for (const s of RUNTIME_STAGES) {
      const nodeModules = instructions.find((i) => i.stage === s && i.op === 'COPY' && i.args.includes('node_modules'));
      assert.match(nodeModules?.args ?? '', /--from=deps /, `${s} takes node_modules from deps`);
    }
  });

  for (const s of RUNTIME_STAGES) {
    it(`${s}: distroless (no shell), non-root, no RUN`, function () {
      assert.match(dockerfile, /ARG RUNTIME_IMAGE=gcr\.io\/distroless\/nodejs20-debian12:nonroot/);
      const own = instructions.filter((i) => i.stage === s);
      assert.match(own[0]!.args, /^\$\{RUNTIME_IMAGE\}/);
      assert.ok(!own.some((i) => i.op === 'RUN'), 'a RUN needs a shell');
      const user = own.filter((i) => i.op === 'USER').at(-1)?.args ?? '';
      assert.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, 'a numeric non-root USER (runAsNonRoot can verify it)');
      assert.ok(
        own.some((i) => i.op === 'COPY' && /package\.json/.test(i.args)),
        'package.json ("type": "module")',
      );
    });
  }

  it('compiles with the settings that put dist/<path>.js next to <path>.ts', function () {
    const build = JSON.parse(fs.readFileSync(path.join(repoRoot, 'tsconfig.build.json'), 'utf8')) as {
      extends: string;
      include: string[];
    };
    const base = JSON.parse(fs.readFileSync(path.join(repoRoot, build.extends), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    assert.equal(base.compilerOptions.rootDir, '.');
    assert.equal(base.compilerOptions.outDir, 'dist');
    for (const dir of ['services', 'operator', 'proto/gen']) assert.ok(build.include.includes(dir), dir);
    assert.match(dockerfile, /npx tsc -p tsconfig\.build\.json/);
  });

  it('starts each image at a compiled entrypoint whose source exists', function () {
    for (const s of RUNTIME_STAGES) {
      const cmd = instructions.filter((i) => i.stage === s && i.op === 'CMD').at(-1);
      const args = JSON.parse(cmd!.args) as string[];
      const script = args.find((a) => a.startsWith('dist/'))!;
      assert.ok(fs.existsSync(path.join(repoRoot, sourceOf(script))), `${s}: ${sourceOf(script)}`);
    }
  });

  for (const c of ALL_COMPONENTS) {
    it(`the operator starts ${c.name} at ${entrypoint(c)}, compiled from an existing source`, function () {
      const src = sourceOf(entrypoint(c));
      assert.ok(fs.existsSync(path.join(repoRoot, src)), `${src} does not exist`);
      const top = src.split('/')[0]!;
      assert.ok(
        instructions.some((i) => i.stage === 'build' && i.op === 'COPY' && i.args.startsWith(`${top} `)),
        `${top}/ is copied into the build`,
      );
    });
  }

  it('ships the descriptor set the services read next to their compiled code', function () {
    for (const f of ['services/mq/src/service.ts', 'services/location-unit/src/location-unit.ts']) {
      if (fs.existsSync(path.join(repoRoot, f)))
        assert.match(fs.readFileSync(path.join(repoRoot, f), 'utf8'), /descriptors\.binpb/);
    }
    assert.match(dockerfile, /cp proto\/gen\/descriptors\.binpb dist\/proto\/gen\/descriptors\.binpb/);
  });
});
