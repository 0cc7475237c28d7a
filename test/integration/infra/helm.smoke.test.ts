// helm is real: `helm template` renders a trivial chart; a broken chart fails with helm's message.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin, run } from '../../support/index.js';

describe('helm smoke', function () {
  let dir: string;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-helm-'));
    fs.mkdirSync(path.join(dir, 'templates'));
    fs.writeFileSync(path.join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: trivial\nversion: 0.1.0\n');
    fs.writeFileSync(path.join(dir, 'values.yaml'), 'greeting: hello\n');
  });

  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('renders a trivial chart with helm template', async function () {
    fs.writeFileSync(
      path.join(dir, 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
    );
    const r = await run(bin('helm'), ['template', 'demo', dir, '--set', 'greeting=hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /name: demo-cm/);
    assert.match(r.stdout, /greeting: "hi"/);
  });

  it("fails with helm's parse error on a broken template", async function () {
    fs.writeFileSync(path.join(dir, 'templates', 'bad.yaml'), 'x: {{ .Values.greeting \n');
    const r = await run(bin('helm'), ['template', 'demo', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /parse error|unclosed action/);
  });
});
