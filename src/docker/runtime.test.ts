import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { DockerRuntime, Backoff, EVENTS_BACKOFF, localImageIds, normalizeImageRef } from './runtime.js';
import { ReconcilerError } from '../errors/index.js';

/** A dockerode stand-in where every image is missing and a pull is recorded (and never reaches a registry). */
function missingImages(): { docker: Docker; pulls: string[] } {
  const pulls: string[] = [];
  const docker = {
    getImage: () => ({ inspect: () => Promise.reject(Object.assign(new Error('no such image'), { statusCode: 404 })) }),
    pull: (image: string) => {
      pulls.push(image);
      return Promise.reject(new Error('registry unreachable'));
    },
  } as unknown as Docker;
  return { docker, pulls };
}

describe('DockerRuntime.ensureImage pull policy', () => {
  test('never: a missing image is an ImageUnavailable error and nothing is pulled', async () => {
    const { docker, pulls } = missingImages();
    await assert.rejects(new DockerRuntime(docker, undefined, { pull: 'never' }).ensureImage('local/x:1'), (err: unknown) => {
      assert.ok(err instanceof ReconcilerError);
      assert.equal(err.code, 'ImageUnavailable');
      assert.match(err.message, /image local\/x:1 is not present locally and images.pull is "never"/);
      return true;
    });
    assert.deepEqual(pulls, []);
  });

  test('missing (the default): a missing image is pulled, and a failed pull names the image', async () => {
    const { docker, pulls } = missingImages();
    await assert.rejects(
      new DockerRuntime(docker).ensureImage('local/x:1'),
      /image local\/x:1 is not present locally and could not be pulled/,
    );
    assert.deepEqual(pulls, ['local/x:1']);
  });
});

describe('Docker event stream reconnect', () => {
  test('backoff doubles to its cap and starts over after reset', () => {
    const b = new Backoff(EVENTS_BACKOFF);
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [250, 500, 1000, 2000, 2000, 2000]);
    b.reset();
    assert.equal(b.next(), 250);
  });

  test('every failed attempt is reported, a stream after a loss is reported once, and the backoff resets on success', async () => {
    // getEvents fails 5 times, then gives a stream that ends, then fails twice more, then a stream that stays open.
    const script: ('fail' | 'ends' | 'open')[] = ['fail', 'fail', 'fail', 'fail', 'fail', 'ends', 'fail', 'fail', 'open'];
    const stop = new AbortController();
    const events: string[] = [];
    const fake = {
      getEvents: async () => {
        const step = script.shift();
        if (step === 'fail' || step === undefined) throw new Error('connect ENOENT /tmp/x.sock');
        const s = new PassThrough();
        s.write(`${JSON.stringify({ Action: 'die', Actor: { Attributes: { name: 'mcp-a' } } })}\n`);
        if (step === 'ends') s.end();
        else setImmediate(() => stop.abort());
        return s;
      },
    };
    const rt = new DockerRuntime(fake as unknown as Docker);
    await rt.watchEvents(
      (e) => events.push(`${e.action} ${e.container}`),
      stop.signal,
      {
        lost: ({ attempt, nextInMs }) => events.push(`lost ${attempt} next ${nextInMs}`),
        connected: ({ afterAttempts }) => events.push(`connected after ${afterAttempts}`),
      },
      { initialMs: 1, factor: 2, maxMs: 8 },
    );
    assert.deepEqual(events, [
      'lost 1 next 1',
      'lost 2 next 2',
      'lost 3 next 4',
      'lost 4 next 8',
      'lost 5 next 8',
      'connected after 5',
      'die mcp-a',
      'lost 1 next 0',
      'lost 2 next 1',
      'lost 3 next 2',
      'connected after 3',
      'die mcp-a',
    ]);
  });
});

describe('local image ids of wanted references', () => {
  test('references match RepoTags and RepoDigests the way Docker writes them', () => {
    assert.equal(normalizeImageRef('node'), 'node:latest');
    assert.equal(normalizeImageRef('docker.io/library/node:20'), 'node:20');
    assert.equal(normalizeImageRef('localhost:5000/x'), 'localhost:5000/x:latest');
    assert.equal(normalizeImageRef('ghcr.io/a/b@sha256:00'), 'ghcr.io/a/b@sha256:00');
    const images = [
      { Id: 'sha256:1', RepoTags: ['node:latest', 'local/x:test'], RepoDigests: [] },
      { Id: 'sha256:2', RepoTags: null as unknown as string[], RepoDigests: ['ghcr.io/a/b@sha256:00'] },
    ];
    assert.deepEqual(localImageIds(['docker.io/node', 'local/x:test', 'ghcr.io/a/b@sha256:00', 'missing:1'], images), {
      'docker.io/node': 'sha256:1',
      'local/x:test': 'sha256:1',
      'ghcr.io/a/b@sha256:00': 'sha256:2',
      'missing:1': null,
    });
  });
});

