import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Plan } from '../model/types.js';
import { renderPlan } from './render-plan.js';

const plan: Plan = {
  operations: [
    { type: 'create-container', resourceId: 'container:mcp-a', cause: 'not found' },
    { type: 'remove-container', resourceId: 'container:mcp-b', cause: 'no desired file' },
    { type: 'conflict', resourceId: 'container:mcp-c', cause: 'not ours' },
  ],
} as Plan;

test('plan text without colour is the golden form, with no escape sequence', () => {
  assert.equal(
    renderPlan(plan),
    [
      '+ create-container container:mcp-a: not found',
      '- remove-container container:mcp-b: no desired file',
      '! conflict container:mcp-c: not ours',
    ].join('\n'),
  );
});

test('with colour: additions green, removals red, held or refused magenta, causes dimmed; the text is unchanged', () => {
  const lines = renderPlan(plan, { colour: true }).split('\n');
  assert.equal(lines[0], '\x1b[1m\x1b[32m+ create-container\x1b[39m\x1b[22m container:mcp-a: \x1b[2mnot found\x1b[22m');
  assert.match(lines[1] ?? '', /^\x1b\[1m\x1b\[31m- remove-container/);
  assert.match(lines[2] ?? '', /^\x1b\[1m\x1b\[35m! conflict/);
  // eslint-disable-next-line no-control-regex
  assert.equal(lines.join('\n').replace(/\x1b\[\d+m/g, ''), renderPlan(plan));
});
