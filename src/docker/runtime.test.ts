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
    await assert.rejects(new DockerRuntime(docker).ensureImage('local/x:1'), /image local\/x:1 is not present locally and could not be pulled/);
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