describe('DockerRuntime.buildImage (ADR 0023)', () => {
  /** A dockerode stand-in for POST /build: present images, the build's progress events, what it was sent. */
  function builder(present: Set<string>, events: Record<string, unknown>[]) {
    const sent: { tar: Buffer; options: Record<string, unknown> }[] = [];
    const docker = {
      getImage: (ref: string) => ({
        inspect: () => {
          if (present.has(ref)) return Promise.resolve({ Id: 'sha256:1' });
          return Promise.reject(Object.assign(new Error('no such image'), { statusCode: 404 }));
        },
      }),
      pull: () => Promise.reject(new Error('registry unreachable')),
      buildImage: async (stream: AsyncIterable<Buffer>, options: Record<string, unknown>) => {
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c);
        sent.push({ tar: Buffer.concat(chunks), options });
        if (!events.some((e) => e['error'])) present.add(String(options['t']));
        return 'stream';
      },
      modem: {
        followProgress: (_s: unknown, done: (e: Error | null, out: unknown[]) => void, progress: (e: unknown) => void) => {
          for (const e of events) progress(e);
          done(null, events);
        },
      },
    } as unknown as Docker;
    return { docker, sent };
  }
  const pkgBuild = async (): Promise<import('../model/types.js').BuildSpec> => {
    const { packageDockerfile } = await import('../build/dockerfile.js');
    const text = packageDockerfile({ ecosystem: 'npm', name: 'x', version: '1.0.0' }, 'local/node-pkg:22', true);
    return {
      tag: 'mcp-reconciler-build/default/x:abc', kind: 'npm', source: 'npm:x@1.0.0', root: null, contextDir: null, dockerfile: 'Dockerfile',
      dockerfileText: text, args: {}, baseImages: ['local/node-pkg:22'], contextHash: 'abc', maxContextBytes: 1 << 20,
      labels: { 'io.mcp-reconciler.managed-by': 'mcp-reconciler' }, extraHosts: ['registry.npmjs.org:203.0.113.80'],
    };
  };

  test('sends the Dockerfile as a tar with tag, labels, extra hosts, classic builder, no pull; every line to onLine', async () => {
    const events = [
      { stream: 'Step 1/4 : FROM local/node-pkg:22\n ---> 1a2b\n' },
      { stream: '\u001b[91mnpm warn x\n\u001b[0m' },
      { stream: 'Successfully tagged x\n' },
    ];
    const { docker, sent } = builder(new Set(['local/node-pkg:22']), events);
    const lines: string[] = [];
    await new DockerRuntime(docker, undefined, { pull: 'never' }).buildImage(await pkgBuild(), (l) => lines.push(l));
    assert.deepEqual(lines, ['Step 1/4 : FROM local/node-pkg:22', ' ---> 1a2b', 'npm warn x', 'Successfully tagged x']);
    const o = sent[0]!.options;
    assert.deepEqual([o['t'], o['pull'], o['version']], ['mcp-reconciler-build/default/x:abc', false, '1']);
    assert.equal(o['extrahosts'], 'registry.npmjs.org:203.0.113.80');
    assert.deepEqual(o['labels'], { 'io.mcp-reconciler.managed-by': 'mcp-reconciler' });
    const tar = sent[0]!.tar;
    assert.equal(tar.subarray(0, 10).toString(), 'Dockerfile');
    assert.match(tar.toString('utf8'), /FROM local\/node-pkg:22\n/);
  });

  test('a missing base with images.pull never: ImageUnavailable naming the script that builds the local bases; nothing built', async () => {
    const { docker, sent } = builder(new Set(), []);
    const rt = new DockerRuntime(docker, undefined, { pull: 'never' });
    await assert.rejects(rt.buildImage(await pkgBuild(), () => undefined), (err: unknown) => {
      assert.ok(err instanceof ReconcilerError);
      assert.equal(err.code, 'ImageUnavailable');
      assert.match(err.message, /base image of mcp-reconciler-build\/default\/x:abc \(npm:x@1\.0\.0\): /);
      assert.match(err.message, /image local\/node-pkg:22 is not present/);
      assert.match(err.message, /scripts\/images\/build-package-bases\.sh/);
      return true;
    });
    assert.deepEqual(sent, []);
  });

  test('a failing step: BuildFailed with the last lines of the output', async () => {
    const events = [
      { stream: 'Step 3/4 : RUN npm install\n' },
      { stream: 'npm error 404 Not Found - x@1.0.0\n' },
      { error: 'The command returned a non-zero code: 1' },
    ];
    const { docker } = builder(new Set(['local/node-pkg:22']), events);
    await assert.rejects(new DockerRuntime(docker).buildImage(await pkgBuild(), () => undefined), (err: unknown) => {
      assert.ok(err instanceof ReconcilerError);
      assert.equal(err.code, 'BuildFailed');
      assert.match(err.message, /failed: Step 3\/4 : RUN npm install \| npm error 404 Not Found - x@1\.0\.0 \| /);
      assert.match(err.message, /\| The command returned a non-zero code: 1$/);
      return true;
    });
  });
});
