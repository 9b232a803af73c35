import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { DockerRuntime } from './runtime.js';
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
